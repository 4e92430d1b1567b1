# xiaoshen: the 小申 knowledge-base service. cgo is required (gcc and g++).

GO        ?= go
GOJIEBA    = $(shell $(GO) list -m -f '{{.Dir}}' github.com/yanyiwu/gojieba)
DIST      ?= dist/xiaoshen

.PHONY: run test build dist clean bench bench-load

# Run the service on its embedded corpus at http://127.0.0.1:8080.
run:
	$(GO) run ./cmd/xiaoshen serve

# Run every test (unit, store, index, API, ranking floors, binary).
test:
	$(GO) test -count=1 ./...

# Go benchmarks of tokenizing, search, match and ask (see docs/benchmarks.md).
bench:
	$(GO) test ./search -run '^$$' -bench . -benchmem -count 6

# The load run: import, start to ready and /ask on a 50k KB built from
# ../shared/eval; about five minutes.
bench-load:
	$(GO) run ./cmd/xsload --shared ../shared/eval

build:
	CGO_ENABLED=1 $(GO) build -trimpath -o xiaoshen ./cmd/xiaoshen

# A self-contained folder: the binary, the gojieba dictionaries it needs,
# and the sample settings and systemd unit from deploy/.
dist:
	rm -rf $(DIST) && mkdir -p $(DIST)/dict
	CGO_ENABLED=1 $(GO) build -trimpath -o $(DIST)/xiaoshen ./cmd/xiaoshen
	cp $(GOJIEBA)/deps/cppjieba/dict/jieba.dict.utf8 $(GOJIEBA)/deps/cppjieba/dict/hmm_model.utf8 $(DIST)/dict/
	cp deploy/xiaoshen.env.example deploy/xiaoshen.service $(DIST)/
	chmod 644 $(DIST)/dict/* $(DIST)/xiaoshen.env.example $(DIST)/xiaoshen.service

clean:
	rm -rf dist xiaoshen

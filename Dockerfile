# Multi-stage build of the 小申 knowledge-base service. The build stage runs
# the same `make dist` that CI tests, so the image ships the tested layout:
# the binary with its gojieba dictionaries in ./dict beside it. The runtime
# stage is the same Debian release, so the cgo binary finds the glibc and
# libstdc++ it was linked against.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN make dist

FROM debian:bookworm-slim
# A system user with a fixed uid, named by number below so that
# Kubernetes' runAsNonRoot can verify it.
RUN useradd --system --uid 10001 --user-group --home-dir /data --shell /usr/sbin/nologin xiaoshen \
 && mkdir -p /data && chown xiaoshen:xiaoshen /data && chmod 0750 /data
COPY --from=build /src/dist/xiaoshen /opt/xiaoshen
USER 10001:10001
# The same settings as deploy/xiaoshen.env.example; override with -e or
# --env-file.
ENV XIAOSHEN_ADDR=0.0.0.0:8080 \
    XIAOSHEN_DATA=/data \
    XIAOSHEN_LOG_FORMAT=json \
    XIAOSHEN_LOG_LEVEL=info
VOLUME /data
EXPOSE 8080
# start-period covers an index rebuild of a large knowledge base.
HEALTHCHECK --interval=30s --timeout=3s --start-period=120s \
  CMD ["/opt/xiaoshen/xiaoshen", "healthcheck"]
ENTRYPOINT ["/opt/xiaoshen/xiaoshen"]
CMD ["serve"]

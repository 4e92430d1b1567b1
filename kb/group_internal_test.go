package kb

import (
	"context"
	"strings"
	"testing"
)

// openWordings is a review store holding only open items' wordings.
type openWordings struct {
	ReviewStore
	items map[int64][]string
}

func (o openWordings) OpenReviewWordings(context.Context, string) (map[int64][]string, error) {
	return o.items, nil
}

// wordAnalyzer weighs each character 1 and reads 费用 as the fees intent.
type wordAnalyzer struct{}

func (wordAnalyzer) WordingKey(q string) string { return q }

func (wordAnalyzer) Signature(q string) QuestionSignature {
	sig := QuestionSignature{Terms: map[string]float64{}}
	for _, r := range q {
		sig.Terms[string(r)] = 1
	}
	if strings.Contains(q, "费用") {
		sig.Intents = []string{"fees"}
	}
	return sig
}

// TestGroupCacheKeepsEachWordingOnce checks that a wording asked again and
// again is compared once, not once per ask, and that grouping still finds
// its item and keeps other intents apart.
func TestGroupCacheKeepsEachWordingOnce(t *testing.T) {
	ctx := context.Background()
	s := &Service{Reviews: openWordings{items: map[int64][]string{7: {"护照过期怎么办"}, 9: {"护照补办费用"}}}, Analyzer: wordAnalyzer{}}
	sig := s.Analyzer.Signature("护照过期了怎么办")
	for i := 0; i < 100; i++ {
		id, err := s.findGroup(ctx, ReviewUnanswered, sig)
		if err != nil {
			t.Fatal(err)
		}
		if id != 7 {
			t.Fatalf("ask %d joined item %d, want 7", i, id)
		}
		s.rememberWording(ReviewUnanswered, id, "护照过期了怎么办", sig)
	}
	filed := 0
	for _, b := range s.groups().buckets[ReviewUnanswered] {
		filed += len(b.wordings)
	}
	if filed != 3 {
		t.Errorf("%d wordings filed after 100 asks of one, want 3", filed)
	}
	if id, err := s.findGroup(ctx, ReviewUnanswered, s.Analyzer.Signature("护照过期费用")); err != nil || id != 9 {
		t.Errorf("a fees question joined item %d (%v), want 9", id, err)
	}
}

// TestFindGroupEqualsFullScan checks the term-filed lookup against
// comparing a question with every open wording, before and after items are
// forgotten (enough of them that the buckets are rebuilt).
func TestFindGroupEqualsFullScan(t *testing.T) {
	ctx := context.Background()
	subjects := []string{"护照", "化妆品", "医疗器械", "药品", "许可证", "注册证", "备案", "广告"}
	actions := []string{"过期", "补办", "变更", "注销", "延续", "费用", "进度", "材料"}
	items := map[int64][]string{}
	var asked []string
	id := int64(1)
	for i, a := range subjects {
		for j, b := range actions {
			q := a + b + "怎么办"
			asked = append(asked, q, a+b, b+a+"费用")
			if (i+j)%3 == 0 {
				items[id] = append(items[id], q, a+"的"+b, "请问"+q, "我想问"+a+b, a+b+"咋办", "关于"+a+b)
				id++
			}
		}
	}
	s := &Service{Reviews: openWordings{items: items}, Analyzer: wordAnalyzer{}}
	fullScan := func(q string) int64 {
		sig := s.Analyzer.Signature(q)
		var best int64
		for id, ws := range items {
			for _, w := range ws {
				if SameQuestion(sig, s.Analyzer.Signature(w)) && (best == 0 || id < best) {
					best = id
				}
			}
		}
		return best
	}
	check := func(stage string) {
		t.Helper()
		joined := 0
		for _, q := range asked {
			got, err := s.findGroup(ctx, ReviewUnanswered, s.Analyzer.Signature(q))
			if err != nil {
				t.Fatal(err)
			}
			if want := fullScan(q); got != want {
				t.Errorf("%s: %q joined item %d, want %d", stage, q, got, want)
			}
			if got != 0 {
				joined++
			}
		}
		if joined == 0 {
			t.Errorf("%s: no question joined an item", stage)
		}
	}
	check("loaded")
	for id := range items {
		if id%4 != 0 {
			s.forgetItem(id)
			delete(items, id)
		}
	}
	check("after forgetting three items in four")
}

// Keys run together from small-talk words are small talk; a question that
// merely starts like one is not. (Every listed word, cut and keyed by the
// real segmenter, is tested in TestSmallTalkWordsThroughTheSegmenter.)
func TestIsSmallTalk(t *testing.T) {
	for _, key := range []string{"", "好收到", "晚上好谢谢你", "在在", "嗯嗯好的", "hello", "thankyou"} {
		if !isSmallTalk(key) {
			t.Errorf("%q is not small talk", key)
		}
	}
	for _, key := range []string{"在哪里办理", "好办", "谢谢二类械注册要交哪些材料", "你们在哪里办公", "history", "hiv"} {
		if isSmallTalk(key) {
			t.Errorf("%q is small talk", key)
		}
	}
}

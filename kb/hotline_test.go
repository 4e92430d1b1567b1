package kb_test

import (
	"context"
	"testing"

	"xiaoshen/internal/testkb"
	"xiaoshen/kb"
)

// TestUnansweredOffersCurrentHotlines checks that the hotlines an
// unanswered question offers follow edits and deletions of hotline entries
// at once, although they are kept between questions.
func TestUnansweredOffersCurrentHotlines(t *testing.T) {
	ctx := context.Background()
	env := testkb.New(t, testkb.Options{})
	phones := func() map[string]string {
		t.Helper()
		res, err := env.Service.Ask(ctx, kb.AskRequest{Question: "护照过期了怎么办"})
		if err != nil {
			t.Fatal(err)
		}
		if res.Answered || res.Fallback == nil || len(res.Fallback.Hotlines) == 0 {
			t.Fatalf("want an unanswered question with hotlines, got %+v", res)
		}
		out := map[string]string{}
		for _, h := range res.Fallback.Hotlines {
			out[h.Title] = h.Phone
		}
		return out
	}
	before := phones()
	hotlines, _, err := env.Store.FindEntries(ctx, kb.EntryFilter{Column: kb.ColumnHotline})
	if err != nil {
		t.Fatal(err)
	}
	var offered *kb.Entry
	for _, e := range hotlines {
		if _, ok := before[e.Title]; ok {
			offered = e
			break
		}
	}
	if offered == nil {
		t.Fatalf("none of the offered hotlines %v is a hotline entry", before)
	}

	const changed = "12315"
	offered.Fields[kb.FieldPhone] = changed
	if err := env.Service.UpdateEntry(ctx, offered, "test"); err != nil {
		t.Fatal(err)
	}
	if got := phones()[offered.Title]; got != changed {
		t.Errorf("after the edit %s is offered with phone %q, want %q", offered.Title, got, changed)
	}

	// A number still to be filled in is no help to the person asking.
	offered.Fields[kb.FieldPhone] = "【待维护人员填写：新的咨询电话】"
	if err := env.Service.UpdateEntry(ctx, offered, "test"); err != nil {
		t.Fatal(err)
	}
	if got, ok := phones()[offered.Title]; ok {
		t.Errorf("%s is offered with the placeholder %q", offered.Title, got)
	}
	offered.Fields[kb.FieldPhone] = changed
	if err := env.Service.UpdateEntry(ctx, offered, "test"); err != nil {
		t.Fatal(err)
	}

	if err := env.Service.DeleteEntry(ctx, offered.ID, "test"); err != nil {
		t.Fatal(err)
	}
	if _, ok := phones()[offered.Title]; ok {
		t.Errorf("deleted hotline %s is still offered", offered.Title)
	}
}

// Every small-talk word, as a message of its own and after a greeting, is
// answered as small talk through the real segmenter and synonyms (the
// words are matched on the message's wording key).
func TestSmallTalkWordsThroughTheSegmenter(t *testing.T) {
	env := testkb.New(t, testkb.Options{})
	for _, w := range kb.SmallTalkWords {
		for _, q := range []string{w, "你好，" + w + "！"} {
			res, err := env.Service.Ask(context.Background(), kb.AskRequest{Question: q})
			if err != nil {
				t.Fatal(err)
			}
			if !res.SmallTalk || res.Unanswered != nil {
				t.Errorf("%q: small talk %v, review item %+v", q, res.SmallTalk, res.Unanswered)
			}
		}
	}
	for _, q := range []string{"Hello!", "Thank you", "Hi, good morning", "thanks"} {
		if res, err := env.Service.Ask(context.Background(), kb.AskRequest{Question: q}); err != nil || !res.SmallTalk {
			t.Errorf("%q: small talk %v (%v)", q, res != nil && res.SmallTalk, err)
		}
	}
	// A question in English is no small talk for holding a greeting.
	if res, err := env.Service.Ask(context.Background(), kb.AskRequest{Question: "Hi, how do I renew my licence?"}); err != nil || res.SmallTalk {
		t.Errorf("an English question taken for small talk (%v)", err)
	}
}

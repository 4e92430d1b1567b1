package kb

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// Review item types.
const (
	ReviewImprove = "improve" // 答案待改进: an answer marked unhelpful
)

// Dismissal reasons, as reviewers choose them.
const (
	DismissOutOfScope = "超出本单位职能" // forwarded to 12345
	DismissInvalid    = "无效/骚扰"
	DismissDuplicate  = "重复" // merged into another item
	// DismissAnswerRight closes a 答案待改进 item whose answer, checked,
	// needs no change.
	DismissAnswerRight = "答复无误"
)

// DismissReasons lists the reasons a review item may be dismissed for.
var DismissReasons = []string{DismissOutOfScope, DismissInvalid, DismissDuplicate, DismissAnswerRight}

// ReviewTypeName returns the Chinese name of a review item type.
func ReviewTypeName(t string) string {
	switch t {
	case ReviewUnanswered:
		return "未能解答"
	case ReviewImprove:
		return "答案待改进"
	}
	return t
}

// StatusName returns the Chinese name of a review item status.
func StatusName(s string) string {
	switch s {
	case StatusOpen:
		return "待处理"
	case StatusAnswered:
		return "已补充"
	case StatusDismissed:
		return "已驳回"
	}
	return s
}

// Wording is one way a question was asked, with how often.
type Wording struct {
	Question string `json:"question"`
	Count    int    `json:"count"`
}

// ReviewFilter selects review items.
type ReviewFilter struct {
	Status     string
	Department string
	Type       string
	Overdue    *bool
	Now        time.Time // for the overdue filter
	// ClosedSince keeps the items closed at or after it, when not zero.
	ClosedSince time.Time
	Limit       int
	Offset      int
}

// ReviewEvent is one line of a review item's audit trail.
type ReviewEvent struct {
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	Action string    `json:"action"`
	Detail string    `json:"detail,omitempty"`
}

// Overdue reports whether an item is open past its due time at now.
func (it *ReviewItem) Overdue(now time.Time) bool {
	return it.Status == StatusOpen && now.After(it.DueAt)
}

// ReviewStore is the part of the store the review workflow needs.
type ReviewStore interface {
	FindReviewItems(ctx context.Context, f ReviewFilter) ([]*ReviewItem, int, error)
	FindReviewItem(ctx context.Context, id int64) (*ReviewItem, error)
	ReviewEvents(ctx context.Context, id int64) ([]ReviewEvent, error)
	// OpenReviewWordings returns the wordings of every open item of a type.
	OpenReviewWordings(ctx context.Context, itemType string) (map[int64][]string, error)
	// BackfillReviewItem stores e (created when e.ID is 0, else updated) and
	// closes the item as answered with it, in one transaction.
	BackfillReviewItem(ctx context.Context, id int64, e *Entry, actor string, at time.Time) (*ReviewItem, error)
	// AssignReviewItem moves an open item to another department.
	AssignReviewItem(ctx context.Context, id int64, department, actor string) (*ReviewItem, error)
	// DismissReviewItem closes an open item with a reason; for a duplicate,
	// its questions move to the item it duplicates.
	DismissReviewItem(ctx context.Context, id int64, reason string, duplicateOf int64, actor string, at time.Time) (*ReviewItem, error)
	// ReviewBacklog counts the open and overdue items of every department
	// that has ever had an item; it is cheap enough to run on every scrape.
	ReviewBacklog(ctx context.Context, now time.Time) ([]DepartmentBacklog, error)
}

// DepartmentBacklog is a department's open review items as of a moment.
type DepartmentBacklog struct {
	Department string
	Open       int
	Overdue    int
}

// QuestionSignature is what grouping compares: canonical terms with weights,
// and the intents the question asks about.
type QuestionSignature struct {
	Terms   map[string]float64
	Intents []string
}

// QuestionAnalyzer turns a question into its signature.
type QuestionAnalyzer interface {
	Signature(question string) QuestionSignature
	// WordingKey is the question as the matcher compares wordings:
	// synonyms folded, filler words and punctuation dropped. Two wordings
	// with the same key are one question to it, and an entry that has one
	// is an exact match for the other.
	WordingKey(question string) string
}

// GroupSimilarity is the least weighted term overlap at which two
// unanswered questions with the same intents join one review item.
const GroupSimilarity = 0.6

// SameQuestion reports whether two signatures ask the same thing: their
// intents agree and their weighted terms overlap enough.
func SameQuestion(a, b QuestionSignature) bool {
	return slices.Equal(a.Intents, b.Intents) && sameTerms(a, b)
}

// sameTerms is SameQuestion's test of the weighted terms.
func sameTerms(a, b QuestionSignature) bool {
	var total, shared float64
	for t, w := range a.Terms {
		total += w
		if w2, ok := b.Terms[t]; ok {
			shared += w + w2
		}
	}
	for _, w := range b.Terms {
		total += w
	}
	return overlapsEnough(shared, total)
}

// overlapsEnough tells whether shared term weight (counted on both sides)
// out of the total weight of two signatures reaches GroupSimilarity.
func overlapsEnough(shared, total float64) bool {
	return total > 0 && shared/total >= GroupSimilarity
}

// groupCache keeps the signatures of open items' wordings, so that a new
// unanswered question is compared without reading every item. Signatures
// are filed by their intents, as SameQuestion never joins two questions
// whose intents differ, and within those by term: two questions whose
// terms overlap by GroupSimilarity share at least one term, so a question
// is compared only with the wordings that ask for the same things and
// share a term with it. Each distinct wording is kept once, as when loaded
// from the store, however often it is asked.
type groupCache struct {
	mu      sync.Mutex
	loaded  map[string]bool
	buckets map[string]map[string]*groupBucket // type → intents → bucket
	// dismissals are the items filed under dismissedType: why and when
	// they were dismissed.
	dismissals map[int64]dismissal
}

// dismissedType files the wordings of the unanswered items dismissed as
// out of scope or invalid, beside the open items' types.
const dismissedType = "dismissed"

// dismissal is why and when an item was dismissed.
type dismissal struct {
	reason string
	at     time.Time
}

// dismissalMemory is how long a dismissal as 超出本单位职能 or 无效/骚扰
// holds for the same question asked again: it is answered as dismissed
// rather than opening a new item with a deadline that reviewers would only
// dismiss again. After that the question opens an item once more, in case
// the bureau's remit or the KB has changed.
const dismissalMemory = 90 * 24 * time.Hour

// remembered tells whether a dismissal reason holds for the same question
// asked again; a duplicate's questions moved to the item it repeats.
func remembered(reason string) bool { return reason == DismissOutOfScope || reason == DismissInvalid }

// groupBucket holds the wordings of one item type with the same intents.
type groupBucket struct {
	wordings []groupWording           // filed wordings; a forgotten item's have item 0
	byTerm   map[string][]termPosting // term → the wordings that hold it
	filed    map[int64]map[string]bool
	dead     int
	// shared is findGroup's scratch, one slot per wording; the cache's
	// lock makes it safe to reuse.
	shared  []float64
	touched []int
}

// termPosting is a wording that holds a term, and the term's weight there.
type termPosting struct {
	wording int
	weight  float64
}

// groupWording is a filed wording: its item, terms and the sum of their
// weights.
type groupWording struct {
	item  int64
	terms map[string]float64
	total float64
}

func (s *Service) groups() *groupCache {
	s.groupOnce.Do(func() {
		s.groupCache = &groupCache{loaded: map[string]bool{}, buckets: map[string]map[string]*groupBucket{}, dismissals: map[int64]dismissal{}}
	})
	return s.groupCache
}

// intentsKey files a signature by its intents, as SameQuestion compares them.
func intentsKey(sig QuestionSignature) string { return strings.Join(sig.Intents, ",") }

// addLocked files a wording's signature under its item, unless the item
// has that wording already; the caller holds g.mu.
func (g *groupCache) addLocked(itemType string, id int64, wording string, sig QuestionSignature) {
	byIntents := g.buckets[itemType]
	if byIntents == nil {
		byIntents = map[string]*groupBucket{}
		g.buckets[itemType] = byIntents
	}
	key := intentsKey(sig)
	b := byIntents[key]
	if b == nil {
		b = &groupBucket{byTerm: map[string][]termPosting{}, filed: map[int64]map[string]bool{}}
		byIntents[key] = b
	}
	if b.filed[id][wording] {
		return
	}
	if b.filed[id] == nil {
		b.filed[id] = map[string]bool{}
	}
	b.filed[id][wording] = true
	n := len(b.wordings)
	w := groupWording{item: id, terms: sig.Terms}
	for t, weight := range sig.Terms {
		b.byTerm[t] = append(b.byTerm[t], termPosting{n, weight})
		w.total += weight
	}
	b.wordings = append(b.wordings, w)
}

// forget drops an item's wordings from the bucket, and rebuilds the bucket
// once forgotten wordings outnumber the others.
func (b *groupBucket) forget(id int64) {
	if b.filed[id] == nil {
		return
	}
	delete(b.filed, id)
	for i := range b.wordings {
		if b.wordings[i].item == id {
			b.wordings[i].item = 0
			b.dead++
		}
	}
	if b.dead > 64 && b.dead > len(b.wordings)/2 {
		old := b.wordings
		b.wordings, b.byTerm, b.dead = nil, map[string][]termPosting{}, 0
		for _, w := range old {
			if w.item != 0 {
				for t, weight := range w.terms {
					b.byTerm[t] = append(b.byTerm[t], termPosting{len(b.wordings), weight})
				}
				b.wordings = append(b.wordings, w)
			}
		}
	}
}

// findGroup returns the open item a question joins, or 0: of the items
// with a wording that asks the same thing, the oldest.
func (s *Service) findGroup(ctx context.Context, itemType string, sig QuestionSignature) (int64, error) {
	g := s.groups()
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.loaded[itemType] {
		wordings, err := s.Reviews.OpenReviewWordings(ctx, itemType)
		if err != nil {
			return 0, err
		}
		g.buckets[itemType] = nil
		for id, ws := range wordings {
			for _, w := range ws {
				g.addLocked(itemType, id, w, s.Analyzer.Signature(w))
			}
		}
		g.loaded[itemType] = true
	}
	b := g.buckets[itemType][intentsKey(sig)]
	if b == nil {
		return 0, nil
	}
	return b.oldestSame(sig), nil
}

// findDismissed returns the recently dismissed unanswered item (see
// dismissalMemory) with a wording that asks the same as sig, and why it was
// dismissed; 0 when there is none.
func (s *Service) findDismissed(ctx context.Context, sig QuestionSignature) (int64, string, error) {
	g := s.groups()
	g.mu.Lock()
	defer g.mu.Unlock()
	since := s.Now().Add(-dismissalMemory)
	if !g.loaded[dismissedType] {
		g.buckets[dismissedType] = nil
		const page = 500
		for offset := 0; ; offset += page {
			items, _, err := s.Reviews.FindReviewItems(ctx, ReviewFilter{Status: StatusDismissed, Type: ReviewUnanswered, ClosedSince: since, Limit: page, Offset: offset})
			if err != nil {
				return 0, "", err
			}
			for _, it := range items {
				if remembered(it.DismissReason) && it.ClosedAt != nil && it.ClosedAt.After(since) {
					g.fileDismissedLocked(s.Analyzer, it)
				}
			}
			if len(items) < page {
				break
			}
		}
		g.loaded[dismissedType] = true
	}
	b := g.buckets[dismissedType][intentsKey(sig)]
	for b != nil {
		id := b.oldestSame(sig)
		if id == 0 {
			break
		}
		if d := g.dismissals[id]; d.at.After(since) {
			return id, d.reason, nil
		}
		b.forget(id) // remembered long enough
		delete(g.dismissals, id)
	}
	return 0, "", nil
}

// fileDismissedLocked files a dismissed item's wordings; the caller holds
// g.mu.
func (g *groupCache) fileDismissedLocked(a QuestionAnalyzer, it *ReviewItem) {
	g.dismissals[it.ID] = dismissal{reason: it.DismissReason, at: *it.ClosedAt}
	if len(it.Wordings) == 0 {
		g.addLocked(dismissedType, it.ID, it.Question, a.Signature(it.Question))
	}
	for _, w := range it.Wordings {
		g.addLocked(dismissedType, it.ID, w.Question, a.Signature(w.Question))
	}
}

// rememberDismissal files an item just dismissed, when the dismissed
// items are loaded (else they are read with it on first use).
func (s *Service) rememberDismissal(it *ReviewItem) {
	if s.Analyzer == nil || it.Type != ReviewUnanswered || !remembered(it.DismissReason) || it.ClosedAt == nil {
		return
	}
	g := s.groups()
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.loaded[dismissedType] {
		g.fileDismissedLocked(s.Analyzer, it)
	}
}

// oldestSame returns the oldest item with a wording whose terms overlap
// sig's as SameQuestion requires, or 0. The shared weight of every wording
// that holds one of sig's terms is summed from the postings, so only those
// wordings are looked at, each once.
func (b *groupBucket) oldestSame(sig QuestionSignature) int64 {
	if len(b.shared) < len(b.wordings) {
		b.shared = make([]float64, len(b.wordings)+len(b.wordings)/2)
	}
	var total float64
	for t, weight := range sig.Terms {
		total += weight
		for _, p := range b.byTerm[t] {
			if b.shared[p.wording] == 0 {
				b.touched = append(b.touched, p.wording)
			}
			b.shared[p.wording] += weight + p.weight
		}
	}
	var best int64
	for _, i := range b.touched {
		w := b.wordings[i]
		if w.item != 0 && (best == 0 || w.item < best) && overlapsEnough(b.shared[i], total+w.total) {
			best = w.item
		}
		b.shared[i] = 0
	}
	b.touched = b.touched[:0]
	return best
}

func (s *Service) rememberWording(itemType string, id int64, wording string, sig QuestionSignature) {
	g := s.groups()
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.loaded[itemType] {
		g.addLocked(itemType, id, wording, sig)
	}
}

func (s *Service) forgetItem(id int64) {
	g := s.groups()
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, byIntents := range g.buckets {
		for _, b := range byIntents {
			b.forget(id)
		}
	}
}

// ReviewItemView is a review item as the API and the page show it.
type ReviewItemView struct {
	ID              int64      `json:"id"`
	Type            string     `json:"type"`
	TypeName        string     `json:"type_name"`
	Question        string     `json:"question"`
	Questions       []string   `json:"questions"`
	Wordings        []Wording  `json:"wordings"`
	Occurrences     int        `json:"occurrences"`
	FirstAskedAt    time.Time  `json:"first_asked_at"`
	LastAskedAt     time.Time  `json:"last_asked_at"`
	DueAt           time.Time  `json:"due_at"`
	DueProvisional  bool       `json:"due_provisional"`
	WorkingDaysLeft int        `json:"working_days_left"`
	Overdue         bool       `json:"overdue"`
	Status          string     `json:"status"`
	StatusName      string     `json:"status_name"`
	Department      string     `json:"department"`
	DismissReason   string     `json:"dismiss_reason,omitempty"`
	DuplicateOf     int64      `json:"duplicate_of,omitempty"`
	ClosedAt        *time.Time `json:"closed_at,omitempty"`
	ClosedOnTime    *bool      `json:"closed_on_time,omitempty"`
	ClosedBy        string     `json:"closed_by,omitempty"`
	EntryID         int64      `json:"entry_id,omitempty"`
	AnswerEntryID   int64      `json:"answer_entry_id,omitempty"`
	// AnswerableBy is, for an open unanswered item in a list, the entry that
	// now answers its question: the KB has learnt it since it was asked,
	// and linking the item to that entry closes it.
	AnswerableBy *AnswerableBy `json:"answerable_by,omitempty"`
	// Events is the item's audit trail, the person's feedback on an answer
	// among it, when one item is read.
	Events []ReviewEvent `json:"events,omitempty"`
}

// AnswerableBy is an entry that answers a question at or above the answer
// threshold, as /ask would (markAnswerable).
type AnswerableBy struct {
	EntryID    int64   `json:"entry_id"`
	Title      string  `json:"title"`
	Confidence float64 `json:"confidence"`
}

// markAnswerable sets AnswerableBy on the open unanswered items of views
// whose question an entry now answers as /ask would: the first of its
// candidates, at or above the threshold. A failed match leaves an item
// unmarked rather than failing the list.
func (s *Service) markAnswerable(ctx context.Context, views []ReviewItemView) {
	now := s.Now()
	for i, v := range views {
		if v.Status != StatusOpen || v.Type != ReviewUnanswered {
			continue
		}
		cands, err := s.Candidates(ctx, v.Question, now)
		if err != nil {
			s.Logger.WarnContext(ctx, "review list: match failed", "item_id", v.ID, "error", err)
			continue
		}
		if len(cands) > 0 && cands[0].Confidence >= s.Threshold {
			views[i].AnswerableBy = &AnswerableBy{EntryID: cands[0].EntryID, Title: cands[0].Title, Confidence: round3(cands[0].Confidence)}
		}
	}
}

// View derives the shown state of an item at now.
func (s *Service) View(it *ReviewItem, now time.Time) ReviewItemView {
	v := ReviewItemView{
		ID: it.ID, Type: it.Type, TypeName: ReviewTypeName(it.Type), Question: it.Question, Questions: []string{}, Wordings: it.Wordings,
		Occurrences: it.Occurrences, FirstAskedAt: it.FirstAskedAt, LastAskedAt: it.LastAskedAt, DueAt: it.DueAt,
		DueProvisional: it.DueProvisional, Overdue: it.Overdue(now), Status: it.Status, StatusName: StatusName(it.Status),
		Department: it.Department, DismissReason: it.DismissReason, DuplicateOf: it.DuplicateOf, ClosedAt: it.ClosedAt,
		ClosedOnTime: it.ClosedOnTime, ClosedBy: it.ClosedBy, EntryID: it.EntryID, AnswerEntryID: it.AnswerEntryID,
	}
	if v.Wordings == nil {
		v.Wordings = []Wording{{Question: it.Question, Count: it.Occurrences}}
	}
	for _, w := range v.Wordings {
		v.Questions = append(v.Questions, w.Question)
	}
	if it.Status == StatusOpen {
		v.WorkingDaysLeft = s.Calendar.WorkingDaysLeft(now, it.DueAt)
	}
	return v
}

// ReviewItems lists the items p may see.
func (s *Service) ReviewItems(ctx context.Context, p *Principal, f ReviewFilter) ([]ReviewItemView, int, error) {
	if err := p.Require(RoleReviewer); err != nil {
		return nil, 0, err
	}
	if !p.IsAdmin() {
		if f.Department != "" && f.Department != p.Department {
			return nil, 0, p.RequireDepartment(f.Department)
		}
		f.Department = p.Department
	}
	f.Now = s.Now()
	items, total, err := s.Reviews.FindReviewItems(ctx, f)
	if err != nil {
		return nil, 0, err
	}
	out := make([]ReviewItemView, len(items))
	for i, it := range items {
		out[i] = s.View(it, f.Now)
	}
	s.markAnswerable(ctx, out)
	return out, total, nil
}

// ReviewItem returns one item that p may see.
func (s *Service) ReviewItem(ctx context.Context, p *Principal, id int64) (*ReviewItem, error) {
	if err := p.Require(RoleReviewer); err != nil {
		return nil, err
	}
	it, err := s.Reviews.FindReviewItem(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := p.RequireDepartment(it.Department); err != nil {
		return nil, err
	}
	return it, nil
}

func (s *Service) openItem(ctx context.Context, p *Principal, id int64) (*ReviewItem, error) {
	it, err := s.ReviewItem(ctx, p, id)
	if err != nil {
		return nil, err
	}
	if it.Status != StatusOpen {
		return nil, Errorf(ECONFLICT, "该问题已处理（%s），不能重复操作", StatusName(it.Status))
	}
	return it, nil
}

// BackfillRequest is a reviewer's answer (答复口径) to a review item.
type BackfillRequest struct {
	Content          string   `json:"content"`
	Title            string   `json:"title,omitempty"`
	Column           string   `json:"column,omitempty"`
	Department       string   `json:"department,omitempty"`
	SimilarQuestions []string `json:"similar_questions,omitempty"`
	Keywords         []string `json:"keywords,omitempty"`
}

// Backfill writes the answer as a new KB entry, indexes it and closes the
// item. The defaults follow the item: column 常见问题, its first wording as
// title, its department, and its other wordings as similar questions.
func (s *Service) Backfill(ctx context.Context, p *Principal, id int64, req BackfillRequest) (*ReviewItem, *Entry, error) {
	s.wordingMu.Lock()
	defer s.wordingMu.Unlock()
	it, err := s.openItem(ctx, p, id)
	if err != nil {
		return nil, nil, err
	}
	e := &Entry{Column: ColumnFAQ, Title: req.Title, Content: req.Content, Department: req.Department,
		Similar: req.SimilarQuestions, Keywords: req.Keywords}
	if req.Column != "" {
		if e.Column, err = ParseColumn(req.Column); err != nil {
			return nil, nil, err
		}
	}
	if strings.TrimSpace(e.Title) == "" {
		e.Title = it.Question
	}
	if e.Department == "" {
		e.Department = it.Department
	}
	if err := p.RequireDepartment(e.Department); err != nil {
		return nil, nil, err
	}
	if req.SimilarQuestions == nil {
		for _, w := range it.Wordings {
			if w.Question != e.Title {
				e.Similar = append(e.Similar, w.Question)
			}
		}
	}
	added := e.Questions() // the wordings this backfill gives an entry
	if it.Type == ReviewImprove && it.AnswerEntryID != 0 {
		// Improving an answer edits the entry that was marked unhelpful.
		old, err := s.Store.FindEntry(ctx, it.AnswerEntryID)
		if err != nil {
			return nil, nil, err
		}
		before := *old
		added = slices.Clone(req.SimilarQuestions)
		old.Content = e.Content
		if req.Title != "" && req.Title != old.Title {
			old.Title = req.Title
			added = append(added, req.Title)
		}
		old.Similar = append(old.Similar, req.SimilarQuestions...)
		old.Normalize()
		if old.SameContent(&before) {
			// The person found this answer unhelpful: saving it as it is
			// would close their complaint without a change.
			return nil, nil, Errorf(EINVALID, "答复口径没有改动：请修改标题、内容或补充相似问法后再保存；如该答复无须修改，请以“%s”驳回该问题", DismissAnswerRight)
		}
		e = old
	}
	e.Normalize()
	if errs := e.Validate(); len(errs) > 0 {
		return nil, nil, invalid(errs)
	}
	clash, err := s.firstClash(ctx, added, func(other int64) bool { return other == e.ID })
	if err != nil {
		return nil, nil, err
	}
	if clash != nil {
		return nil, nil, Errorf(ECONFLICT, "%s：知识库已有答复这个问题的条目。请改为关联条目 %d，或改写这个问法", clash, clash.EntryID)
	}
	closed, err := s.Reviews.BackfillReviewItem(ctx, id, e, p.Actor(), s.Now())
	if err != nil {
		return nil, nil, err
	}
	s.forgetItem(id)
	s.indexWritten(ctx, e.ID)
	s.Logger.InfoContext(ctx, "review item backfilled", "item_id", id, "entry_id", e.ID, "actor", p.Actor(), "on_time", closed.ClosedOnTime != nil && *closed.ClosedOnTime)
	return closed, e, nil
}

// Link closes an item with an existing entry and adds the item's wordings
// to the entry's similar questions, so that the phrasing is learnt.
func (s *Service) Link(ctx context.Context, p *Principal, id, entryID int64) (*ReviewItem, *Entry, error) {
	s.wordingMu.Lock()
	defer s.wordingMu.Unlock()
	it, err := s.openItem(ctx, p, id)
	if err != nil {
		return nil, nil, err
	}
	e, err := s.Store.FindEntry(ctx, entryID)
	if err != nil {
		return nil, nil, err
	}
	if e.Expired(s.Now()) {
		return nil, nil, Errorf(EINVALID, "条目 %d 已失效，不能作为答复", entryID)
	}
	var wordings []string
	for _, w := range it.Wordings {
		if w.Question != e.Title {
			wordings = append(wordings, w.Question)
		}
	}
	clash, err := s.firstClash(ctx, wordings, func(other int64) bool { return other == entryID })
	if err != nil {
		return nil, nil, err
	}
	if clash != nil {
		return nil, nil, Errorf(ECONFLICT, "%s：关联后两个条目会争同一个问题。请改为关联条目 %d，或先从该条目中删去这个问法", clash, clash.EntryID)
	}
	e.Similar = append(e.Similar, wordings...)
	e.Normalize()
	closed, err := s.Reviews.BackfillReviewItem(ctx, id, e, p.Actor(), s.Now())
	if err != nil {
		return nil, nil, err
	}
	s.forgetItem(id)
	s.indexWritten(ctx, e.ID)
	return closed, e, nil
}

// Assign moves an open item to another department.
func (s *Service) Assign(ctx context.Context, p *Principal, id int64, department string) (*ReviewItem, error) {
	department = strings.TrimSpace(department)
	if department == "" {
		return nil, Errorf(EINVALID, "请指定要转派的部门")
	}
	it, err := s.openItem(ctx, p, id)
	if err != nil {
		return nil, err
	}
	if it.Department == department {
		return nil, Errorf(EINVALID, "该问题已由%s负责，无须转派", department)
	}
	known, err := s.Store.Departments(ctx)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(known, department) {
		// A typo would make a department no reviewer belongs to, and the
		// question would wait there unseen past its deadline.
		return nil, Errorf(EINVALID, "没有名为%q的部门；可转派给：%s", quotable(department, maxQuotedDepartment), strings.Join(known, "、"))
	}
	return s.Reviews.AssignReviewItem(ctx, id, department, p.Actor())
}

// Dismiss closes an open item with one of DismissReasons. A duplicate names
// the item it repeats; its wordings and occurrences move there.
func (s *Service) Dismiss(ctx context.Context, p *Principal, id int64, reason string, duplicateOf int64) (*ReviewItem, error) {
	valid := false
	for _, r := range DismissReasons {
		valid = valid || r == reason
	}
	if !valid {
		return nil, Errorf(EINVALID, "驳回原因应为：%s", strings.Join(DismissReasons, "、"))
	}
	it, err := s.openItem(ctx, p, id)
	if err != nil {
		return nil, err
	}
	if reason == DismissAnswerRight && it.Type != ReviewImprove {
		return nil, Errorf(EINVALID, "“%s”只用于答案待改进的问题；这个问题还没有答复", DismissAnswerRight)
	}
	if reason == DismissDuplicate {
		if duplicateOf == 0 || duplicateOf == id {
			return nil, Errorf(EINVALID, "标记为重复时须指定另一个问题的编号（duplicate_of）")
		}
		if _, err := s.openItem(ctx, p, duplicateOf); err != nil {
			return nil, fmt.Errorf("duplicate_of %d: %w", duplicateOf, err)
		}
	} else {
		duplicateOf = 0
	}
	it, err = s.Reviews.DismissReviewItem(ctx, id, reason, duplicateOf, p.Actor(), s.Now())
	if err != nil {
		return nil, err
	}
	s.forgetItem(id)
	s.rememberDismissal(it)
	if duplicateOf != 0 {
		s.forgetItem(duplicateOf) // reloaded with the merged wordings on next use
		g := s.groups()
		g.mu.Lock()
		for t := range g.loaded {
			if t != dismissedType { // the dismissed items are not merged into
				delete(g.loaded, t)
			}
		}
		g.mu.Unlock()
	}
	return it, nil
}

// Departments lists the known departments, for reassignment.
func (s *Service) Departments(ctx context.Context) ([]string, error) {
	return s.Store.Departments(ctx)
}

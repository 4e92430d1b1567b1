package kb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"
)

// MaxQuestionLength is the longest question, in characters, /ask accepts.
const MaxQuestionLength = 200

// MaxChannelLength and MaxSessionIDLength cap the labels a chatbot sends
// with a question, which are stored with every query.
const (
	MaxChannelLength   = 32
	MaxSessionIDLength = 128
)

// DefaultThreshold is the confidence at or above which a question is answered.
const DefaultThreshold = 0.55

// routingConfidence is the least confidence at which the closest entry's
// department is trusted to own an unanswered question.
const routingConfidence = 0.3

// Service is the knowledge base's domain logic: answering questions,
// recording the unanswered ones with their deadline, and keeping the index
// in step with the store.
type Service struct {
	Store    Store
	Reviews  ReviewStore
	Feedback FeedbackStore
	Syncs    SyncStore
	// Queue records the changes that have not reached the index.
	Queue IndexQueue
	Index Index
	// Analyzer gives question signatures for grouping unanswered questions.
	Analyzer QuestionAnalyzer
	Calendar *Calendar
	Logger   *slog.Logger
	// Now returns the current time; tests replace it to control deadlines.
	Now func() time.Time
	// Threshold is the least confidence for an answer.
	Threshold float64
	// DefaultDepartment owns unanswered questions that no entry points to.
	DefaultDepartment string
	// SuggestThreshold is the least confidence for a 猜你想问 suggestion.
	SuggestThreshold float64
	// Observer, when set, is told the outcome of every question, e.g. to
	// count answered and unanswered questions.
	Observer AskObserver

	groupOnce  sync.Once
	groupCache *groupCache
	// hotlineCache holds the 热线电话 entries that every unanswered question
	// offers, read from the store after each index update.
	hotlineCache      atomic.Pointer[hotlineList]
	hotlineGeneration atomic.Uint64
	// indexMu orders index updates: each batch reads the store's current
	// state, indexes it and takes it off the queue before the next.
	indexMu sync.Mutex
	// wordingMu holds a backfill, link or accepted proposal from reading the
	// entry it changes, through the check that no other entry has its
	// wordings, to the index update that makes them visible: two reviewers
	// at once can then neither both pass the check with one question nor
	// undo each other's additions to one entry.
	wordingMu sync.Mutex
}

// FullStore is a store that serves the whole service.
type FullStore interface {
	Store
	ReviewStore
	FeedbackStore
	SyncStore
	IndexQueue
}

// NewService returns a service with default settings.
func NewService(store FullStore, index Index, analyzer QuestionAnalyzer, cal *Calendar, logger *slog.Logger) *Service {
	return &Service{
		Store: store, Reviews: store, Feedback: store, Syncs: store, Queue: store, Index: index, Analyzer: analyzer, Calendar: cal, Logger: logger,
		Now: time.Now, Threshold: DefaultThreshold, SuggestThreshold: DefaultSuggestThreshold, DefaultDepartment: "综合处",
	}
}

// DefaultSuggestThreshold is the least confidence for a suggestion.
const DefaultSuggestThreshold = 0.3

// AskRequest is a question from the chatbot.
type AskRequest struct {
	Question  string `json:"question"`
	Channel   string `json:"channel,omitempty"`
	SessionID string `json:"session_id,omitempty"`
}

// Answer is the entry given as the answer.
type Answer struct {
	EntryID         int64  `json:"entry_id"`
	Column          Column `json:"column"`
	ColumnName      string `json:"column_name"`
	Title           string `json:"title"`
	Content         string `json:"content"`
	Department      string `json:"department"`
	MatchedQuestion string `json:"matched_question"`
	// NotInForceUntil is, for a policy not yet in force, its 实施日期
	// (YYYY-MM-DD): the chatbot should say from when it applies.
	NotInForceUntil string `json:"not_in_force_until,omitempty"`
	// Fields are the entry's column fields as a citizen reads them, in the
	// column's order: a department's 地址, 电话 and 办公时间, a hotline's
	// number, a guide's 申请材料 …, for the chatbot to show beside the text.
	Fields []AnswerField `json:"fields,omitempty"`
}

// AnswerField is one column field of an answer.
type AnswerField struct {
	Code  string `json:"code"`
	Label string `json:"label"`
	Value string `json:"value"`
}

// answerFields returns e's filled fields as a citizen reads them; a
// reference to another entry is left out, its id meaning nothing to them.
func answerFields(e *Entry) []AnswerField {
	var out []AnswerField
	for _, f := range e.Column.Fields() {
		v := strings.TrimSpace(e.Fields[f.Code])
		if v == "" || f.Kind == KindEntryRef {
			continue
		}
		out = append(out, AnswerField{Code: f.Code, Label: f.Label, Value: ForCitizens(v)})
	}
	return out
}

// RelatedEntry is another entry the person may want.
type RelatedEntry struct {
	EntryID int64  `json:"entry_id"`
	Title   string `json:"title"`
	Column  Column `json:"column"`
}

// UnansweredRecord tells the chatbot that the question was recorded and by
// when the department must answer it.
type UnansweredRecord struct {
	ID             int64     `json:"id"`
	DueAt          time.Time `json:"due_at"`
	DueProvisional bool      `json:"due_provisional"`
	Department     string    `json:"department"`
}

// Hotline is a phone line offered when the KB cannot answer.
type Hotline struct {
	Title string `json:"title"`
	Phone string `json:"phone"`
	Hours string `json:"hours"`
}

// Fallback is what the person is offered instead of an answer, or beside
// one that still has a detail to be filled in.
type Fallback struct {
	Message  string    `json:"message"`
	Hotlines []Hotline `json:"hotlines"`
}

// AskResult is the outcome of a question.
type AskResult struct {
	QueryID int64 `json:"query_id"`
	// FeedbackToken goes with query_id to POST /feedback: only the one
	// who asked can say what they made of the answer.
	FeedbackToken string            `json:"feedback_token,omitempty"`
	Answered      bool              `json:"answered"`
	Confidence    float64           `json:"confidence"`
	Answer        *Answer           `json:"answer,omitempty"`
	Related       []RelatedEntry    `json:"related"`
	Suggestions   []Suggestion      `json:"suggestions,omitempty"`
	Unanswered    *UnansweredRecord `json:"unanswered,omitempty"`
	Fallback      *Fallback         `json:"fallback,omitempty"`
	// SmallTalk marks a greeting, a thanks or the like: a message that asks
	// nothing. It is answered with a prompt to ask, and not recorded.
	SmallTalk bool `json:"small_talk,omitempty"`
}

// AskObserver is told the outcome of every question Ask answers or records.
type AskObserver interface {
	ObserveAsk(res *AskResult)
}

// CleanQuestion trims a question, turns control characters into spaces,
// drops invisible format characters and invalid UTF-8, and checks its length.
func CleanQuestion(q string) (string, error) {
	q = CleanText(q)
	if q == "" {
		return "", Errorf(EINVALID, "问题不能为空")
	}
	if n := utf8.RuneCountInString(q); n > MaxQuestionLength {
		return "", Errorf(EINVALID, "问题过长（%d 字），请控制在 %d 字以内", n, MaxQuestionLength)
	}
	return q, nil
}

// CleanText makes outside text safe to match, store and show: invalid UTF-8
// and the replacement character a JSON decoder puts in its place are
// dropped, control characters become spaces, invisible format characters
// (zero-width spaces, byte-order marks, bidirectional overrides) are
// dropped, and runs of spaces become one.
func CleanText(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "")
	}
	s = strings.Map(func(r rune) rune {
		switch {
		case r == utf8.RuneError || unicode.Is(unicode.Cf, r):
			return -1
		case unicode.IsControl(r):
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// Suggestion is an entry offered as 猜你想问 when the question was not
// answered with confidence.
type Suggestion struct {
	EntryID    int64   `json:"entry_id"`
	Title      string  `json:"title"`
	Column     Column  `json:"column"`
	Confidence float64 `json:"confidence"`
}

// Ask answers a question from the KB when confident enough; otherwise it
// records the question for backfill and offers suggestions and hotlines.
func (s *Service) Ask(ctx context.Context, req AskRequest) (*AskResult, error) {
	question, err := CleanQuestion(req.Question)
	if err != nil {
		return nil, err
	}
	req.Channel, req.SessionID = CleanText(req.Channel), CleanText(req.SessionID)
	if utf8.RuneCountInString(req.Channel) > MaxChannelLength {
		return nil, Errorf(EINVALID, "channel 过长，请控制在 %d 个字符以内", MaxChannelLength)
	}
	if utf8.RuneCountInString(req.SessionID) > MaxSessionIDLength {
		return nil, Errorf(EINVALID, "session_id 过长，请控制在 %d 个字符以内", MaxSessionIDLength)
	}
	// Personal data never reaches the store, the logs or the review page;
	// matching and grouping work on the masked text.
	question = MaskPII(question)
	if s.Analyzer != nil && isSmallTalk(s.Analyzer.WordingKey(question)) {
		return s.smallTalk(ctx)
	}
	now := s.Now()
	live, lapsed, err := s.candidates(ctx, question, now)
	if err != nil {
		return nil, err
	}
	var best *Entry
	if len(live) > 0 && live[0].Confidence >= s.Threshold {
		found, err := s.Store.FindEntriesByID(ctx, []int64{live[0].EntryID})
		if err != nil {
			return nil, err
		}
		if best = found[live[0].EntryID]; best == nil {
			live = live[1:] // deleted a moment ago
		}
	}
	res := &AskResult{Related: []RelatedEntry{}}
	q := &Query{Question: question, Channel: req.Channel, SessionID: req.SessionID, AskedAt: now, FeedbackToken: newFeedbackToken()}
	if len(live) > 0 {
		res.Confidence = round3(live[0].Confidence)
		q.Confidence = res.Confidence
	}
	if best != nil {
		res.Answered = true
		res.Answer = &Answer{
			EntryID: best.ID, Column: best.Column, ColumnName: best.Column.Name(), Title: best.Title,
			Content: ForCitizens(best.Content), Department: best.Department, MatchedQuestion: live[0].MatchedQuestion,
			Fields: answerFields(best),
		}
		placeholder := HasPlaceholder(best.Content)
		for _, f := range res.Answer.Fields {
			placeholder = placeholder || strings.Contains(f.Value, placeholderNote)
		}
		if eff, err := ParseDate(best.Fields[FieldEffectiveOn]); err == nil && eff.After(now) {
			res.Answer.NotInForceUntil = eff.Format("2006-01-02")
		}
		if placeholder {
			// The answer says a detail is still being filled in: give the
			// person a number to ask it by.
			hotlines, err := s.hotlines(ctx, best.Department)
			if err != nil {
				return nil, err
			}
			if len(hotlines) > 0 {
				res.Fallback = &Fallback{Message: "答复中部分信息正在补充，如需确认可拨打下列热线咨询。", Hotlines: hotlines}
			}
		}
		for _, c := range live[1:] {
			if len(res.Related) < 3 {
				res.Related = append(res.Related, RelatedEntry{EntryID: c.EntryID, Title: c.Title, Column: c.Column})
			}
		}
		q.Answered, q.EntryID, q.Department = true, best.ID, best.Department
		if err := s.Store.RecordQuery(ctx, q, nil); err != nil {
			return nil, err
		}
		res.QueryID, res.FeedbackToken = q.ID, q.FeedbackToken
		s.Logger.InfoContext(ctx, "ask", "query_id", q.ID, "answered", true, "entry_id", q.EntryID, "confidence", q.Confidence)
		s.observe(res)
		return res, nil
	}

	for _, c := range live {
		if len(res.Suggestions) < 3 && c.Confidence >= s.SuggestThreshold {
			res.Suggestions = append(res.Suggestions, Suggestion{EntryID: c.EntryID, Title: c.Title, Column: c.Column, Confidence: round3(c.Confidence)})
			q.Suggestions = append(q.Suggestions, c.EntryID)
		} else if len(res.Related) < 3 {
			res.Related = append(res.Related, RelatedEntry{EntryID: c.EntryID, Title: c.Title, Column: c.Column})
		}
	}
	cited, _, err := s.cited(ctx, question, live, now)
	if err != nil {
		return nil, err
	}
	department := s.route(question, live, cited.Department)
	deadline := s.Calendar.BackfillDeadline(now)
	if deadline.Provisional {
		s.Logger.WarnContext(ctx, "deadline computed without the official holiday arrangement", "year", deadline.DueAt.Year())
	}
	item := &ReviewItem{
		Type: ReviewUnanswered, Question: question, GroupKey: GroupKey(question), Department: department,
		DueAt: deadline.DueAt, DueProvisional: deadline.Provisional,
	}
	var sig QuestionSignature
	if s.Analyzer != nil {
		sig = s.Analyzer.Signature(question)
		if item.ID, err = s.findGroup(ctx, ReviewUnanswered, sig); err != nil {
			return nil, err
		}
		if item.ID == 0 {
			dismissed, reason, err := s.findDismissed(ctx, sig)
			if err != nil {
				return nil, err
			}
			if dismissed != 0 {
				return s.askedAgain(ctx, res, q, dismissed, reason, department)
			}
		}
	}
	q.Department = department
	if err := s.Store.RecordQuery(ctx, q, item); err != nil {
		return nil, err
	}
	if s.Analyzer != nil {
		s.rememberWording(ReviewUnanswered, item.ID, question, sig)
	}
	res.QueryID, res.FeedbackToken = q.ID, q.FeedbackToken
	res.Unanswered = &UnansweredRecord{ID: item.ID, DueAt: item.DueAt, DueProvisional: item.DueProvisional, Department: item.Department}
	hotlines, err := s.hotlines(ctx, item.Department)
	if err != nil {
		return nil, err
	}
	msg := fmt.Sprintf("抱歉，小申暂时无法准确回答这个问题。问题已记录，%s将在%s前补充答复；急需帮助可拨打下列热线。", item.Department, item.DueAt.Format("1月2日"))
	switch {
	case len(res.Suggestions) > 0:
		msg = fmt.Sprintf("抱歉，小申没有找到确切的答案。您是不是想问下面的问题？问题已记录，%s将在%s前补充答复；也可拨打下列热线。", item.Department, item.DueAt.Format("1月2日"))
	case item.Department == s.DefaultDepartment:
		// Nothing here is close, and no department here owns the question:
		// it may well be another authority's (驾驶证, 公积金), and the person
		// should not only wait for a reply that may say so.
		msg = fmt.Sprintf("抱歉，小申暂时无法准确回答这个问题。小申解答药品、医疗器械和化妆品的办事问题；问题已记录，%s将在%s前补充答复。如您问的是其他部门的事项，可拨打下列热线咨询。", item.Department, item.DueAt.Format("1月2日"))
	}
	if lapsed != nil {
		msg = fmt.Sprintf("最相关的《%s》已于%s失效，不再作为答复。", lapsed.Title, lapsed.ExpiredOn.Format("2006年1月2日")) + msg
	}
	res.Fallback = &Fallback{Message: msg, Hotlines: hotlines}
	s.Logger.InfoContext(ctx, "ask", "query_id", q.ID, "answered", false, "review_item_id", item.ID, "confidence", q.Confidence,
		"department", item.Department, "suggestions", len(res.Suggestions))
	s.observe(res)
	return res, nil
}

// askedAgain answers a question reviewers recently dismissed as out of
// scope or invalid: it is recorded against that item, which stays closed,
// and the person is told plainly that no answer will follow, with the
// hotlines, instead of being promised one by a deadline.
func (s *Service) askedAgain(ctx context.Context, res *AskResult, q *Query, itemID int64, reason, department string) (*AskResult, error) {
	q.Department, q.ReviewItemID = department, itemID
	if err := s.Store.RecordQuery(ctx, q, nil); err != nil {
		return nil, err
	}
	res.QueryID, res.FeedbackToken = q.ID, q.FeedbackToken
	hotlines, err := s.hotlines(ctx, department)
	if err != nil {
		return nil, err
	}
	msg := "抱歉，小申无法回答这个问题。如需咨询药品、医疗器械或化妆品事项，请直接说明；也可拨打下列热线。"
	if reason == DismissOutOfScope {
		msg = "经核实，这个问题不属于本单位办理的事项，小申不会另行答复；可拨打下列热线咨询。"
	}
	res.Fallback = &Fallback{Message: msg, Hotlines: hotlines}
	s.Logger.InfoContext(ctx, "ask", "query_id", q.ID, "answered", false, "dismissed_item_id", itemID, "reason", reason, "confidence", q.Confidence)
	s.observe(res)
	return res, nil
}

// smallTalkWords are the words of messages that ask nothing (在吗, 好的,
// 谢谢你, 晚上好): with only these and filler words, a message is small
// talk.
var smallTalkWords = []string{
	"在", "在不在", "有人", "好", "好的", "嗯", "嗯嗯", "哈哈", "嗨", "哈喽", "再见", "拜拜", "收到", "明白",
	"谢谢", "谢谢你", "谢谢您", "多谢", "感谢", "感谢你", "感谢您", "辛苦", "辛苦了", "你", "您",
	"早上好", "上午好", "中午好", "下午好", "晚上好", "早安", "晚安", "你们好", "您们好", "大家好", "老师好",
	// English words are one word each since Latin runs are cut whole.
	"hello", "hi", "hey", "thanks", "thank", "you", "thx", "ok", "okay", "bye", "good", "morning", "afternoon", "evening",
}

// isSmallTalk tells whether a question's wording key (filler words such as
// 你好, 请问 and 吗 already dropped) is made of smallTalkWords only, read
// longest word first: however the segmenter cut 晚上好 or 谢谢你, the key
// holds the characters in order.
func isSmallTalk(key string) bool {
	for key != "" {
		longest := 0
		for _, w := range smallTalkWords {
			if len(w) > longest && strings.HasPrefix(key, w) {
				longest = len(w)
			}
		}
		if longest == 0 {
			return false
		}
		key = key[longest:]
	}
	return true
}

// smallTalk answers a message that asks nothing with a prompt to ask and
// the general hotlines. It is neither recorded nor given a review item: a
// greeting has nothing to backfill, and counting it would lower the
// resolution rate for no question.
func (s *Service) smallTalk(ctx context.Context) (*AskResult, error) {
	hotlines, err := s.hotlines(ctx, s.DefaultDepartment)
	if err != nil {
		return nil, err
	}
	res := &AskResult{Related: []RelatedEntry{}, SmallTalk: true, Fallback: &Fallback{
		Message:  "您好，我是小申。请直接说出您想咨询的药品、医疗器械或化妆品事项，例如“第二类医疗器械注册要交哪些材料”。",
		Hotlines: hotlines,
	}}
	s.Logger.InfoContext(ctx, "ask", "small_talk", true)
	s.observe(res)
	return res, nil
}

// Candidates returns the live entries that may answer question at now,
// best first, the first the answer when confident enough: the matcher's,
// then a cited document's or a bare matter's guide put first. It is what
// Ask decides by, without recording anything.
func (s *Service) Candidates(ctx context.Context, question string, now time.Time) ([]Candidate, error) {
	live, _, err := s.candidates(ctx, question, now)
	return live, err
}

// lapsedEntry is the matcher's first candidate when it is past its 失效日期
// and close enough that it would have been answered or suggested.
type lapsedEntry struct {
	Title     string
	ExpiredOn time.Time
}

// candidates is Candidates, and the entry that would have answered had it
// not expired (a notice of last year's holiday hours, asked about again):
// the person is told it no longer applies rather than only promised a
// reply.
func (s *Service) candidates(ctx context.Context, question string, now time.Time) ([]Candidate, *lapsedEntry, error) {
	cands, err := s.Index.Match(ctx, question, 8)
	if err != nil {
		return nil, nil, err
	}
	var first Candidate
	if len(cands) > 0 {
		first = cands[0]
	}
	live, expiries, err := s.liveWith(ctx, cands, now)
	if err != nil {
		return nil, nil, err
	}
	var lapsed *lapsedEntry
	if exp, ok := expiries[first.EntryID]; ok && first.Confidence >= s.SuggestThreshold && ExpiredAt(exp, now) {
		if on, err := ParseDate(exp); err == nil {
			lapsed = &lapsedEntry{Title: first.Title, ExpiredOn: on}
		}
	}
	if live, err = s.preferCited(ctx, question, live, now); err != nil {
		return nil, nil, err
	}
	live, err = s.preferGuide(ctx, question, live)
	return live, lapsed, err
}

// live drops the candidates whose entries were deleted since indexed or
// are past their 失效日期, keeping the order; one read for all of them.
func (s *Service) live(ctx context.Context, cands []Candidate, now time.Time) ([]Candidate, error) {
	live, _, err := s.liveWith(ctx, cands, now)
	return live, err
}

// liveWith is live, and the 失效日期 it read by entry id ("" for none;
// deleted entries are missing).
func (s *Service) liveWith(ctx context.Context, cands []Candidate, now time.Time) ([]Candidate, map[int64]string, error) {
	ids := make([]int64, len(cands))
	for i, c := range cands {
		ids[i] = c.EntryID
	}
	expiries, err := s.Store.EntryExpiries(ctx, ids)
	if err != nil {
		return nil, nil, err
	}
	live := cands[:0]
	for _, c := range cands {
		if exp, ok := expiries[c.EntryID]; ok && !ExpiredAt(exp, now) {
			live = append(live, c)
		}
	}
	return live, expiries, nil
}

func (s *Service) observe(res *AskResult) {
	if s.Observer != nil {
		s.Observer.ObserveAsk(res)
	}
}

// route picks the department responsible for an unanswered question: the
// matter its words name (alone, or beside another matter's words), else
// the department keeping the entry of a document it cites (citedBy, ""
// for none: 739号令哪一条规定了注册人制度), else the department of the
// closest entries when they are close enough, else the default department.
func (s *Service) route(question string, cands []Candidate, citedBy string) string {
	if m, ok := MatterOf(question); ok {
		return m.Department
	}
	if asksUnlicensedActivity(question) {
		// Distribution and retail (经营备案, 药店) are licensed by none of
		// the departments here: the entries closest in words are a
		// licensing department's, but the question is not; 综合处 sends it
		// on.
		return s.DefaultDepartment
	}
	if m, ok := matterBeside(question); ok {
		return m.Department
	}
	if citedBy != "" {
		return citedBy
	}
	votes := map[string]float64{}
	for i, c := range cands {
		if i >= 3 || c.Confidence < routingConfidence || c.Department == "" {
			continue
		}
		votes[c.Department] += c.Confidence
	}
	best, bestVote := s.DefaultDepartment, 0.0
	for d, v := range votes {
		if v > bestVote || (v == bestVote && d < best) {
			best, bestVote = d, v
		}
	}
	return best
}

// hotlines lists the 热线电话 entries, those of the given department first.
func (s *Service) hotlines(ctx context.Context, department string) ([]Hotline, error) {
	entries, err := s.hotlineEntries(ctx)
	if err != nil {
		return nil, err
	}
	out := []Hotline{}
	offered := map[string]bool{}
	for pass := 0; pass < 2; pass++ {
		for _, e := range entries {
			// A hotline whose number is still to be filled in helps no one,
			// nor one whose number is offered already under another name.
			phone := e.Field(FieldPhone)
			digits := strings.Map(func(r rune) rune { // 021-1234 5678 is 02112345678
				if r >= '0' && r <= '9' {
					return r
				}
				return -1
			}, phone)
			if (e.Department == department) != (pass == 0) || e.Expired(s.Now()) || HasPlaceholder(phone) || offered[digits] {
				continue
			}
			offered[digits] = true
			out = append(out, Hotline{Title: e.Title, Phone: e.Field(FieldPhone), Hours: ForCitizens(e.Field(FieldHours))})
		}
	}
	if len(out) > 3 {
		out = out[:3]
	}
	return out, nil
}

// hotlineEntries returns the 热线电话 entries. They are kept between index
// updates, which every entry write goes through, so a changed hotline is
// offered as soon as the change is searchable.
func (s *Service) hotlineEntries(ctx context.Context) ([]*Entry, error) {
	cached := s.hotlineCache.Load()
	if cached != nil && cached.generation == s.hotlineGeneration.Load() {
		return cached.entries, nil
	}
	// A list read while an update runs is kept only if no update started
	// meanwhile: it may predate the update's write.
	generation := s.hotlineGeneration.Load()
	entries, _, err := s.Store.FindEntries(ctx, EntryFilter{Column: ColumnHotline})
	if err != nil {
		return nil, err
	}
	s.hotlineCache.Store(&hotlineList{generation: generation, entries: entries})
	return entries, nil
}

// hotlineList is the cached hotline entries as of an update generation.
type hotlineList struct {
	generation uint64
	entries    []*Entry
}

// forgetHotlines makes the next question read the hotlines again.
func (s *Service) forgetHotlines() { s.hotlineGeneration.Add(1) }

// newFeedbackToken returns 96 random bits, hex-encoded.
func newFeedbackToken() string {
	var b [12]byte
	rand.Read(b[:]) // never fails (crypto/rand)
	return hex.EncodeToString(b[:])
}

func round3(f float64) float64 { return float64(int(f*1000+0.5)) / 1000 }

// GroupKey normalises a question so that the same question typed with other
// punctuation, spacing, width or trailing particles groups together.
func GroupKey(question string) string {
	var b strings.Builder
	for _, r := range question {
		switch {
		case r >= 0xFF01 && r <= 0xFF5E:
			r -= 0xFEE0
		case r == 0x3000:
			r = ' '
		}
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(unicode.ToLower(r))
		}
	}
	key := b.String()
	for {
		trimmed := strings.TrimRight(strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(key, "吗"), "呢"), "啊"), "呀"), " ")
		if trimmed == key {
			break
		}
		key = trimmed
	}
	for _, p := range []string{"请问", "您好", "你好", "我想问一下", "我想问下", "想问一下", "问一下"} {
		key = strings.TrimPrefix(key, p)
	}
	return key
}

// invalid turns field problems into one invalid-input error.
func invalid(errs []FieldError) error {
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = e.Field + ": " + e.Message
	}
	return &Error{Code: EINVALID, Message: "条目无效：" + strings.Join(msgs, "；"), Details: errs}
}

// CreateEntry validates and stores a new entry, then indexes it.
func (s *Service) CreateEntry(ctx context.Context, e *Entry, actor string) error {
	e.Normalize()
	if errs := e.Validate(); len(errs) > 0 {
		return invalid(errs)
	}
	if err := s.Store.CreateEntry(ctx, e, actor); err != nil {
		return err
	}
	s.indexWritten(ctx, e.ID)
	return nil
}

// UpdateEntry validates and stores a changed entry, then re-indexes it.
func (s *Service) UpdateEntry(ctx context.Context, e *Entry, actor string) error {
	e.Normalize()
	if errs := e.Validate(); len(errs) > 0 {
		return invalid(errs)
	}
	if err := s.Store.UpdateEntry(ctx, e, actor); err != nil {
		return err
	}
	s.indexWritten(ctx, e.ID)
	return nil
}

// DeleteEntry soft-deletes an entry and drops it from the index.
func (s *Service) DeleteEntry(ctx context.Context, id int64, actor string) error {
	if _, err := s.Store.DeleteEntry(ctx, id, actor); err != nil {
		return err
	}
	s.indexWritten(ctx, id)
	return nil
}

// ColumnCount is a column with its number of live entries.
type ColumnCount struct {
	Code  Column `json:"code"`
	Name  string `json:"name"`
	Count int    `json:"count"`
}

// Columns lists the seven columns with their entry counts.
func (s *Service) Columns(ctx context.Context) ([]ColumnCount, error) {
	counts, err := s.Store.ColumnCounts(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]ColumnCount, len(Columns))
	for i, c := range Columns {
		out[i] = ColumnCount{Code: c, Name: c.Name(), Count: counts[c]}
	}
	return out, nil
}

// CreateEntryAs creates an entry for a maintainer of its department (or an
// admin).
func (s *Service) CreateEntryAs(ctx context.Context, p *Principal, e *Entry) error {
	if err := p.Require(RoleMaintainer); err != nil {
		return err
	}
	if e.Department == "" && !p.IsAdmin() {
		e.Department = p.Department
	}
	if err := p.RequireDepartment(e.Department); err != nil {
		return err
	}
	if err := s.checkDeletedExternalID(ctx, p, e); err != nil {
		return err
	}
	return s.CreateEntry(ctx, e, p.Actor())
}

// UpdateEntryAs replaces an entry; a maintainer may neither change another
// department's entry nor move one into another department.
func (s *Service) UpdateEntryAs(ctx context.Context, p *Principal, e *Entry) error {
	if err := p.Require(RoleMaintainer); err != nil {
		return err
	}
	old, err := s.Store.FindEntry(ctx, e.ID)
	if err != nil {
		return err
	}
	if err := p.RequireDepartment(old.Department); err != nil {
		return err
	}
	if e.Department == "" {
		e.Department = old.Department
	}
	if err := p.RequireDepartment(e.Department); err != nil {
		return err
	}
	if err := s.checkDeletedExternalID(ctx, p, e); err != nil {
		return err
	}
	return s.UpdateEntry(ctx, e, p.Actor())
}

// DeleteEntryAs soft-deletes an entry of p's department.
func (s *Service) DeleteEntryAs(ctx context.Context, p *Principal, id int64) error {
	if err := p.Require(RoleMaintainer); err != nil {
		return err
	}
	old, err := s.Store.FindEntry(ctx, id)
	if err != nil {
		return err
	}
	if err := p.RequireDepartment(old.Department); err != nil {
		return err
	}
	return s.DeleteEntry(ctx, id, p.Actor())
}

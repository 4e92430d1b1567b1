package kb

import (
	"context"
	"crypto/subtle"
	"fmt"
	"time"
	"unicode/utf8"
)

// FeedbackStore is the part of the store for feedback, proposals and
// statistics.
type FeedbackStore interface {
	FindQuery(ctx context.Context, id int64) (*QueryRecord, error)
	// RecordFeedback stores feedback on a query together with the proposal
	// and the improvement item it leads to, in one transaction.
	RecordFeedback(ctx context.Context, fb *FeedbackRequest, proposal *Proposal, improve *ReviewItem) error
	Proposals(ctx context.Context, f ProposalFilter) ([]Proposal, error)
	// DecideProposal accepts (adding the wording to the entry's similar
	// questions) or rejects a pending proposal.
	DecideProposal(ctx context.Context, id int64, accept bool, actor string, at time.Time) (*Proposal, *Entry, error)
	FindProposal(ctx context.Context, id int64) (*Proposal, error)
	Stats(ctx context.Context, f StatsFilter) (*Stats, error)
}

// QueryRecord is a logged question with its feedback.
type QueryRecord struct {
	Query
	Helpful         *bool
	SelectedEntryID int64
}

// FeedbackRequest is the chatbot's report of what the person made of an
// answer: helpful or not, or which suggestion they picked.
type FeedbackRequest struct {
	QueryID         int64  `json:"query_id"`
	Helpful         *bool  `json:"helpful,omitempty"`
	Comment         string `json:"comment,omitempty"`
	SelectedEntryID int64  `json:"selected_entry_id,omitempty"`
	// FeedbackToken is the one the answer came with: query ids are
	// consecutive, and without it anyone could mark anyone's answer
	// unhelpful.
	FeedbackToken string `json:"feedback_token,omitempty"`
	// SessionID stands in for the token on a question recorded before
	// answers came with one, when it was asked in a session.
	SessionID string `json:"session_id,omitempty"`
}

// FeedbackResult says what the feedback led to.
type FeedbackResult struct {
	QueryID      int64 `json:"query_id"`
	Recorded     bool  `json:"recorded"`
	ProposalID   int64 `json:"proposal_id,omitempty"`
	ReviewItemID int64 `json:"review_item_id,omitempty"`
}

// Proposal is a user's wording proposed as a similar question of an entry.
type Proposal struct {
	ID         int64      `json:"id"`
	EntryID    int64      `json:"entry_id"`
	EntryTitle string     `json:"entry_title"`
	Department string     `json:"department"`
	Question   string     `json:"question"`
	QueryID    int64      `json:"query_id"`
	Status     string     `json:"status"`
	CreatedAt  time.Time  `json:"created_at"`
	DecidedAt  *time.Time `json:"decided_at,omitempty"`
	DecidedBy  string     `json:"decided_by,omitempty"`
}

// ProposalFilter selects proposals.
type ProposalFilter struct {
	Department string
	Status     string
	Limit      int
}

// MaxCommentLength caps a feedback comment, in characters.
const MaxCommentLength = 500

// Feedback records what the person made of an answer. A picked suggestion
// counts the question as resolved and proposes its wording as a similar
// question of that entry; an answer marked unhelpful opens a 答案待改进 item
// with its own deadline.
func (s *Service) RecordFeedback(ctx context.Context, req FeedbackRequest) (*FeedbackResult, error) {
	if req.QueryID <= 0 {
		return nil, Errorf(EINVALID, "缺少 query_id")
	}
	if (req.Helpful == nil) == (req.SelectedEntryID == 0) {
		return nil, Errorf(EINVALID, "请提供 helpful（true/false）或 selected_entry_id 其中之一")
	}
	req.Comment = MaskPII(CleanText(req.Comment))
	if utf8.RuneCountInString(req.Comment) > MaxCommentLength {
		return nil, Errorf(EINVALID, "评价内容过长，请控制在 %d 字以内", MaxCommentLength)
	}
	q, err := s.Feedback.FindQuery(ctx, req.QueryID)
	if err != nil {
		return nil, err
	}
	switch {
	case q.FeedbackToken != "":
		if subtle.ConstantTimeCompare([]byte(req.FeedbackToken), []byte(q.FeedbackToken)) != 1 {
			return nil, Errorf(EFORBIDDEN, "缺少或不符的 feedback_token：评价时请一并提供答复中的 feedback_token")
		}
	case q.SessionID != "" && CleanText(req.SessionID) != q.SessionID:
		return nil, Errorf(EFORBIDDEN, "该问答属于另一个会话：评价时请提供提问时的 session_id")
	}
	if q.Helpful != nil || q.SelectedEntryID != 0 {
		return nil, Errorf(ECONFLICT, "该问答已评价过")
	}
	if req.Helpful != nil && !q.Answered {
		// Nothing was answered to judge: the question is already recorded
		// for backfill.
		return nil, Errorf(EINVALID, "该问题没有直接答复，没有可评价的答复")
	}
	res := &FeedbackResult{QueryID: q.ID, Recorded: true}
	var proposal *Proposal
	var improve *ReviewItem
	now := s.Now()
	if req.SelectedEntryID != 0 {
		offered := false
		for _, id := range q.Suggestions {
			offered = offered || id == req.SelectedEntryID
		}
		if !offered {
			return nil, Errorf(EINVALID, "条目 %d 不在该问答的推荐列表中", req.SelectedEntryID)
		}
		e, err := s.Store.FindEntry(ctx, req.SelectedEntryID)
		if err != nil {
			return nil, err
		}
		proposal = &Proposal{EntryID: e.ID, Question: q.Question, QueryID: q.ID, CreatedAt: now}
	} else if !*req.Helpful && q.Answered {
		e, err := s.Store.FindEntry(ctx, q.EntryID)
		if err != nil {
			return nil, err
		}
		d := s.Calendar.BackfillDeadline(now)
		improve = &ReviewItem{Type: ReviewImprove, Question: q.Question, GroupKey: fmt.Sprintf("improve:%d", e.ID),
			Department: e.Department, DueAt: d.DueAt, DueProvisional: d.Provisional, AnswerEntryID: e.ID, FirstAskedAt: now}
	}
	if err := s.Feedback.RecordFeedback(ctx, &req, proposal, improve); err != nil {
		return nil, err
	}
	if proposal != nil {
		res.ProposalID = proposal.ID
	}
	if improve != nil {
		res.ReviewItemID = improve.ID
	}
	return res, nil
}

// Proposals lists the similar-question proposals p may decide.
func (s *Service) Proposals(ctx context.Context, p *Principal, status string) ([]Proposal, error) {
	if err := p.Require(RoleReviewer); err != nil {
		return nil, err
	}
	f := ProposalFilter{Status: status, Limit: 200}
	if !p.IsAdmin() {
		f.Department = p.Department
	}
	return s.Feedback.Proposals(ctx, f)
}

// DecideProposal accepts or rejects a proposal; an accepted wording becomes
// a similar question of the entry and is indexed at once.
func (s *Service) DecideProposal(ctx context.Context, p *Principal, id int64, accept bool) (*Proposal, error) {
	if err := p.Require(RoleReviewer); err != nil {
		return nil, err
	}
	prop, err := s.Feedback.FindProposal(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := p.RequireDepartment(prop.Department); err != nil {
		return nil, err
	}
	if prop.Status != "pending" {
		return nil, Errorf(ECONFLICT, "该建议已处理")
	}
	s.wordingMu.Lock()
	defer s.wordingMu.Unlock()
	if accept {
		clash, err := s.wordingClash(ctx, prop.Question, func(id int64) bool { return id == prop.EntryID })
		if err != nil {
			return nil, err
		}
		if clash != nil {
			return nil, Errorf(ECONFLICT, "%s：采纳后两个条目会争同一个问题。请驳回本建议，或先从条目 %d 中删去这个问法再采纳", clash, clash.EntryID)
		}
	}
	prop, e, err := s.Feedback.DecideProposal(ctx, id, accept, p.Actor(), s.Now())
	if err != nil {
		return nil, err
	}
	if e != nil {
		s.indexWritten(ctx, e.ID)
	}
	return prop, nil
}

// StatsFilter narrows the statistics to a period and a department.
type StatsFilter struct {
	From, To   time.Time // asked in [From, To); zero means unbounded
	Department string
	Now        time.Time
}

// DepartmentStats are one department's review figures.
type DepartmentStats struct {
	Department   string  `json:"department"`
	Open         int     `json:"open"`
	Overdue      int     `json:"overdue"`
	ClosedOnTime int     `json:"closed_on_time"`
	ClosedLate   int     `json:"closed_late"`
	OnTimeRate   float64 `json:"on_time_rate"`
}

// Stats are 小申's resolution figures and the departments' backfill
// figures. See docs/stats.md for the definitions.
type Stats struct {
	Asked                int     `json:"asked"`
	Answered             int     `json:"answered"`
	Unanswered           int     `json:"unanswered"`
	ResolvedBySuggestion int     `json:"resolved_by_suggestion"`
	Unhelpful            int     `json:"unhelpful"`
	ResolutionRate       float64 `json:"resolution_rate"`
	ResolutionTarget     float64 `json:"resolution_target"`
	OnTimeRate           float64 `json:"on_time_rate"`
	// OnTimeJudged is the on-time rate's denominator: with nothing closed
	// or overdue the rate is 0 but means nothing, and reads as “—”.
	OnTimeJudged int               `json:"on_time_judged"`
	Departments  []DepartmentStats `json:"departments"`
	// LatePolicies are 政策文件 that entered the KB after the end of the
	// working day before they took effect.
	LatePolicies []PolicyTimeliness `json:"late_policies"`
}

// ResolutionTarget is the work plan's target for 小申's resolution rate.
const ResolutionTarget = 0.5

// Stats returns the figures p may see.
func (s *Service) Stats(ctx context.Context, p *Principal, f StatsFilter) (*Stats, error) {
	if err := p.Require(RoleReviewer, RoleMaintainer); err != nil {
		return nil, err
	}
	if !p.IsAdmin() {
		if f.Department != "" && f.Department != p.Department {
			return nil, p.RequireDepartment(f.Department)
		}
		f.Department = p.Department
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return nil, Errorf(EINVALID, "统计区间的开始日期应早于结束日期")
	}
	f.Now = s.Now()
	st, err := s.Feedback.Stats(ctx, f)
	if err != nil {
		return nil, err
	}
	st.ResolutionTarget = ResolutionTarget
	if st.Asked > 0 {
		st.ResolutionRate = round3(float64(st.Answered-st.Unhelpful+st.ResolvedBySuggestion) / float64(st.Asked))
	}
	var onTime, judged int
	for i := range st.Departments {
		d := &st.Departments[i]
		n := d.ClosedOnTime + d.ClosedLate + d.Overdue
		if n > 0 {
			d.OnTimeRate = round3(float64(d.ClosedOnTime) / float64(n))
		}
		onTime += d.ClosedOnTime
		judged += n
	}
	st.OnTimeJudged = judged
	if judged > 0 {
		st.OnTimeRate = round3(float64(onTime) / float64(judged))
	}
	if st.LatePolicies, err = s.LatePolicies(ctx, f); err != nil {
		return nil, err
	}
	return st, nil
}

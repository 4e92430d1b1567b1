package kb

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// SyncRow is one row of an upload: an entry and where it came from.
type SyncRow struct {
	File  string `json:"file,omitempty"`
	Row   int    `json:"row,omitempty"`
	Entry *Entry `json:"entry"`
}

// SyncRequest is a maintainer's upload: rows to create or update, matched by
// external id (编号) when given, else by column and title.
type SyncRequest struct {
	Column      Column    `json:"column,omitempty"`     // default column of rows without one; the column pruned
	Department  string    `json:"department,omitempty"` // default department of rows without one
	DryRun      bool      `json:"dry_run,omitempty"`
	Prune       bool      `json:"prune,omitempty"` // soft-delete the department's entries of Column missing from the upload
	SkipInvalid bool      `json:"skip_invalid,omitempty"`
	Rows        []SyncRow `json:"rows"`
}

// RowProblem is a rejected row or a warning, named by file, row and field.
type RowProblem struct {
	File    string `json:"file,omitempty"`
	Row     int    `json:"row,omitempty"`
	Field   string `json:"field,omitempty"`
	Title   string `json:"title,omitempty"`
	Message string `json:"message"`
}

func (p RowProblem) String() string {
	if p.File == "" && p.Row == 0 {
		return p.Message // about the upload as a whole
	}
	loc := p.File
	if p.Row > 0 {
		loc = fmt.Sprintf("%s:%d", loc, p.Row)
	}
	if p.Field != "" {
		loc += " [" + FieldLabel(p.Field) + "]"
	}
	return loc + ": " + p.Message
}

// SyncChange is what an upload did, or would do, to one entry.
type SyncChange struct {
	Action     string `json:"action"` // create, update, unchanged, delete
	EntryID    int64  `json:"entry_id,omitempty"`
	ExternalID string `json:"external_id,omitempty"`
	Title      string `json:"title"`
	Row        int    `json:"row,omitempty"`
	// Changed names what an update changes (标题, 内容, 相似问法, 实施日期 …).
	Changed []string `json:"changed,omitempty"`
	// OldTitle is the title an update replaces: a row matched by its 编号
	// may rename another document than the one its maintainer meant.
	OldTitle string `json:"old_title,omitempty"`
}

// SyncResult summarises an upload.
type SyncResult struct {
	DryRun    bool `json:"dry_run"`
	Created   int  `json:"created"`
	Updated   int  `json:"updated"`
	Unchanged int  `json:"unchanged"`
	Deleted   int  `json:"deleted"`
	// Restored counts rows whose 编号 was of a deleted entry: the entry
	// comes back with its id and history rather than as a new one.
	Restored int          `json:"restored"`
	Rejected int          `json:"rejected"`
	Written  bool         `json:"written"`
	Errors   []RowProblem `json:"errors"`
	Warnings []RowProblem `json:"warnings"`
	Changes  []SyncChange `json:"changes"`
}

// SyncStore applies an upload in one transaction.
type SyncStore interface {
	// ApplySync writes an upload. An update made from the version of a
	// deleted entry restores it.
	ApplySync(ctx context.Context, creates, updates []*Entry, deletes []int64, actor string) error
	// DeletedEntries returns, by 编号, the latest deleted entry of each 编号
	// no live entry has.
	DeletedEntries(ctx context.Context) (map[string]*Entry, error)
}

// Sync validates an upload and applies it all or nothing: a rejected row
// stops the whole upload unless SkipInvalid. Unchanged rows are not
// written, so uploading the same file twice changes nothing.
func (s *Service) Sync(ctx context.Context, p *Principal, req SyncRequest) (*SyncResult, error) {
	if err := p.Require(RoleMaintainer); err != nil {
		return nil, err
	}
	if req.Column != "" && !req.Column.Valid() {
		return nil, Errorf(EINVALID, "栏目 %q 无效", req.Column)
	}
	if req.Prune && req.Column == "" {
		return nil, Errorf(EINVALID, "--prune 需要指定栏目")
	}
	department := req.Department
	if department == "" && !p.IsAdmin() {
		department = p.Department
	}
	if req.Prune && department == "" {
		return nil, Errorf(EINVALID, "--prune 需要指定部门")
	}
	if err := p.RequireDepartment(department); department != "" && err != nil {
		return nil, err
	}
	existing, _, err := s.Store.FindEntries(ctx, EntryFilter{})
	if err != nil {
		return nil, err
	}
	byExt := map[string]*Entry{}
	byTitle := map[string]*Entry{}
	titleKey := func(c Column, t string) string { return string(c) + "\x00" + t }
	for _, e := range existing {
		if e.ExternalID != "" {
			byExt[e.ExternalID] = e
		}
		byTitle[titleKey(e.Column, e.Title)] = e
	}

	known, err := s.Store.Departments(ctx)
	if err != nil {
		return nil, err
	}
	deleted, err := s.Syncs.DeletedEntries(ctx)
	if err != nil {
		return nil, err
	}
	knownDept, newDept := map[string]bool{}, map[string]bool{}
	for _, d := range known {
		knownDept[d] = true
	}

	res := &SyncResult{DryRun: req.DryRun, Errors: []RowProblem{}, Warnings: []RowProblem{}, Changes: []SyncChange{}}
	var creates, updates []*Entry
	createdChange := map[*Entry]int{} // created entry → its index in res.Changes
	var forbidden []RowProblem
	var checks []wordingCheck // rows to create or update, for wordingWarnings
	var drops []int           // the warnings of similar questions an update drops
	seenTitle := map[string]int{}
	seenExt := map[string]int{}
	touched := map[int64]bool{}
	restoring := map[int64]bool{} // deleted entries a row restores
	now := s.Now()
	for _, row := range req.Rows {
		e := row.Entry
		if e == nil {
			res.Errors = append(res.Errors, RowProblem{File: row.File, Row: row.Row, Message: "空行"})
			continue
		}
		if e.Column == "" {
			e.Column = req.Column
		}
		if e.Department == "" {
			e.Department = department
		}
		e.Normalize()
		reject := func(field, format string, args ...any) {
			res.Errors = append(res.Errors, RowProblem{File: row.File, Row: row.Row, Field: field, Title: e.Title, Message: fmt.Sprintf(format, args...)})
		}
		if errs := e.Validate(); len(errs) > 0 {
			for _, fe := range errs {
				reject(fe.Field, "%s", fe.Message)
			}
			continue
		}
		if !p.CanActFor(e.Department) {
			forbidden = append(forbidden, RowProblem{File: row.File, Row: row.Row, Field: "department", Title: e.Title,
				Message: fmt.Sprintf("维护员只能上传本部门（%s）的条目，该行属于%s", p.Department, e.Department)})
			continue
		}
		key := titleKey(e.Column, e.Title)
		if first, dup := seenTitle[key]; dup {
			reject("title", "标题与第 %d 行重复", first)
			continue
		}
		seenTitle[key] = row.Row
		if e.ExternalID != "" {
			if first, dup := seenExt[e.ExternalID]; dup {
				reject("external_id", "编号 %q 与第 %d 行重复", e.ExternalID, first)
				continue
			}
			seenExt[e.ExternalID] = row.Row
		}
		var old *Entry
		if e.ExternalID != "" {
			old = byExt[e.ExternalID]
		}
		if old == nil {
			if same := byTitle[key]; same != nil && (e.ExternalID == "" || same.ExternalID == "" || same.ExternalID == e.ExternalID) {
				old = same
			} else if same != nil {
				reject("title", "知识库中已有同栏目同标题的条目 %d（编号 %s）", same.ID, same.ExternalID)
				continue
			}
		} else if same := byTitle[key]; same != nil && same.ID != old.ID {
			reject("title", "知识库中已有同栏目同标题的条目 %d", same.ID)
			continue
		}
		if old != nil && !p.CanActFor(old.Department) {
			forbidden = append(forbidden, RowProblem{File: row.File, Row: row.Row, Field: "department", Title: e.Title,
				Message: fmt.Sprintf("条目 %d 属于%s，维护员只能修改本部门的条目", old.ID, old.Department)})
			continue
		}
		if old != nil && e.ExternalID == "" {
			e.ExternalID = old.ExternalID
		}
		var restored *Entry // the deleted entry this row brings back
		if d := deleted[e.ExternalID]; old == nil && d != nil {
			// The 编号 stays the deleted entry's: taken by another column or
			// department, its own could never upload it back.
			if !canRestore(p, d, e) || restoring[d.ID] {
				reject("external_id", "%s", deletedIDTaken(d))
				continue
			}
			restored, restoring[d.ID] = d, true
		}
		if old == nil || !old.SameContent(e) {
			s.policyWarnings(res, row, e, cmp.Or(old, restored), now)
			if !knownDept[e.Department] && !newDept[e.Department] {
				// A typo in a department name would make a department no
				// one belongs to, and route its questions there.
				newDept[e.Department] = true
				res.Warnings = append(res.Warnings, RowProblem{File: row.File, Row: row.Row, Field: "department", Title: e.Title,
					Message: fmt.Sprintf("部门“%s”尚不存在，上传后将新建；已有部门：%s。如是笔误，请改正后再上传", e.Department, strings.Join(known, "、"))})
			}
		}
		switch {
		case restored != nil:
			// An update from the deleted version restores the entry.
			e.ID, e.Version = restored.ID, restored.Version
			checks = append(checks, wordingCheck{row: row, e: e})
			updates = append(updates, e)
			res.Restored++
			res.Changes = append(res.Changes, SyncChange{Action: "restore", EntryID: e.ID, ExternalID: e.ExternalID, Title: e.Title, Row: row.Row})
		case old == nil:
			checks = append(checks, wordingCheck{row: row, e: e})
			creates = append(creates, e)
			createdChange[e] = len(res.Changes)
			res.Changes = append(res.Changes, SyncChange{Action: "create", ExternalID: e.ExternalID, Title: e.Title, Row: row.Row})
		case old.SameContent(e):
			touched[old.ID] = true
			res.Unchanged++
			res.Changes = append(res.Changes, SyncChange{Action: "unchanged", EntryID: old.ID, ExternalID: e.ExternalID, Title: e.Title, Row: row.Row})
		default:
			touched[old.ID] = true
			e.ID, e.Version = old.ID, old.Version // refused at write if the entry changes meanwhile
			checks = append(checks, wordingCheck{row: row, e: e})
			updates = append(updates, e)
			change := SyncChange{Action: "update", EntryID: old.ID, ExternalID: e.ExternalID, Title: e.Title, Row: row.Row, Changed: e.Changes(old)}
			if old.Title != e.Title {
				change.OldTitle = old.Title
			}
			res.Changes = append(res.Changes, change)
			if dropped := missing(old.Similar, e.Similar); len(dropped) > 0 {
				// Reviewers add wordings on the review page; a file exported
				// before that would silently take them away.
				drops = append(drops, len(res.Warnings))
				res.Warnings = append(res.Warnings, RowProblem{File: row.File, Row: row.Row, Field: "similar_questions", Title: e.Title,
					Message: fmt.Sprintf("本次上传会删去该条目现有的 %d 个相似问法：“%s”；它们可能是审核页新学到的问法，要保留请写进文件再上传", len(dropped), strings.Join(dropped, "”“"))})
			}
		}
	}
	if len(forbidden) > 0 {
		return nil, &Error{Code: EFORBIDDEN, Message: fmt.Sprintf("无权写入其他部门的条目（%d 行），本次上传未写入任何内容：%s", len(forbidden), forbidden[0]),
			Details: problemsAsFieldErrors(forbidden)}
	}
	var deletes []int64
	switch {
	case req.Prune && len(res.Errors) > 0:
		// A rejected row may be the very entry the department keeps (a
		// blank title next to its 编号): pruning around it would delete it.
		res.Warnings = append(res.Warnings, RowProblem{Field: "prune", Message: NoPruneMessage})
	case req.Prune:
		for _, e := range existing {
			if e.Column == req.Column && e.Department == department && !touched[e.ID] && !isCreated(creates, e) {
				deletes = append(deletes, e.ID)
				res.Changes = append(res.Changes, SyncChange{Action: "delete", EntryID: e.ID, ExternalID: e.ExternalID, Title: e.Title})
			}
		}
	}
	// Entries this upload rewrites or deletes: their indexed wordings are
	// about to change.
	rewritten := map[int64]bool{}
	for _, e := range updates {
		rewritten[e.ID] = true
	}
	for _, id := range deletes {
		rewritten[id] = true
	}
	s.wordingWarnings(res, checks, existing, rewritten)
	res.Rejected = len(res.Errors)
	res.Created, res.Updated, res.Deleted = len(creates), len(updates)-res.Restored, len(deletes)
	if req.DryRun || (res.Rejected > 0 && !req.SkipInvalid) {
		return res, nil
	}
	if len(creates)+len(updates)+len(deletes) == 0 {
		return res, nil
	}
	s.Logger.InfoContext(ctx, "upload validated; writing", "actor", p.Actor(), "entries", len(creates)+len(updates)+len(deletes))
	if err := s.Syncs.ApplySync(ctx, creates, updates, deletes, p.Actor()); err != nil {
		if code := ErrorCode(err); code == ECONFLICT || code == ENOTFOUND {
			// Another write reached an entry between this upload's check and
			// its write: the transaction wrote nothing.
			return nil, Errorf(ECONFLICT, "上传期间有条目被他人修改或删除（%s），本次上传未写入任何内容，请重新上传", ErrorMessage(err))
		}
		return nil, err
	}
	res.Written = true
	for _, i := range drops {
		w := &res.Warnings[i]
		w.Message = strings.Replace(strings.Replace(w.Message, "本次上传会删去", "本次上传已删去", 1),
			"要保留请写进文件再上传", "要恢复请写回文件再上传（条目的修改历史中可查到原有问法）", 1)
	}
	for e, i := range createdChange {
		res.Changes[i].EntryID = e.ID
	}
	s.Logger.InfoContext(ctx, "upload stored; indexing", "actor", p.Actor(), "entries", len(creates)+len(updates)+len(deletes))
	ids := make([]int64, 0, len(creates)+len(updates)+len(deletes))
	for _, e := range append(creates, updates...) {
		ids = append(ids, e.ID)
	}
	s.indexWritten(ctx, append(ids, deletes...)...)
	s.Logger.InfoContext(ctx, "upload applied", "actor", p.Actor(), "created", res.Created, "updated", res.Updated,
		"unchanged", res.Unchanged, "deleted", res.Deleted, "rejected", res.Rejected)
	return res, nil
}

// NoPruneMessage says why an upload with rejected rows prunes nothing; the
// upload client, which skips the rows it rejects itself, says the same.
const NoPruneMessage = "有被驳回的行，本次不删除任何条目：被驳回的行可能正是要保留的条目；改正这些行后重新上传，才会删除上传中没有的条目"

// wordingCheck is an uploaded entry to create or update, with its row.
type wordingCheck struct {
	row SyncRow
	e   *Entry
}

// wordingWarnings warns of every wording of the checked entries that
// another of them has too, or that a live entry of the KB other than those
// rewritten has: two entries with one question between them leave the
// answer to chance. It warns rather than rejects, as a maintainer moving a
// question from one entry to another uploads both. Wordings are compared
// by their keys (QuestionAnalyzer.WordingKey), a precise cut each, so the
// cost grows with the KB and the upload but not with their product.
func (s *Service) wordingWarnings(res *SyncResult, checks []wordingCheck, existing []*Entry, rewritten map[int64]bool) {
	if s.Analyzer == nil || len(checks) == 0 {
		return
	}
	type holder struct {
		row     int    // the check with the key, or -1
		entry   *Entry // else the KB entry with it
		wording string
	}
	var texts []string
	for _, c := range checks {
		texts = append(texts, c.e.Questions()...)
	}
	uploadKeys := s.wordingKeys(texts)
	held := map[string]*holder{}
	for _, key := range uploadKeys {
		if key != "" && held[key] == nil {
			held[key] = &holder{row: -1}
		}
	}
	now := s.Now()
	var kbEntries []*Entry // one per text of kbTexts
	var kbTexts []string
	for _, e := range existing {
		if rewritten[e.ID] || e.Expired(now) {
			continue
		}
		for _, w := range e.Questions() {
			kbEntries, kbTexts = append(kbEntries, e), append(kbTexts, w)
		}
	}
	for i, key := range s.wordingKeys(kbTexts) {
		if h := held[key]; h != nil && h.entry == nil {
			h.entry, h.wording = kbEntries[i], kbTexts[i]
		}
	}
	next := 0 // the checks' texts, in order
	for i, c := range checks {
		for j, w := range c.e.Questions() {
			key := uploadKeys[next]
			next++
			h := held[key]
			if h == nil {
				continue
			}
			var clash string
			switch {
			case h.entry != nil:
				clash = (&WordingClash{Wording: w, EntryID: h.entry.ID, EntryTitle: h.entry.Title, Department: h.entry.Department, Theirs: h.wording}).String()
			case h.row >= 0 && h.row != i:
				clash = fmt.Sprintf("问法“%s”与第 %d 行“%s”的问法在小申看来是同一个问题", w, checks[h.row].row.Row, checks[h.row].e.Title)
			case h.row < 0:
				h.row = i
			}
			if clash == "" {
				continue
			}
			field := "similar_questions"
			if j == 0 {
				field = "title"
			}
			res.Warnings = append(res.Warnings, RowProblem{File: c.row.File, Row: c.row.Row, Field: field, Title: c.e.Title,
				Message: clash + "：小申遇到这个问题时只会给出其中一个条目，请合并两个条目或改写其中一个问法"})
		}
	}
}

// missing lists the items of had that has lacks, in order.
func missing(had, has []string) []string {
	var out []string
	for _, w := range had {
		if !slices.Contains(has, w) {
			out = append(out, w)
		}
	}
	return out
}

// canRestore tells whether p's row e may bring back the deleted entry d
// of its 编号: only within d's column and by d's department.
func canRestore(p *Principal, d, e *Entry) bool {
	return d.Column == e.Column && p.CanActFor(d.Department)
}

// deletedIDTaken explains why another department or column may not give
// the 编号 of the deleted entry d to an entry of its own: d's department
// could never upload it back.
func deletedIDTaken(d *Entry) string {
	return fmt.Sprintf("编号 %q 属于已删除的条目 %d（%s，%s，%s）：请换一个编号；要恢复该条目，由其部门在原栏目重新上传",
		d.ExternalID, d.ID, d.Title, d.Column.Name(), d.Department)
}

// checkDeletedExternalID refuses an entry written one at a time whose 编号
// is that of a deleted entry p could not restore, as an upload does.
func (s *Service) checkDeletedExternalID(ctx context.Context, p *Principal, e *Entry) error {
	if e.ExternalID == "" {
		return nil
	}
	deleted, err := s.Syncs.DeletedEntries(ctx)
	if err != nil {
		return err
	}
	if d := deleted[e.ExternalID]; d != nil && d.ID != e.ID && !canRestore(p, d, e) {
		return &Error{Code: EINVALID, Message: deletedIDTaken(d), Details: []FieldError{{Field: "external_id", Message: deletedIDTaken(d)}}}
	}
	return nil
}

func isCreated(creates []*Entry, e *Entry) bool {
	for _, c := range creates {
		if c.ID == e.ID {
			return true
		}
	}
	return false
}

func problemsAsFieldErrors(ps []RowProblem) []FieldError {
	out := make([]FieldError, len(ps))
	for i, p := range ps {
		out[i] = FieldError{Field: fmt.Sprintf("%s:%d", p.File, p.Row), Message: p.Message}
	}
	return out
}

// policyWarnings adds the work plan's timeliness checks for 政策文件: a
// policy must be in the KB by the end of the working day before it takes
// effect, with its 解读 linked.
func (s *Service) policyWarnings(res *SyncResult, row SyncRow, e, old *Entry, now time.Time) {
	if e.Column != ColumnPolicy {
		return
	}
	warn := func(field, format string, args ...any) {
		res.Warnings = append(res.Warnings, RowProblem{File: row.File, Row: row.Row, Field: field, Title: e.Title, Message: fmt.Sprintf(format, args...)})
	}
	if e.Fields[FieldInterpretation] == "" {
		warn(FieldInterpretation, "政策文件未关联解读，请同时上传解读并在“解读”列填写其编号")
	}
	if e.EffectiveBeforePublished() {
		warn(FieldEffectiveOn, "实施日期 %s 早于发布日期 %s：请核对两个日期是否填反；如确为溯及既往执行的文件，可忽略本提醒",
			e.Fields[FieldEffectiveOn], e.Fields[FieldPublishedOn])
	}
	if e.Fields[FieldEffectiveOn] == "" {
		warn(FieldEffectiveOn, "政策文件未填写实施日期：无法按帮办制度判断是否按时入库，施行前的答复也不会注明尚未施行")
		return
	}
	if old == nil {
		if t := s.PolicyTimeliness(e, now); t != nil && t.Late {
			warn(FieldEffectiveOn, "按帮办制度，实施日期 %s 的政策应在 %s 前入库，本次入库晚于该时限，将记为逾期",
				e.Fields[FieldEffectiveOn], t.Deadline.Format("2006-01-02 15:04"))
		}
		return
	}
	// An update is judged by when the policy first entered the KB: only a
	// new 实施日期 can make it late now.
	if t := s.PolicyTimeliness(e, old.CreatedAt); t != nil && t.Late {
		if was := s.PolicyTimeliness(old, old.CreatedAt); was == nil || !was.Late {
			warn(FieldEffectiveOn, "按新的实施日期 %s，该政策应在 %s 前入库，而它于 %s 入库，将记为逾期",
				e.Fields[FieldEffectiveOn], t.Deadline.Format("2006-01-02 15:04"), old.CreatedAt.In(Shanghai).Format("2006-01-02 15:04"))
		}
	}
}

// PolicyTimeliness is whether a policy entered the KB in time.
type PolicyTimeliness struct {
	EntryID     int64     `json:"entry_id"`
	Title       string    `json:"title"`
	Department  string    `json:"department"`
	EffectiveOn string    `json:"effective_on"`
	EnteredAt   time.Time `json:"entered_at"`
	Deadline    time.Time `json:"deadline"`
	Late        bool      `json:"late"`
}

// PolicyTimeliness judges a policy that entered the KB at entered; nil when
// it is not a policy with an effective date.
func (s *Service) PolicyTimeliness(e *Entry, entered time.Time) *PolicyTimeliness {
	if e.Column != ColumnPolicy || e.Fields[FieldEffectiveOn] == "" {
		return nil
	}
	eff, err := ParseDate(e.Fields[FieldEffectiveOn])
	if err != nil {
		return nil
	}
	d := s.Calendar.PolicyDeadline(eff)
	return &PolicyTimeliness{EntryID: e.ID, Title: e.Title, Department: e.Department, EffectiveOn: e.Fields[FieldEffectiveOn],
		EnteredAt: entered.In(Shanghai), Deadline: d.DueAt, Late: entered.After(d.DueAt)}
}

// LatePolicies lists the policies that entered the KB after their deadline,
// for a department or all.
func (s *Service) LatePolicies(ctx context.Context, f StatsFilter) ([]PolicyTimeliness, error) {
	policies, _, err := s.Store.FindEntries(ctx, EntryFilter{Column: ColumnPolicy, Department: f.Department})
	if err != nil {
		return nil, err
	}
	out := []PolicyTimeliness{}
	for _, e := range policies {
		if !f.From.IsZero() && e.CreatedAt.Before(f.From) || !f.To.IsZero() && !e.CreatedAt.Before(f.To) {
			continue // entered outside the period
		}
		// The seed corpus is history, not a timeliness record.
		if t := s.PolicyTimeliness(e, e.CreatedAt); t != nil && t.Late && !s.seeded(e) {
			out = append(out, *t)
		}
	}
	return out, nil
}

// SeedActor names the embedded corpus as the author of its entries.
const SeedActor = "seed"

func (s *Service) seeded(e *Entry) bool { return e.CreatedBy == SeedActor }

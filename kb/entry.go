package kb

import (
	"maps"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxTitleLength is the longest title, in characters, an entry may have.
const MaxTitleLength = 128

// Entry is one item of the knowledge base.
type Entry struct {
	ID         int64             `json:"entry_id"`
	ExternalID string            `json:"external_id,omitempty"` // 编号, stable across uploads
	Column     Column            `json:"column"`
	Title      string            `json:"title"`
	Content    string            `json:"content"`
	Department string            `json:"department"`
	Matter     string            `json:"matter,omitempty"` // 事项
	Keywords   []string          `json:"keywords"`
	Similar    []string          `json:"similar_questions"` // 相似问法
	Fields     map[string]string `json:"fields"`            // column-specific fields by code
	Version    int               `json:"version"`
	CreatedAt  time.Time         `json:"created_at"` // when the entry first entered the KB
	CreatedBy  string            `json:"created_by,omitempty"`
	UpdatedAt  time.Time         `json:"updated_at"`
	DeletedAt  *time.Time        `json:"deleted_at,omitempty"`
}

// Questions returns the standard question and its similar wordings: the
// texts a user question is matched against.
func (e *Entry) Questions() []string {
	return append([]string{e.Title}, e.Similar...)
}

// Field returns a column-specific field.
func (e *Entry) Field(code string) string { return e.Fields[code] }

// ExpiresOn returns the entry's expiry date, if it has one.
func (e *Entry) ExpiresOn() (time.Time, bool) {
	s := e.Fields[FieldExpiresOn]
	if s == "" {
		return time.Time{}, false
	}
	t, err := ParseDate(s)
	return t, err == nil
}

// Expired reports whether the entry is a policy or notice past its 失效日期
// at now. An expired entry stays in the KB but is never given as an answer.
func (e *Entry) Expired(now time.Time) bool {
	return ExpiredAt(e.Fields[FieldExpiresOn], now)
}

// ExpiredAt reports whether a 失效日期 (YYYY-MM-DD, or "" for none) has
// passed at now: an entry expires at the end of that day.
func ExpiredAt(expiresOn string, now time.Time) bool {
	if expiresOn == "" {
		return false
	}
	exp, err := ParseDate(expiresOn)
	return err == nil && !now.Before(exp.AddDate(0, 0, 1))
}

// Normalize trims the entry's text fields, drops empty and repeated list
// items, and writes dates in the canonical YYYY-MM-DD form.
func (e *Entry) Normalize() {
	e.Title = strings.TrimSpace(e.Title)
	e.Content = strings.TrimSpace(e.Content)
	e.Department = strings.TrimSpace(e.Department)
	e.Matter = strings.TrimSpace(e.Matter)
	e.ExternalID = strings.TrimSpace(e.ExternalID)
	e.Keywords = cleanList(e.Keywords)
	e.Similar = cleanList(e.Similar)
	fields := map[string]string{}
	for k, v := range e.Fields {
		v = strings.TrimSpace(v)
		if v == "" {
			continue
		}
		if spec, ok := e.Column.FieldSpec(k); ok {
			k = spec.Code
			if spec.Kind == KindDate {
				if t, err := ParseDate(v); err == nil {
					v = t.Format("2006-01-02")
				}
			}
			if spec.Code == FieldDocNumber {
				v = normalizeDocNumber(v)
			}
		}
		fields[k] = v
	}
	e.Fields = fields
}

// docNumberYear is the year of a 文号 in any of the brackets maintainers
// type for the 六角括号 of 沪药监规〔2031〕7号.
var docNumberYear = regexp.MustCompile(`[〔\[［(（【]((?:19|20)[0-9]{2})[〕\]］)）】]`)

// normalizeDocNumber writes a 文号 as documents print it (GB/T 9704): no
// spaces, ASCII digits, the year in 〔〕. Answers show the 文号 and cite it
// as the question they matched, so 沪药监规 ［２０３１］ 14 号 would show
// as typed. A detail still to be filled in is left as it is.
func normalizeDocNumber(v string) string {
	if HasPlaceholder(v) {
		return v
	}
	v = strings.Join(strings.Fields(strings.Map(foldDigit, v)), "")
	return docNumberYear.ReplaceAllString(v, "〔$1〕")
}

func cleanList(items []string) []string {
	out := make([]string, 0, len(items))
	seen := map[string]bool{}
	for _, s := range items {
		s = strings.TrimSpace(s)
		if s == "" || seen[s] {
			continue
		}
		seen[s] = true
		out = append(out, s)
	}
	return out
}

// placeholderPattern matches a detail left for maintainers to fill in,
// 【待维护人员填写：…】 (corpus/README.md): the seed KB writes one wherever
// a phone number, address, fee or time limit is not known for certain.
var placeholderPattern = regexp.MustCompile(`【待维护人员填写[^】]*】`)

// placeholderNote stands in a citizen's answer for a detail still to be
// filled in: the placeholder's own words are a note to maintainers.
const placeholderNote = "（此项信息正在补充，请以受理部门告知为准）"

// HasPlaceholder tells whether s holds a detail still to be filled in.
func HasPlaceholder(s string) bool { return placeholderPattern.MatchString(s) }

// ForCitizens returns text as a citizen is shown it: each detail still to
// be filled in reads as placeholderNote.
func ForCitizens(text string) string {
	if !strings.Contains(text, "【待维护人员填写") {
		return text
	}
	return placeholderPattern.ReplaceAllLiteralString(text, placeholderNote)
}

var phonePattern = regexp.MustCompile(`^(\d{5}|1[3-9]\d{9}|0\d{2,3}-?\d{7,8}(-\d{1,6})?|400-?\d{3}-?\d{4}|【待维护人员填写[^】]*】)$`)

// FieldError is one problem with one field of an entry.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Validate checks the entry after Normalize and returns every problem found.
func (e *Entry) Validate() []FieldError {
	var errs []FieldError
	add := func(field, format string, args ...any) {
		errs = append(errs, FieldError{Field: field, Message: Errorf(EINVALID, format, args...).Message})
	}
	if !e.Column.Valid() {
		add("column", "栏目 %q 无效", e.Column)
	}
	if e.Title == "" {
		add("title", "标题不能为空")
	} else if n := utf8.RuneCountInString(e.Title); n > MaxTitleLength {
		add("title", "标题有 %d 个字，超过上限 %d", n, MaxTitleLength)
	}
	if e.Content == "" && e.Column != ColumnHotline && e.Column != ColumnDepartment {
		add("content", "内容不能为空")
	}
	if e.Department == "" {
		add("department", "责任部门不能为空")
	}
	if strings.Contains(e.Content, placeholderNote) {
		add("content", "内容含有给市民看的替代文字“%s”：请写回实际内容或【待维护人员填写：…】", placeholderNote)
	}
	codes := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		codes = append(codes, k)
	}
	sort.Strings(codes)
	for _, code := range codes {
		v := e.Fields[code]
		spec, ok := e.Column.FieldSpec(code)
		if !ok {
			add(code, "栏目%s没有字段 %q", e.Column.Name(), code)
			continue
		}
		if strings.Contains(v, placeholderNote) {
			add(code, "%s含有给市民看的替代文字：请写回实际内容或【待维护人员填写：…】", spec.Label)
			continue
		}
		switch spec.Kind {
		case KindDate:
			if _, err := ParseDate(v); err != nil {
				add(code, "%s：%s", spec.Label, ErrorMessage(err))
			}
		case KindPhone:
			for _, p := range splitPhones(v) {
				if !phonePattern.MatchString(p) {
					add(code, "%s %q 格式不正确（应为 12345、021-12345678、手机号或【待维护人员填写：…】）", spec.Label, p)
				}
			}
		}
	}
	if e.Column == ColumnHotline && e.Fields[FieldPhone] == "" {
		add(FieldPhone, "热线电话必须填写电话")
	}
	if eff, exp, ok := e.dates(FieldEffectiveOn, FieldExpiresOn); ok && exp.Before(eff) {
		add(FieldExpiresOn, "失效日期 %s 早于实施日期 %s", e.Fields[FieldExpiresOn], e.Fields[FieldEffectiveOn])
	}
	// A notice (or policy) cannot lapse before it was published: the two
	// dates are swapped, or one has a typo.
	if pub, exp, ok := e.dates(FieldPublishedOn, FieldExpiresOn); ok && exp.Before(pub) {
		add(FieldExpiresOn, "失效日期 %s 早于发布日期 %s：请核对两个日期是否填反", e.Fields[FieldExpiresOn], e.Fields[FieldPublishedOn])
	}
	return errs
}

// dates returns two of the entry's date fields, when both are set and
// readable.
func (e *Entry) dates(first, second string) (time.Time, time.Time, bool) {
	a, err1 := ParseDate(e.Fields[first])
	b, err2 := ParseDate(e.Fields[second])
	return a, b, err1 == nil && err2 == nil
}

// EffectiveBeforePublished reports a policy whose 实施日期 is before its
// 发布日期. It is mostly a slip (the two columns swapped), but a document
// may apply from a day before it was issued (自2031年1月1日起执行, issued in
// March), so an upload warns of it rather than refusing it.
func (e *Entry) EffectiveBeforePublished() bool {
	pub, eff, ok := e.dates(FieldPublishedOn, FieldEffectiveOn)
	return ok && eff.Before(pub)
}

func splitPhones(v string) []string {
	var out []string
	for _, p := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == '，' || r == '、' || r == ';' || r == '；' || r == '/' }) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// SameContent reports whether two entries hold the same user-visible data,
// so that an upload of an unchanged row is a no-op.
func (e *Entry) SameContent(o *Entry) bool { return len(e.Changes(o)) == 0 }

// Changes names, in Chinese and in a fixed order, the parts of e that
// differ from o: what an upload would change in an entry.
func (e *Entry) Changes(o *Entry) []string {
	var out []string
	for _, c := range []struct {
		name string
		same bool
	}{
		{"编号", e.ExternalID == o.ExternalID}, {"栏目", e.Column == o.Column}, {"标题", e.Title == o.Title},
		{"内容", e.Content == o.Content}, {"部门", e.Department == o.Department}, {"事项", e.Matter == o.Matter},
		{"关键词", equalList(e.Keywords, o.Keywords)}, {"相似问法", equalList(e.Similar, o.Similar)},
	} {
		if !c.same {
			out = append(out, c.name)
		}
	}
	codes := map[string]bool{}
	for k := range e.Fields {
		codes[k] = true
	}
	for k := range o.Fields {
		codes[k] = true
	}
	for _, k := range slices.Sorted(maps.Keys(codes)) {
		if e.Fields[k] != o.Fields[k] {
			name := k
			if spec, ok := e.Column.FieldSpec(k); ok {
				name = spec.Label
			}
			out = append(out, name)
		}
	}
	return out
}

func equalList(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

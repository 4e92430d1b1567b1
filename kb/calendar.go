package kb

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"sync"
	"time"
	_ "time/tzdata" // the binary must not depend on the host's zone files
)

// Shanghai is the time zone every deadline and displayed time uses.
var Shanghai = mustLoadLocation("Asia/Shanghai")

func mustLoadLocation(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// BackfillWorkingDays is the work plan's limit for backfilling an answer.
const BackfillWorkingDays = 5

//go:embed calendar_cn.json
var embeddedCalendar []byte

// Calendar knows China's working days: Monday to Friday, minus the statutory
// holidays, plus the make-up working days (调休) of each published year.
type Calendar struct {
	mu        sync.RWMutex
	off       map[string]bool // date → true for a holiday, false for a make-up working day
	published map[int]bool    // years whose arrangement is known
}

// calendarFile is the format of the embedded data file and of operator
// imports. A single-year object in the State Council transcription format
// ({"year":..,"days":[{"date","name","isOffDay"}]}) is accepted too.
type calendarFile struct {
	Years []calendarYear `json:"years"`
}

type calendarYear struct {
	Year int           `json:"year"`
	Days []calendarDay `json:"days"`
}

type calendarDay struct {
	Date     string `json:"date"`
	Name     string `json:"name"`
	Off      *bool  `json:"off,omitempty"`
	IsOffDay *bool  `json:"isOffDay,omitempty"`
}

// NewCalendar returns the calendar with the embedded 2020–2026 arrangement.
func NewCalendar() *Calendar {
	c := &Calendar{off: map[string]bool{}, published: map[int]bool{}}
	if _, err := c.Load(bytes.NewReader(embeddedCalendar)); err != nil {
		panic(fmt.Sprintf("kb: embedded calendar: %v", err))
	}
	return c
}

// Load merges a year's (or several years') arrangement into the calendar,
// replacing what was known of those years. It returns the years loaded.
func (c *Calendar) Load(r io.Reader) ([]int, error) {
	raw, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("calendar: read: %w", err)
	}
	var file calendarFile
	if err := json.Unmarshal(raw, &file); err != nil {
		return nil, Errorf(EINVALID, "日历文件格式有误：%s", jsonProblem(err))
	}
	if len(file.Years) == 0 {
		var single calendarYear
		if err := json.Unmarshal(raw, &single); err != nil {
			return nil, Errorf(EINVALID, "日历文件格式有误：%s", jsonProblem(err))
		}
		if single.Year == 0 {
			return nil, Errorf(EINVALID, "日历文件缺少 years 或 year 字段")
		}
		file.Years = []calendarYear{single}
	}
	off := map[string]bool{}
	var years []int
	for _, y := range file.Years {
		if y.Year < 2000 || y.Year > 2100 {
			return nil, Errorf(EINVALID, "日历文件年份 %d 不合理", y.Year)
		}
		if len(y.Days) == 0 {
			continue // an empty year is not a published arrangement
		}
		own := false
		for i, d := range y.Days {
			t, err := time.ParseInLocation("2006-01-02", d.Date, Shanghai)
			// A year's arrangement may reach into the December before it
			// (2023's 元旦 began on 2022-12-31), not further.
			if err != nil || !(t.Year() == y.Year || t.Year() == y.Year-1 && t.Month() == time.December) {
				return nil, Errorf(EINVALID, "日历文件 %d 年第 %d 项日期 %q 无效（应为该年的日期，或上一年 12 月的日期）", y.Year, i+1, d.Date)
			}
			own = own || t.Year() == y.Year
			isOff := d.Off
			if isOff == nil {
				isOff = d.IsOffDay
			}
			if isOff == nil {
				return nil, Errorf(EINVALID, "日历文件 %s 缺少 off/isOffDay", d.Date)
			}
			if was, ok := off[d.Date]; ok && was != *isOff {
				return nil, Errorf(EINVALID, "日历文件中 %s 出现两次，一次放假一次上班", d.Date)
			}
			off[d.Date] = *isOff
		}
		if !own {
			return nil, Errorf(EINVALID, "日历文件 %d 年没有一个该年的日期", y.Year)
		}
		years = append(years, y.Year)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, y := range years {
		for date := range c.off {
			if date[:4] == fmt.Sprint(y) {
				delete(c.off, date)
			}
		}
		c.published[y] = true
	}
	for date, v := range off {
		c.off[date] = v
	}
	sort.Ints(years)
	return years, nil
}

// jsonProblem words a JSON decoding error for a maintainer: the field and
// the type it should have, or where the syntax breaks.
func jsonProblem(err error) string {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te) && te.Type.Kind() == reflect.Bool:
		return fmt.Sprintf("字段 %s 的值应为 true 或 false，不带引号", te.Field)
	case errors.As(err, &te):
		return fmt.Sprintf("字段 %s 的值应为 %s 类型", te.Field, te.Type)
	case errors.As(err, &se):
		return fmt.Sprintf("第 %d 个字节处不是有效的 JSON", se.Offset)
	}
	return err.Error()
}

// Years lists the years whose official arrangement is known, in order:
// what an operator checks before importing a new year.
func (c *Calendar) Years() []int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	years := make([]int, 0, len(c.published))
	for y := range c.published {
		years = append(years, y)
	}
	sort.Ints(years)
	return years
}

// Published reports whether the official arrangement of year is known.
func (c *Calendar) Published(year int) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.published[year]
}

// IsWorkingDay reports whether the Shanghai date of t is a working day.
func (c *Calendar) IsWorkingDay(t time.Time) bool {
	t = t.In(Shanghai)
	c.mu.RLock()
	off, listed := c.off[t.Format("2006-01-02")]
	c.mu.RUnlock()
	if listed {
		return !off
	}
	wd := t.Weekday()
	return wd != time.Saturday && wd != time.Sunday
}

// Deadline is a due time computed from the calendar.
type Deadline struct {
	DueAt time.Time
	// Provisional is true when the computation crossed a year whose official
	// arrangement is not known, so plain Monday–Friday was assumed.
	Provisional bool
}

// DueAfter returns the end (23:59:59 Shanghai) of the n-th working day after
// the day of t; the day of t itself is not counted.
func (c *Calendar) DueAfter(t time.Time, n int) Deadline {
	day := startOfDay(t)
	provisional := false
	for counted := 0; counted < n; {
		day = day.AddDate(0, 0, 1)
		if !c.Published(day.Year()) {
			provisional = true
		}
		if c.IsWorkingDay(day) {
			counted++
		}
	}
	return Deadline{DueAt: endOfDay(day), Provisional: provisional}
}

// BackfillDeadline is the due time for backfilling an answer to a question
// first asked at t.
func (c *Calendar) BackfillDeadline(t time.Time) Deadline {
	return c.DueAfter(t, BackfillWorkingDays)
}

// PolicyDeadline returns the latest time a policy effective on effectiveOn may
// enter the KB: the end of the working day before the effective date.
func (c *Calendar) PolicyDeadline(effectiveOn time.Time) Deadline {
	day := startOfDay(effectiveOn)
	provisional := false
	for {
		day = day.AddDate(0, 0, -1)
		if !c.Published(day.Year()) {
			provisional = true
		}
		if c.IsWorkingDay(day) {
			return Deadline{DueAt: endOfDay(day), Provisional: provisional}
		}
	}
}

// WorkingDaysLeft counts the working days after now's day up to and
// including due's day. It is 0 on the due day and negative when overdue
// (then it counts the working days past due).
func (c *Calendar) WorkingDaysLeft(now, due time.Time) int {
	from, to := startOfDay(now), startOfDay(due)
	if !from.After(to) {
		n := 0
		for d := from.AddDate(0, 0, 1); !d.After(to); d = d.AddDate(0, 0, 1) {
			if c.IsWorkingDay(d) {
				n++
			}
		}
		return n
	}
	n := 0
	for d := to.AddDate(0, 0, 1); !d.After(from); d = d.AddDate(0, 0, 1) {
		if c.IsWorkingDay(d) {
			n--
		}
	}
	return n
}

func startOfDay(t time.Time) time.Time {
	t = t.In(Shanghai)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, Shanghai)
}

func endOfDay(t time.Time) time.Time {
	t = t.In(Shanghai)
	return time.Date(t.Year(), t.Month(), t.Day(), 23, 59, 59, 0, Shanghai)
}

// ParseDate parses a date as maintainers write it: 2022-05-31, 2022/5/31 or
// 2022年5月31日. The result is midnight in Shanghai.
func ParseDate(s string) (time.Time, error) {
	for _, layout := range []string{"2006-01-02", "2006/1/2", "2006年1月2日", "2006-1-2", "2006.1.2", "20060102"} {
		if t, err := time.ParseInLocation(layout, s, Shanghai); err == nil {
			return t, nil
		}
	}
	// A date written in a known form that does not exist (2026-11-31,
	// 2031.13.01) is told apart from one in no known form: its form is
	// right, its numbers are not.
	if m := dateShape.FindStringSubmatch(s); m != nil {
		year, _ := strconv.Atoi(m[1])
		month, _ := strconv.Atoi(m[2])
		day, _ := strconv.Atoi(m[3])
		if month < 1 || month > 12 {
			return time.Time{}, Errorf(EINVALID, "日期 %q 不存在：月份应为 1 到 12", s)
		}
		if last := time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, Shanghai).Day(); day < 1 || day > last {
			return time.Time{}, Errorf(EINVALID, "日期 %q 不存在：%d年%d月只有 %d 天", s, year, month, last)
		}
	}
	return time.Time{}, Errorf(EINVALID, "日期 %q 无法识别，应为 2022-05-31、2022/5/31 或 2022年5月31日", s)
}

// dateShape matches a date in the forms ParseDate reads, whatever its
// numbers.
var dateShape = regexp.MustCompile(`^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$`)

package kb_test

import (
	"strings"
	"testing"
	"time"

	"xiaoshen/kb"
)

func shanghai(t *testing.T, s string) time.Time {
	t.Helper()
	for _, layout := range []string{"2006-01-02 15:04", "2006-01-02"} {
		if v, err := time.ParseInLocation(layout, s, kb.Shanghai); err == nil {
			return v
		}
	}
	t.Fatalf("bad time %q", s)
	return time.Time{}
}

func TestBackfillDeadline(t *testing.T) {
	cal := kb.NewCalendar()
	tests := []struct {
		name, asked, due string
		provisional      bool
	}{
		{"2024 National Day, make-up Sunday 09-29 counts", "2024-09-27 10:00", "2024-10-10T23:59:59+08:00", false},
		{"asked late in the evening counts from the next day", "2024-09-27 23:59", "2024-10-10T23:59:59+08:00", false},
		{"2026 Spring Festival, make-up Saturday 02-14 counts", "2026-02-13 09:00", "2026-02-27T23:59:59+08:00", false},
		{"asked on a holiday", "2024-10-03 12:00", "2024-10-12T23:59:59+08:00", false},
		{"plain week", "2026-11-23 08:00", "2026-11-30T23:59:59+08:00", false},
		{"asked on a Saturday", "2026-11-28 08:00", "2026-12-04T23:59:59+08:00", false},
		{"crossing into an unpublished year is provisional", "2026-12-28 08:00", "2027-01-04T23:59:59+08:00", true},
		{"asked at 01:00 Shanghai is 17:00 UTC the day before", "2024-09-28 01:00", "2024-10-10T23:59:59+08:00", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := cal.BackfillDeadline(shanghai(t, tt.asked).UTC())
			if got := d.DueAt.Format(time.RFC3339); got != tt.due {
				t.Errorf("due = %s, want %s", got, tt.due)
			}
			if d.Provisional != tt.provisional {
				t.Errorf("provisional = %v, want %v", d.Provisional, tt.provisional)
			}
		})
	}
}

func TestIsWorkingDay(t *testing.T) {
	cal := kb.NewCalendar()
	tests := []struct {
		date string
		want bool
	}{
		{"2024-09-29", true},  // Sunday, make-up working day
		{"2024-10-01", false}, // National Day
		{"2024-10-07", false},
		{"2024-10-12", true}, // Saturday, make-up working day
		{"2024-10-13", false},
		{"2026-02-14", true}, // Saturday, make-up working day
		{"2026-02-16", false},
		{"2026-11-27", true},
		{"2026-11-28", false},
		{"2027-01-01", true}, // unpublished year: Monday–Friday rule only
	}
	for _, tt := range tests {
		t.Run(tt.date, func(t *testing.T) {
			if got := cal.IsWorkingDay(shanghai(t, tt.date)); got != tt.want {
				t.Errorf("IsWorkingDay(%s) = %v, want %v", tt.date, got, tt.want)
			}
		})
	}
}

func TestPolicyDeadline(t *testing.T) {
	cal := kb.NewCalendar()
	d := cal.PolicyDeadline(shanghai(t, "2024-10-08"))
	if got, want := d.DueAt.Format(time.RFC3339), "2024-09-30T23:59:59+08:00"; got != want {
		t.Fatalf("policy deadline = %s, want %s", got, want)
	}
	if shanghai(t, "2024-09-30 18:00").After(d.DueAt) {
		t.Error("entering on 2024-09-30 must be on time")
	}
	if !shanghai(t, "2024-10-01 09:00").After(d.DueAt) {
		t.Error("entering on 2024-10-01 must be late")
	}
}

func TestWorkingDaysLeft(t *testing.T) {
	cal := kb.NewCalendar()
	due := shanghai(t, "2024-10-10").Add(23*time.Hour + 59*time.Minute)
	tests := []struct {
		now  string
		want int
	}{
		{"2024-09-27 10:00", 5},
		{"2024-09-30 10:00", 3},
		{"2024-10-05 10:00", 3},
		{"2024-10-10 10:00", 0},
		{"2024-10-11 10:00", -1},
		{"2024-10-14 10:00", -3},
	}
	for _, tt := range tests {
		if got := cal.WorkingDaysLeft(shanghai(t, tt.now), due); got != tt.want {
			t.Errorf("WorkingDaysLeft(%s) = %d, want %d", tt.now, got, tt.want)
		}
	}
}

func TestCalendarLoad(t *testing.T) {
	t.Run("a newer year in the State Council transcription format", func(t *testing.T) {
		cal := kb.NewCalendar()
		if cal.Published(2027) {
			t.Fatal("2027 must not be published in the embedded data")
		}
		file := `{"year": 2027, "days": [
			{"name": "元旦", "date": "2027-01-01", "isOffDay": true},
			{"name": "春节", "date": "2027-02-07", "isOffDay": false}]}`
		years, err := cal.Load(strings.NewReader(file))
		if err != nil {
			t.Fatal(err)
		}
		if len(years) != 1 || years[0] != 2027 || !cal.Published(2027) {
			t.Fatalf("years = %v, published = %v", years, cal.Published(2027))
		}
		if got := cal.Years(); got[0] != 2020 || got[len(got)-1] != 2027 {
			t.Errorf("Years() = %v, want 2020 (embedded) to 2027 (loaded)", got)
		}
		if cal.IsWorkingDay(shanghai(t, "2027-01-01")) {
			t.Error("2027-01-01 must be a holiday after the load")
		}
		if !cal.IsWorkingDay(shanghai(t, "2027-02-07")) {
			t.Error("2027-02-07 (Sunday) must be a make-up working day after the load")
		}
		if d := cal.BackfillDeadline(shanghai(t, "2026-12-31 10:00")); d.Provisional {
			t.Error("deadline must no longer be provisional")
		}
	})
	t.Run("the December before the year belongs to it", func(t *testing.T) {
		cal := kb.NewCalendar()
		if _, err := cal.Load(strings.NewReader(`{"year": 2027, "days": [{"date": "2026-12-31", "isOffDay": true}, {"date": "2027-01-01", "isOffDay": true}]}`)); err != nil {
			t.Fatal(err)
		}
	})
	for name, tt := range map[string]struct{ file, want string }{
		"not JSON":     {`year: 2027`, "不是有效的 JSON"},
		"bad date":     {`{"year": 2027, "days": [{"date": "2027-13-01", "isOffDay": true}]}`, "日期 \"2027-13-01\" 无效"},
		"missing flag": {`{"year": 2027, "days": [{"date": "2027-01-01"}]}`, "缺少 off/isOffDay"},
		"no year":      {`{"days": []}`, "缺少 years 或 year"},
		"another year's date": {`{"year": 2027, "days": [{"date": "2027-01-01", "isOffDay": true}, {"date": "2028-06-01", "isOffDay": true}]}`,
			"日期 \"2028-06-01\" 无效（应为该年的日期"},
		"no date of its own": {`{"year": 2027, "days": [{"date": "2026-12-31", "isOffDay": true}]}`, "2027 年没有一个该年的日期"},
		"one day both ways": {`{"year": 2027, "days": [{"date": "2027-01-01", "isOffDay": true}, {"date": "2027-01-01", "isOffDay": false}]}`,
			"2027-01-01 出现两次"},
		"a flag in quotes": {`{"year": 2027, "days": [{"date": "2027-01-01", "isOffDay": "true"}]}`, "isOffDay 的值应为 true 或 false"},
	} {
		t.Run(name, func(t *testing.T) {
			cal := kb.NewCalendar()
			_, err := cal.Load(strings.NewReader(tt.file))
			if kb.ErrorCode(err) != kb.EINVALID || !strings.Contains(kb.ErrorMessage(err), tt.want) {
				t.Fatalf("err = %v, want an invalid-input error with %q", err, tt.want)
			}
			if cal.Published(2027) {
				t.Error("a refused file published 2027")
			}
		})
	}
}

func TestParseDate(t *testing.T) {
	for _, in := range []string{"2022-05-31", "2022/5/31", "2022年5月31日", "2022-5-31"} {
		got, err := kb.ParseDate(in)
		if err != nil || got.Format("2006-01-02") != "2022-05-31" {
			t.Errorf("ParseDate(%q) = %v, %v", in, got, err)
		}
	}
	// A date of a known form whose numbers do not make a day says so; the
	// rest are not read at all.
	for in, want := range map[string]string{
		"":           "无法识别",
		"31/05/2022": "无法识别",
		"明天":         "无法识别",
		"2022-5-31日": "无法识别",
		"2022-02-30": "不存在：2022年2月只有 28 天",
		"2026-11-31": "不存在：2026年11月只有 30 天",
		"2024年2月30日": "不存在：2024年2月只有 29 天",
		"2031.13.01": "不存在：月份应为 1 到 12",
		"2031/1/0":   "不存在：2031年1月只有 31 天",
	} {
		_, err := kb.ParseDate(in)
		if err == nil || !strings.Contains(kb.ErrorMessage(err), want) {
			t.Errorf("ParseDate(%q) = %v, want an error saying %q", in, err, want)
		}
	}
}

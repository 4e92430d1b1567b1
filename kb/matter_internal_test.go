package kb

import "testing"

// Routing takes the one matter a question names even beside another
// matter's words; two matters, another class, or words that name another
// matter here in part name none.
func TestMatterBeside(t *testing.T) {
	tests := map[string]string{
		"化妆品备案要多少钱":           "化妆品生产许可",
		"二类医疗器械注册时要不要先办生产许可":  "", // the device production licence is 器械监管处's
		"往生产许可里加产品要交新产品的注册证吗": "",
		"药品生产许可证和二类械注册证能一起办吗": "",
		"三类医疗器械注册费是多少钱":       "",
		"护照过期了怎么办":            "",
	}
	for q, want := range tests {
		m, ok := matterBeside(q)
		if m.Name != want || ok != (want != "") {
			t.Errorf("matterBeside(%q) = %q, %v; want %q", q, m.Name, ok, want)
		}
	}
}

// route sends an unanswered question to the matter's department when the
// matter stands beside another activity's words, but not when that
// activity (selling, a shop) is licensed by none of the departments here.
func TestRouteBesideMatter(t *testing.T) {
	s := &Service{DefaultDepartment: "综合处"}
	tests := map[string]string{
		"化妆品备案要多少钱":       "化妆品监管处", // MatterOf names none; the products' department
		"二类械注册要交哪些材料":     "器械注册处",
		"开个化妆品店要办许可证吗":    "综合处",
		"二类医疗器械经营备案要什么材料": "综合处",
		"三类医疗器械注册费是多少钱":   "综合处",
		"护照过期了怎么办":        "综合处",
		// Registration beside the production licence: two device
		// departments' matters, for 综合处 to send on.
		"二类医疗器械注册时要不要先办生产许可": "综合处",
	}
	for q, want := range tests {
		if got := s.route(q, nil, ""); got != want {
			t.Errorf("route(%q) = %q, want %q", q, got, want)
		}
	}
}

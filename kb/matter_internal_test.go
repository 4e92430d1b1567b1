package kb

import "testing"

// Routing takes the one matter a question names even beside another
// matter's words; two matters, or another class, name none.
func TestMatterBeside(t *testing.T) {
	tests := map[string]string{
		"二类医疗器械注册时要不要先办生产许可":  "第二类医疗器械产品注册",
		"化妆品生产许可证能不能转让给别的公司":  "化妆品生产许可",
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

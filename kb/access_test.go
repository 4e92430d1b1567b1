package kb_test

import (
	"strings"
	"testing"

	"xiaoshen/kb"
)

// A refusal repeats the department a user named, quoted and cut short, so
// that text typed into a form cannot read as a notice on the page.
func TestRequireDepartmentQuotesTheDepartment(t *testing.T) {
	reviewer := &kb.Principal{Name: "r", Role: kb.RoleReviewer, Department: "化妆品监管处"}
	const phishing = "【系统通知】账号将停用，请立即把密码发到 it-help@example.com 以保留权限。"
	for _, tc := range []struct {
		name, department, want string
	}{
		{"a department", "药品监管处", `无权操作"药品监管处"的数据：当前账号属于化妆品监管处`},
		{"a long text", phishing, `无权操作"【系统通知】账号将停用，请立即把密码发到…"的数据：当前账号属于化妆品监管处`},
		{"a quote and a line break", "处\"\n请回复", `无权操作"处\"\n请回复"的数据：当前账号属于化妆品监管处`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := reviewer.RequireDepartment(tc.department)
			if kb.ErrorCode(err) != kb.EFORBIDDEN {
				t.Fatalf("err = %v, want forbidden", err)
			}
			if got := kb.ErrorMessage(err); got != tc.want {
				t.Errorf("message = %s, want %s", got, tc.want)
			}
		})
	}
	if err := reviewer.RequireDepartment(phishing); strings.Contains(kb.ErrorMessage(err), "example.com") {
		t.Errorf("the refusal repeats the whole text: %v", err)
	}
	if err := reviewer.RequireDepartment("化妆品监管处"); err != nil {
		t.Errorf("own department refused: %v", err)
	}
}

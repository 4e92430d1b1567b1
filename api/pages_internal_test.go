package api

import (
	"fmt"
	"testing"

	"xiaoshen/kb"
)

// The page names an invalid entry's fields from the error's details, so
// that it keeps working however kb words the whole message.
func TestPageMessageReadsFieldDetails(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"field codes become labels", &kb.Error{Code: kb.EINVALID, Message: "entry invalid: content: empty",
			Details: []kb.FieldError{{Field: "content", Message: "不能为空"}, {Field: "title", Message: "标题不能为空"}}},
			"条目无效：内容：不能为空；标题不能为空"},
		{"wrapped", fmt.Errorf("backfill: %w", &kb.Error{Code: kb.EINVALID, Message: "whatever",
			Details: []kb.FieldError{{Field: "phone", Message: "格式不正确"}}}),
			"条目无效：电话：格式不正确"},
		{"without details", kb.Errorf(kb.EINVALID, "条目编号无效"), "条目编号无效"},
		{"details of another code", &kb.Error{Code: kb.EFORBIDDEN, Message: "无权写入其他部门的条目",
			Details: []kb.FieldError{{Field: "a.csv:2", Message: "x"}}}, "无权写入其他部门的条目"},
		{"internal", fmt.Errorf("disk full"), "服务内部错误，请稍后再试"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := pageMessage(tc.err); got != tc.want {
				t.Errorf("pageMessage = %q, want %q", got, tc.want)
			}
		})
	}
}

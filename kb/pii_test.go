package kb_test

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"xiaoshen/kb"
)

// idNumber completes 17 digits with their ISO 7064 MOD 11-2 check character,
// computing the weights as 2^(17-i) mod 11 rather than from a table.
func idNumber(first17 string) string {
	sum := 0
	for i := 0; i < 17; i++ {
		sum += int(first17[i]-'0') * ((1 << (17 - i)) % 11)
	}
	check := (12 - sum%11) % 11
	if check == 10 {
		return first17 + "X"
	}
	return first17 + string(rune('0'+check))
}

// idNumberEndingX returns a valid ID number born on the given date whose check
// character is X.
func idNumberEndingX(t *testing.T, area, birth string) string {
	t.Helper()
	for seq := 100; seq < 1000; seq++ {
		id := idNumber(area + birth + string(rune('0'+seq/100)) + string(rune('0'+seq/10%10)) + string(rune('0'+seq%10)))
		if strings.HasSuffix(id, "X") {
			return id
		}
	}
	t.Fatal("no sequence number gives check character X")
	return ""
}

// wrongCheck returns id with a check character that does not match.
func wrongCheck(id string) string {
	if id[17] == '0' {
		return id[:17] + "1"
	}
	return id[:17] + "0"
}

// luhnPasses reports whether the digits pass the Luhn check, doubling from
// the left according to the parity of the length.
func luhnPasses(digits string) bool {
	sum := 0
	for i := 0; i < len(digits); i++ {
		d := int(digits[i] - '0')
		if (len(digits)-i)%2 == 0 {
			d = d*2%10 + d*2/10
		}
		sum += d
	}
	return sum%10 == 0
}

// cardNumber completes a prefix with the Luhn check digit.
func cardNumber(t *testing.T, prefix string) string {
	t.Helper()
	for d := '0'; d <= '9'; d++ {
		if n := prefix + string(d); luhnPasses(n) {
			return n
		}
	}
	t.Fatalf("no Luhn check digit for %s", prefix)
	return ""
}

// failingLuhn returns a Luhn-valid number with its last digit changed.
func failingLuhn(card string) string {
	last := card[len(card)-1]
	return card[:len(card)-1] + string(rune('0'+(last-'0'+1)%10))
}

// group writes digits in groups of four joined by sep.
func group(digits, sep string) string {
	var parts []string
	for len(digits) > 4 {
		parts = append(parts, digits[:4])
		digits = digits[4:]
	}
	return strings.Join(append(parts, digits), sep)
}

// fullWidth turns ASCII digits, letters and punctuation into full-width forms.
func fullWidth(s string) string {
	return strings.Map(func(r rune) rune {
		if '!' <= r && r <= '~' {
			return r + 0xFEE0
		}
		return r
	}, s)
}

type maskCase struct {
	name, in, want string
}

func checkMask(t *testing.T, tests []maskCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := kb.MaskPII(tt.in)
			if got != tt.want {
				t.Errorf("MaskPII(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
			if again := kb.MaskPII(got); again != got {
				t.Errorf("masking twice changed %q to %q", got, again)
			}
		})
	}
}

func TestMaskPIIIDCard(t *testing.T) {
	id := idNumber("31011519900307123")
	idX := idNumberEndingX(t, "320102", "19850612")
	idx := strings.ToLower(idX)
	leap := idNumber("44030420000229456")
	checkMask(t, []maskCase{
		{"18 digits", "我的身份证号是" + id + "，怎么查询处方记录？", "我的身份证号是[身份证号]，怎么查询处方记录？"},
		{"check character X", "身份证：" + idX, "身份证：[身份证号]"},
		{"lower-case x", "证件号" + idx + "。", "证件号[身份证号]。"},
		{"29 February of a leap year", "身份证" + leap, "身份证[身份证号]"},
		{"full-width digits", "身份证号" + fullWidth(id) + "办理", "身份证号[身份证号]办理"},
		{"between spaces", "号码 " + id + " 已提交", "号码 [身份证号] 已提交"},
		{"grouped 6-8-4 with spaces", "身份证 310115 19900307 " + id[14:] + " 谢谢", "身份证 [身份证号] 谢谢"},
		{"grouped 6-8-4 with dashes", "身份证" + idX[:6] + "-" + idX[6:14] + "-" + idX[14:], "身份证[身份证号]"},
		{"15-digit old number", "老身份证310115900307123还能用吗", "老身份证[身份证号]还能用吗"},

		{"wrong check character", "编号" + wrongCheck(id), "编号" + wrongCheck(id)},
		{"no such date", "编号" + idNumber("31011519900230123"), "编号" + idNumber("31011519900230123")},
		{"year before 1900", "编号" + idNumber("31011518991231123"), "编号" + idNumber("31011518991231123")},
		{"15 digits, no such month", "编号310115901307123", "编号310115901307123"},
		{"15 digits, no province", "编号910115900307123", "编号910115900307123"},
		{"grouped, wrong check character", "编号 310115 19900307 " + wrongCheck(id)[14:], "编号 310115 19900307 " + wrongCheck(id)[14:]},
		{"glued to longer digit run", "流水号00" + id + "0", "流水号00" + id + "0"},
		{"glued to letters", "证书编号AB" + id, "证书编号AB" + id},
		{"followed by letters", "编号" + id + "CN", "编号" + id + "CN"},
	})
}

func TestMaskPIIMobile(t *testing.T) {
	checkMask(t, []maskCase{
		{"plain", "我的手机号13812345678，请回电", "我的手机号[手机号]，请回电"},
		{"several prefixes", "13012345678 19912345678 15912345678", "[手机号] [手机号] [手机号]"},
		{"plus 86", "联系+8613912345678", "联系[手机号]"},
		{"plus 86 and space", "联系 +86 139 1234 5678 谢谢", "联系 [手机号] 谢谢"},
		{"86 glued", "电话8613912345678", "电话[手机号]"},
		{"0086 and dash", "电话0086-13912345678", "电话[手机号]"},
		{"dashes", "手机：138-1234-5678。", "手机：[手机号]。"},
		{"spaces", "手机 138 1234 5678 找张老师", "手机 [手机号] 找张老师"},
		{"full-width", "手机号是１３８１２３４５６７８", "手机号是[手机号]"},
		{"full-width dashes", "手机１３８－１２３４－５６７８", "手机[手机号]"},
		{"ideographic spaces", "手机138\u30001234\u30005678", "手机[手机号]"},
		{"after brackets", "（13812345678）", "（[手机号]）"},

		{"second digit 2", "号码12812345678", "号码12812345678"},
		{"ten digits", "号码1381234567", "号码1381234567"},
		{"twelve digits", "单号138123456789", "单号138123456789"},
		{"glued to a leading digit", "单号913812345678", "单号913812345678"},
		{"glued to letters", "订单A13812345678", "订单A13812345678"},
		{"followed by letters", "编码13812345678kg", "编码13812345678kg"},
		{"wrong grouping", "1381 234 5678", "1381 234 5678"},
		{"plus sign without country code", "+13812345678", "+[手机号]"},
	})
}

func TestMaskPIILandline(t *testing.T) {
	checkMask(t, []maskCase{
		{"dash", "请拨打021-12345678咨询", "请拨打[电话]咨询"},
		{"space", "座机 021 12345678", "座机 [电话]"},
		{"brackets", "电话(021)12345678", "电话[电话]"},
		{"full-width brackets", "电话（021）12345678", "电话[电话]"},
		{"four-digit area, seven digits", "杭州0571-8765432", "杭州[电话]"},
		{"run together", "座机02112345678", "座机[电话]"},
		{"run together, four-digit area", "座机057187654321", "座机[电话]"},
		{"Beijing", "北京010-87654321", "北京[电话]"},
		{"local number written 4-4", "电话021-6123 4567", "电话[电话]"},
		{"local number written 4-4 after a space", "电话 0571 8765 4321", "电话 [电话]"},
		{"extension after dash", "总机021-12345678-8001转人工", "总机[电话]转人工"},
		{"extension after 转", "总机021-12345678转123", "总机[电话]"},
		{"full-width", "电话０２１－１２３４５６７８", "电话[电话]"},

		{"six-digit number", "电话021-123456", "电话021-123456"},
		{"area code 01x other than 010", "编号011-12345678", "编号011-12345678"},
		{"area code 00", "编号001-12345678", "编号001-12345678"},
		{"nine digits after area code", "编号021-123456789", "编号021-123456789"},
		{"date", "2024-10-08 办理", "2024-10-08 办理"},
		{"licence code ending in digits", "沪械注准20232140123", "沪械注准20232140123"},
		{"glued to a letter", "型号X021-12345678", "型号X021-12345678"},
	})
}

func TestMaskPIIEmail(t *testing.T) {
	checkMask(t, []maskCase{
		{"plain", "请发到zhangsan@example.com，谢谢", "请发到[邮箱]，谢谢"},
		{"dots, plus and subdomain", "邮箱 li.si+kb@mail.example.com.cn 收", "邮箱 [邮箱] 收"},
		{"digits only local part", "QQ邮箱12345678@qq.com", "QQ邮箱[邮箱]"},
		{"sentence full stop after", "邮箱是wang@163.com.", "邮箱是[邮箱]."},
		{"full-width at sign", "邮箱ｗａｎｇ＠１６３．ｃｏｍ", "邮箱[邮箱]"},
		{"mobile as local part", "13812345678@139.com", "[邮箱]"},

		{"no dot in domain", "发给admin@localhost", "发给admin@localhost"},
		{"numeric top-level label", "地址a@1.2", "地址a@1.2"},
		{"nothing before the at sign", "关注@上海药监", "关注@上海药监"},
		{"two at signs", "a@b@example.com", "a@[邮箱]"},
	})
}

func TestMaskPIIBankCard(t *testing.T) {
	card16 := cardNumber(t, "622202123456789")
	card19 := cardNumber(t, "621700123456789012")
	// card138 is a card that would still pass the check with "138" after
	// it, so only the mobile-number rule keeps the two apart.
	var card138 string
	for n := 100; card138 == ""; n++ {
		if c := cardNumber(t, "622202123456"+strconv.Itoa(n)); luhnPasses(c + "138") {
			card138 = c
		}
	}
	checkMask(t, []maskCase{
		{"16 digits", "银行卡号" + card16 + "退款", "银行卡号[银行卡号]退款"},
		{"19 digits", "卡号：" + card19, "卡号：[银行卡号]"},
		{"grouped with spaces", "卡号 " + group(card16, " ") + " 谢谢", "卡号 [银行卡号] 谢谢"},
		{"grouped with dashes", "卡号" + group(card16, "-"), "卡号[银行卡号]"},
		{"19 grouped 4-4-4-4-3", "卡号 " + group(card19, " "), "卡号 [银行卡号]"},
		{"full-width", "卡号" + fullWidth(card16), "卡号[银行卡号]"},
		{"card then a short unrelated number", "卡号 " + group(card16, " ") + " 12元", "卡号 [银行卡号] 12元"},
		{"card then a grouped mobile", "卡号 " + group(card138, " ") + " 138 1234 5678", "卡号 [银行卡号] [手机号]"},

		{"16 digits failing Luhn", "编号" + failingLuhn(card16), "编号" + failingLuhn(card16)},
		{"grouped, failing Luhn", "编号 " + group(failingLuhn(card16), " "), "编号 " + group(failingLuhn(card16), " ")},
		{"twenty digits", "追溯码" + card16 + "1234", "追溯码" + card16 + "1234"},
		{"twenty digits grouped", "追溯码 " + group(card16+"1234", " "), "追溯码 " + group(card16+"1234", " ")},
		{"fifteen digits", "编号" + cardNumber(t, "62220212345678"), "编号" + cardNumber(t, "62220212345678")},
	})
}

func TestMaskPIIKeepsOrdinaryNumbers(t *testing.T) {
	for _, in := range []string{
		"沪药监〔2024〕12号文件在哪里看？",
		"国务院令第739号《医疗器械监督管理条例》",
		"2024-10-08 以后提交的申请",
		"20241008提交的材料",
		"2024年10月8日前办理",
		"打12345热线可以吗",
		"沪械注准20232140123的产品说明书",
		"国械注进20153460012",
		"国药准字H20003263是真的吗",
		"统一社会信用代码91310000MA1FL12345",
		"罚款50000元，金额1,380,000.00元",
		"药品追溯码81234567890123456789",
		"邮编200001，上海市黄浦区",
		"第3版第12条第2款",
		"10:30-11:30 营业",
		"价格是138.50元",
	} {
		t.Run(in, func(t *testing.T) {
			if got := kb.MaskPII(in); got != in {
				t.Errorf("MaskPII(%q) = %q; want it unchanged", in, got)
			}
		})
	}
}

func TestMaskPIIMixed(t *testing.T) {
	id := idNumber("31011519900307123")
	card := cardNumber(t, "622202123456789")
	in := "您好，我叫张三，身份证" + id + "，手机13812345678，座机021-12345678，" +
		"邮箱zhangsan@example.com，退款请打到" + group(card, " ") + "。依据沪药监〔2024〕12号。"
	want := "您好，我叫张三，身份证[身份证号]，手机[手机号]，座机[电话]，" +
		"邮箱[邮箱]，退款请打到[银行卡号]。依据沪药监〔2024〕12号。"
	got, report := kb.MaskPIIReport(in)
	if got != want {
		t.Errorf("MaskPIIReport\n got %q\nwant %q", got, want)
	}
	wantReport := kb.MaskReport{IDCards: 1, Mobiles: 1, Landlines: 1, Emails: 1, BankCards: 1}
	if report != wantReport || report.Total() != 5 {
		t.Errorf("report = %+v (total %d); want %+v (total 5)", report, report.Total(), wantReport)
	}

	t.Run("two of a kind", func(t *testing.T) {
		got, report := kb.MaskPIIReport("13812345678或13912345678都行")
		if got != "[手机号]或[手机号]都行" || report.Mobiles != 2 || report.Total() != 2 {
			t.Errorf("got %q, %+v", got, report)
		}
	})
	t.Run("nothing to mask", func(t *testing.T) {
		in := "请问药品经营许可证怎么变更法定代表人？"
		got, report := kb.MaskPIIReport(in)
		if got != in || report.Total() != 0 {
			t.Errorf("got %q, %+v", got, report)
		}
	})
	t.Run("longer than a question", func(t *testing.T) {
		filler := strings.Repeat("药品经营许可证变更登记事项", 20)
		in := filler + "联系人手机13812345678，" + filler
		if got, want := kb.MaskPII(in), filler+"联系人手机[手机号]，"+filler; got != want {
			t.Errorf("got %q; want %q", got, want)
		}
	})
	t.Run("invalid UTF-8 kept outside the mask", func(t *testing.T) {
		in := "\xff手机13812345678\xfe"
		if got, want := kb.MaskPII(in), "\xff手机[手机号]\xfe"; got != want {
			t.Errorf("got %q; want %q", got, want)
		}
	})
}

func TestMaskPIIAllocations(t *testing.T) {
	plain := "请问药品经营许可证怎么变更法定代表人？"
	if n := testing.AllocsPerRun(100, func() { kb.MaskPII(plain) }); n != 0 {
		t.Errorf("question without personal data: %v allocations; want 0", n)
	}
	withPhone := "我想咨询一下药店变更经营范围的材料，电话13812345678"
	if n := testing.AllocsPerRun(100, func() { kb.MaskPII(withPhone) }); n > 1 {
		t.Errorf("question with a phone number: %v allocations; want at most 1", n)
	}
}

// benchQuestion is a typical 40-character question with a phone number.
const benchQuestion = "您好，我想咨询一下药店变更经营范围需要哪些材料，我的电话是13812345678"

func BenchmarkMaskPII(b *testing.B) {
	b.Run("with phone", func(b *testing.B) {
		for b.Loop() {
			kb.MaskPII(benchQuestion)
		}
	})
	b.Run("without personal data", func(b *testing.B) {
		q := "您好，我想咨询一下：药店变更经营范围需要哪些材料？请问去哪个窗口办理比较方便"
		for b.Loop() {
			kb.MaskPII(q)
		}
	})
}

// survivingPII returns the first maximal run of ASCII letters and digits in s,
// after folding full-width forms, that is an 11-digit mobile number or an
// 18-character ID number with a valid check character and birth date.
func survivingPII(s string) string {
	var runs []string
	var run strings.Builder
	for _, r := range s {
		if 0xFF01 <= r && r <= 0xFF5E {
			r -= 0xFEE0
		}
		if '0' <= r && r <= '9' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' {
			run.WriteRune(r)
			continue
		}
		runs = append(runs, run.String())
		run.Reset()
	}
	runs = append(runs, run.String())
	for _, r := range runs {
		if len(r) == 11 && allDigits(r) && r[0] == '1' && r[1] >= '3' {
			return r
		}
		if len(r) == 18 && allDigits(r[:17]) && strings.EqualFold(idNumber(r[:17]), r) && validBirth(r[6:14]) {
			return r
		}
	}
	return ""
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func validBirth(yyyymmdd string) bool {
	d, err := time.Parse("20060102", yyyymmdd)
	return err == nil && d.Year() >= 1900 && d.Year() <= 2100
}

func FuzzMaskPII(f *testing.F) {
	for _, seed := range []string{
		"手机13812345678", "+86 138 1234 5678", "身份证" + idNumber("31011519900307123"),
		"021-12345678转123", "a@example.com", "6222 0212 3456 7890", "沪药监〔2024〕12号",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got := kb.MaskPII(in)
		if utf8.ValidString(in) && !utf8.ValidString(got) {
			t.Fatalf("MaskPII(%q) = %q is not valid UTF-8", in, got)
		}
		if again := kb.MaskPII(got); again != got {
			t.Fatalf("not idempotent: MaskPII(%q) = %q, then %q", in, got, again)
		}
		if left := survivingPII(got); left != "" {
			t.Fatalf("MaskPII(%q) = %q still holds %s", in, got, left)
		}
	})
}

// TestMaskPIIRandomCompositions checks the fuzz invariants on many strings
// built from fragments of real shapes, which byte-level mutation reaches
// only rarely: valid numbers glued to, grouped with or wrapped in others.
func TestMaskPIIRandomCompositions(t *testing.T) {
	fragments := []string{
		"13812345678", "138", "1234", "5678", "+86", "86", "0086", "021", "0571", "12345678", "8765432",
		idNumber("31011519900307123"), idNumber("32010219850612001"), "310115900307123",
		cardNumber(t, "622202123456789"), cardNumber(t, "621700123456789012"), "6222", "0212", "3456", "7890",
		"zhang", "@", "qq", "example.com", ".", "-", " ", "　", "(", ")", "（", "）", "转", "#", "X", "x", "A",
		"号", "手机", "，", "０", "１３８１２３４５６７８", "－", "〔2024〕", "2024-10-08",
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var b strings.Builder
	for i := 0; i < 50000; i++ {
		b.Reset()
		for n := 1 + rng.IntN(8); n > 0; n-- {
			b.WriteString(fragments[rng.IntN(len(fragments))])
		}
		in := b.String()
		got := kb.MaskPII(in)
		if again := kb.MaskPII(got); again != got {
			t.Fatalf("not idempotent: MaskPII(%q) = %q, then %q", in, got, again)
		}
		if left := survivingPII(got); left != "" {
			t.Fatalf("MaskPII(%q) = %q still holds %s", in, got, left)
		}
	}
}

// Matching sees neither the personal data nor the placeholder's words.
func TestWithoutMasks(t *testing.T) {
	masked := kb.MaskPII("我电话13812345678，邮箱zhang@example.com，身份证11010519491231002X，二类械注册要交哪些材料")
	for _, placeholder := range []string{"[手机号]", "[邮箱]", "[身份证号]"} {
		if !strings.Contains(masked, placeholder) {
			t.Fatalf("MaskPII gave %q, without %s", masked, placeholder)
		}
	}
	got := kb.WithoutMasks(masked)
	for _, word := range []string{"[", "手机号", "邮箱]", "身份证号"} {
		if strings.Contains(got, word) {
			t.Errorf("WithoutMasks(%q) = %q, still holds %q", masked, got, word)
		}
	}
	if !strings.Contains(got, "我电话") || !strings.HasSuffix(got, "二类械注册要交哪些材料") {
		t.Errorf("WithoutMasks(%q) = %q: the question's own words are lost", masked, got)
	}
}

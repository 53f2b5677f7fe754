package analysis_test

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/golive/golive/internal/analysis"
)

func TestEval(t *testing.T) {
	cases := []struct {
		expr   string
		result float64
		want   bool
	}{
		{"result < 1", 0.5, true},
		{"result < 1", 1, false},
		{"result <= 1", 1, true},
		{"result > 5", 5.01, true},
		{"result >= 5", 5, true},
		{"result == 0", 0, true},
		{"result != 0", 0, false},
		{"result >= 0 && result <= 80", 80, true},
		{"result >= 0 && result <= 80", 80.5, false},
		{"result < 0 || result > 80", -1, true},
		{"result < 0 or result > 80", 50, false},
		{"result > 1 and result < 2", 1.5, true},
		{"!(result > 5)", 3, true},
		{"not (result > 5)", 6, false},
		{"!result > 5", 6, false}, // ! applies to the comparison
		{"!!(result > 5)", 6, true},
		{"(result - 100) / 100 > 0.5", 151, true},
		{"(result - 100) / 100 > 0.5", 149, false},
		{"result * 100 < 5", 0.04, true},
		{"result < -1", -2, true},
		{"-result > 1", -2, true},
		{"result < +1", 0, true},
		{"result < 1e3", 999, true},
		{"result < 1E-3", 0.0001, true},
		{"result < .25", 0.2, true},
		{"2 + 3 * 4 == 14", 0, true},
		{"(2 + 3) * 4 == 20", 0, true},
		{"10 - 4 - 3 == 3", 0, true}, // left associative
		{"12 / 3 / 2 == 2", 0, true},
		{"true", 0, true},
		{"false || result == 1", 1, true},
		{"(result > 1) == true", 2, true},
		{"(result > 1) != (result > 2)", 1.5, true},
		{"true || false && false", 0, true}, // && binds tighter
		{"  result\t<\n1  ", 0, true},
		{"result / 0 > 1", 1, true}, // +Inf
	}
	for _, c := range cases {
		e, err := analysis.Parse(c.expr)
		if err != nil {
			t.Errorf("Parse(%q): %v", c.expr, err)
			continue
		}
		if got := e.Eval(c.result); got != c.want {
			t.Errorf("%q with result=%v = %v, want %v", c.expr, c.result, got, c.want)
		}
	}
	nan, _ := analysis.Parse("result < 1")
	if nan.Eval(math.NaN()) {
		t.Error("NaN < 1 is true")
	}
	ne, _ := analysis.Parse("result != 1")
	if !ne.Eval(math.NaN()) {
		t.Error("NaN != 1 is false")
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct {
		expr string
		pos  int
		msg  string
	}{
		{"", 1, "empty"},
		{"   ", 1, "empty"},
		{"result", 1, "is a number, not true or false"},
		{"result + 1", 1, "is a number"},
		{"result < ", 10, "ends too early"},
		{"result >< 1", 9, "expected a number, result or (, got \"<\""},
		{"result = 1", 8, `unexpected character '=' (compare with ==)`},
		{"result < 1 & result > 0", 12, "(and is &&)"},
		{"result < 1 | result > 0", 12, "(or is ||)"},
		{"result < 1 && 5", 12, "&& needs true or false on both sides"},
		{"1 || result < 5", 3, "|| needs true or false"},
		{"!result", 1, "! needs true or false"},
		{"-(result > 1) < 2", 1, "- needs a number"},
		{"(result > 1) < 2", 14, "< needs numbers"},
		{"(result > 1) == 2", 14, "== compares a truth value with a number"},
		{"(result > 1) + 2", 14, "+ needs numbers"},
		{"0 < result < 5", 12, "comparisons do not chain"},
		{"(result < 1", 12, "expected ) to close the ( at column 1, got end of condition"},
		{"result < 1)", 11, `unexpected ")" after a complete condition`},
		{"result < 1 result", 12, "unexpected name result after a complete condition"},
		{"value < 1", 1, `unknown name "value" (the measured value is called result)`},
		{"result < 1.2.3", 10, `malformed number "1.2.3"`},
		{"result < 5ms", 11, `malformed number "5m"`},
		{"result < 1e999", 10, "malformed number"},
		{"result < 1 && and", 15, "expected a number, result or (, got and"},
		{"result ≤ 1", 8, "non-ASCII"},
		{"result < 'a'", 10, "unexpected character"},
		{"()", 2, `expected a number, result or (, got ")"`},
	}
	for _, c := range cases {
		_, err := analysis.Parse(c.expr)
		var ae *analysis.Error
		if !errors.As(err, &ae) {
			t.Errorf("Parse(%q) err = %v, want *analysis.Error", c.expr, err)
			continue
		}
		if ae.Pos != c.pos || !strings.Contains(ae.Msg, c.msg) || ae.Expr != c.expr {
			t.Errorf("Parse(%q) = column %d %q, want column %d containing %q", c.expr, ae.Pos, ae.Msg, c.pos, c.msg)
		}
		if !strings.HasPrefix(err.Error(), "at column ") {
			t.Errorf("Error() = %q", err.Error())
		}
	}
	if err := analysis.Validate(""); err != nil {
		t.Errorf("Validate(\"\") = %v (an empty condition is not given, not wrong)", err)
	}
	if err := analysis.Validate("result <"); err == nil {
		t.Error("Validate accepted a broken condition")
	}
}

// TestEvaluateArgoSemantics follows Argo Rollouts' utils/evaluate.EvaluateResult.
func TestEvaluateArgoSemantics(t *testing.T) {
	cases := []struct {
		success, failure string
		result           float64
		want             string
	}{
		{"", "", 3, ""},
		{"result < 1", "", 0.5, analysis.Success},
		{"result < 1", "", 2, analysis.Failure}, // success alone: not met is failure
		{"", "result > 5", 6, analysis.Failure},
		{"", "result > 5", 4, analysis.Success}, // failure alone: not met is success
		{"result < 1", "result > 5", 0.5, analysis.Success},
		{"result < 1", "result > 5", 6, analysis.Failure},
		{"result < 1", "result > 5", 3, analysis.Inconclusive},
		{"result < 10", "result > 5", 6, analysis.Failure}, // both met: failure wins
	}
	for _, c := range cases {
		conds, err := analysis.ParseConditions(c.success, c.failure)
		if err != nil {
			t.Fatal(err)
		}
		if got := conds.Evaluate(c.result); got != c.want {
			t.Errorf("success %q failure %q result %v = %q, want %q", c.success, c.failure, c.result, got, c.want)
		}
	}
	if _, err := analysis.ParseConditions("result <", ""); err == nil || !strings.HasPrefix(err.Error(), "success condition at column 9") {
		t.Errorf("err = %v", err)
	}
	if _, err := analysis.ParseConditions("", "result >> 1"); err == nil || !strings.HasPrefix(err.Error(), "failure condition at column 9") {
		t.Errorf("err = %v", err)
	}
}

// FuzzParse checks that no input panics and every error carries a column inside the text (or just after it).
func FuzzParse(f *testing.F) {
	for _, s := range []string{"result < 1", "!(result >= 0 && result <= 80) || false", "(", "1e", "result == (result > 1)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := analysis.Parse(s)
		if err != nil {
			var ae *analysis.Error
			if !errors.As(err, &ae) || ae.Pos < 1 || ae.Pos > len(s)+1 {
				t.Fatalf("Parse(%q) err = %v", s, err)
			}
			return
		}
		_ = e.Eval(1)
		_ = e.Eval(math.NaN())
	})
}

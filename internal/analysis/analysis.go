// Package analysis parses and evaluates the success and failure conditions of
// a metric (spec.Analysis), with the semantics of Argo Rollouts'
// AnalysisTemplate. It is pure and deterministic: no I/O, no clock, no maps
// iterated for output, so the spec loader, activities and tests can all use it.
//
// A condition is an expression over the measured value, named result:
//
//	result < 1
//	result >= 0 && result <= 80
//	!(result > 5) || result == 0
//	(result - 100) / 100 > 0.5
//
// Numbers are decimal (1, 0.5, 1e3, .25); operators, from loosest to tightest:
// || (or), && (and), the comparisons < <= > >= == !=, + -, * /, and the
// prefixes ! (not) and -. Parentheses group. true and false are literals.
// Types are checked when the condition is parsed: && || ! need truth values,
// comparisons and arithmetic need numbers, and the whole condition must be
// true or false. Every error names its position (1-based column).
package analysis

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Outcomes of one measurement, as activities.MetricValue.Condition carries them.
const (
	Success      = "success"
	Failure      = "failure"
	Inconclusive = "inconclusive"
)

// Error is a problem in a condition, at a 1-based column (byte offset + 1) of its text.
type Error struct {
	// Expr is the condition as written.
	Expr string
	// Pos is the 1-based column of the problem in Expr.
	Pos int
	// Msg says what is wrong.
	Msg string
}

// Error formats the problem as `at column N of "expr": msg`.
func (e *Error) Error() string {
	return fmt.Sprintf("at column %d of %q: %s", e.Pos, e.Expr, e.Msg)
}

// Expr is a parsed condition, ready to evaluate. The zero value is not usable: use Parse.
type Expr struct {
	src  string
	root node
}

// String returns the condition as written.
func (e *Expr) String() string { return e.src }

// MaxLen is the longest condition Parse accepts.
const MaxLen = 1000

// Parse parses a condition and checks its types. An empty condition is an error.
func Parse(src string) (*Expr, error) {
	if len(src) > MaxLen {
		return nil, &Error{Expr: src[:40] + "...", Pos: MaxLen + 1, Msg: fmt.Sprintf("the condition is longer than %d characters", MaxLen)}
	}
	p := &parser{src: src}
	if err := p.lex(); err != nil {
		return nil, err
	}
	if len(p.toks) == 1 { // only EOF
		return nil, &Error{Expr: src, Pos: 1, Msg: "the condition is empty"}
	}
	n, err := p.or()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, p.errAt(t, "unexpected %s after a complete condition", t.describe())
	}
	if n.typ() != typBool {
		return nil, &Error{Expr: src, Pos: n.pos(), Msg: "the condition is a number, not true or false (compare result with something, e.g. result < 1)"}
	}
	return &Expr{src: src, root: n}, nil
}

// Eval evaluates the condition for one measured value. Comparisons with NaN
// are false (NaN != x is true); a division by zero gives ±Inf or NaN, as in Go.
func (e *Expr) Eval(result float64) bool {
	v := e.root.eval(result)
	return v.b
}

// Validate parses a condition and reports its first problem, or nil. An empty
// condition is valid (it is not given).
func Validate(src string) error {
	if strings.TrimSpace(src) == "" {
		return nil
	}
	_, err := Parse(src)
	return err
}

// Conditions are a metric's parsed success and failure conditions; either may be nil (not given).
type Conditions struct {
	Success *Expr
	Failure *Expr
}

// ParseConditions parses both conditions; an empty one stays nil. Errors say
// which condition they are in.
func ParseConditions(success, failure string) (Conditions, error) {
	var c Conditions
	if strings.TrimSpace(success) != "" {
		e, err := Parse(success)
		if err != nil {
			return Conditions{}, fmt.Errorf("success condition %w", err)
		}
		c.Success = e
	}
	if strings.TrimSpace(failure) != "" {
		e, err := Parse(failure)
		if err != nil {
			return Conditions{}, fmt.Errorf("failure condition %w", err)
		}
		c.Failure = e
	}
	return c, nil
}

// Given reports whether at least one condition is given.
func (c Conditions) Given() bool { return c.Success != nil || c.Failure != nil }

// Evaluate judges one measured value as Argo Rollouts does:
//   - neither condition given: "" (the caller's thresholds judge the value);
//   - only a success condition: success when it holds, failure otherwise;
//   - only a failure condition: failure when it holds, success otherwise;
//   - both: failure when the failure condition holds (even if the success
//     condition holds too), success when only the success condition holds,
//     inconclusive when neither does.
func (c Conditions) Evaluate(result float64) string {
	if !c.Given() {
		return ""
	}
	var ok, failed bool
	if c.Success != nil {
		ok = c.Success.Eval(result)
	}
	if c.Failure != nil {
		failed = c.Failure.Eval(result)
	}
	switch {
	case c.Failure == nil:
		failed = !ok
	case c.Success == nil:
		ok = !failed
	}
	switch {
	case failed:
		return Failure
	case ok:
		return Success
	}
	return Inconclusive
}

// ---- lexer ----

type tokKind int

const (
	tEOF tokKind = iota
	tNum
	tIdent
	tOp
	tLParen
	tRParen
)

type token struct {
	kind tokKind
	text string
	num  float64
	pos  int // 1-based column
}

func (t token) describe() string {
	switch t.kind {
	case tEOF:
		return "end of condition"
	case tNum:
		return "number " + t.text
	case tIdent:
		return "name " + t.text
	}
	return strconv.Quote(t.text)
}

type parser struct {
	src  string
	toks []token
	i    int
}

func (p *parser) errAt(t token, format string, args ...any) error {
	return &Error{Expr: p.src, Pos: t.pos, Msg: fmt.Sprintf(format, args...)}
}

// twoChar are the operators of two characters; oneChar those of one.
var twoChar = []string{"<=", ">=", "==", "!=", "&&", "||"}

const oneChar = "<>!+-*/"

func (p *parser) lex() error {
	s := p.src
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(':
			p.toks = append(p.toks, token{kind: tLParen, text: "(", pos: i + 1})
			i++
		case c == ')':
			p.toks = append(p.toks, token{kind: tRParen, text: ")", pos: i + 1})
			i++
		case isDigit(c) || (c == '.' && i+1 < len(s) && isDigit(s[i+1])):
			j := i
			for j < len(s) && (isDigit(s[j]) || s[j] == '.') {
				j++
			}
			if j < len(s) && (s[j] == 'e' || s[j] == 'E') {
				k := j + 1
				if k < len(s) && (s[k] == '+' || s[k] == '-') {
					k++
				}
				if k < len(s) && isDigit(s[k]) {
					for k < len(s) && isDigit(s[k]) {
						k++
					}
					j = k
				}
			}
			if j < len(s) && (isLetter(s[j]) || s[j] == '_') {
				return &Error{Expr: s, Pos: j + 1, Msg: fmt.Sprintf("malformed number %q", s[i:j+1])}
			}
			f, err := strconv.ParseFloat(s[i:j], 64)
			if err != nil || math.IsInf(f, 0) {
				return &Error{Expr: s, Pos: i + 1, Msg: fmt.Sprintf("malformed number %q", s[i:j])}
			}
			p.toks = append(p.toks, token{kind: tNum, text: s[i:j], num: f, pos: i + 1})
			i = j
		case isLetter(c) || c == '_':
			j := i
			for j < len(s) && (isLetter(s[j]) || isDigit(s[j]) || s[j] == '_') {
				j++
			}
			p.toks = append(p.toks, token{kind: tIdent, text: s[i:j], pos: i + 1})
			i = j
		default:
			matched := false
			for _, op := range twoChar {
				if strings.HasPrefix(s[i:], op) {
					p.toks = append(p.toks, token{kind: tOp, text: op, pos: i + 1})
					i += 2
					matched = true
					break
				}
			}
			if matched {
				continue
			}
			if strings.IndexByte(oneChar, c) >= 0 {
				p.toks = append(p.toks, token{kind: tOp, text: string(c), pos: i + 1})
				i++
				continue
			}
			msg := fmt.Sprintf("unexpected character %q", rune(c))
			switch c {
			case '=':
				msg += " (compare with ==)"
			case '&':
				msg += " (and is &&)"
			case '|':
				msg += " (or is ||)"
			}
			if c >= 0x80 {
				msg = "unexpected non-ASCII character"
			}
			return &Error{Expr: s, Pos: i + 1, Msg: msg}
		}
	}
	p.toks = append(p.toks, token{kind: tEOF, pos: len(s) + 1})
	return nil
}

func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
func isLetter(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }

// ---- parser: precedence climbing, types checked as nodes are built ----

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

// isOp reports whether t is one of the operators (word forms and, or, not included).
func isOp(t token, ops ...string) (string, bool) {
	for _, op := range ops {
		if t.kind == tOp && t.text == op {
			return op, true
		}
		if t.kind == tIdent {
			switch {
			case op == "&&" && t.text == "and", op == "||" && t.text == "or", op == "!" && t.text == "not":
				return op, true
			}
		}
	}
	return "", false
}

func (p *parser) or() (node, error) {
	return p.binary(p.and, typBool, "||")
}

func (p *parser) and() (node, error) {
	return p.binary(p.not, typBool, "&&")
}

func (p *parser) not() (node, error) {
	t := p.peek()
	if _, ok := isOp(t, "!"); ok {
		p.next()
		x, err := p.not()
		if err != nil {
			return nil, err
		}
		if x.typ() != typBool {
			return nil, p.errAt(t, "! needs true or false, not a number (write result == 0 or compare first)")
		}
		return &unary{op: "!", x: x, at: t.pos}, nil
	}
	return p.comparison()
}

func (p *parser) comparison() (node, error) {
	l, err := p.additive()
	if err != nil {
		return nil, err
	}
	t := p.peek()
	op, ok := isOp(t, "<", "<=", ">", ">=", "==", "!=")
	if !ok {
		return l, nil
	}
	p.next()
	r, err := p.additive()
	if err != nil {
		return nil, err
	}
	if op == "==" || op == "!=" {
		if l.typ() != r.typ() {
			return nil, p.errAt(t, "%s compares a %s with a %s", op, l.typ(), r.typ())
		}
	} else if l.typ() != typNum || r.typ() != typNum {
		return nil, p.errAt(t, "%s needs numbers on both sides", op)
	}
	if t2 := p.peek(); t2.kind == tOp {
		if _, again := isOp(t2, "<", "<=", ">", ">=", "==", "!="); again {
			return nil, p.errAt(t2, "comparisons do not chain: write a < result && result < b")
		}
	}
	return &binary{op: op, l: l, r: r, at: t.pos, out: typBool}, nil
}

func (p *parser) additive() (node, error) {
	return p.binary(p.multiplicative, typNum, "+", "-")
}

func (p *parser) multiplicative() (node, error) {
	return p.binary(p.unaryMinus, typNum, "*", "/")
}

// binary parses a left-associative chain of ops whose operands are all of type want.
func (p *parser) binary(sub func() (node, error), want typ, ops ...string) (node, error) {
	l, err := sub()
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		op, ok := isOp(t, ops...)
		if !ok {
			return l, nil
		}
		p.next()
		r, err := sub()
		if err != nil {
			return nil, err
		}
		if l.typ() != want || r.typ() != want {
			if want == typBool {
				return nil, p.errAt(t, "%s needs true or false on both sides, not a number (compare result first, e.g. result > 1)", op)
			}
			return nil, p.errAt(t, "%s needs numbers on both sides", op)
		}
		l = &binary{op: op, l: l, r: r, at: t.pos, out: want}
	}
}

func (p *parser) unaryMinus() (node, error) {
	t := p.peek()
	if t.kind == tOp && (t.text == "-" || t.text == "+") {
		p.next()
		x, err := p.unaryMinus()
		if err != nil {
			return nil, err
		}
		if x.typ() != typNum {
			return nil, p.errAt(t, "%s needs a number", t.text)
		}
		if t.text == "+" {
			return x, nil
		}
		return &unary{op: "-", x: x, at: t.pos}, nil
	}
	return p.primary()
}

func (p *parser) primary() (node, error) {
	t := p.next()
	switch t.kind {
	case tNum:
		return &lit{v: value{n: t.num}, t: typNum, at: t.pos}, nil
	case tIdent:
		switch t.text {
		case "result":
			return &ref{at: t.pos}, nil
		case "true", "false":
			return &lit{v: value{b: t.text == "true"}, t: typBool, at: t.pos}, nil
		case "and", "or", "not":
			return nil, p.errAt(t, "expected a number, result or (, got %s", t.text)
		}
		return nil, p.errAt(t, "unknown name %q (the measured value is called result)", t.text)
	case tLParen:
		x, err := p.or()
		if err != nil {
			return nil, err
		}
		if c := p.next(); c.kind != tRParen {
			return nil, p.errAt(c, "expected ) to close the ( at column %d, got %s", t.pos, c.describe())
		}
		return x, nil
	case tEOF:
		return nil, p.errAt(t, "the condition ends too early (expected a number, result or ()")
	}
	return nil, p.errAt(t, "expected a number, result or (, got %s", t.describe())
}

// ---- nodes ----

type typ int

const (
	typNum typ = iota
	typBool
)

func (t typ) String() string {
	if t == typBool {
		return "truth value"
	}
	return "number"
}

type value struct {
	n float64
	b bool
}

type node interface {
	typ() typ
	pos() int
	eval(result float64) value
}

type lit struct {
	v  value
	t  typ
	at int
}

func (l *lit) typ() typ           { return l.t }
func (l *lit) pos() int           { return l.at }
func (l *lit) eval(float64) value { return l.v }

type ref struct{ at int }

func (r *ref) typ() typ                  { return typNum }
func (r *ref) pos() int                  { return r.at }
func (r *ref) eval(result float64) value { return value{n: result} }

type unary struct {
	op string
	x  node
	at int
}

func (u *unary) typ() typ {
	if u.op == "!" {
		return typBool
	}
	return typNum
}
func (u *unary) pos() int { return u.at }
func (u *unary) eval(result float64) value {
	v := u.x.eval(result)
	if u.op == "!" {
		return value{b: !v.b}
	}
	return value{n: -v.n}
}

type binary struct {
	op   string
	l, r node
	at   int
	out  typ
}

func (b *binary) typ() typ { return b.out }
func (b *binary) pos() int { return b.l.pos() }
func (b *binary) eval(result float64) value {
	switch b.op {
	case "&&":
		return value{b: b.l.eval(result).b && b.r.eval(result).b}
	case "||":
		return value{b: b.l.eval(result).b || b.r.eval(result).b}
	}
	l, r := b.l.eval(result), b.r.eval(result)
	switch b.op {
	case "+":
		return value{n: l.n + r.n}
	case "-":
		return value{n: l.n - r.n}
	case "*":
		return value{n: l.n * r.n}
	case "/":
		return value{n: l.n / r.n}
	case "<":
		return value{b: l.n < r.n}
	case "<=":
		return value{b: l.n <= r.n}
	case ">":
		return value{b: l.n > r.n}
	case ">=":
		return value{b: l.n >= r.n}
	case "==":
		if b.l.typ() == typBool {
			return value{b: l.b == r.b}
		}
		return value{b: l.n == r.n}
	case "!=":
		if b.l.typ() == typBool {
			return value{b: l.b != r.b}
		}
		return value{b: l.n != r.n}
	}
	panic("analysis: unknown operator " + b.op)
}

package states

import (
	"cmp"
	"fmt"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// choiceRule is a compiled Choice rule (top-level rules carry Next).
type choiceRule struct {
	variable  *jsonPath
	op        string // comparison operator without a "Path" suffix
	value     any
	valuePath *jsonPath
	and, or   []*choiceRule
	not       *choiceRule
	next      string
}

var comparisonOps = map[string]string{ // operator -> operand type
	"StringEquals": "string", "StringLessThan": "string", "StringGreaterThan": "string",
	"StringLessThanEquals": "string", "StringGreaterThanEquals": "string", "StringMatches": "string",
	"NumericEquals": "number", "NumericLessThan": "number", "NumericGreaterThan": "number",
	"NumericLessThanEquals": "number", "NumericGreaterThanEquals": "number",
	"BooleanEquals":   "boolean",
	"TimestampEquals": "timestamp", "TimestampLessThan": "timestamp", "TimestampGreaterThan": "timestamp",
	"TimestampLessThanEquals": "timestamp", "TimestampGreaterThanEquals": "timestamp",
	"IsNull": "boolean", "IsPresent": "boolean", "IsNumeric": "boolean", "IsString": "boolean",
	"IsBoolean": "boolean", "IsTimestamp": "boolean",
}

// compileChoiceRule compiles one rule; top says whether it is a top-level rule (needs Next).
func compileChoiceRule(m map[string]any, top bool) (*choiceRule, error) {
	r := &choiceRule{}
	if top {
		next, ok := m["Next"].(string)
		if !ok || next == "" {
			return nil, fmt.Errorf("a Choice rule must have a Next field")
		}
		r.next = next
	} else if _, ok := m["Next"]; ok {
		return nil, fmt.Errorf("a nested Choice rule must not have a Next field")
	}
	found := 0
	for k, v := range m {
		switch k {
		case "Next", "Variable", "Comment":
			continue
		case "And", "Or":
			arr, ok := v.([]any)
			if !ok || len(arr) == 0 {
				return nil, fmt.Errorf("%s must be a non-empty array of rules", k)
			}
			for _, x := range arr {
				xm, ok := x.(map[string]any)
				if !ok {
					return nil, fmt.Errorf("%s must contain rule objects", k)
				}
				sub, err := compileChoiceRule(xm, false)
				if err != nil {
					return nil, err
				}
				if k == "And" {
					r.and = append(r.and, sub)
				} else {
					r.or = append(r.or, sub)
				}
			}
			r.op = k
			found++
		case "Not":
			xm, ok := v.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("Not must be a rule object")
			}
			sub, err := compileChoiceRule(xm, false)
			if err != nil {
				return nil, err
			}
			r.not = sub
			r.op = k
			found++
		default:
			base := k
			isPath := false
			if _, ok := comparisonOps[k]; !ok && strings.HasSuffix(k, "Path") {
				base = strings.TrimSuffix(k, "Path")
				isPath = true
			}
			kind, ok := comparisonOps[base]
			if !ok || (isPath && (strings.HasPrefix(base, "Is") || base == "StringMatches")) {
				return nil, fmt.Errorf("unknown Choice rule field %q", k)
			}
			r.op = base
			found++
			if isPath {
				s, ok := v.(string)
				if !ok {
					return nil, fmt.Errorf("%s must be a path string", k)
				}
				p, err := parsePath(s)
				if err != nil || !p.definite() {
					return nil, fmt.Errorf("%s: invalid reference path %q", k, s)
				}
				r.valuePath = p
				continue
			}
			if err := checkOperand(kind, k, v); err != nil {
				return nil, err
			}
			r.value = v
		}
	}
	if found != 1 {
		return nil, fmt.Errorf("a Choice rule must have exactly one comparison operator or And/Or/Not")
	}
	if r.op != "And" && r.op != "Or" && r.op != "Not" {
		s, ok := m["Variable"].(string)
		if !ok {
			return nil, fmt.Errorf("a Choice rule with %s must have a Variable", r.op)
		}
		p, err := parsePath(s)
		if err != nil {
			return nil, fmt.Errorf("Variable: %v", err)
		}
		r.variable = p
	}
	return r, nil
}

func checkOperand(kind, field string, v any) error {
	ok := false
	switch kind {
	case "string":
		_, ok = v.(string)
	case "number":
		_, ok = toFloat(v)
	case "boolean":
		_, ok = v.(bool)
	case "timestamp":
		var s string
		if s, ok = v.(string); ok {
			_, err := parseTimestamp(s)
			ok = err == nil
		}
	}
	if !ok {
		return fmt.Errorf("%s: invalid operand %s", field, toJSON(v))
	}
	return nil
}

func parseTimestamp(s string) (time.Time, error) {
	return time.Parse(time.RFC3339Nano, s)
}

// eval evaluates the rule. A Variable that selects nothing is a States.Runtime error for
// every operator except IsPresent.
func (r *choiceRule) eval(input any, ctx func() any) (bool, error) {
	switch r.op {
	case "And":
		for _, s := range r.and {
			ok, err := s.eval(input, ctx)
			if err != nil || !ok {
				return false, err
			}
		}
		return true, nil
	case "Or":
		for _, s := range r.or {
			ok, err := s.eval(input, ctx)
			if err != nil || ok {
				return ok, err
			}
		}
		return false, nil
	case "Not":
		ok, err := r.not.eval(input, ctx)
		return !ok && err == nil, err
	}
	root := input
	if r.variable.context {
		root = ctx()
	}
	v, err := r.variable.eval(root)
	if r.op == "IsPresent" {
		want := r.value.(bool)
		return (err == nil) == want, nil
	}
	if err != nil {
		return false, newErr(errRuntime, "Invalid path '%s': The choice state's condition path references an invalid value.", r.variable.src)
	}
	operand := r.value
	if r.valuePath != nil {
		proot := input
		if r.valuePath.context {
			proot = ctx()
		}
		operand, err = r.valuePath.eval(proot)
		if err != nil {
			return false, newErr(errRuntime, "Invalid path '%s': The choice state's condition path references an invalid value.", r.valuePath.src)
		}
	}
	return compare(r.op, v, operand), nil
}

func compare(op string, v, operand any) bool {
	switch op {
	case "IsNull":
		return (v == nil) == operand.(bool)
	case "IsNumeric":
		_, isNum := toFloat(v)
		return isNum == operand.(bool)
	case "IsString":
		_, isStr := v.(string)
		return isStr == operand.(bool)
	case "IsBoolean":
		_, isBool := v.(bool)
		return isBool == operand.(bool)
	case "IsTimestamp":
		s, ok := v.(string)
		if ok {
			_, err := parseTimestamp(s)
			ok = err == nil
		}
		return ok == operand.(bool)
	case "BooleanEquals":
		a, ok1 := v.(bool)
		b, ok2 := operand.(bool)
		return ok1 && ok2 && a == b
	case "StringMatches":
		a, ok1 := v.(string)
		b, ok2 := operand.(string)
		return ok1 && ok2 && wildcardMatch(b, a)
	}
	var c int
	switch {
	case strings.HasPrefix(op, "String"):
		a, ok1 := v.(string)
		b, ok2 := operand.(string)
		if !ok1 || !ok2 {
			return false
		}
		c = javaCompare(a, b)
	case strings.HasPrefix(op, "Numeric"):
		a, ok1 := toFloat(v)
		b, ok2 := toFloat(operand)
		if !ok1 || !ok2 {
			return false
		}
		c = cmpFloat(a, b)
	case strings.HasPrefix(op, "Timestamp"):
		as, ok1 := v.(string)
		bs, ok2 := operand.(string)
		if !ok1 || !ok2 {
			return false
		}
		a, err1 := parseTimestamp(as)
		b, err2 := parseTimestamp(bs)
		if err1 != nil || err2 != nil {
			return false
		}
		c = a.Compare(b)
	default:
		return false
	}
	switch {
	case strings.HasSuffix(op, "GreaterThanEquals"):
		return c >= 0
	case strings.HasSuffix(op, "LessThanEquals"):
		return c <= 0
	case strings.HasSuffix(op, "GreaterThan"):
		return c > 0
	case strings.HasSuffix(op, "LessThan"):
		return c < 0
	case strings.HasSuffix(op, "Equals"):
		return c == 0
	}
	return false
}

// javaCompare orders strings as AWS Step Functions does, by Java's String.compareTo: UTF-16
// code unit by code unit, then by length. It differs from byte (or code point) order only
// when a character outside the BMP meets one in U+E000–U+FFFF: "😀" (surrogates D83D DE00)
// sorts below "Ａ" (U+FF21) here and in AWS, above it in Go's and Python's (moto's) order.
// Recorded AWS behaviour (DESIGN.md, engine facts 2026-11-28); conformance case
// choice-strings-utf16.
func javaCompare(a, b string) int {
	for a != "" && b != "" {
		ra, na := utf8.DecodeRuneInString(a)
		rb, nb := utf8.DecodeRuneInString(b)
		if ra != rb {
			ua, ub := utf16Units(ra), utf16Units(rb)
			if ua[0] != ub[0] {
				return cmp.Compare(ua[0], ub[0])
			}
			return cmp.Compare(ua[1], ub[1]) // two supplementary characters with one high surrogate
		}
		a, b = a[na:], b[nb:]
	}
	return cmp.Compare(len(a), len(b)) // the shorter, a prefix of the other, sorts first
}

// utf16Units is r in UTF-16: one code unit (and 0), or a surrogate pair.
func utf16Units(r rune) [2]rune {
	if hi, lo := utf16.EncodeRune(r); hi != utf8.RuneError {
		return [2]rune{hi, lo}
	}
	return [2]rune{r, 0}
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// wildcardMatch matches s against pattern where "*" matches any run of characters and
// "\*" / "\\" are a literal star / backslash.
func wildcardMatch(pattern, s string) bool {
	type tok struct {
		star bool
		lit  string
	}
	var toks []tok
	var lit strings.Builder
	for i := 0; i < len(pattern); i++ {
		c := pattern[i]
		switch {
		case c == '\\' && i+1 < len(pattern):
			lit.WriteByte(pattern[i+1])
			i++
		case c == '*':
			toks = append(toks, tok{lit: lit.String()}, tok{star: true})
			lit.Reset()
		default:
			lit.WriteByte(c)
		}
	}
	toks = append(toks, tok{lit: lit.String()})
	// greedy matching with backtracking over stars
	var match func(ti int, s string) bool
	match = func(ti int, s string) bool {
		if ti == len(toks) {
			return s == ""
		}
		t := toks[ti]
		if !t.star {
			return strings.HasPrefix(s, t.lit) && match(ti+1, s[len(t.lit):])
		}
		for i := 0; i <= len(s); i++ {
			if match(ti+1, s[i:]) {
				return true
			}
		}
		return false
	}
	return match(0, s)
}

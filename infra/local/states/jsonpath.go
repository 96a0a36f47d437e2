package states

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// jsonPath is a parsed JSONPath. Paths starting with "$$" address the context object.
type jsonPath struct {
	src     string
	context bool
	segs    []pathSeg
}

type segKind int

const (
	segName segKind = iota
	segIndex
	segWildcard
	segSlice
	segUnion
	segFilter
	segDescend // recursive descent; name == "" means "*"
)

type pathSeg struct {
	kind   segKind
	name   string
	index  int
	start  *int
	end    *int
	step   int
	union  []pathSeg
	filter *filterExpr
}

type filterExpr struct {
	path  []pathSeg // relative to @
	op    string    // "" means existence
	value any
}

// definite reports whether the path selects at most one value (a "Reference Path" in the
// specification, apart from the context marker).
func (p *jsonPath) definite() bool {
	for _, s := range p.segs {
		if s.kind != segName && s.kind != segIndex {
			return false
		}
	}
	return true
}

func (p *jsonPath) String() string { return p.src }

// parsePath parses a JSONPath that starts with "$" (or "$$").
func parsePath(src string) (*jsonPath, error) {
	p := &jsonPath{src: src}
	s := src
	if !strings.HasPrefix(s, "$") {
		return nil, fmt.Errorf("path %q must start with '$'", src)
	}
	if strings.HasPrefix(s, "$$") {
		p.context = true
		s = s[2:]
	} else {
		s = s[1:]
	}
	segs, err := parseSegments(s, src)
	if err != nil {
		return nil, err
	}
	p.segs = segs
	return p, nil
}

func parseSegments(s, src string) ([]pathSeg, error) {
	var segs []pathSeg
	for len(s) > 0 {
		switch {
		case strings.HasPrefix(s, ".."):
			s = s[2:]
			if strings.HasPrefix(s, "[") {
				seg, rest, err := parseBracket(s, src)
				if err != nil {
					return nil, err
				}
				if seg.kind == segName {
					segs = append(segs, pathSeg{kind: segDescend, name: seg.name})
				} else {
					segs = append(segs, pathSeg{kind: segDescend}, seg)
				}
				s = rest
				continue
			}
			name, rest := readName(s)
			if name == "" {
				return nil, fmt.Errorf("invalid path %q: empty name after '..'", src)
			}
			if name == "*" {
				name = ""
			}
			segs = append(segs, pathSeg{kind: segDescend, name: name})
			s = rest
		case s[0] == '.':
			name, rest := readName(s[1:])
			if name == "" {
				return nil, fmt.Errorf("invalid path %q: empty name", src)
			}
			if name == "*" {
				segs = append(segs, pathSeg{kind: segWildcard})
			} else {
				segs = append(segs, pathSeg{kind: segName, name: name})
			}
			s = rest
		case s[0] == '[':
			seg, rest, err := parseBracket(s, src)
			if err != nil {
				return nil, err
			}
			segs = append(segs, seg)
			s = rest
		default:
			return nil, fmt.Errorf("invalid path %q at %q", src, s)
		}
	}
	return segs, nil
}

func readName(s string) (name, rest string) {
	i := strings.IndexAny(s, ".[")
	if i < 0 {
		return s, ""
	}
	return s[:i], s[i:]
}

// parseBracket parses "[...]" at the start of s.
func parseBracket(s, src string) (pathSeg, string, error) {
	bad := func() (pathSeg, string, error) {
		return pathSeg{}, "", fmt.Errorf("invalid path %q: bad bracket expression", src)
	}
	// find the matching ']' outside quotes and parentheses
	depth, quote := 0, byte(0)
	end := -1
	for i := 1; i < len(s) && end < 0; i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == '\\' {
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '(':
			depth++
		case c == ')':
			depth--
		case c == ']' && depth == 0:
			end = i
		}
	}
	if end < 0 {
		return bad()
	}
	inner := strings.TrimSpace(s[1:end])
	rest := s[end+1:]
	switch {
	case inner == "*":
		return pathSeg{kind: segWildcard}, rest, nil
	case strings.HasPrefix(inner, "?("):
		if !strings.HasSuffix(inner, ")") {
			return bad()
		}
		f, err := parseFilter(strings.TrimSpace(inner[2:len(inner)-1]), src)
		if err != nil {
			return pathSeg{}, "", err
		}
		return pathSeg{kind: segFilter, filter: f}, rest, nil
	}
	parts := splitTopLevel(inner, ',')
	if len(parts) > 1 {
		seg := pathSeg{kind: segUnion}
		for _, part := range parts {
			one, _, err := parseBracket("["+strings.TrimSpace(part)+"]", src)
			if err != nil {
				return pathSeg{}, "", err
			}
			if one.kind != segName && one.kind != segIndex {
				return bad()
			}
			seg.union = append(seg.union, one)
		}
		return seg, rest, nil
	}
	if len(inner) >= 2 && (inner[0] == '\'' || inner[0] == '"') && inner[len(inner)-1] == inner[0] {
		return pathSeg{kind: segName, name: unquote(inner[1 : len(inner)-1])}, rest, nil
	}
	if strings.Contains(inner, ":") {
		f := strings.Split(inner, ":")
		if len(f) > 3 {
			return bad()
		}
		seg := pathSeg{kind: segSlice, step: 1}
		for i, part := range f {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			n, err := strconv.Atoi(part)
			if err != nil {
				return bad()
			}
			switch i {
			case 0:
				seg.start = &n
			case 1:
				seg.end = &n
			case 2:
				if n == 0 {
					return bad()
				}
				seg.step = n
			}
		}
		return seg, rest, nil
	}
	n, err := strconv.Atoi(inner)
	if err != nil {
		return bad()
	}
	return pathSeg{kind: segIndex, index: n}, rest, nil
}

func unquote(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// splitTopLevel splits s on sep outside quotes and parentheses.
func splitTopLevel(s string, sep byte) []string {
	var parts []string
	depth, quote, start := 0, byte(0), 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == '\\' {
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '(' || c == '[':
			depth++
		case c == ')' || c == ']':
			depth--
		case c == sep && depth == 0:
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:])
}

var filterOps = []string{"==", "!=", "<=", ">=", "<", ">"}

func parseFilter(expr, src string) (*filterExpr, error) {
	if !strings.HasPrefix(expr, "@") {
		return nil, fmt.Errorf("invalid path %q: filter must start with '@'", src)
	}
	f := &filterExpr{}
	left := expr
	for _, op := range filterOps {
		if i := indexOutsideQuotes(expr, op); i > 0 {
			f.op = op
			left = strings.TrimSpace(expr[:i])
			lit := strings.TrimSpace(expr[i+len(op):])
			if len(lit) >= 2 && lit[0] == '\'' && lit[len(lit)-1] == '\'' {
				f.value = unquote(lit[1 : len(lit)-1])
			} else {
				v, err := parseJSON(lit)
				if err != nil {
					return nil, fmt.Errorf("invalid path %q: bad filter literal %q", src, lit)
				}
				f.value = v
			}
			break
		}
	}
	segs, err := parseSegments(left[1:], src)
	if err != nil {
		return nil, err
	}
	f.path = segs
	return f, nil
}

func indexOutsideQuotes(s, sub string) int {
	quote := byte(0)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case strings.HasPrefix(s[i:], sub):
			return i
		}
	}
	return -1
}

// errPathNotFound is returned by eval when a definite path selects nothing.
type pathNotFound struct{ path string }

func (e *pathNotFound) Error() string {
	return fmt.Sprintf("the JSONPath '%s' could not be found in the input", e.path)
}

// eval applies the path to root. A definite path returns the one value it selects (or a
// *pathNotFound); an indefinite path returns the array of values it selects.
func (p *jsonPath) eval(root any) (any, error) {
	if p.definite() {
		cur := root
		for _, s := range p.segs {
			next, ok := step(cur, s)
			if !ok {
				return nil, &pathNotFound{p.src}
			}
			cur = next
		}
		return cur, nil
	}
	return selectAll(root, p.segs), nil
}

func step(cur any, s pathSeg) (any, bool) {
	switch s.kind {
	case segName:
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		v, ok := m[s.name]
		return v, ok
	case segIndex:
		a, ok := cur.([]any)
		if !ok {
			return nil, false
		}
		i := s.index
		if i < 0 {
			i += len(a)
		}
		if i < 0 || i >= len(a) {
			return nil, false
		}
		return a[i], true
	}
	return nil, false
}

func selectAll(root any, segs []pathSeg) []any {
	cur := []any{root}
	for _, s := range segs {
		var next []any
		for _, v := range cur {
			next = appendSelected(next, v, s)
		}
		cur = next
	}
	if cur == nil {
		cur = []any{}
	}
	return cur
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func appendSelected(out []any, v any, s pathSeg) []any {
	switch s.kind {
	case segName, segIndex:
		if x, ok := step(v, s); ok {
			out = append(out, x)
		}
	case segWildcard:
		switch t := v.(type) {
		case []any:
			out = append(out, t...)
		case map[string]any:
			for _, k := range sortedKeys(t) {
				out = append(out, t[k])
			}
		}
	case segUnion:
		for _, u := range s.union {
			out = appendSelected(out, v, u)
		}
	case segSlice:
		a, ok := v.([]any)
		if !ok {
			return out
		}
		n := len(a)
		norm := func(p *int, def int) int {
			if p == nil {
				return def
			}
			i := *p
			if i < 0 {
				i += n
			}
			return max(0, min(i, n))
		}
		if s.step > 0 {
			for i := norm(s.start, 0); i < norm(s.end, n); i += s.step {
				out = append(out, a[i])
			}
		} else {
			start := n - 1
			if s.start != nil {
				start = min(norm(s.start, 0), n-1)
			}
			end := -1
			if s.end != nil {
				end = norm(s.end, 0)
			}
			for i := start; i > end; i += s.step {
				out = append(out, a[i])
			}
		}
	case segFilter:
		var items []any
		switch t := v.(type) {
		case []any:
			items = t
		case map[string]any:
			for _, k := range sortedKeys(t) {
				items = append(items, t[k])
			}
		}
		for _, it := range items {
			if s.filter.match(it) {
				out = append(out, it)
			}
		}
	case segDescend:
		out = descend(out, v, s.name)
	}
	return out
}

// descend collects v and all its descendants (name == "") or every member named name.
func descend(out []any, v any, name string) []any {
	switch t := v.(type) {
	case map[string]any:
		for _, k := range sortedKeys(t) {
			if name == "" || k == name {
				out = append(out, t[k])
			}
		}
		for _, k := range sortedKeys(t) {
			out = descend(out, t[k], name)
		}
	case []any:
		for _, x := range t {
			if name == "" {
				out = append(out, x)
			}
		}
		for _, x := range t {
			out = descend(out, x, name)
		}
	}
	return out
}

func (f *filterExpr) match(item any) bool {
	cur := item
	for _, s := range f.path {
		next, ok := step(cur, s)
		if !ok {
			return false
		}
		cur = next
	}
	if f.op == "" {
		return true
	}
	a, aok := toFloat(cur)
	b, bok := toFloat(f.value)
	if aok && bok {
		switch f.op {
		case "==":
			return a == b
		case "!=":
			return a != b
		case "<":
			return a < b
		case "<=":
			return a <= b
		case ">":
			return a > b
		case ">=":
			return a >= b
		}
	}
	as, aok := cur.(string)
	bs, bok := f.value.(string)
	if aok && bok {
		switch f.op {
		case "==":
			return as == bs
		case "!=":
			return as != bs
		case "<":
			return as < bs
		case "<=":
			return as <= bs
		case ">":
			return as > bs
		case ">=":
			return as >= bs
		}
	}
	switch f.op {
	case "==":
		return jsonEqual(cur, f.value)
	case "!=":
		return !jsonEqual(cur, f.value)
	}
	return false
}

// setPath returns a copy of doc with value placed at the reference path p (ResultPath).
// Missing objects along the way are created; a non-object in the way is an error.
func setPath(doc any, p *jsonPath, value any) (any, error) {
	if len(p.segs) == 0 {
		return value, nil
	}
	return setSegs(doc, p.segs, value, p.src)
}

func setSegs(cur any, segs []pathSeg, value any, src string) (any, error) {
	if len(segs) == 0 {
		return value, nil
	}
	s := segs[0]
	switch s.kind {
	case segName:
		var m map[string]any
		switch t := cur.(type) {
		case map[string]any:
			m = make(map[string]any, len(t)+1)
			for k, v := range t {
				m[k] = v
			}
		case nil:
			m = map[string]any{}
		default:
			return nil, fmt.Errorf("unable to apply ResultPath %q: %s is not an object", src, typeName(cur))
		}
		child, err := setSegs(m[s.name], segs[1:], value, src)
		if err != nil {
			return nil, err
		}
		m[s.name] = child
		return m, nil
	case segIndex:
		a, ok := cur.([]any)
		i := s.index
		if ok && i < 0 {
			i += len(a)
		}
		if !ok || i < 0 || i >= len(a) {
			return nil, fmt.Errorf("unable to apply ResultPath %q: index %d out of range", src, s.index)
		}
		b := append([]any(nil), a...)
		child, err := setSegs(b[i], segs[1:], value, src)
		if err != nil {
			return nil, err
		}
		b[i] = child
		return b, nil
	}
	return nil, fmt.Errorf("unable to apply ResultPath %q: not a reference path", src)
}

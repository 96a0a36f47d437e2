package states

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"maps"
	"math/big"
	mrand "math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// intrinsic is a parsed intrinsic function call such as States.Format('{}', $.a).
type intrinsic struct {
	name string
	args []intrinsicArg
}

type intrinsicArg struct {
	literal any        // when path and call are nil; a string literal with its escapes resolved
	raw     string     // a string literal as written between its quotes, escapes kept (States.Format's template)
	path    *jsonPath  // a JSONPath argument
	call    *intrinsic // a nested call
}

var intrinsicArity = map[string][2]int{ // min, max (-1: unbounded)
	"States.Format":         {1, -1},
	"States.StringToJson":   {1, 1},
	"States.JsonToString":   {1, 1},
	"States.Array":          {0, -1},
	"States.ArrayPartition": {2, 2},
	"States.ArrayContains":  {2, 2},
	"States.ArrayRange":     {3, 3},
	"States.ArrayGetItem":   {2, 2},
	"States.ArrayLength":    {1, 1},
	"States.ArrayUnique":    {1, 1},
	"States.Base64Encode":   {1, 1},
	"States.Base64Decode":   {1, 1},
	"States.Hash":           {2, 2},
	"States.JsonMerge":      {3, 3},
	"States.MathRandom":     {2, 3},
	"States.MathAdd":        {2, 2},
	"States.StringSplit":    {2, 2},
	"States.UUID":           {0, 0},
}

// parseIntrinsic parses a whole intrinsic function expression.
func parseIntrinsic(src string) (*intrinsic, error) {
	p := &intrinsicParser{s: src}
	call, err := p.call()
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.i != len(p.s) {
		return nil, fmt.Errorf("invalid intrinsic function %q: unexpected %q", src, p.s[p.i:])
	}
	return call, nil
}

type intrinsicParser struct {
	s string
	i int
}

func (p *intrinsicParser) skipSpace() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == '\n') {
		p.i++
	}
}

func (p *intrinsicParser) errorf(format string, args ...any) error {
	return fmt.Errorf("invalid intrinsic function %q: %s", p.s, fmt.Sprintf(format, args...))
}

func (p *intrinsicParser) call() (*intrinsic, error) {
	p.skipSpace()
	open := strings.IndexByte(p.s[p.i:], '(')
	if open < 0 {
		return nil, p.errorf("missing '('")
	}
	name := strings.TrimSpace(p.s[p.i : p.i+open])
	arity, ok := intrinsicArity[name]
	if !ok {
		return nil, p.errorf("unknown function %q", name)
	}
	p.i += open + 1
	c := &intrinsic{name: name}
	p.skipSpace()
	if p.i < len(p.s) && p.s[p.i] == ')' {
		p.i++
	} else {
		for {
			arg, err := p.arg()
			if err != nil {
				return nil, err
			}
			c.args = append(c.args, arg)
			p.skipSpace()
			if p.i >= len(p.s) {
				return nil, p.errorf("missing ')'")
			}
			if p.s[p.i] == ')' {
				p.i++
				break
			}
			if p.s[p.i] != ',' {
				return nil, p.errorf("expected ',' at %q", p.s[p.i:])
			}
			p.i++
		}
	}
	if len(c.args) < arity[0] || (arity[1] >= 0 && len(c.args) > arity[1]) {
		return nil, p.errorf("%s takes %d to %d arguments, got %d", name, arity[0], arity[1], len(c.args))
	}
	return c, nil
}

func (p *intrinsicParser) arg() (intrinsicArg, error) {
	p.skipSpace()
	if p.i >= len(p.s) {
		return intrinsicArg{}, p.errorf("missing argument")
	}
	rest := p.s[p.i:]
	switch {
	case rest[0] == '\'':
		// ' { } and \ are reserved in intrinsic functions; a backslash makes the next one a
		// plain character (https://docs.aws.amazon.com/step-functions/latest/dg/intrinsic-functions.html,
		// "Reserved characters in intrinsic functions").
		var b strings.Builder
		for j := 1; j < len(rest); j++ {
			c := rest[j]
			if c == '\\' && j+1 < len(rest) {
				b.WriteByte(rest[j+1])
				j++
				continue
			}
			if c == '\'' {
				p.i += j + 1
				return intrinsicArg{literal: b.String(), raw: rest[1:j]}, nil
			}
			b.WriteByte(c)
		}
		return intrinsicArg{}, p.errorf("unterminated string")
	case rest[0] == '$':
		end := p.pathEnd(rest)
		path, err := parsePath(strings.TrimSpace(rest[:end]))
		if err != nil {
			return intrinsicArg{}, err
		}
		p.i += end
		return intrinsicArg{path: path}, nil
	case strings.HasPrefix(rest, "States."):
		c, err := p.call()
		if err != nil {
			return intrinsicArg{}, err
		}
		return intrinsicArg{call: c}, nil
	}
	end := strings.IndexAny(rest, ",)")
	if end < 0 {
		return intrinsicArg{}, p.errorf("bad argument %q", rest)
	}
	lit := strings.TrimSpace(rest[:end])
	v, err := parseJSON(lit)
	if err != nil {
		return intrinsicArg{}, p.errorf("bad argument %q", lit)
	}
	switch v.(type) {
	case json.Number, bool, nil:
	default:
		return intrinsicArg{}, p.errorf("bad argument %q", lit)
	}
	p.i += end
	return intrinsicArg{literal: v}, nil
}

// pathEnd finds where a path argument ends: the first ',' or ')' outside brackets/quotes.
func (p *intrinsicParser) pathEnd(s string) int {
	depth, quote := 0, byte(0)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '[' || c == '(':
			depth++
		case c == ']':
			depth--
		case c == ')' && depth > 0:
			depth--
		case (c == ',' || c == ')') && depth == 0:
			return i
		}
	}
	return len(s)
}

// eval evaluates the call against the state's input and the context object.
func (c *intrinsic) eval(input any, ctx func() any) (any, error) {
	args := make([]any, len(c.args))
	for i, a := range c.args {
		switch {
		case a.call != nil:
			v, err := a.call.eval(input, ctx)
			if err != nil {
				return nil, err
			}
			args[i] = v
		case a.path != nil:
			root := input
			if a.path.context {
				root = ctx()
			}
			v, err := a.path.eval(root)
			if err != nil {
				return nil, newErr(errIntrinsicFailure, "%s: %v", c.name, err)
			}
			args[i] = v
		case i == 0 && c.name == "States.Format":
			if _, ok := a.literal.(string); ok {
				args[i] = a.raw // the template tells an escaped \{\} from a placeholder
			} else {
				args[i] = a.literal
			}
		default:
			args[i] = a.literal
		}
	}
	v, err := callIntrinsic(c.name, args)
	if err != nil {
		return nil, newErr(errIntrinsicFailure, "%s: %v", c.name, err)
	}
	return v, nil
}

func argString(args []any, i int) (string, error) {
	s, ok := args[i].(string)
	if !ok {
		return "", fmt.Errorf("argument %d must be a string, got %s", i+1, typeName(args[i]))
	}
	return s, nil
}

func argArray(args []any, i int) ([]any, error) {
	a, ok := args[i].([]any)
	if !ok {
		return nil, fmt.Errorf("argument %d must be an array, got %s", i+1, typeName(args[i]))
	}
	return a, nil
}

func argInt(args []any, i int) (int64, error) {
	n, ok := toInt(args[i])
	if !ok {
		return 0, fmt.Errorf("argument %d must be an integer, got %s", i+1, typeName(args[i]))
	}
	return n, nil
}

func intNumber(n int64) json.Number { return json.Number(strconv.FormatInt(n, 10)) }

func callIntrinsic(name string, args []any) (any, error) {
	switch name {
	case "States.Format":
		return formatIntrinsic(args)
	case "States.StringToJson":
		s, err := argString(args, 0)
		if err != nil {
			return nil, err
		}
		v, err := parseJSON(s)
		if err != nil {
			return nil, fmt.Errorf("invalid JSON: %v", err)
		}
		return v, nil
	case "States.JsonToString":
		return toJSON(args[0]), nil
	case "States.Array":
		out := make([]any, len(args))
		copy(out, args)
		return out, nil
	case "States.ArrayPartition":
		a, err := argArray(args, 0)
		if err != nil {
			return nil, err
		}
		size, err := argInt(args, 1)
		if err != nil {
			return nil, err
		}
		if size <= 0 {
			return nil, fmt.Errorf("chunk size must be positive")
		}
		size = min(size, int64(max(len(a), 1)))
		out := []any{}
		for i := 0; i < len(a); i += int(size) {
			out = append(out, append([]any(nil), a[i:min(len(a), i+int(size))]...))
		}
		return out, nil
	case "States.ArrayContains":
		a, err := argArray(args, 0)
		if err != nil {
			return nil, err
		}
		for _, x := range a {
			if jsonEqual(x, args[1]) {
				return true, nil
			}
		}
		return false, nil
	case "States.ArrayRange":
		start, err := argInt(args, 0)
		if err != nil {
			return nil, err
		}
		end, err := argInt(args, 1)
		if err != nil {
			return nil, err
		}
		stp, err := argInt(args, 2)
		if err != nil {
			return nil, err
		}
		if stp == 0 {
			return nil, fmt.Errorf("step must not be 0")
		}
		out := []any{}
		for i := start; (stp > 0 && i <= end) || (stp < 0 && i >= end); i += stp {
			if len(out) == 1000 {
				return nil, fmt.Errorf("the array would have more than 1000 items")
			}
			out = append(out, intNumber(i))
		}
		return out, nil
	case "States.ArrayGetItem":
		a, err := argArray(args, 0)
		if err != nil {
			return nil, err
		}
		i, err := argInt(args, 1)
		if err != nil {
			return nil, err
		}
		if i < 0 || i >= int64(len(a)) {
			return nil, fmt.Errorf("index %d out of range", i)
		}
		return a[i], nil
	case "States.ArrayLength":
		a, err := argArray(args, 0)
		if err != nil {
			return nil, err
		}
		return intNumber(int64(len(a))), nil
	case "States.ArrayUnique":
		a, err := argArray(args, 0)
		if err != nil {
			return nil, err
		}
		out := []any{}
	next:
		for _, x := range a {
			for _, y := range out {
				if jsonEqual(x, y) {
					continue next
				}
			}
			out = append(out, x)
		}
		return out, nil
	case "States.Base64Encode":
		s, err := argString(args, 0)
		if err != nil {
			return nil, err
		}
		return base64.StdEncoding.EncodeToString([]byte(s)), nil
	case "States.Base64Decode":
		s, err := argString(args, 0)
		if err != nil {
			return nil, err
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, fmt.Errorf("invalid base64: %v", err)
		}
		return string(b), nil
	case "States.Hash":
		data := args[0]
		s, ok := data.(string)
		if !ok {
			s = toJSON(data)
		}
		alg, err := argString(args, 1)
		if err != nil {
			return nil, err
		}
		var h hash.Hash
		switch alg {
		case "MD5":
			h = md5.New()
		case "SHA-1":
			h = sha1.New()
		case "SHA-256":
			h = sha256.New()
		case "SHA-384":
			h = sha512.New384()
		case "SHA-512":
			h = sha512.New()
		default:
			return nil, fmt.Errorf("unsupported hash algorithm %q", alg)
		}
		h.Write([]byte(s))
		return hex.EncodeToString(h.Sum(nil)), nil
	case "States.JsonMerge":
		a, ok1 := args[0].(map[string]any)
		b, ok2 := args[1].(map[string]any)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("the first two arguments must be objects")
		}
		if deep, ok := args[2].(bool); !ok || deep {
			return nil, fmt.Errorf("only shallow merge (false) is supported")
		}
		out := make(map[string]any, len(a)+len(b))
		for k, v := range a {
			out[k] = v
		}
		for k, v := range b {
			out[k] = v
		}
		return out, nil
	case "States.MathRandom":
		lo, err := argInt(args, 0)
		if err != nil {
			return nil, err
		}
		hi, err := argInt(args, 1)
		if err != nil {
			return nil, err
		}
		if hi <= lo || hi-lo <= 0 {
			return nil, fmt.Errorf("end must be greater than start (and the range must fit in 64 bits)")
		}
		var r int64
		if len(args) == 3 {
			seed, err := argInt(args, 2)
			if err != nil {
				return nil, err
			}
			r = mrand.New(mrand.NewPCG(uint64(seed), 0)).Int64N(hi - lo)
		} else {
			n, err := rand.Int(rand.Reader, big.NewInt(hi-lo))
			if err != nil {
				return nil, err
			}
			r = n.Int64()
		}
		return intNumber(lo + r), nil
	case "States.MathAdd":
		a, err := argInt(args, 0)
		if err != nil {
			return nil, err
		}
		b, err := argInt(args, 1)
		if err != nil {
			return nil, err
		}
		return intNumber(a + b), nil
	case "States.StringSplit":
		s, err := argString(args, 0)
		if err != nil {
			return nil, err
		}
		delims, err := argString(args, 1)
		if err != nil {
			return nil, err
		}
		out := []any{}
		for _, f := range strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune(delims, r) }) {
			out = append(out, f)
		}
		return out, nil
	case "States.UUID":
		return newUUID(), nil
	}
	return nil, fmt.Errorf("unknown function")
}

// formatIntrinsic is States.Format: each unescaped {} in the template takes the next argument;
// \x is a plain x. Arguments render as AWS renders them, which is Java's toString of the value
// AWS holds: a string as is, null as null, a number as written, an object as a Java map and
// an array as a Java list (formatJava).
func formatIntrinsic(args []any) (any, error) {
	tmpl, err := argString(args, 0)
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	next := 1
	for i := 0; i < len(tmpl); {
		c := tmpl[i]
		switch {
		case c == '\\' && i+1 < len(tmpl):
			b.WriteByte(tmpl[i+1])
			i += 2
		case c == '{' && i+1 < len(tmpl) && tmpl[i+1] == '}':
			if next >= len(args) {
				return nil, fmt.Errorf("more placeholders than arguments")
			}
			formatJava(&b, args[next])
			next++
			i += 2
		default:
			_, size := utf8.DecodeRuneInString(tmpl[i:])
			b.WriteString(tmpl[i : i+size])
			i += size
		}
	}
	if next != len(args) {
		return nil, fmt.Errorf("the number of arguments does not match the placeholders")
	}
	return b.String(), nil
}

// formatJava writes v as Java's toString renders the map, list and scalars AWS deserialises
// JSON into: {"Arg1":1,"Arg2":[]} is {Arg1=1, Arg2=[]}, ["a",null] is [a, null], strings
// inside are unquoted. Recorded AWS behaviour (issue 9; moto renders JSON instead). Object
// keys come out sorted: the executor does not keep their input order.
func formatJava(b *strings.Builder, v any) {
	switch t := v.(type) {
	case nil:
		b.WriteString("null")
	case string:
		b.WriteString(t)
	case []any:
		b.WriteByte('[')
		for i, x := range t {
			if i > 0 {
				b.WriteString(", ")
			}
			formatJava(b, x)
		}
		b.WriteByte(']')
	case map[string]any:
		b.WriteByte('{')
		for i, k := range slices.Sorted(maps.Keys(t)) {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(k)
			b.WriteByte('=')
			formatJava(b, t[k])
		}
		b.WriteByte('}')
	default:
		b.WriteString(toJSON(t)) // numbers as written, true, false
	}
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

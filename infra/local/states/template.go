package states

import (
	"fmt"
	"strings"
)

// payloadTemplate is a compiled Parameters / ItemSelector / ResultSelector value: fields
// whose names end in ".$" take their value from a path or an intrinsic function.
type payloadTemplate struct {
	static  bool // no dynamic part anywhere: value is the result
	value   any
	fields  []templateField // object
	items   []*payloadTemplate
	isArray bool
}

type templateField struct {
	key  string // without ".$"
	src  string // the original value, for messages
	sub  *payloadTemplate
	path *jsonPath
	call *intrinsic
}

// compileTemplate compiles a payload template; bad paths or intrinsic calls are errors.
func compileTemplate(v any) (*payloadTemplate, error) {
	switch t := v.(type) {
	case map[string]any:
		pt := &payloadTemplate{value: t}
		dynamic := false
		for _, k := range sortedKeys(t) {
			val := t[k]
			if strings.HasSuffix(k, ".$") {
				dynamic = true
				s, ok := val.(string)
				if !ok {
					return nil, fmt.Errorf("the value of field %q must be a path or intrinsic function string", k)
				}
				f := templateField{key: strings.TrimSuffix(k, ".$"), src: s}
				switch {
				case strings.HasPrefix(s, "$"):
					p, err := parsePath(s)
					if err != nil {
						return nil, fmt.Errorf("field %q: %v", k, err)
					}
					f.path = p
				case strings.HasPrefix(s, "States."):
					c, err := parseIntrinsic(s)
					if err != nil {
						return nil, fmt.Errorf("field %q: %v", k, err)
					}
					f.call = c
				default:
					return nil, fmt.Errorf("the value of field %q must be a path or intrinsic function, got %q", k, s)
				}
				pt.fields = append(pt.fields, f)
				continue
			}
			sub, err := compileTemplate(val)
			if err != nil {
				return nil, err
			}
			if !sub.static {
				dynamic = true
			}
			pt.fields = append(pt.fields, templateField{key: k, sub: sub})
		}
		pt.static = !dynamic
		return pt, nil
	case []any:
		pt := &payloadTemplate{value: t, isArray: true, static: true}
		for _, x := range t {
			sub, err := compileTemplate(x)
			if err != nil {
				return nil, err
			}
			if !sub.static {
				pt.static = false
			}
			pt.items = append(pt.items, sub)
		}
		return pt, nil
	}
	return &payloadTemplate{static: true, value: v}, nil
}

// eval builds the payload from input and the (lazily built) context object. A path that
// selects nothing raises States.Runtime, as AWS does (the specification's
// States.ParameterPathFailure is not what the service reports); a failing intrinsic
// function raises States.IntrinsicFailure.
func (t *payloadTemplate) eval(input any, ctx func() any) (any, error) {
	if t == nil {
		return input, nil
	}
	if t.static {
		return t.value, nil
	}
	if t.isArray {
		out := make([]any, len(t.items))
		for i, it := range t.items {
			v, err := it.eval(input, ctx)
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	}
	out := make(map[string]any, len(t.fields))
	for _, f := range t.fields {
		switch {
		case f.sub != nil:
			v, err := f.sub.eval(input, ctx)
			if err != nil {
				return nil, err
			}
			out[f.key] = v
		case f.path != nil:
			root := input
			if f.path.context {
				root = ctx()
			}
			v, err := f.path.eval(root)
			if err != nil {
				return nil, newErr(errRuntime,
					"The JSONPath '%s' specified for the field '%s.$' could not be found in the input '%s'",
					f.src, f.key, toJSON(root))
			}
			out[f.key] = v
		case f.call != nil:
			v, err := f.call.eval(input, ctx)
			if err != nil {
				return nil, err
			}
			out[f.key] = v
		}
	}
	return out, nil
}

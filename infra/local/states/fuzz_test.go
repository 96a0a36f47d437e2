package states

import "testing"

// The parsers take user input (definitions from the API): they must never panic.

func FuzzParsePath(f *testing.F) {
	for _, s := range []string{"$", "$.a.b[0]", "$..x", "$.a[*].b", "$.a[?(@.n > 1)]", "$['k'][1:3]", "$$.Map.Item.Value", "$.a[0,2]", "$[-1:]", "$.a[::-1]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := parsePath(s)
		if err == nil {
			_, _ = p.eval(map[string]any{"a": []any{map[string]any{"n": intNumber(2), "b": "x"}, "y"}, "k": []any{intNumber(1)}})
			_, _ = setPath(map[string]any{"a": map[string]any{}}, p, "v")
		}
	})
}

func FuzzParseIntrinsic(f *testing.F) {
	for _, s := range []string{"States.Format('{} x', $.a)", "States.Array(1, 'a', $.b, States.UUID())", "States.ArrayRange(1, 5, 2)",
		"States.Hash($.a, 'MD5')", "States.StringSplit('a,b', ',')", "States.MathRandom(1, 10, 3)", `States.Format('\{\}')`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := parseIntrinsic(s)
		if err == nil {
			_, _ = c.eval(map[string]any{"a": "x", "b": []any{intNumber(1)}}, func() any { return map[string]any{} })
		}
	})
}

func FuzzParseDefinition(f *testing.F) {
	f.Add(bench20States)
	f.Add(callbackDef)
	f.Add(`{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Not":{"Variable":"$.a","IsPresent":true},"Next":"S"}],"Default":"S"},"S":{"Type":"Succeed"}}}`)
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = parseDefinition(s)
	})
}

func TestIntrinsicEdgeCases(t *testing.T) {
	for _, src := range []string{
		"States.MathRandom(-9223372036854775808, 9223372036854775807)",
		"States.ArrayPartition(States.Array(1, 2, 3), 9223372036854775807)",
		"States.ArrayRange(0, 9223372036854775807, 9223372036854775807)",
		"States.ArrayGetItem(States.Array(1), -1)",
		"States.Base64Decode('%%%')",
		"States.JsonMerge(States.StringToJson('{}'), States.StringToJson('{}'), true)",
	} {
		c, err := parseIntrinsic(src)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		_, _ = c.eval(nil, func() any { return nil }) // must not panic
	}
}

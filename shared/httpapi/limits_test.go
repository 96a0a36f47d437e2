package httpapi_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/httpapi"
)

type limited struct {
	Reason string            `json:"reason" maxLength:"5"`
	Free   string            `json:"free"`
	Tags   []string          `json:"tags" maxLength:"3" maxItems:"2"`
	Survey map[string]string `json:"survey" maxLength:"4"`
	Inner  *struct {
		Name string `json:"name" maxLength:"2"`
	} `json:"inner"`
}

func TestDecode_RefusesFieldsOverTheirLimits(t *testing.T) {
	tests := []struct {
		name, body string
		ok         bool
	}{
		{"within every limit", `{"reason":"abcde","free":"x","tags":["abc","d"],"survey":{"q":"abcd"},"inner":{"name":"ab"}}`, true},
		{"characters, not bytes", `{"reason":"五个汉字呀"}`, true},
		{"tagged string", `{"reason":"abcdef"}`, false},
		{"untagged string over the default", `{"free":"` + strings.Repeat("x", httpapi.DefaultMaxLength+1) + `"}`, false},
		{"a megabyte", `{"free":"` + strings.Repeat("x", 1<<20) + `"}`, false},
		{"too many items", `{"tags":["a","b","c"]}`, false},
		{"an item too long", `{"tags":["abcd"]}`, false},
		{"a map value too long", `{"survey":{"q":"abcde"}}`, false},
		{"a map key too long", `{"survey":{"` + strings.Repeat("k", httpapi.MaxKeyLength+1) + `":"a"}}`, false},
		{"too many map entries", `{"survey":{` + strings.TrimSuffix(strings.Repeat(`"k":"a",`, 1), ",") + manyKeys(httpapi.DefaultMaxItems+1) + `}}`, false},
		{"nested", `{"inner":{"name":"abc"}}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v limited
			err := httpapi.Decode(httpapi.Request{Body: tt.body}, &v)
			if tt.ok {
				assert.NoError(t, err)
				return
			}
			assert.ErrorIs(t, err, domain.ErrFieldTooLong)
			assert.Equal(t, domain.Invalid, domain.KindOf(err))
		})
	}
}

func manyKeys(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(`,"k` + strings.Repeat("x", i%50) + string(rune('a'+i%26)) + `":"a"`)
	}
	return b.String()
}

package httpapi

import (
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/facepay/platform/shared/domain"
)

// Request bodies are bounded field by field, as infra/openapi.yaml states (AWS's HTTP API
// does not validate bodies, so the handlers must): a string field is at most its
// `maxLength:"N"` tag long (characters, as JSON Schema counts), DefaultMaxLength without one;
// a map or slice holds at most its `maxItems:"N"` tag, DefaultMaxItems without one, and a
// map key is at most MaxKeyLength long. On a map or slice field, maxLength bounds its
// string elements. Decode refuses anything longer with ErrFieldTooLong (400
// field_too_long), before a handler changes anything.
const (
	DefaultMaxLength = 1000
	DefaultMaxItems  = 100
	MaxKeyLength     = 100
)

func checkLimits(v reflect.Value, path string, maxLen, maxItems int) error {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return checkLimits(v.Elem(), path, maxLen, maxItems)
	case reflect.String:
		if n := utf8.RuneCountInString(v.String()); n > maxLen {
			return domain.ErrFieldTooLong.Withf("%s is %d characters long; at most %d are allowed", path, n, maxLen)
		}
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return nil // []byte is not decoded from JSON bodies here
		}
		if v.Len() > maxItems {
			return domain.ErrFieldTooLong.Withf("%s has %d items; at most %d are allowed", path, v.Len(), maxItems)
		}
		for i := range v.Len() {
			if err := checkLimits(v.Index(i), path+"["+strconv.Itoa(i)+"]", maxLen, DefaultMaxItems); err != nil {
				return err
			}
		}
	case reflect.Map:
		if v.Len() > maxItems {
			return domain.ErrFieldTooLong.Withf("%s has %d entries; at most %d are allowed", path, v.Len(), maxItems)
		}
		for it := v.MapRange(); it.Next(); {
			k := it.Key().String()
			if n := utf8.RuneCountInString(k); n > MaxKeyLength {
				return domain.ErrFieldTooLong.Withf("a key of %s is %d characters long; at most %d are allowed", path, n, MaxKeyLength)
			}
			if err := checkLimits(it.Value(), path+"."+k, maxLen, DefaultMaxItems); err != nil {
				return err
			}
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" {
				continue
			}
			p := path
			if !f.Anonymous {
				if name == "" {
					name = f.Name
				}
				p = strings.TrimPrefix(path+"."+name, ".")
			}
			if err := checkLimits(v.Field(i), p, tagInt(f.Tag, "maxLength", DefaultMaxLength), tagInt(f.Tag, "maxItems", DefaultMaxItems)); err != nil {
				return err
			}
		}
	}
	return nil
}

func tagInt(tag reflect.StructTag, name string, def int) int {
	if n, err := strconv.Atoi(tag.Get(name)); err == nil {
		return n
	}
	return def
}

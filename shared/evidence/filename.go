package evidence

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/facepay/platform/shared/domain"
)

// MaxFileNameLength is the longest file name accepted, in bytes (common file systems' limit).
const MaxFileNameLength = 255

// FileName is an evidence file name in the bracket convention of DOMAIN.md section 3:
//
//	[<n><title>]-[<vendor name>][<model>][<mode>].<ext>
//
// where `[` and `]` are literal and the mode part is present only for per-mode files.
type FileName struct {
	Head   string `json:"head"`           // the first bracket's content: "2软件预检测结果"
	Number int    `json:"number"`         // the head's leading decimal number, 0 if none
	Title  string `json:"title"`          // the head after the number: "软件预检测结果"
	Vendor string `json:"vendor"`         // the vendor name
	Model  string `json:"model"`          // the model name
	Mode   string `json:"mode,omitempty"` // "SDK模式", "APP模式" or "" (as written; not validated)
	Ext    string `json:"ext"`            // with the dot, as written: ".xls"
}

// String formats the name back into the bracket convention.
func (f FileName) String() string {
	var b strings.Builder
	b.WriteString("[" + f.Head + "]-[" + f.Vendor + "][" + f.Model + "]")
	if f.Mode != "" {
		b.WriteString("[" + f.Mode + "]")
	}
	b.WriteString(f.Ext)
	return b.String()
}

// ParseFileName splits name into its bracket parts. Every part must be non-empty and free of
// brackets, path separators and control characters; the extension is a dot followed by
// ASCII letters and digits. It returns an Invalid error with code "bad_file_name" when name
// does not follow the pattern, is not UTF-8 or is longer than MaxFileNameLength bytes.
func ParseFileName(name string) (FileName, error) {
	bad := func(why string) (FileName, error) {
		return FileName{}, domain.Errorf(domain.Invalid, "bad_file_name",
			"%q does not follow the pattern [<n><title>]-[<vendor name>][<model>][<mode>].<ext>: %s",
			truncate(name, 100), why)
	}
	if len(name) > MaxFileNameLength {
		return bad("the name is too long")
	}
	if !utf8.ValidString(name) {
		return bad("the name is not valid UTF-8")
	}
	var parts []string
	rest := name
	for len(parts) < 4 && strings.HasPrefix(rest, "[") {
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return bad("a bracket is not closed")
		}
		part := rest[1:end]
		if part == "" || strings.ContainsAny(part, "[/\\") || strings.IndexFunc(part, unicode.IsControl) >= 0 {
			return bad("a bracket is empty or holds a forbidden character")
		}
		parts = append(parts, part)
		rest = rest[end+1:]
		if len(parts) == 1 {
			if !strings.HasPrefix(rest, "-") {
				return bad(`the first bracket must be followed by "-"`)
			}
			rest = rest[1:]
		}
	}
	if len(parts) < 3 {
		return bad("it needs a title, a vendor name and a model in brackets")
	}
	if len(rest) < 2 || rest[0] != '.' || strings.IndexFunc(rest[1:], notASCIIAlnum) >= 0 {
		return bad("the brackets must be followed by an extension such as .pdf")
	}
	f := FileName{Head: parts[0], Vendor: parts[1], Model: parts[2], Ext: rest}
	if len(parts) == 4 {
		f.Mode = parts[3]
	}
	digits := len(f.Head) - len(strings.TrimLeft(f.Head, "0123456789"))
	f.Title = f.Head[digits:]
	if digits > 0 && digits <= 4 {
		f.Number, _ = strconv.Atoi(f.Head[:digits])
	} else if digits > 4 {
		f.Title = f.Head
	}
	return f, nil
}

func notASCIIAlnum(r rune) bool {
	return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

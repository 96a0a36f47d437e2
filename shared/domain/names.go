package domain

import (
	"strings"
	"unicode"
)

// CheckFileNamePart refuses a name that cannot appear inside the programme's bracketed file
// names (`[1摄像头测试Checklist]-[<vendor name>][<model>].xls`): a bracket would end its field
// early, a slash or backslash would make it a path, and a control character cannot be typed
// into a file name. Vendors' company names and model names go through it when entered, so a
// name that no evidence file could ever match is refused at once, not at the first upload.
// It returns an Invalid error with the caller's code naming what is wrong.
func CheckFileNamePart(code, what, name string) error {
	if i := strings.IndexAny(name, "[]/\\"); i >= 0 {
		return Errorf(Invalid, code, "%s must not contain %q: it goes inside the bracketed evidence file names", what, name[i:i+1])
	}
	if strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return Errorf(Invalid, code, "%s must not contain control characters (tabs, line breaks, ...)", what)
	}
	return nil
}

// NameKey is the form in which two model names of a vendor are compared: names that differ
// only in letter case ("K1", "k1") are the same name.
func NameKey(name string) string { return strings.ToLower(strings.TrimSpace(name)) }

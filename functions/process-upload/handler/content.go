package handler

import (
	"bytes"
	"fmt"
	"path"
	"strings"
)

// checkContent returns why data is not what fileName claims, "" when it is.
func checkContent(fileName string, data []byte) string {
	ext := strings.ToLower(path.Ext(fileName))
	ok := false
	switch ext {
	case ".pdf":
		ok = bytes.HasPrefix(data, []byte("%PDF-"))
	case ".png":
		ok = bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n"))
	case ".jpg", ".jpeg":
		ok = bytes.HasPrefix(data, []byte("\xff\xd8\xff"))
	case ".pptx":
		ok = bytes.HasPrefix(data, []byte("PK\x03\x04"))
	case ".ppt":
		ok = bytes.HasPrefix(data, []byte("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"))
	}
	if !ok {
		return fmt.Sprintf("the file named %s is not a %s file", fileName, strings.ToUpper(strings.TrimPrefix(ext, ".")))
	}
	return ""
}

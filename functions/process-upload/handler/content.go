package handler

import (
	"bytes"
	"fmt"
	"path"
	"strings"

	"github.com/facepay/platform/shared/evidence"
)

// attachmentFormats says, per extension an application attachment may have, how the bytes
// must look to evidence.Sniff (the one sniffer): a format, or the description it gives the
// images it does not treat as evidence formats.
var attachmentFormats = map[string]func(evidence.Detected) bool{
	".pdf":  func(d evidence.Detected) bool { return d.Format == evidence.FormatPDF },
	".ppt":  func(d evidence.Detected) bool { return d.Format == evidence.FormatPPT },
	".pptx": func(d evidence.Detected) bool { return d.Format == evidence.FormatPPTX },
	".png":  func(d evidence.Detected) bool { return d.Description == "PNG image" },
	".jpg":  func(d evidence.Detected) bool { return d.Description == "JPEG image" },
	".jpeg": func(d evidence.Detected) bool { return d.Description == "JPEG image" },
	".mp4":  func(d evidence.Detected) bool { return d.Format == evidence.FormatMP4 }, // Pay Score recordings
}

// checkContent returns why data is not what fileName claims, "" when it is.
func checkContent(fileName string, data []byte) string {
	ext := strings.ToLower(path.Ext(fileName))
	d, err := evidence.Sniff(bytes.NewReader(data), int64(len(data)))
	if ok := attachmentFormats[ext]; err == nil && ok != nil && ok(d) {
		return ""
	}
	looks := d.Description
	if looks == "" {
		looks = "unknown"
	}
	return fmt.Sprintf("the file named %s is not a %s file (looks like: %s)", fileName, strings.ToUpper(strings.TrimPrefix(ext, ".")), looks)
}

package handler

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/facepay/platform/shared/evidence/evidencetest"
)

// Application attachments are checked by the one sniffer, evidence.Sniff.
func TestCheckContent(t *testing.T) {
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
	jpeg := []byte("\xff\xd8\xff\xe0\x00\x10JFIF")
	tests := []struct {
		name string
		data []byte
		ok   bool
	}{
		{"deck.pdf", evidencetest.PDF(), true},
		{"deck.PPTX", evidencetest.PPTX(), true},
		{"deck.ppt", evidencetest.PPT(), true},
		{"licence.png", png, true},
		{"licence.jpg", jpeg, true},
		{"licence.jpeg", jpeg, true},
		{"deck.pdf", evidencetest.EXE(), false},
		{"deck.pdf", []byte("%PDF-1.4 truncated"), false},
		{"deck.pptx", evidencetest.XLSX(map[string][][]string{"a": {{"x"}}}), false},
		{"deck.ppt", evidencetest.XLS(), false},
		{"licence.png", jpeg, false},
		{"notes.txt", []byte("hello"), false},
	}
	for _, tt := range tests {
		reason := checkContent(tt.name, tt.data)
		if tt.ok {
			assert.Empty(t, reason, tt.name)
		} else {
			assert.NotEmpty(t, reason, tt.name)
		}
	}
	assert.Contains(t, checkContent("deck.pdf", evidencetest.EXE()), "windows executable")
}

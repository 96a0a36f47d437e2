package csvsafe_test

import (
	"bytes"
	"encoding/csv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/shared/csvsafe"
)

func TestCell(t *testing.T) {
	for in, want := range map[string]string{
		"":                           "",
		"01A0020260000017KQ2M9XB":    "01A0020260000017KQ2M9XB",
		`=HYPERLINK("http://x","y")`: `'=HYPERLINK("http://x","y")`,
		"+1+cmd|' /C calc'!A0":       "'+1+cmd|' /C calc'!A0",
		"-2+3":                       "'-2+3",
		"@SUM(A1:A2)":                "'@SUM(A1:A2)",
		"\t=1":                       "'\t=1",
		"\r=1":                       "'\r=1",
		"＝1+1":                       "'＝1+1",
		"-12":                        "-12",
		"+3.50":                      "+3.50",
		"63.00":                      "63.00",
		"a=b":                        "a=b",
		"camera SN empty":            "camera SN empty",
	} {
		assert.Equal(t, want, csvsafe.Cell(in), "%q", in)
	}
}

func TestWriterLeavesTheRecordAlone(t *testing.T) {
	var buf bytes.Buffer
	w := csvsafe.NewWriter(&buf)
	rec := []string{"12", "=1+1", "ok"}
	require.NoError(t, w.Write(rec))
	w.Flush()
	require.NoError(t, w.Error())
	assert.Equal(t, []string{"12", "=1+1", "ok"}, rec, "the caller's slice is not changed")
	rows, err := csv.NewReader(&buf).ReadAll()
	require.NoError(t, err)
	assert.Equal(t, [][]string{{"12", "'=1+1", "ok"}}, rows)
}

// WriteAll (the fee statement's path) guards every cell as Write does.
func TestWriteAllGuardsEveryRecord(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, csvsafe.NewWriter(&buf).WriteAll([][]string{{"sn", "reason"}, {"0A1", "=cmd|' /C calc'!A0"}}))
	rows, err := csv.NewReader(&buf).ReadAll()
	require.NoError(t, err)
	assert.Equal(t, [][]string{{"sn", "reason"}, {"0A1", "'=cmd|' /C calc'!A0"}}, rows)
}

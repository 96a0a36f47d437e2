package prescreen_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/evidence"
	"github.com/facepay/platform/shared/evidence/evidencetest"
	"github.com/facepay/platform/shared/evidence/prescreen"
)

// Seed corpora live in testdata/fuzz/<FuzzName>/ and are regenerated from the fixtures with
//
//	PRESCREEN_WRITE_CORPUS=1 go test ./shared/evidence/prescreen -run TestWriteFuzzCorpus
//
// Run a target with e.g. go test ./shared/evidence/prescreen -run '^$' -fuzz FuzzXLS -fuzztime 60s.

func xlsSeeds() map[string][]byte {
	out := map[string][]byte{}
	for _, name := range []string{"hardware-all-pass", "hardware-some-blank", "hardware-missing-sheet", "software-results"} {
		out[name] = evidencetest.XLSFixture(name)
	}
	all := evidencetest.XLS()
	out["cut"] = all[:len(all)/2]
	out["ppt"] = evidencetest.PPT()
	return out
}

func xlsxSeeds() map[string][]byte {
	return map[string][]byte{
		"hardware":        evidencetest.HardwareWorkbook(domain.StandardUnattendedVending),
		"software":        evidencetest.SoftwareWorkbook(evidencetest.SetResult(evidencetest.SoftwareSheet, 1, "x")),
		"missing-sheet":   evidencetest.HardwareWorkbook(domain.StandardUnattendedVending, evidencetest.DropSheet(domain.CategoryPerformance.SheetName())),
		"damaged-content": evidencetest.Zip(map[string][]byte{"[Content_Types].xml": []byte("<"), "xl/workbook.xml": []byte("<")}),
	}
}

func TestWriteFuzzCorpus(t *testing.T) {
	if os.Getenv("PRESCREEN_WRITE_CORPUS") == "" {
		t.Skip("set PRESCREEN_WRITE_CORPUS=1 to rewrite testdata/fuzz seeds")
	}
	for fuzz, seeds := range map[string]map[string][]byte{"FuzzXLS": xlsSeeds(), "FuzzXLSX": xlsxSeeds()} {
		dir := filepath.Join("testdata", "fuzz", fuzz)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, b := range seeds {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// FuzzXLS feeds hostile bytes to the .xls path (mscfb, the BIFF walk, xlsReader): it must
// answer with findings, never panic or fail.
func FuzzXLS(f *testing.F) {
	for _, b := range xlsSeeds() {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkScreen(t, data, evidence.FormatXLS) })
}

// FuzzXLSX does the same for the .xlsx path (central directory checks, excelize).
func FuzzXLSX(f *testing.F) {
	for _, b := range xlsxSeeds() {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkScreen(t, data, evidence.FormatXLSX) })
}

var knownCodes = []string{evidence.FindingUnreadableWorkbook, evidence.FindingMissingSheet, evidence.FindingNoMarkedEntry,
	evidence.FindingTooManyRows, evidence.FindingTooLarge, evidence.FindingTooManyFindings, evidence.FlagNoPass, evidence.FlagStrayValue}

func checkScreen(t *testing.T, data []byte, format evidence.Format) {
	t.Helper()
	for _, screen := range []func() (evidence.Prescreen, error){
		func() (evidence.Prescreen, error) {
			return prescreen.Hardware(bytes.NewReader(data), format, domain.StandardDesktopCashier)
		},
		func() (evidence.Prescreen, error) { return prescreen.Software(bytes.NewReader(data), format) },
	} {
		p, err := screen()
		if err != nil {
			t.Fatalf("in-memory pre-screening failed: %v", err)
		}
		if p.Passed != (len(p.Findings) == 0) {
			t.Fatalf("passed %v with findings %+v", p.Passed, p.Findings)
		}
		for _, f := range append(p.Findings, p.Flags...) {
			if !slices.Contains(knownCodes, f.Code) || f.Message == "" {
				t.Fatalf("finding %+v", f)
			}
		}
	}
}

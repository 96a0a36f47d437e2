package domain

import (
	"testing"
	"time"
)

// An export is kept ExportKeptFor after it was made; one still queued, running or failed never
// expires (there is no file).
func TestExportExpiresAWeekAfterItWasMade(t *testing.T) {
	t0 := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	e, err := NewInventoryExport("exp_1", Caller{Subject: "alice", Org: "v", Role: RoleVendor}, ExportFilter{}, t0)
	if err != nil {
		t.Fatal(err)
	}
	if e.Expired(t0.Add(30 * 24 * time.Hour)) {
		t.Error("a queued export has no file to expire")
	}
	e.Start(t0)
	e.Finish(10, ExportKey("v", "exp_1"), "v1", t0.Add(time.Minute))
	for _, c := range []struct {
		at   time.Time
		want bool
	}{
		{t0.Add(time.Minute), false},
		{t0.Add(time.Minute + ExportKeptFor - time.Second), false},
		{t0.Add(time.Minute + ExportKeptFor), true},
	} {
		if got := e.Expired(c.at); got != c.want {
			t.Errorf("Expired(%s) = %v, want %v", c.at, got, c.want)
		}
	}
	f, _ := NewInventoryExport("exp_2", Caller{Subject: "alice", Org: "v", Role: RoleVendor}, ExportFilter{}, t0)
	f.Fail("model withdrawn", t0)
	if f.Expired(t0.Add(30 * 24 * time.Hour)) {
		t.Error("a failed export has no file to expire")
	}
}

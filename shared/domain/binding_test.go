package domain

import (
	"testing"
	"time"
)

// A change computed with a time read before the binding's last change (a retried lost race)
// is dated at that change, so the history stays in order and intervals never overlap.
func TestBindingHistoryNeverGoesBackInTime(t *testing.T) {
	t0 := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	b, _, err := Assign(nil, "SN1", "org", "DP00000001", false, "v", t0)
	if err != nil {
		t.Fatal(err)
	}
	b, _, err = Confirm(b, "DP00000001", "p", t0.Add(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	late := t0.Add(time.Second) // read before the confirmation committed
	next, ch, err := Assign(b, "SN1", "org", "DP00000002", true, "v", late)
	if err != nil {
		t.Fatal(err)
	}
	if !ch.At.Equal(t0.Add(2*time.Second)) || !next.Since.Equal(ch.At) {
		t.Fatalf("change dated %s (since %s), want the confirmation's time %s", ch.At, next.Since, t0.Add(2*time.Second))
	}
	iv := ConfirmationIntervals(next.History)
	for k := 1; k < len(iv); k++ {
		if iv[k-1].To == nil || iv[k-1].To.After(iv[k].From) {
			t.Fatalf("intervals overlap: %+v", iv)
		}
	}
}

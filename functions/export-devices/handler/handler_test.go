package handler

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/store"
)

var now = time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)

type fakeStore struct {
	export   *domain.InventoryExport
	saves    int
	pages    []store.Page[domain.InventoryEntry]
	pageErr  error
	resolved error
}

func (f *fakeStore) Export(context.Context, string) (*domain.InventoryExport, error) {
	cp := *f.export
	return &cp, nil
}

func (f *fakeStore) SaveExport(_ context.Context, e *domain.InventoryExport) error {
	if e.Version != f.export.Version {
		return domain.ErrConflict
	}
	f.saves++
	e.Version++
	cp := *e
	f.export = &cp
	return nil
}

func (f *fakeStore) ResolveInventory(context.Context, *store.InventoryQuery) error { return f.resolved }

func (f *fakeStore) Inventory(_ context.Context, q store.InventoryQuery) (store.Page[domain.InventoryEntry], error) {
	if f.pageErr != nil {
		return store.Page[domain.InventoryEntry]{}, f.pageErr
	}
	i := 0
	if q.Cursor != "" {
		i = 1
	}
	return f.pages[i], nil
}

type fakeSink struct {
	bytes.Buffer
	closed, aborted bool
}

func (s *fakeSink) Close() (string, error) { s.closed = true; return "v1", nil }
func (s *fakeSink) Abort()                 { s.aborted = true }

type fakeObjects struct{ sink *fakeSink }

func (o *fakeObjects) NewSink(context.Context, string, string) sink { return o.sink }

func newTest(e *domain.InventoryExport) (*handler, *fakeStore, *fakeSink) {
	f := &fakeStore{export: e, pages: []store.Page[domain.InventoryEntry]{
		{Items: []domain.InventoryEntry{{SN: "A", ModelID: "m", Status: "passed"}}, Next: "c"},
		{Items: []domain.InventoryEntry{{SN: "B", ModelID: "m", Status: "active", TestDevice: true}}}}}
	s := &fakeSink{}
	return &handler{db: f, objects: &fakeObjects{sink: s}, now: func() time.Time { return now }}, f, s
}

func queued() *domain.InventoryExport {
	return &domain.InventoryExport{ID: "exp_1", Org: "acme", Status: domain.ExportQueued, RequestedAt: now, Version: 1}
}

func TestExport_WritesEveryPageAndFinishes(t *testing.T) {
	h, f, s := newTest(queued())
	_, err := h.handle(context.Background(), Event{ExportID: "exp_1"})
	require.NoError(t, err)
	assert.Equal(t, domain.ExportDone, f.export.Status)
	assert.Equal(t, 2, f.export.Rows)
	assert.Equal(t, "v1", f.export.VersionID)
	assert.Equal(t, "device-exports/acme/exp_1.csv", f.export.Key)
	assert.True(t, s.closed)
	assert.Contains(t, s.String(), "B,m,active,,,,false,false,,,true,\n")

	// Redelivered: nothing more is written.
	saves := f.saves
	s.Reset()
	_, err = h.handle(context.Background(), Event{ExportID: "exp_1"})
	require.NoError(t, err)
	assert.Equal(t, saves, f.saves)
	assert.Zero(t, s.Len())
}

func TestExport_HeldLeaseIsLeftAlone(t *testing.T) {
	e := queued()
	require.True(t, e.Start(now.Add(-time.Minute)))
	h, f, s := newTest(e)
	_, err := h.handle(context.Background(), Event{ExportID: "exp_1"})
	require.NoError(t, err)
	assert.Zero(t, f.saves, "another run holds the lease")
	assert.Zero(t, s.Len())

	h.now = func() time.Time { return now.Add(domain.ExportLease) } // the lease ran out: a crashed run is taken over
	_, err = h.handle(context.Background(), Event{ExportID: "exp_1"})
	require.NoError(t, err)
	assert.Equal(t, domain.ExportDone, f.export.Status)
	assert.Equal(t, 2, f.export.Attempt)
}

func TestExport_PlatformFailureRequeuesForTheRetry(t *testing.T) {
	h, f, s := newTest(queued())
	f.pageErr = errors.New("throttled")
	_, err := h.handle(context.Background(), Event{ExportID: "exp_1"})
	require.Error(t, err, "Lambda retries")
	assert.True(t, s.aborted)
	assert.Equal(t, domain.ExportQueued, f.export.Status, "the retry may take it at once")

	f.pageErr = nil
	_, err = h.handle(context.Background(), Event{ExportID: "exp_1"})
	require.NoError(t, err)
	assert.Equal(t, domain.ExportDone, f.export.Status)
}

func TestExport_FiltersThatNoLongerHoldFailIt(t *testing.T) {
	h, f, _ := newTest(queued())
	f.resolved = domain.Errorf(domain.NotFound, "model_not_found", "model m does not exist")
	_, err := h.handle(context.Background(), Event{ExportID: "exp_1"})
	require.NoError(t, err, "nothing a retry would change")
	assert.Equal(t, domain.ExportFailed, f.export.Status)
	assert.Equal(t, "model m does not exist", f.export.Error)
}

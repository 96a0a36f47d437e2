package domain

import (
	"time"
)

// Inventory exports (issue 12: large exports run asynchronously to a CSV object in S3 with a
// presigned download link). A vendor asks for its inventory with the listing's filters; a
// worker pages the inventory and streams the CSV to S3; the vendor polls the export and, once
// it is done, downloads the file through a short-lived link.

// ExportStatus is where an export stands.
type ExportStatus string

// Export statuses.
const (
	ExportQueued  ExportStatus = "queued"
	ExportRunning ExportStatus = "running"
	ExportDone    ExportStatus = "done"
	ExportFailed  ExportStatus = "failed"
	// ExportExpired is how a done export reads once its file is past ExportKeptFor.
	ExportExpired ExportStatus = "expired"
)

// ExportKeptFor is how long an export's file is kept after it was made: an export is a
// snapshot to download, not an archive. The artifacts bucket's lifecycle rule
// ExpireDeviceExports (template.yaml) deletes device-exports/ objects after 7 days, counted
// by S3 from the object's creation and rounded up to the next midnight, so never before this;
// from then on the export reads expired, without a link.
const ExportKeptFor = 7 * 24 * time.Hour

// ExportLease is how long a worker holds a running export before another delivery of its
// event may take it over: longer than the worker's timeout (template.yaml, 900 s), so two runs
// never write at once, short enough that a crashed run is retried the same hour.
const ExportLease = 16 * time.Minute

// ExportFilter is what an export lists: the filters of GET /devices.
type ExportFilter struct {
	ModelID  string `json:"modelId,omitempty" maxLength:"100"`
	Status   string `json:"status,omitempty" maxLength:"20"`
	Provider string `json:"provider,omitempty" maxLength:"20"`
}

// InventoryExport is one export of a vendor's inventory.
type InventoryExport struct {
	ID          string       `json:"id"`
	Org         string       `json:"org"`
	Filter      ExportFilter `json:"filter"`
	Status      ExportStatus `json:"status"`
	RequestedBy string       `json:"requestedBy"`
	RequestedAt time.Time    `json:"requestedAt"`
	StartedAt   *time.Time   `json:"startedAt,omitempty"`
	FinishedAt  *time.Time   `json:"finishedAt,omitempty"`
	Rows        int          `json:"rows"`
	Error       string       `json:"error,omitempty"`
	// Attempt counts the runs that took the export; LeaseUntil is when the running one's lease
	// ends. Key and VersionID name the CSV object once done.
	Attempt    int        `json:"attempt"`
	LeaseUntil *time.Time `json:"leaseUntil,omitempty"`
	Key        string     `json:"key,omitempty"`
	VersionID  string     `json:"versionId,omitempty"`
	Version    int        `json:"-"`
}

// NewInventoryExport is vendor c's export of f, queued.
func NewInventoryExport(id string, c Caller, f ExportFilter, now time.Time) (*InventoryExport, error) {
	if err := c.Require(RoleVendor); err != nil {
		return nil, err
	}
	return &InventoryExport{ID: id, Org: c.Org, Filter: f, Status: ExportQueued, RequestedBy: c.Subject, RequestedAt: now}, nil
}

// Start takes the export for a run at now. It reports false when there is nothing to do: the
// export is done or failed (a redelivered event), or another run holds its lease.
func (e *InventoryExport) Start(now time.Time) bool {
	switch e.Status {
	case ExportDone, ExportFailed:
		return false
	case ExportRunning:
		if e.LeaseUntil != nil && now.Before(*e.LeaseUntil) {
			return false
		}
	}
	until := now.Add(ExportLease)
	at := now
	e.Status, e.StartedAt, e.LeaseUntil, e.Rows = ExportRunning, &at, &until, 0
	e.Attempt++
	return true
}

// Finish records the run's CSV: rows devices at key (version versionID).
func (e *InventoryExport) Finish(rows int, key, versionID string, now time.Time) {
	at := now
	e.Status, e.Rows, e.Key, e.VersionID, e.FinishedAt, e.LeaseUntil = ExportDone, rows, key, versionID, &at, nil
}

// Expired reports whether e's file is past ExportKeptFor at now.
func (e *InventoryExport) Expired(now time.Time) bool {
	return e.Status == ExportDone && e.FinishedAt != nil && now.Sub(*e.FinishedAt) >= ExportKeptFor
}

// Fail records why the export cannot be made (a filter that no longer holds: the model is
// gone, a cursor...); the vendor asks again.
func (e *InventoryExport) Fail(reason string, now time.Time) {
	at := now
	e.Status, e.Error, e.FinishedAt, e.LeaseUntil = ExportFailed, reason, &at, nil
}

// ExportKey is the S3 key of export id's CSV: the owner and the export in the key.
func ExportKey(org, id string) string { return "device-exports/" + org + "/" + id + ".csv" }

// ValidateInventoryFilter checks an inventory listing's (or export's) filters: status one of
// passed, failed, special, reregistered, conflict, test; provider "" or a provider number, and
// then no "test" status (test devices are never bound). Invalid: invalid_status,
// invalid_provider_number.
func ValidateInventoryFilter(status, provider string) error {
	switch DeviceStatus(status) {
	case "", DevicePassed, DeviceFailed, DeviceSpecial, DeviceReregistered, "conflict", "test":
	default:
		return Errorf(Invalid, "invalid_status", "status %q is not one of passed, failed, special, reregistered, conflict, test", status)
	}
	if provider == "" {
		return nil
	}
	if err := ValidateProviderNumber(provider); err != nil {
		return err
	}
	if status == "test" {
		return Errorf(Invalid, "invalid_status", "test devices have no deployment provider; list them by model")
	}
	return nil
}

// Package handler serves device binding (DOMAIN.md section 6). Vendors: fill in a device's
// deployment provider by the provider's number, one device or up to 500 at once, or upload a
// CSV of up to 100,000 rows applied asynchronously by import-bindings; unbind; read a device's
// binding, history and confirmation intervals. Deployment providers: their number, the
// devices assigned to them (waiting or confirmed), confirm or decline in bulk. A provider sees
// only devices assigned to it; every other SN answers binding_not_found.
//
// Every change is naturally idempotent: the same assignment, confirmation, declining or
// unbinding again answers "unchanged" and writes nothing, so clients retry freely.
package handler

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/facepay/platform/shared/awsx"
	"github.com/facepay/platform/shared/binding"
	"github.com/facepay/platform/shared/blob"
	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/httpapi"
	"github.com/facepay/platform/shared/ids"
	"github.com/facepay/platform/shared/lambdafn"
	"github.com/facepay/platform/shared/store"
)

type bindingStore interface {
	Device(ctx context.Context, sn string) (*domain.Device, error)
	Binding(ctx context.Context, sn string) (*domain.Binding, error)
	BindingHistory(ctx context.Context, sn string) ([]domain.Change, error)
	Deployer(ctx context.Context, org string) (domain.Deployer, error)
	ProviderBindings(ctx context.Context, provider string, state domain.BindingState, cursor string, limit int) (store.Page[domain.Binding], error)
	SaveBindingImport(ctx context.Context, im *domain.BindingImport) error
	BindingImport(ctx context.Context, id string) (*domain.BindingImport, error)
}

var _ bindingStore = (*store.DB)(nil)

type files interface {
	PresignUpload(ctx context.Context, key, contentType, sha256Hex string, now time.Time) (blob.Upload, error)
	PresignDownload(ctx context.Context, key, versionID, fileName string, now time.Time) (blob.Download, error)
}

type handler struct {
	db      bindingStore
	figures figureStore
	binder  *binding.Binder
	files   files
	now     func() time.Time
}

// New builds the function from its environment (TABLE_NAME, BUCKET_NAME, CURSOR_KEY,
// FIGURES_TABLE).
func New(ctx context.Context, d lambdafn.Deps) (func(context.Context, httpapi.Request) (httpapi.Response, error), error) {
	env, err := d.Require("TABLE_NAME", "BUCKET_NAME", "CURSOR_KEY", "FIGURES_TABLE")
	if err != nil {
		return nil, err
	}
	c, err := awsx.LoadSettings(d.Getenv)
	if err != nil {
		return nil, err
	}
	client := store.NewClient(c)
	db := store.New(client, env["TABLE_NAME"], store.WithCursorKey(env["CURSOR_KEY"]))
	h := &handler{db: db, figures: store.NewFigures(client, env["FIGURES_TABLE"]).WithCursorKey(env["CURSOR_KEY"]), binder: &binding.Binder{DB: db, Now: d.Now}, files: blob.New(blob.NewClient(c), env["BUCKET_NAME"]), now: d.Now}
	return h.router().Handle, nil
}

func (h *handler) router() httpapi.Router {
	return httpapi.Router{
		"PUT /devices/{sn}/binding":          h.assignOne,
		"DELETE /devices/{sn}/binding":       h.unbindOne,
		"GET /devices/{sn}/binding":          h.deviceBinding,
		"POST /bindings":                     h.assignMany,
		"POST /bindings/unbind":              h.unbindMany,
		"POST /binding-imports":              h.startImport,
		"GET /binding-imports/{id}":          h.importStatus,
		"GET /deployer":                      h.deployer,
		"GET /deployer/devices":              h.providerDevices,
		"GET /deployer/devices/{sn}":         h.providerDevice,
		"POST /deployer/devices/confirm":     h.confirm,
		"POST /deployer/devices/decline":     h.decline,
		"GET /deployer/devices/{sn}/figures": h.providerDeviceFigures,
		"GET /deployer/figures":              h.providerFigures,
		"GET /deployer/device-figures":       h.providerDevicesFigures,
		"GET /deployer/totals":               h.providerTotals,
	}
}

// outcomes is a bulk answer: one result per item, in order, and the totals.
type outcomes struct {
	Results   []domain.BindingOutcome `json:"results"`
	Changed   int                     `json:"changed"`
	Unchanged int                     `json:"unchanged"`
	Errors    int                     `json:"errors"`
}

func summarise(outs []domain.BindingOutcome) outcomes {
	var im domain.BindingImport
	im.Count(outs)
	return outcomes{Results: outs, Changed: im.Changed, Unchanged: im.Unchanged, Errors: im.Errors}
}

// single answers a one-device change: the binding as it stands, or the row's error itself.
func single(outs []domain.BindingOutcome) (httpapi.Response, error) {
	o := outs[0]
	if o.Err != nil {
		return httpapi.Response{}, o.Err
	}
	return httpapi.JSON(http.StatusOK, o), nil
}

func tooMany(n int) error {
	if n == 0 || n > domain.MaxBindingBatch {
		return domain.Errorf(domain.Invalid, "batch_size", "a request carries 1 to %d devices (%d sent); upload a CSV import for more", domain.MaxBindingBatch, n)
	}
	return nil
}

type assignOne struct {
	Provider string `json:"provider" maxLength:"10"`
	Reassign bool   `json:"reassign,omitempty"`
}

// assignOne: PUT /devices/{sn}/binding — the vendor fills in (or, with reassign, changes) one
// device's provider.
func (h *handler) assignOne(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	if err := c.Require(domain.RoleVendor); err != nil {
		return httpapi.Response{}, err
	}
	var in assignOne
	if err := httpapi.Decode(req, &in); err != nil {
		return httpapi.Response{}, err
	}
	outs, err := h.binder.Assign(ctx, c, []binding.Assignment{{SN: req.PathParameters["sn"], Provider: in.Provider, Reassign: in.Reassign}})
	if err != nil {
		return httpapi.Response{}, err
	}
	return single(outs)
}

// unbindOne: DELETE /devices/{sn}/binding — the vendor removes the device's provider.
func (h *handler) unbindOne(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	if err := c.Require(domain.RoleVendor); err != nil {
		return httpapi.Response{}, err
	}
	outs, err := h.binder.Unbind(ctx, c, []string{req.PathParameters["sn"]})
	if err != nil {
		return httpapi.Response{}, err
	}
	return single(outs)
}

type assignMany struct {
	Items []binding.Assignment `json:"items" maxItems:"500"`
}

// assignMany: POST /bindings — up to 500 assignments, one result each.
func (h *handler) assignMany(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	if err := c.Require(domain.RoleVendor); err != nil {
		return httpapi.Response{}, err
	}
	var in assignMany
	if err := httpapi.Decode(req, &in); err != nil {
		return httpapi.Response{}, err
	}
	if err := tooMany(len(in.Items)); err != nil {
		return httpapi.Response{}, err
	}
	outs, err := h.binder.Assign(ctx, c, in.Items)
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusOK, summarise(outs)), nil
}

type snList struct {
	SNs    []string `json:"sns" maxItems:"500" maxLength:"23"`
	Reason string   `json:"reason,omitempty" maxLength:"500"`
}

func decodeSNs(req httpapi.Request) (snList, error) {
	var in snList
	if err := httpapi.Decode(req, &in); err != nil {
		return in, err
	}
	return in, tooMany(len(in.SNs))
}

// unbindMany: POST /bindings/unbind — the vendor removes the providers of up to 500 devices.
func (h *handler) unbindMany(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	if err := c.Require(domain.RoleVendor); err != nil {
		return httpapi.Response{}, err
	}
	in, err := decodeSNs(req)
	if err != nil {
		return httpapi.Response{}, err
	}
	outs, err := h.binder.Unbind(ctx, c, in.SNs)
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusOK, summarise(outs)), nil
}

// deviceView is a device's binding as its vendor (or a reviewer) reads it.
type deviceView struct {
	SN        string            `json:"sn"`
	Binding   *domain.Binding   `json:"binding"`
	History   []domain.Change   `json:"history"`
	Intervals []domain.Interval `json:"intervals"`
}

// deviceBinding: GET /devices/{sn}/binding — the binding, its history and the confirmation
// intervals. Another vendor's device is device_not_found.
func (h *handler) deviceBinding(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	if err := c.Require(domain.RoleVendor, domain.RoleReviewer); err != nil {
		return httpapi.Response{}, err
	}
	sn := req.PathParameters["sn"]
	d, err := h.db.Device(ctx, sn)
	if err != nil {
		return httpapi.Response{}, err
	}
	if c.Role != domain.RoleReviewer && !c.Owns(d.VendorOrg) {
		return httpapi.Response{}, domain.Errorf(domain.NotFound, "device_not_found", "device %s does not exist", sn)
	}
	v := deviceView{SN: sn, History: []domain.Change{}, Intervals: []domain.Interval{}}
	switch b, err := h.db.Binding(ctx, sn); {
	case err == nil:
		v.Binding = b
	case domain.KindOf(err) != domain.NotFound:
		return httpapi.Response{}, err
	}
	h2, err := h.db.BindingHistory(ctx, sn)
	if err != nil {
		return httpapi.Response{}, err
	}
	if len(h2) > 0 {
		v.History = h2
		if iv := domain.ConfirmationIntervals(h2); len(iv) > 0 {
			v.Intervals = iv
		}
	}
	return httpapi.JSON(http.StatusOK, v), nil
}

type importRequest struct {
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256" maxLength:"64"`
}

// startImport: POST /binding-imports — the vendor declares a CSV (size, SHA-256) and gets a
// presigned upload; import-bindings applies it when it arrives.
func (h *handler) startImport(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	if err := c.Require(domain.RoleVendor); err != nil {
		return httpapi.Response{}, err
	}
	var in importRequest
	if err := httpapi.Decode(req, &in); err != nil {
		return httpapi.Response{}, err
	}
	idem, err := httpapi.IdempotencyOf(req, c, "startBindingImport", in)
	if err != nil {
		return httpapi.Response{}, err
	}
	// With an Idempotency-Key the import's id is derived from it: a retry finds the same
	// import (and gets a fresh upload URL for it); without one every request is a new import.
	id := ids.New("imp")
	if idem.Key != "" {
		id = ids.Derived("imp", idem.Scope)
		switch prev, err := h.db.BindingImport(ctx, id); {
		case err == nil && (prev.Size != in.Size || prev.SHA256 != in.SHA256):
			return httpapi.Response{}, domain.ErrIdempotencyKeyReused
		case err == nil:
			return h.withUpload(ctx, prev, http.StatusOK)
		case domain.KindOf(err) != domain.NotFound:
			return httpapi.Response{}, err
		}
	}
	im, err := domain.NewBindingImport(id, c, in.Size, in.SHA256, h.now())
	if err != nil {
		return httpapi.Response{}, err
	}
	if _, err := h.files.PresignUpload(ctx, binding.ImportKey(c.Org, im.ID), "text/csv", in.SHA256, h.now()); err != nil {
		return httpapi.Response{}, err // a bad checksum is refused before anything is stored
	}
	if err := h.db.SaveBindingImport(ctx, im); errors.Is(err, domain.ErrConflict) && idem.Key != "" {
		// An identical request made it first: answer what it made.
		prev, err := h.db.BindingImport(ctx, id)
		if err != nil {
			return httpapi.Response{}, err
		}
		return h.withUpload(ctx, prev, http.StatusOK)
	} else if err != nil {
		return httpapi.Response{}, err
	}
	return h.withUpload(ctx, im, http.StatusCreated)
}

// withUpload answers the import with its presigned upload (while it waits for the file).
func (h *handler) withUpload(ctx context.Context, im *domain.BindingImport, status int) (httpapi.Response, error) {
	v := importView{BindingImport: im}
	if im.Status == domain.ImportWaiting {
		up, err := h.files.PresignUpload(ctx, binding.ImportKey(im.VendorOrg, im.ID), "text/csv", im.SHA256, h.now())
		if err != nil {
			return httpapi.Response{}, err
		}
		v.Upload = &up
	}
	return httpapi.JSON(status, v), nil
}

type importView struct {
	*domain.BindingImport
	Upload  *blob.Upload   `json:"upload,omitempty"`
	Results *blob.Download `json:"results,omitempty"`
}

// importStatus: GET /binding-imports/{id} — the import's status and totals and, once done, a
// link to its per-row results. Another vendor's import is import_not_found.
func (h *handler) importStatus(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	if err := c.Require(domain.RoleVendor); err != nil {
		return httpapi.Response{}, err
	}
	im, err := h.db.BindingImport(ctx, req.PathParameters["id"])
	if err != nil {
		return httpapi.Response{}, err
	}
	if !c.Owns(im.VendorOrg) {
		return httpapi.Response{}, domain.Errorf(domain.NotFound, "import_not_found", "import %s does not exist", im.ID)
	}
	v := importView{BindingImport: im}
	if im.Status == domain.ImportDone {
		dl, err := h.files.PresignDownload(ctx, binding.ResultsKey(im.VendorOrg, im.ID), "", im.ID+"-results.csv", h.now())
		if err != nil {
			return httpapi.Response{}, err
		}
		v.Results = &dl
	}
	return httpapi.JSON(http.StatusOK, v), nil
}

// provider is the calling deployment provider's number.
func (h *handler) provider(ctx context.Context, c domain.Caller) (domain.Deployer, error) {
	if err := c.Require(domain.RoleDeployer); err != nil {
		return domain.Deployer{}, err
	}
	return h.db.Deployer(ctx, c.Org)
}

// deployer: GET /deployer — the calling provider's number (what vendors fill in).
func (h *handler) deployer(ctx context.Context, c domain.Caller, _ httpapi.Request) (httpapi.Response, error) {
	d, err := h.provider(ctx, c)
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusOK, d), nil
}

// providerDevices: GET /deployer/devices?state=assigned|confirmed — the devices assigned to the
// calling provider, waiting for its confirmation or confirmed; both without state.
func (h *handler) providerDevices(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	d, err := h.provider(ctx, c)
	if err != nil {
		return httpapi.Response{}, err
	}
	state := domain.BindingState(httpapi.Query(req, "state", ""))
	switch state {
	case "", domain.BindingAssigned, domain.BindingConfirmed:
	default:
		return httpapi.Response{}, domain.Errorf(domain.Invalid, "invalid_state", "state %q is not assigned or confirmed", state)
	}
	limit, err := httpapi.Limit(req, 100)
	if err != nil {
		return httpapi.Response{}, err
	}
	page, err := h.db.ProviderBindings(ctx, d.Number, state, httpapi.Query(req, "cursor", ""), limit)
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusOK, page), nil
}

// providerDevice: GET /deployer/devices/{sn} — one device assigned to the calling provider.
// Any other SN, another provider's device included, is binding_not_found.
func (h *handler) providerDevice(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	d, err := h.provider(ctx, c)
	if err != nil {
		return httpapi.Response{}, err
	}
	sn := req.PathParameters["sn"]
	if _, err := domain.ParseSerialNumber(sn); err != nil {
		return httpapi.Response{}, domain.ErrBindingNotFound.Withf("no device with this SN is assigned to you")
	}
	b, err := h.db.Binding(ctx, sn)
	if err != nil && domain.KindOf(err) != domain.NotFound {
		return httpapi.Response{}, err
	}
	if !b.VisibleTo(d.Number) {
		return httpapi.Response{}, domain.ErrBindingNotFound.Withf("no device with this SN is assigned to you")
	}
	return httpapi.JSON(http.StatusOK, b), nil
}

// confirm: POST /deployer/devices/confirm — the provider confirms up to 500 devices.
func (h *handler) confirm(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	d, err := h.provider(ctx, c)
	if err != nil {
		return httpapi.Response{}, err
	}
	in, err := decodeSNs(req)
	if err != nil {
		return httpapi.Response{}, err
	}
	outs, err := h.binder.Confirm(ctx, c, d.Number, in.SNs)
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusOK, summarise(outs)), nil
}

// decline: POST /deployer/devices/decline — the provider declines up to 500 waiting devices.
func (h *handler) decline(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	d, err := h.provider(ctx, c)
	if err != nil {
		return httpapi.Response{}, err
	}
	in, err := decodeSNs(req)
	if err != nil {
		return httpapi.Response{}, err
	}
	outs, err := h.binder.Decline(ctx, c, d.Number, in.Reason, in.SNs)
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusOK, summarise(outs)), nil
}

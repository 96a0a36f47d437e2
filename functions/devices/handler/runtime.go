package handler

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/httpapi"
)

// StandingTTL is how long the function keeps a model's standing, and how long a client may
// cache an answer (Cache-Control max-age): a restriction reaches every payment app within it,
// without rewriting a single device item.
const StandingTTL = 60 * time.Second

// standings caches, per model, what the runtime check needs of it (one GetItem per model and
// minute, whatever the number of devices), and which model an SN's codes name.
type standings struct {
	db  deviceStore
	now func() time.Time
	ttl time.Duration
	mu  sync.Mutex
	m   map[string]cached
}

type cached struct {
	at       time.Time
	standing *domain.ModelStanding
	modelID  string
}

func newStandings(db deviceStore, now func() time.Time, ttl time.Duration) *standings {
	return &standings{db: db, now: now, ttl: ttl, m: map[string]cached{}}
}

func (s *standings) get(key string) (cached, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.m[key]
	if !ok || s.now().Sub(c.at) > s.ttl || s.now().Before(c.at) {
		return cached{}, false
	}
	return c, true
}

func (s *standings) put(key string, c cached) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.m) > 10000 {
		s.m = map[string]cached{} // bounded: a cold cache costs one read per model
	}
	c.at = s.now()
	s.m[key] = c
}

// of returns model id's standing (nil when the model does not exist).
func (s *standings) of(ctx context.Context, modelID string) (*domain.ModelStanding, error) {
	if c, ok := s.get("M#" + modelID); ok {
		return c.standing, nil
	}
	p, err := s.db.Pipeline(ctx, modelID)
	st := &domain.ModelStanding{ModelID: modelID, Stage: domain.StageRegistered}
	switch {
	case domain.KindOf(err) == domain.NotFound:
	case err != nil:
		return nil, err
	default:
		st.Stage = p.Stage
		if p.Stage == domain.StageRestricted {
			st.Reason = p.Reason
		}
	}
	s.put("M#"+modelID, cached{standing: st})
	return st, nil
}

// modelOfCodes returns the model an SN's vendor and model codes name ("" when none).
func (s *standings) modelOfCodes(ctx context.Context, vendorCode, modelCode string) (string, error) {
	k := "C#" + vendorCode + modelCode
	if c, ok := s.get(k); ok {
		return c.modelID, nil
	}
	org, err := s.db.CodeOwner(ctx, "VENDOR", vendorCode)
	if err != nil || org == "" {
		return "", err
	}
	id, err := s.db.CodeOwner(ctx, "MODEL#"+org, modelCode)
	if err != nil {
		return "", err
	}
	s.put(k, cached{modelID: id})
	return id, nil
}

// paymentEligibility answers whether SN may take face payments now
// (GET /devices/{sn}/payment-eligibility): one GetItem of the device plus its model's cached
// standing; a device never checked also reads its test-device registration.
func (h *handler) paymentEligibility(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	if err := c.Require(domain.RoleMerchant, domain.RoleSoftwareProvider, domain.RoleDeployer, domain.RoleVendor, domain.RoleReviewer); err != nil {
		return httpapi.Response{}, err
	}
	sn := req.PathParameters["sn"]
	parsed, err := domain.ParseSerialNumber(sn)
	if err != nil {
		return httpapi.Response{}, err
	}
	now := h.now()
	d, err := h.db.Device(ctx, sn)
	switch {
	case domain.KindOf(err) == domain.NotFound:
		d = nil
	case err != nil:
		return httpapi.Response{}, err
	}
	var td *domain.TestDevice
	if d == nil || d.Status != domain.DevicePassed {
		td, err = h.db.TestDevice(ctx, sn)
		switch {
		case domain.KindOf(err) == domain.NotFound:
			td = nil
		case err != nil:
			return httpapi.Response{}, err
		}
	}
	modelID := ""
	switch {
	case d != nil:
		modelID = d.ModelID
	case td != nil:
		modelID = td.ModelID
	default:
		if modelID, err = h.runtime.modelOfCodes(ctx, parsed.VendorCode, parsed.ModelCode); err != nil {
			return httpapi.Response{}, err
		}
	}
	var standing *domain.ModelStanding
	if modelID != "" {
		if standing, err = h.runtime.of(ctx, modelID); err != nil {
			return httpapi.Response{}, err
		}
	}
	resp := httpapi.JSON(http.StatusOK, domain.PaymentEligibility(sn, d, td, standing, now))
	resp.Headers["Cache-Control"] = fmt.Sprintf("private, max-age=%d", int(StandingTTL.Seconds()))
	return resp, nil
}

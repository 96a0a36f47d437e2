package handler

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/fee"
	"github.com/facepay/platform/shared/httpapi"
	"github.com/facepay/platform/shared/store"
)

// bindingSource is the binding store as the sign-up routes read it (store.FeeSource).
type bindingSource interface {
	// ConfirmationsOf returns device sn's confirmation intervals, to every provider, ever
	// (none for an unknown device).
	ConfirmationsOf(ctx context.Context, sn string) ([]fee.Confirmation, error)
	// ConfirmationsOfEach is ConfirmationsOf for many devices (devices without any left out).
	ConfirmationsOfEach(ctx context.Context, sns []string) (map[string][]fee.Confirmation, error)
	// ConfirmedTo returns the devices confirmed to provider at `at`, each with all of its
	// confirmation intervals.
	ConfirmedTo(ctx context.Context, provider string, at time.Time) (map[string][]fee.Confirmation, error)
}

// enrolmentStore is the sign-up part of the store.
type enrolmentStore interface {
	FeePolicies(ctx context.Context) ([]fee.PolicyRecord, error)
	FeeEnrolmentsOf(ctx context.Context, sn string) ([]fee.Enrolment, error)
	FeeEnrolmentsByProviderAll(ctx context.Context, provider string) (map[string][]fee.Enrolment, error)
	CreateFeeEnrolment(ctx context.Context, e fee.Enrolment) error
}

// signups serves a deployment provider's sign-ups of its confirmed devices.
type signups struct {
	binding   bindingSource
	db        enrolmentStore
	providers deployers
	now       func() time.Time
}

// SignUpRequest names the devices (or all the caller's confirmed devices) and the first day.
type SignUpRequest struct {
	SNs  []string `json:"sns" maxItems:"500" maxLength:"23"`
	All  bool     `json:"all"`
	Date fee.Date `json:"date"`
}

// SignUpResponse has one result per device and the counts of each outcome.
type SignUpResponse struct {
	Results  []fee.SignUpResult `json:"results"`
	SignedUp int                `json:"signedUp"`
	Existed  int                `json:"alreadySignedUp"`
	Refused  int                `json:"refused"`
}

// signUp: a provider signs devices confirmed to it up for the fee from a date (today or later):
// a list of SNs, or all its confirmed devices. Each device has its own outcome; a device
// already signed up within its current confirmation is reported as such and unchanged, so the
// same request again changes nothing.
func (s *signups) signUp(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	var in SignUpRequest
	if err := httpapi.Decode(req, &in); err != nil {
		return httpapi.Response{}, err
	}
	provider, err := providerOf(ctx, s.providers, c)
	if err != nil {
		return httpapi.Response{}, err
	}
	now := s.now()
	if err := fee.CheckSignUpDate(in.Date, now); err != nil {
		return httpapi.Response{}, err
	}
	if in.All == (len(in.SNs) > 0) {
		return httpapi.Response{}, domain.Errorf(domain.Invalid, "sign_up_devices", "name the devices in sns, or set all, not both")
	}
	var sns []string
	var confirmations map[string][]fee.Confirmation
	if in.All {
		confirmed, err := s.binding.ConfirmedTo(ctx, provider, now)
		if err != nil {
			return httpapi.Response{}, err
		}
		confirmations = confirmed
		for sn := range confirmed {
			sns = append(sns, sn)
		}
	} else {
		sns = slices.Clone(in.SNs)
	}
	slices.Sort(sns)
	sns = slices.Compact(sns)
	results := make([]fee.SignUpResult, len(sns))
	var valid []string
	for i, sn := range sns {
		if len(sn) != 23 || !keySafe(sn) {
			results[i] = fee.SignUpResult{SN: sn, Outcome: fee.SignUpRefused, Code: "invalid_sn", Message: fmt.Sprintf("%q is not a device SN", sn)}
			continue
		}
		valid = append(valid, sn)
	}
	// The whole request is read in batches — the bindings 100 per BatchGetItem, the provider's
	// sign-ups from its index (only its own decide: a sign-up holds for its confirmation) —
	// and the new sign-ups written eight at a time: 500 devices take 5 BatchGetItem, a few
	// Query and 500 conditional PutItem (63 rounds), not 1,500 requests in a row.
	if confirmations == nil {
		var err error
		if confirmations, err = s.binding.ConfirmationsOfEach(ctx, valid); err != nil {
			return httpapi.Response{}, err
		}
	}
	existing, err := s.db.FeeEnrolmentsByProviderAll(ctx, provider)
	if err != nil {
		return httpapi.Response{}, err
	}
	var writes []int
	for i, sn := range sns {
		if results[i].Outcome != "" {
			continue
		}
		e, created, err := fee.NewEnrolment(provider, sn, in.Date, c.Subject, confirmations[sn], existing[sn], now)
		switch {
		case err != nil:
			results[i] = fee.SignUpResult{SN: sn, Outcome: fee.SignUpRefused, Code: domain.CodeOf(err), Message: domain.MessageOf(err)}
		case !created:
			results[i] = fee.SignUpResult{SN: sn, Outcome: fee.SignUpExisted, Enrolment: &e}
		default:
			results[i] = fee.SignUpResult{SN: sn, Outcome: fee.SignUpCreated, Enrolment: &e}
			writes = append(writes, i)
		}
	}
	errs := make([]error, len(writes))
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for k, i := range writes {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			if err := s.db.CreateFeeEnrolment(ctx, *results[i].Enrolment); err != nil {
				// A lost race (or a throttled write): this device alone goes the careful way,
				// reading again and deciding again.
				results[i], errs[k] = s.one(ctx, provider, c.Subject, sns[i], in.Date, now)
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return httpapi.Response{}, err // the platform's own fault: the caller retries the whole request safely
	}
	out := SignUpResponse{Results: results}
	for _, r := range results {
		switch r.Outcome {
		case fee.SignUpCreated:
			out.SignedUp++
		case fee.SignUpExisted:
			out.Existed++
		default:
			out.Refused++
		}
	}
	return httpapi.JSON(http.StatusOK, out), nil
}

// one signs one device up. A refusal is a result; only the platform's own faults are errors.
func (s *signups) one(ctx context.Context, provider, by, sn string, date fee.Date, now time.Time) (fee.SignUpResult, error) {
	refused := func(err error) (fee.SignUpResult, error) {
		if domain.KindOf(err) == domain.Internal {
			return fee.SignUpResult{}, err
		}
		return fee.SignUpResult{SN: sn, Outcome: fee.SignUpRefused, Code: domain.CodeOf(err), Message: domain.MessageOf(err)}, nil
	}
	if len(sn) != 23 || !keySafe(sn) {
		return refused(domain.Errorf(domain.Invalid, "invalid_sn", "%q is not a device SN", sn))
	}
	var res fee.SignUpResult
	err := store.Retry(ctx, store.RetryAttempts, func() error {
		confirmations, err := s.binding.ConfirmationsOf(ctx, sn)
		if err != nil {
			return err
		}
		existing, err := s.db.FeeEnrolmentsOf(ctx, sn)
		if err != nil {
			return err
		}
		e, created, err := fee.NewEnrolment(provider, sn, date, by, confirmations, existing, now)
		if err != nil {
			return err
		}
		if !created {
			res = fee.SignUpResult{SN: sn, Outcome: fee.SignUpExisted, Enrolment: &e}
			return nil
		}
		if err := s.db.CreateFeeEnrolment(ctx, e); err != nil {
			return err // a lost race: the next attempt finds the winner's sign-up
		}
		res = fee.SignUpResult{SN: sn, Outcome: fee.SignUpCreated, Enrolment: &e}
		return nil
	})
	if err != nil {
		return refused(err)
	}
	return res, nil
}

// list: the caller's confirmed devices, each with whether it earns today and why not
// (not signed up, outside its window); ?unsigned=true keeps the devices not signed up.
func (s *signups) list(ctx context.Context, c domain.Caller, req httpapi.Request) (httpapi.Response, error) {
	provider, err := providerOf(ctx, s.providers, c)
	if err != nil {
		return httpapi.Response{}, err
	}
	now := s.now()
	all, err := s.db.FeePolicies(ctx)
	if err != nil {
		return httpapi.Response{}, err
	}
	versions := make([]fee.Policy, len(all))
	for i, r := range all {
		versions[i] = r.Policy
	}
	p, err := fee.InForce(versions, fee.MonthOf(now))
	if err != nil {
		return httpapi.Response{}, err
	}
	confirmed, err := s.binding.ConfirmedTo(ctx, provider, now)
	if err != nil {
		return httpapi.Response{}, err
	}
	sns := make([]string, 0, len(confirmed))
	for sn := range confirmed {
		sns = append(sns, sn)
	}
	slices.Sort(sns)
	enrolled, err := s.db.FeeEnrolmentsByProviderAll(ctx, provider) // only its own sign-ups decide
	if err != nil {
		return httpapi.Response{}, err
	}
	unsigned := httpapi.Query(req, "unsigned", "") == "true"
	items := make([]fee.Standing, 0, len(sns))
	for _, sn := range sns {
		st := fee.StandingOf(p, provider, sn, confirmed[sn], enrolled[sn], now)
		if unsigned && st.SignedUpFrom != "" {
			continue
		}
		items = append(items, st)
	}
	return httpapi.JSON(http.StatusOK, map[string]any{"policyVersion": p.Version, "items": items}), nil
}

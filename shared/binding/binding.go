// Package binding applies binding changes to many devices at once (DOMAIN.md section 6): the
// vendor's bulk assignment and unbinding (a request of up to 500, or a CSV import of up to
// 100,000 rows), the provider's bulk confirmation and declining. The rules are the domain's
// (domain.Assign, Confirm, …); this package reads in batches, decides per device, writes in
// transactions and decides again, after a fresh read, for the devices whose write lost a race.
package binding

import (
	"context"
	"errors"
	"time"

	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/store"
)

// Store is what the binder reads and writes.
type Store interface {
	Devices(ctx context.Context, sns []string, consistent bool) (map[string]*domain.Device, error)
	Bindings(ctx context.Context, sns []string, consistent bool) (map[string]*domain.Binding, error)
	WriteBindings(ctx context.Context, ws []store.BindingWrite) []error
	DeployerByNumber(ctx context.Context, number string) (domain.Deployer, error)
}

var _ Store = (*store.DB)(nil)

// attempts bounds how often one device is decided again after losing a race.
const attempts = 5

// Assignment is one row of a vendor's bulk assignment.
type Assignment struct {
	SN       string `json:"sn" maxLength:"23"`
	Provider string `json:"provider" maxLength:"10"`
	Reassign bool   `json:"reassign,omitempty"`
}

// Binder applies binding changes.
type Binder struct {
	DB  Store
	Now func() time.Time
}

// decide turns a device's current state into its next binding (nil: nothing to write).
type decide func(sn string, d *domain.Device, b *domain.Binding) (*domain.Binding, *domain.Change, error)

// Assign fills in the providers of rows for vendor c (one outcome per row, in order). Providers
// must be approved deployment providers ("provider_not_found"); devices must be c's own and
// factory-checked. A row repeating an earlier row's SN is refused ("duplicate_sn").
func (b *Binder) Assign(ctx context.Context, c domain.Caller, rows []Assignment) ([]domain.BindingOutcome, error) {
	known := map[string]error{}
	for _, r := range rows {
		if _, seen := known[r.Provider]; seen {
			continue
		}
		if err := domain.ValidateProviderNumber(r.Provider); err != nil {
			known[r.Provider] = err
			continue
		}
		_, err := b.DB.DeployerByNumber(ctx, r.Provider)
		if err != nil && domain.KindOf(err) != domain.NotFound {
			return nil, err
		}
		known[r.Provider] = err
	}
	byRow := make(map[string]Assignment, len(rows))
	sns := make([]string, len(rows))
	pre := make([]error, len(rows))
	for i, r := range rows {
		sns[i] = r.SN
		if err := known[r.Provider]; err != nil {
			pre[i] = err
		}
		if _, dup := byRow[r.SN]; !dup {
			byRow[r.SN] = r
		}
	}
	now := b.Now()
	return b.apply(ctx, sns, pre, true, func(sn string, d *domain.Device, cur *domain.Binding) (*domain.Binding, *domain.Change, error) {
		if err := domain.Bindable(d, c.Org); err != nil {
			return nil, nil, err
		}
		r := byRow[sn]
		return domain.Assign(cur, sn, c.Org, r.Provider, r.Reassign, c.Subject, now)
	})
}

// Unbind removes the providers of sns for vendor c.
func (b *Binder) Unbind(ctx context.Context, c domain.Caller, sns []string) ([]domain.BindingOutcome, error) {
	now := b.Now()
	return b.apply(ctx, sns, make([]error, len(sns)), true, func(sn string, d *domain.Device, cur *domain.Binding) (*domain.Binding, *domain.Change, error) {
		if d == nil || d.VendorOrg != c.Org {
			return nil, nil, domain.Errorf(domain.NotFound, "device_not_found", "device does not exist")
		}
		return domain.Unbind(cur, c.Subject, now)
	})
}

// Confirm records provider's confirmation of sns (provider: its number, c: its caller).
func (b *Binder) Confirm(ctx context.Context, c domain.Caller, provider string, sns []string) ([]domain.BindingOutcome, error) {
	now := b.Now()
	return b.apply(ctx, sns, make([]error, len(sns)), false, func(sn string, _ *domain.Device, cur *domain.Binding) (*domain.Binding, *domain.Change, error) {
		return domain.Confirm(cur, provider, c.Subject, now)
	})
}

// Decline records that provider declines sns.
func (b *Binder) Decline(ctx context.Context, c domain.Caller, provider, reason string, sns []string) ([]domain.BindingOutcome, error) {
	now := b.Now()
	return b.apply(ctx, sns, make([]error, len(sns)), false, func(sn string, _ *domain.Device, cur *domain.Binding) (*domain.Binding, *domain.Change, error) {
		return domain.Decline(cur, provider, c.Subject, reason, now)
	})
}

// apply decides and writes every SN of sns not already refused in pre; devices says whether
// the decision needs the device items. It answers one outcome per SN, in order.
func (b *Binder) apply(ctx context.Context, sns []string, pre []error, devices bool, f decide) ([]domain.BindingOutcome, error) {
	out := make([]domain.BindingOutcome, len(sns))
	first := map[string]int{}
	var todo []int
	for i, sn := range sns {
		switch _, err := domain.ParseSerialNumber(sn); {
		case pre[i] != nil:
			out[i] = domain.OutcomeOf(sn, nil, false, pre[i])
		case err != nil:
			out[i] = domain.OutcomeOf(sn, nil, false, domain.Errorf(domain.Invalid, "invalid_sn", "%q is not a valid device serial number", sn))
		default:
			if j, dup := first[sn]; dup {
				out[i] = domain.OutcomeOf(sn, nil, false, domain.Errorf(domain.Invalid, "duplicate_sn", "SN %s appears again (first at item %d)", sn, j+1))
				continue
			}
			first[sn] = i
			todo = append(todo, i)
		}
	}
	for attempt := 0; len(todo) > 0; attempt++ {
		consistent := attempt > 0
		batch := make([]string, len(todo))
		for k, i := range todo {
			batch[k] = sns[i]
		}
		var devs map[string]*domain.Device
		if devices {
			var err error
			if devs, err = b.DB.Devices(ctx, batch, consistent); err != nil {
				return nil, err
			}
		}
		cur, err := b.DB.Bindings(ctx, batch, consistent)
		if err != nil {
			return nil, err
		}
		var writes []store.BindingWrite
		var owners []int
		for _, i := range todo {
			sn := sns[i]
			next, ch, err := f(sn, devs[sn], cur[sn])
			switch {
			case err != nil:
				out[i] = domain.OutcomeOf(sn, nil, false, err)
			case next == nil:
				out[i] = domain.OutcomeOf(sn, cur[sn], false, nil)
			default:
				writes = append(writes, store.BindingWrite{Binding: next, Change: *ch})
				owners = append(owners, i)
			}
		}
		todo = todo[:0]
		if len(writes) == 0 {
			break
		}
		for k, err := range b.DB.WriteBindings(ctx, writes) {
			i := owners[k]
			switch {
			case err == nil:
				out[i] = domain.OutcomeOf(sns[i], writes[k].Binding, true, nil)
			case errors.Is(err, domain.ErrConflict) && attempt+1 < attempts:
				todo = append(todo, i) // lost a race: read again and decide again
			case errors.Is(err, domain.ErrConflict):
				out[i] = domain.OutcomeOf(sns[i], nil, false, err)
			case errors.Is(err, store.ErrRetryable):
				out[i] = domain.OutcomeOf(sns[i], nil, false, domain.Errorf(domain.Conflict, "retry", "the change could not be written now; send it again"))
			default:
				return nil, err
			}
		}
	}
	return out, nil
}

// Package handler is the weekly release (Mondays 09:00 Asia/Shanghai): it publishes every
// decision reviewers made before the scheduled time. Approved device vendors get their vendor
// code, approved models their model code and a started certification pipeline; every outcome
// lands in the applicant's outbox and the entity's history, in the same transaction.
//
// Schedules deliver at least once and may overlap: each release reloads what it publishes and
// commits with preconditions, so a second run publishes nothing twice, skips nothing, and two
// racing runs never take the same code.
package handler

import (
	"context"
	"io"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/facepay/platform/shared/awsx"
	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/ids"
	"github.com/facepay/platform/shared/lambdafn"
	"github.com/facepay/platform/shared/metrics"
	"github.com/facepay/platform/shared/store"
	"github.com/facepay/platform/shared/workflow"
)

// Event is the schedule's input (template.yaml fills scheduledTime from the scheduler's context).
type Event struct {
	ScheduledTime string `json:"scheduledTime"`
	ExecutionID   string `json:"executionId"`
}

// Result counts what a run published.
type Result struct {
	Applications     int `json:"applications"`
	Models           int `json:"models"`
	PipelinesStarted int `json:"pipelinesStarted"`
}

type releaseStore interface {
	Tx() *store.Tx
	Application(ctx context.Context, id string) (*domain.Application, error)
	ApplicationQueue(ctx context.Context, t domain.PartnerType, f store.QueueFilter) (store.Page[domain.Application], error)
	Model(ctx context.Context, id string) (*domain.Model, error)
	SaveModel(ctx context.Context, m *domain.Model, changes ...domain.Change) error
	ModelQueue(ctx context.Context, f store.QueueFilter) (store.Page[domain.Model], error)
	ModelsAwaitingPipeline(ctx context.Context, cursor string) (store.Page[domain.Model], error)
	NextCode(ctx context.Context, scope string) (store.CodeAllocation, error)
	Vendor(ctx context.Context, org string) (domain.Vendor, error)
	Deployer(ctx context.Context, org string) (domain.Deployer, error)
	NextProviderNumber(ctx context.Context) (store.CodeAllocation, error)
}

type pipelines interface {
	Start(ctx context.Context, name string, input any) (string, error)
}

type handler struct {
	db        releaseStore
	pipelines pipelines
	now       func() time.Time
	metrics   io.Writer // CloudWatch EMF lines (stdout in Lambda); nil writes none
	trackDays int       // how long a pipeline track waits for its vendor (0: the default)
}

// New builds the function from its environment.
func New(ctx context.Context, d lambdafn.Deps) (func(context.Context, Event) (Result, error), error) {
	env, err := d.Require("TABLE_NAME", "STATE_MACHINE_ARN")
	if err != nil {
		return nil, err
	}
	c, err := awsx.LoadSettings(d.Getenv)
	if err != nil {
		return nil, err
	}
	days, err := workflow.TrackTimeoutDays(d.Getenv)
	if err != nil {
		return nil, err
	}
	table, sm := env["TABLE_NAME"], env["STATE_MACHINE_ARN"]
	h := &handler{db: store.New(store.NewClient(c), table), pipelines: workflow.New(workflow.NewClient(c), sm), now: d.Now, metrics: os.Stdout, trackDays: days}
	return h.handle, nil
}

// maxAttempts bounds retries of one entity's release after losing a race.
const maxAttempts = 50

var partnerTypes = []domain.PartnerType{domain.PartnerDeviceVendor, domain.PartnerSoftwareProvider, domain.PartnerDeployer, domain.PartnerMerchant}

func (h *handler) handle(ctx context.Context, e Event) (Result, error) {
	cutoff, err := lambdafn.ScheduledTime(e.ScheduledTime, h.now())
	if err != nil {
		return Result{}, err
	}
	var res Result
	for _, t := range partnerTypes {
		if err := eachPage(func(cursor string) (store.Page[domain.Application], error) {
			return h.db.ApplicationQueue(ctx, t, store.QueueFilter{State: store.QueueDecided, Cursor: cursor, Limit: 100})
		}, func(a domain.Application) error {
			done, err := h.releaseApplication(ctx, a.ID, cutoff)
			if done && err == nil {
				res.Applications++
			}
			return err
		}); err != nil {
			return res, err
		}
	}
	if err := eachPage(func(cursor string) (store.Page[domain.Model], error) {
		return h.db.ModelQueue(ctx, store.QueueFilter{State: store.QueueDecided, Cursor: cursor, Limit: 100})
	}, func(m domain.Model) error {
		done, err := h.releaseModel(ctx, m.ID, cutoff)
		if done && err == nil {
			res.Models++
		}
		return err
	}); err != nil {
		return res, err
	}
	// Approved models whose pipeline is not started yet, this run's and any an earlier run
	// could not start.
	if err := eachPage(func(cursor string) (store.Page[domain.Model], error) {
		return h.db.ModelsAwaitingPipeline(ctx, cursor)
	}, func(m domain.Model) error {
		started, err := h.startPipeline(ctx, m.ID)
		if started && err == nil {
			res.PipelinesStarted++
		}
		return err
	}); err != nil {
		return res, err
	}
	h.count(ctx, cutoff, res)
	slog.InfoContext(ctx, "weekly release", "cutoff", cutoff, "applications", res.Applications, "models", res.Models, "pipelines", res.PipelinesStarted)
	return res, nil
}

func eachPage[T any](page func(cursor string) (store.Page[T], error), f func(T) error) error {
	cursor := ""
	for {
		p, err := page(cursor)
		if err != nil {
			return err
		}
		for _, it := range p.Items {
			if err := f(it); err != nil {
				return err
			}
		}
		if p.Next == "" {
			return nil
		}
		cursor = p.Next
	}
}

// retry runs f until it commits, skips, or fails with something other than a lost race.
func retry(ctx context.Context, f func() (bool, error)) (bool, error) {
	var done bool
	err := store.Retry(ctx, maxAttempts, func() error {
		var err error
		done, err = f()
		return err
	})
	return done, err
}

func (h *handler) releaseApplication(ctx context.Context, id string, cutoff time.Time) (bool, error) {
	return retry(ctx, func() (bool, error) {
		a, err := h.db.Application(ctx, id)
		if err != nil {
			return false, err
		}
		if a.Status != domain.AppSubmitted || a.Decision == nil || decidedAfter(a.Decision, cutoff) {
			return false, nil // released by another run, or decided after this release's cutoff
		}
		tx := h.db.Tx()
		code := ""
		if a.Decision.Approve && a.PartnerType == domain.PartnerDeviceVendor {
			// An organisation is a vendor once: a further approved application (sent before
			// the first was released) keeps the code it already has.
			v, err := h.db.Vendor(ctx, a.Org)
			switch {
			case err == nil:
				code = v.Code
			case domain.KindOf(err) == domain.NotFound:
				alloc, err := h.db.NextCode(ctx, "VENDOR")
				if err != nil {
					return false, err
				}
				code = alloc.Code
				alloc.Owner = a.Org
				tx.TakeCode(alloc).CreateVendor(domain.Vendor{Org: a.Org, Code: code, Name: a.Company.Name, ApplicationID: a.ID, ApprovedAt: h.now()})
			default:
				return false, err
			}
		}
		if a.Decision.Approve && a.PartnerType == domain.PartnerDeployer {
			number, err := h.deployerNumber(ctx, tx, a)
			if err != nil {
				return false, err
			}
			code = number
		}
		decision := *a.Decision
		ch, err := a.Release(code, h.now())
		if err != nil {
			return false, err
		}
		msg := domain.OutcomeMessage(ids.Derived("msg", a.ID, strconv.Itoa(a.Round)), a.Org, "application", a.ID,
			"partner application", &decision, code, h.now())
		return true, tx.SaveApplication(a, ch).PutMessage(msg).Commit(ctx, "release of application "+a.ID)
	})
}

func (h *handler) releaseModel(ctx context.Context, id string, cutoff time.Time) (bool, error) {
	return retry(ctx, func() (bool, error) {
		m, err := h.db.Model(ctx, id)
		if err != nil {
			return false, err
		}
		if m.Status != domain.ModelUnderReview || m.Decision == nil || decidedAfter(m.Decision, cutoff) {
			return false, nil
		}
		tx := h.db.Tx()
		code := ""
		if m.Decision.Approve {
			alloc, err := h.db.NextCode(ctx, "MODEL#"+m.VendorOrg)
			if err != nil {
				return false, err
			}
			code = alloc.Code
			alloc.Owner = m.ID
			tx.TakeCode(alloc)
		}
		decision := *m.Decision
		ch, err := m.Release(code, h.now())
		if err != nil {
			return false, err
		}
		msg := domain.OutcomeMessage(ids.Derived("msg", m.ID, strconv.Itoa(m.Round)), m.VendorOrg, "model", m.ID,
			"model registration "+m.Name, &decision, code, h.now())
		return true, tx.SaveModel(m, ch).PutMessage(msg).Commit(ctx, "release of model "+m.ID)
	})
}

// decidedAfter reports whether d was made after the release's cutoff. Scheduled times have
// whole seconds, so a decision made within the cutoff's second belongs to this release.
func decidedAfter(d *domain.Decision, cutoff time.Time) bool {
	return d.DecidedAt.Truncate(time.Second).After(cutoff)
}

// startPipeline starts the first run of the model's pipeline, named after the model and the run
// (domain.ExecutionName) so a repeat finds the same execution and a restart gets a new one,
// and records its ARN.
func (h *handler) startPipeline(ctx context.Context, id string) (bool, error) {
	return retry(ctx, func() (bool, error) {
		m, err := h.db.Model(ctx, id)
		if err != nil {
			return false, err
		}
		if m.Status != domain.ModelApproved || m.Pipeline != "" {
			return false, nil
		}
		days := h.trackDays
		if days == 0 {
			days = domain.DefaultTrackTimeoutDays
		}
		arn, err := h.pipelines.Start(ctx, domain.ExecutionName(m.ID, 1), domain.NewPipelineInput(m, 1, days))
		if err != nil {
			return false, err
		}
		m.Pipeline = arn
		// The ARN stays on the model for reviewers; the vendor's history says only that it started.
		return true, h.db.SaveModel(ctx, m, domain.Change{At: h.now(), By: "weekly-release", Action: "pipeline_started"})
	})
}

// count publishes what a run released (DecisionsReleased by Entity) for the dashboard. A failed
// write is logged, not returned: the release itself is done.
func (h *handler) count(ctx context.Context, at time.Time, res Result) {
	if h.metrics == nil {
		return
	}
	for entity, n := range map[string]int{"application": res.Applications, "model": res.Models, "pipeline": res.PipelinesStarted} {
		if err := metrics.Count(h.metrics, at, "DecisionsReleased", n, map[string]string{"Entity": entity}); err != nil {
			slog.WarnContext(ctx, "release metric not written", "err", err)
		}
	}
}

// deployerNumber is the deployment provider number of a's organisation: the one it has, or
// the next free one, taken in tx with the provider's items (vendors fill it in to bind devices).
func (h *handler) deployerNumber(ctx context.Context, tx *store.Tx, a *domain.Application) (string, error) {
	d, err := h.db.Deployer(ctx, a.Org)
	switch {
	case err == nil:
		return d.Number, nil
	case domain.KindOf(err) != domain.NotFound:
		return "", err
	}
	alloc, err := h.db.NextProviderNumber(ctx)
	if err != nil {
		return "", err
	}
	tx.TakeCode(alloc).CreateDeployer(domain.Deployer{Org: a.Org, Number: alloc.Code, Name: a.Company.Name, ApplicationID: a.ID, ApprovedAt: h.now()})
	return alloc.Code, nil
}

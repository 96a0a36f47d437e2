// Package handler is the release of held decisions: reviewers decide any day, the release
// publishes what they decided before the release time of each entity's calendar
// (domain.ReleaseCalendars: Monday 09:00 Asia/Shanghai for onboarding and models). Every
// reviewable entity plugs in with its review queues (store.ReviewQueues) and a release
// function here (releasers). Approved device vendors get their vendor code, approved models
// their model code and a started certification pipeline; every outcome lands in the
// applicant's outbox and the entity's history, in the same transaction.
//
// Schedules deliver at least once and may overlap: each release reloads what it publishes and
// commits with preconditions, so a second run publishes nothing twice, skips nothing, and two
// racing runs never take the same code.
package handler

import (
	"context"
	"fmt"
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
	// Calendar names the release calendar whose schedule sent the event: that calendar
	// publishes everything decided up to the scheduled time (also when the schedule is run by
	// hand, "now"), and no other runs. Without it (a reconciliation re-running a missed release
	// with only scheduledTime), every calendar publishes what was due at its last release at or
	// before the scheduled time (domain.ReleaseCalendar.LastDue), so no calendar publishes early.
	Calendar string `json:"calendar,omitempty"`
}

// Result counts what a run published.
type Result struct {
	Applications       int `json:"applications"`
	Models             int `json:"models"`
	PipelinesStarted   int `json:"pipelinesStarted"`
	PayScore           int `json:"payScore,omitempty"`           // Pay Score application reviews
	PayScoreAcceptance int `json:"payScoreAcceptance,omitempty"` // Pay Score go-live acceptances
}

type releaseStore interface {
	Tx() *store.Tx
	DecidedIDs(ctx context.Context, q store.ReviewQueue, cursor string) (store.Page[string], error)
	Application(ctx context.Context, id string) (*domain.Application, error)
	Model(ctx context.Context, id string) (*domain.Model, error)
	SaveModel(ctx context.Context, m *domain.Model, changes ...domain.Change) error
	ModelsAwaitingPipeline(ctx context.Context, cursor string) (store.Page[domain.Model], error)
	PayScore(ctx context.Context, id string) (*domain.PayScoreApplication, error)
	SavePayScore(ctx context.Context, p *domain.PayScoreApplication, changes ...domain.Change) error
	PayScoresAwaitingResume(ctx context.Context, cursor string) (store.Page[domain.PayScoreApplication], error)
	PayScoreTokenOf(ctx context.Context, id, step string) (store.PayScoreToken, error)
	NextCode(ctx context.Context, scope string) (store.CodeAllocation, error)
	Vendor(ctx context.Context, org string) (domain.Vendor, error)
	Deployer(ctx context.Context, org string) (domain.Deployer, error)
	NextProviderNumber(ctx context.Context) (store.CodeAllocation, error)
}

type pipelines interface {
	Start(ctx context.Context, name string, input any) (string, error)
}

// flows tells Pay Score workflows that a released decision completed their step.
type flows interface {
	ResumePayScore(ctx context.Context, a *domain.PayScoreApplication, step string, tokenOf func(ctx context.Context, id, step string) (string, error)) error
}

type handler struct {
	db        releaseStore
	pipelines pipelines
	flows     flows
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
	sfn := workflow.NewClient(c)
	h := &handler{db: store.New(store.NewClient(c), table), pipelines: workflow.New(sfn, sm),
		flows: workflow.New(sfn, ""), // completing a Pay Score step needs only its token
		now:   d.Now, metrics: os.Stdout, trackDays: days}
	return h.handle, nil
}

// maxAttempts bounds retries of one entity's release after losing a race.
const maxAttempts = 50

// releaser is how an entity type plugs into the release: the function that publishes one
// entity's held decision, given the cutoff of the entity's calendar. It reloads the entity,
// checks domain.ReleaseDue and commits with preconditions; it reports whether it published.
type releaser func(ctx context.Context, id string, cutoff time.Time) (bool, error)

// releasers maps each review queue's entity type to its release.
func (h *handler) releasers() map[string]releaser {
	return map[string]releaser{
		"application":         h.releaseApplication,
		"model":               h.releaseModel,
		"payscore":            h.releasePayScore(domain.CalendarWeekly),
		"payscore_acceptance": h.releasePayScore(domain.CalendarPayScoreAcceptance),
	}
}

// cutoffs is, per calendar that runs for e, the latest decision time it publishes.
func cutoffs(e Event, at time.Time) (map[string]time.Time, error) {
	out := map[string]time.Time{}
	if e.Calendar != "" {
		if _, err := domain.ReleaseCalendarOf(e.Calendar); err != nil {
			return nil, err
		}
		out[e.Calendar] = at
		return out, nil
	}
	for name, c := range domain.ReleaseCalendars {
		out[name] = c.LastDue(at)
	}
	return out, nil
}

func (h *handler) handle(ctx context.Context, e Event) (Result, error) {
	at, err := lambdafn.ScheduledTime(e.ScheduledTime, h.now())
	if err != nil {
		return Result{}, err
	}
	cuts, err := cutoffs(e, at)
	if err != nil {
		return Result{}, err
	}
	var res Result
	release := h.releasers()
	for _, q := range store.ReviewQueues() {
		cutoff, runs := cuts[q.Calendar]
		if !runs {
			continue
		}
		rel, ok := release[q.Entity]
		if !ok {
			return res, fmt.Errorf("no release for the entities of queue %s", q.Key)
		}
		if err := eachPage(func(cursor string) (store.Page[string], error) {
			return h.db.DecidedIDs(ctx, q, cursor)
		}, func(id string) error {
			done, err := rel(ctx, id, cutoff)
			if done && err == nil {
				res.add(q.Entity)
			}
			return err
		}); err != nil {
			return res, err
		}
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
	// Pay Score workflows still to be told about a released decision, this run's and any an
	// earlier run could not tell.
	if err := eachPage(func(cursor string) (store.Page[domain.PayScoreApplication], error) {
		return h.db.PayScoresAwaitingResume(ctx, cursor)
	}, func(p domain.PayScoreApplication) error {
		return h.resumePayScore(ctx, p.ID)
	}); err != nil {
		return res, err
	}
	h.count(ctx, at, res)
	slog.InfoContext(ctx, "release", "at", at, "calendar", e.Calendar, "cutoffs", cuts,
		"applications", res.Applications, "models", res.Models, "pipelines", res.PipelinesStarted)
	return res, nil
}

// add counts one published decision of entity.
func (r *Result) add(entity string) {
	switch entity {
	case "application":
		r.Applications++
	case "model":
		r.Models++
	case "payscore":
		r.PayScore++
	case "payscore_acceptance":
		r.PayScoreAcceptance++
	}
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
		if !domain.ReleaseDue(a, cutoff) {
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
		if !domain.ReleaseDue(m, cutoff) {
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
	counts := map[string]int{"application": res.Applications, "model": res.Models, "pipeline": res.PipelinesStarted}
	// Pay Score counts are published when there are some (the dashboard's SUM reads a missing
	// datapoint as none).
	if res.PayScore > 0 {
		counts["payscore"] = res.PayScore
	}
	if res.PayScoreAcceptance > 0 {
		counts["payscore_acceptance"] = res.PayScoreAcceptance
	}
	for entity, n := range counts {
		if err := metrics.Count(h.metrics, at, "DecisionsReleased", n, map[string]string{"Entity": entity}); err != nil {
			slog.WarnContext(ctx, "release metric not written", "err", err)
		}
	}
}

// releasePayScore publishes a Pay Score application's held decision on calendar (the
// application review on Mondays, the acceptance on Tuesdays and Thursdays): an approved
// application gets its service ID, due in 7–10 working days; an approved acceptance goes live
// for its scenario. The merchant's message is written in the same transaction; the workflow
// is told afterwards (resumePayScore), retried by every run until it is.
func (h *handler) releasePayScore(calendar string) releaser {
	return func(ctx context.Context, id string, cutoff time.Time) (bool, error) {
		return retry(ctx, func() (bool, error) {
			p, err := h.db.PayScore(ctx, id)
			if err != nil {
				return false, err
			}
			if !domain.ReleaseDue(p, cutoff) || p.Calendar() != calendar {
				return false, nil
			}
			decision, stage := *p.Decision, string(p.Status)
			what := "Pay Score application"
			if p.Status == domain.PayScoreAcceptanceReview {
				what = "Pay Score go-live acceptance"
			}
			ch, err := p.Release(ids.Derived("svc", p.ID), h.now())
			if err != nil {
				return false, err
			}
			msg := domain.OutcomeMessage(ids.Derived("msg", p.ID, stage, strconv.Itoa(p.AcceptanceRound)), p.Org, "payscore", p.ID, what, &decision, "", h.now())
			switch p.Status {
			case domain.PayScoreConfiguring:
				msg.Body += fmt.Sprintf(" Service ID %s is being configured: due by %s (7–10 working days; no expediting). Sign the agreement once it is configured.",
					p.ServiceID.ID, p.ServiceID.Due.In(domain.ReleaseCalendars[domain.CalendarWeekly].Location()).Format("2006-01-02 15:04 (Asia/Shanghai)"))
			case domain.PayScoreLive:
				msg.Body += fmt.Sprintf(" Pay Score is live for %s only; use in another scenario takes it offline.", p.LiveScenario)
			}
			return true, h.db.Tx().SavePayScore(p, ch).PutMessage(msg).Commit(ctx, "release of Pay Score application "+p.ID)
		})
	}
}

// resumePayScore completes the workflow step a released decision finished, then clears the mark.
func (h *handler) resumePayScore(ctx context.Context, id string) error {
	_, err := retry(ctx, func() (bool, error) {
		p, err := h.db.PayScore(ctx, id)
		if err != nil || p.Resume == "" {
			return false, err
		}
		tokenOf := func(ctx context.Context, id, step string) (string, error) {
			t, err := h.db.PayScoreTokenOf(ctx, id, step)
			return t.Token, err
		}
		if err := h.flows.ResumePayScore(ctx, p, p.Resume, tokenOf); err != nil {
			return false, err
		}
		p.Resume = ""
		return true, h.db.SavePayScore(ctx, p)
	})
	return err
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

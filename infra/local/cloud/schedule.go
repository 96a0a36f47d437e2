package cloud

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/facepay/platform/infra/local/clock"
	"github.com/facepay/platform/infra/local/template"
	"github.com/facepay/platform/shared/ids"
)

// scheduler runs the template's EventBridge Scheduler schedules on the virtual clock.
type scheduler struct {
	clock *clock.Clock
	async *async
	arnOf func(name string) string

	mu        sync.Mutex
	schedules map[string]*schedule
}

type schedule struct {
	name       string // the event's name in the template
	function   string
	deadLetter string // queue ARN
	spec       cron.Schedule
	expr       string
	input      string
	next       time.Time
	timer      *clock.Timer
}

// ScheduleInfo describes a schedule for the admin endpoint.
type ScheduleInfo struct {
	Name       string    `json:"name"`
	Function   string    `json:"function"`
	Expression string    `json:"expression"`
	Next       time.Time `json:"next"`
}

func newScheduler(t *template.Template, c *clock.Clock, a *async, arnOf func(string) string) (*scheduler, error) {
	s := &scheduler{clock: c, async: a, arnOf: arnOf, schedules: map[string]*schedule{}}
	for _, f := range t.Functions {
		for _, sc := range f.Schedules {
			spec, err := parseSchedule(sc.Expression, sc.Timezone)
			if err != nil {
				return nil, fmt.Errorf("%s.%s: %w", f.LogicalID, sc.Event, err)
			}
			if _, dup := s.schedules[sc.Event]; dup {
				return nil, fmt.Errorf("schedule name %s is used twice", sc.Event)
			}
			s.schedules[sc.Event] = &schedule{name: sc.Event, function: f.Name, spec: spec, expr: sc.Expression, input: sc.Input,
				deadLetter: sc.DeadLetter}
		}
	}
	return s, nil
}

// parseSchedule reads EventBridge's cron(min hour dom month dow year) and rate(n unit).
func parseSchedule(expr, tz string) (cron.Schedule, error) {
	if tz == "" {
		tz = "UTC"
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, err
	}
	switch {
	case strings.HasPrefix(expr, "rate(") && strings.HasSuffix(expr, ")"):
		f := strings.Fields(expr[5 : len(expr)-1])
		if len(f) != 2 {
			return nil, fmt.Errorf("bad rate %q", expr)
		}
		n, err := strconv.Atoi(f[0])
		if err != nil || n < 1 {
			return nil, fmt.Errorf("bad rate %q", expr)
		}
		unit := map[string]time.Duration{"minute": time.Minute, "hour": time.Hour, "day": 24 * time.Hour}[strings.TrimSuffix(f[1], "s")]
		if unit == 0 {
			return nil, fmt.Errorf("bad rate unit in %q", expr)
		}
		return cron.Every(time.Duration(n) * unit), nil
	case strings.HasPrefix(expr, "cron(") && strings.HasSuffix(expr, ")"):
		f := strings.Fields(expr[5 : len(expr)-1])
		if len(f) != 6 {
			return nil, fmt.Errorf("cron %q: EventBridge cron has six fields", expr)
		}
		if f[5] != "*" {
			return nil, fmt.Errorf("cron %q: only * is supported locally for the year", expr)
		}
		if strings.ContainsAny(f[4], "0123456789") {
			return nil, fmt.Errorf("cron %q: use day names (MON) - numeric days differ between EventBridge (1=SUN) and robfig/cron (0=SUN)", expr)
		}
		spec := strings.ReplaceAll(strings.Join(f[:5], " "), "?", "*")
		sched, err := cron.ParseStandard(spec)
		if err != nil {
			return nil, fmt.Errorf("cron %q: %w", expr, err)
		}
		return inLocation{sched, loc}, nil
	}
	return nil, fmt.Errorf("schedule %q is neither cron(...) nor rate(...)", expr)
}

// inLocation evaluates a cron schedule in a time zone (Asia/Shanghai for the business week).
type inLocation struct {
	cron.Schedule
	loc *time.Location
}

func (s inLocation) Next(t time.Time) time.Time { return s.Schedule.Next(t.In(s.loc)).UTC() }

// start arms every schedule from the clock's now.
func (s *scheduler) start() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sc := range s.schedules {
		s.arm(sc, s.clock.Now())
	}
}

func (s *scheduler) arm(sc *schedule, after time.Time) {
	sc.next = sc.spec.Next(after)
	sc.timer = s.clock.At(sc.next, func() {
		at := sc.next
		s.fire(context.Background(), sc, at)
		s.mu.Lock()
		s.arm(sc, at)
		s.mu.Unlock()
	})
}

func (s *scheduler) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sc := range s.schedules {
		if sc.timer != nil {
			sc.timer.Stop()
		}
	}
}

// fire invokes the schedule's function as EventBridge Scheduler does: the target input with
// its context attributes filled in. It runs synchronously on the clock's goroutine, so the
// clock settles the function's effects before firing anything later.
func (s *scheduler) fire(ctx context.Context, sc *schedule, at time.Time) error {
	input := sc.input
	if input == "" {
		input = "{}"
	}
	arn := s.arnOf(sc.name)
	input = strings.NewReplacer(
		"<aws.scheduler.scheduled-time>", at.UTC().Format(time.RFC3339),
		"<aws.scheduler.execution-id>", ids.New("exec"),
		"<aws.scheduler.schedule-arn>", arn,
		"<aws.scheduler.attempt-number>", "1",
	).Replace(input)
	if !json.Valid([]byte(input)) {
		return fmt.Errorf("schedule %s: input is not JSON", sc.name)
	}
	// The scheduler invokes Lambda asynchronously: a function error is retried by Lambda and
	// then goes to the function's OnFailure destination; only an invocation that could not be
	// delivered at all goes to the schedule's dead-letter queue.
	if err := s.async.run(ctx, sc.function, []byte(input)); err != nil {
		var fnErr *FunctionError
		if errors.As(err, &fnErr) {
			slog.Error("scheduled invocation failed; Lambda retries it", "schedule", sc.name, "at", at, "err", err)
			return err
		}
		slog.Error("schedule not delivered", "schedule", sc.name, "at", at, "err", err)
		if sc.deadLetter != "" {
			if dlqErr := s.async.deadLetter(ctx, sc.deadLetter, arn, sc.function, []byte(input), err); dlqErr != nil {
				slog.Error("schedule lost: dead-letter queue not reachable", "schedule", sc.name, "err", dlqErr)
			}
		}
		return err
	}
	slog.Info("schedule fired", "schedule", sc.name, "at", at)
	return nil
}

// FireNow invokes schedule name now (the virtual now), as "run it now" in the console would.
func (s *scheduler) FireNow(ctx context.Context, name string) error {
	s.mu.Lock()
	sc, ok := s.schedules[name]
	s.mu.Unlock()
	if !ok {
		return fmt.Errorf("no schedule named %s", name)
	}
	return s.fire(ctx, sc, s.clock.Now())
}

func (s *scheduler) list() []ScheduleInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []ScheduleInfo
	for _, sc := range s.schedules {
		out = append(out, ScheduleInfo{Name: sc.name, Function: sc.function, Expression: sc.expr, Next: sc.next})
	}
	return out
}

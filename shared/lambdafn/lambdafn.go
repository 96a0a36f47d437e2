// Package lambdafn is the one shape every function has: a constructor that reads settings
// once and builds clients, returning the typed handler. main.go hands it to Start; the local
// cloud hands it to Of and hosts the handler in-process, with the same event JSON AWS sends.
package lambdafn

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
)

// Deps is what the runtime gives a function at cold start: its environment and its clock.
// Production passes os.Getenv and time.Now; the local cloud the template's environment and
// the virtual clock.
type Deps struct {
	Getenv func(string) string
	Now    func() time.Time
}

// Require returns the named settings, failing when any is empty: a function refuses to start
// with missing configuration rather than fail on its first request.
func (d Deps) Require(names ...string) (map[string]string, error) {
	out := make(map[string]string, len(names))
	var missing []string
	for _, n := range names {
		if out[n] = d.Getenv(n); out[n] == "" {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("missing settings: %s", strings.Join(missing, ", "))
	}
	return out, nil
}

// Build constructs a function's handler. It fails on bad configuration.
type Build[TIn, TOut any] func(context.Context, Deps) (func(context.Context, TIn) (TOut, error), error)

// Start builds the handler from the process environment and runs the Lambda loop.
// Bad configuration ends the process at once, so a broken deploy fails its first invoke loudly.
func Start[TIn, TOut any](build Build[TIn, TOut]) {
	slog.SetDefault(slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level(os.Getenv("LOG_LEVEL"))})))
	h, err := build(context.Background(), Deps{Getenv: os.Getenv, Now: time.Now})
	if err != nil {
		slog.Error("bad configuration", "err", err)
		os.Exit(1)
	}
	lambda.StartHandlerFunc(h)
}

// Factory builds a function as an untyped lambda.Handler (JSON in, JSON out).
type Factory func(context.Context, Deps) (lambda.Handler, error)

// Of turns a typed Build into a Factory for hosts that invoke with raw event JSON.
func Of[TIn, TOut any](build Build[TIn, TOut]) Factory {
	return func(ctx context.Context, d Deps) (lambda.Handler, error) {
		h, err := build(ctx, d)
		if err != nil {
			return nil, err
		}
		return lambda.NewHandler(h), nil
	}
}

func level(s string) slog.Level {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return slog.LevelInfo
	}
	return l
}

// ScheduledTime is the time a scheduled run stands for: the scheduler's scheduledTime (RFC 3339)
// when the event carries one, so a late or replayed run acts as of its schedule, else now.
func ScheduledTime(scheduled string, now time.Time) (time.Time, error) {
	if scheduled == "" {
		return now, nil
	}
	t, err := time.Parse(time.RFC3339, scheduled)
	if err != nil {
		return time.Time{}, fmt.Errorf("scheduledTime %q: %w", scheduled, err)
	}
	return t, nil
}

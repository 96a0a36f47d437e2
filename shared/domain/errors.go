// Package domain holds the platform's business types and rules. It imports no AWS package:
// adapters (store, httpapi, handlers) translate between it and the outside world.
package domain

import (
	"errors"
	"fmt"
)

// Kind classifies an Error; shared/httpapi maps each kind to one HTTP status.
type Kind int

// The error kinds. Anything that is not an *Error is Internal.
const (
	Internal Kind = iota
	Invalid
	Unauthenticated
	Forbidden
	NotFound
	Conflict
	TooLarge
)

// Error is the one error type callers see. Code is stable and machine-readable
// (e.g. "unknown_device_type"); Message is safe to show to API callers as is.
type Error struct {
	Kind    Kind
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Errorf returns an *Error of the given kind and stable code.
func Errorf(kind Kind, code, format string, args ...any) error {
	return &Error{Kind: kind, Code: code, Message: fmt.Sprintf(format, args...)}
}

// KindOf returns the kind of err, Internal when err is not (or does not wrap) an *Error.
func KindOf(err error) Kind {
	if e := (*Error)(nil); errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}

// CodeOf returns the stable code of err, "internal" when err is not an *Error.
func CodeOf(err error) string {
	if e := (*Error)(nil); errors.As(err, &e) {
		return e.Code
	}
	return "internal"
}

// MessageOf returns the caller-safe message of err; internal errors are never described.
func MessageOf(err error) string {
	if e := (*Error)(nil); errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

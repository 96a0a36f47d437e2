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
	Unprocessable // well-formed but contradicts an earlier request (an Idempotency-Key reused with another body)
)

// Error is the one error type callers see. Code is stable and machine-readable
// (e.g. "unknown_device_type"); Message is safe to show to API callers as is.
type Error struct {
	Kind    Kind
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Is reports whether target is an *Error with the same code: codes are stable identifiers,
// so errors.Is(err, ErrConflict) holds for every lost race whatever its message. Compare
// with the declared errors below, never with code strings.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// Withf returns a copy of e with a caller-safe message: how a declared error is raised.
func (e *Error) Withf(format string, args ...any) error {
	return &Error{Kind: e.Kind, Code: e.Code, Message: fmt.Sprintf(format, args...)}
}

// Declared errors that code branches on (errors.Is). Raise them with Withf.
var (
	// ErrConflict: a conditional write lost a race (the item changed or appeared since it was
	// read). Reloading and applying the change again is always safe; store.Retry does it.
	ErrConflict = &Error{Kind: Conflict, Code: "conflict", Message: "changed meanwhile; reload and retry"}
	// ErrNotWaiting: a pipeline step is no longer waiting for the callback (completed or timed out).
	ErrNotWaiting = &Error{Kind: Conflict, Code: "not_waiting", Message: "the pipeline is no longer waiting for this step"}
	// ErrInvalidCursor: a page cursor this API did not issue for this listing.
	ErrInvalidCursor = &Error{Kind: Invalid, Code: "invalid_cursor", Message: "the page cursor is not one this API returned for this listing"}
	// ErrIdempotencyKeyReused: an Idempotency-Key sent again with a different request.
	ErrIdempotencyKeyReused = &Error{Kind: Unprocessable, Code: "idempotency_key_reused",
		Message: "this Idempotency-Key was used with a different request; use a new key"}
	// ErrFieldTooLong: a request field longer than the API allows.
	ErrFieldTooLong = &Error{Kind: Invalid, Code: "field_too_long", Message: "a field is longer than allowed"}
	// ErrAlreadyWithdrawn: the vendor withdrew the model before.
	ErrAlreadyWithdrawn = &Error{Kind: Conflict, Code: "already_withdrawn", Message: "the model was withdrawn"}
	// ErrAlreadyRaised: the daily sweep raised this before (its raise-once claim exists).
	ErrAlreadyRaised = &Error{Kind: Conflict, Code: "already_raised", Message: "raised before"}
)

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

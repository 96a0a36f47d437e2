package domain

import (
	"fmt"
	"strings"
	"time"
)

// Reviewable is an entity whose reviewers' decisions are held: a reviewer decides (and may
// revise) any day, the applicant sees the outcome when the entity's release calendar
// (ReleaseCalendars) publishes it. Applications, models and Pay Score applications are
// Reviewable; the store keeps the held decision as an item of its own and the entity in a
// review queue (store.ReviewQueue), the reviewers' routes decide through Decide, and the
// release publishes what ReleaseDue says.
type Reviewable interface {
	// HeldDecision is the decision waiting for the release, nil when there is none.
	HeldDecision() *Decision
	// UnderReview reports whether a reviewer may decide now.
	UnderReview() bool
	// Decide records (or revises) the held decision; see decide.
	Decide(reviewer Caller, approve bool, reason string, now time.Time) (Change, error)
}

// ReleaseDue reports whether a release with the given cutoff publishes e's held decision: e is
// under review, holds a decision, and the decision was taken by the cutoff. Scheduled times
// have whole seconds, so a decision made within the cutoff's second belongs to this release.
// A decision revised before the release is published only in its last form, because only the
// last form is held.
func ReleaseDue(e Reviewable, cutoff time.Time) bool {
	d := e.HeldDecision()
	return e.UnderReview() && d != nil && !d.DecidedAt.Truncate(time.Second).After(cutoff)
}

// decide sets (or revises) a held decision. Rejections must say why: the applicant reads it.
func decide(held **Decision, reviewer Caller, approve bool, reason string, now time.Time) (Change, error) {
	reason = strings.TrimSpace(reason)
	if !approve && reason == "" {
		return Change{}, Errorf(Invalid, "reason_required", "a rejection needs a reason the applicant can act on")
	}
	if len(reason) > 2000 {
		return Change{}, Errorf(Invalid, "reason_too_long", "the reason is longer than 2000 characters")
	}
	action, revision := "decided", 0
	if *held != nil {
		action, revision = "decision_revised", (*held).Revision
	}
	*held = &Decision{Approve: approve, Reason: reason, Reviewer: reviewer.Subject, DecidedAt: now, Revision: revision}
	return Change{At: now, By: reviewer.Subject, ByReviewer: true, Held: true, Action: action, To: verdict(approve), Reason: reason}, nil
}

// ForOwner is d as the applicant may read it: outcome and reason, never the reviewer's identity.
func (d *Decision) ForOwner() *Decision {
	if d == nil {
		return nil
	}
	o := *d
	o.Reviewer, o.LicenceScopes = "", nil
	return &o
}

// OwnerHistory is an entity's history as its owner may read it, for every kind of entity: a
// reviewer's held decisions and their revisions are left out (the owner learns the outcome
// from the release's entry), and entries made by a reviewer say "reviewer", never who.
// Reviewers read the history as stored.
func OwnerHistory(all []Change) []Change {
	out := make([]Change, 0, len(all))
	for _, c := range all {
		if c.Held {
			continue
		}
		if c.ByReviewer {
			c.By, c.ByReviewer = string(RoleReviewer), false
		}
		out = append(out, c)
	}
	return out
}

// Same reports whether d is the decision approve/reason would record (the reason compared as
// decide stores it, trimmed): a retried call that changes nothing. A nil d is never the same.
func (d *Decision) Same(approve bool, reason string) bool {
	return d != nil && d.Approve == approve && d.Reason == strings.TrimSpace(reason)
}

func verdict(approve bool) string {
	if approve {
		return "approve"
	}
	return "reject"
}

func notDecidable(kind, id, status string, outcome *Decision) error {
	if outcome != nil && outcome.ReleasedAt != nil {
		return Errorf(Conflict, "already_released", "the decision on %s %s was released on %s; it can no longer change",
			kind, id, outcome.ReleasedAt.UTC().Format(time.RFC3339))
	}
	return Errorf(Conflict, "not_under_review", "%s %s is %s, not under review", kind, id, strings.ReplaceAll(status, "_", " "))
}

// ParseVerdict reads "approve" or "reject"; anything else (even empty) is Invalid
// ("invalid_decision"), never silently a rejection.
func ParseVerdict(s string) (bool, error) {
	switch s {
	case "approve":
		return true, nil
	case "reject":
		return false, nil
	}
	return false, Errorf(Invalid, "invalid_decision", "decision must be \"approve\" or \"reject\", not %q", s)
}

// CodeAlphabet is the alphabet of vendor and model codes.
const CodeAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

// MaxCodes is how many 2-character codes exist.
const MaxCodes = len(CodeAlphabet) * len(CodeAlphabet)

// CodeAt returns the n-th 2-character code (n from 0). Codes are handed out in order from a
// counter that only grows, so a code is never reused. It returns Conflict ("codes_exhausted")
// past the last code.
func CodeAt(n int) (string, error) {
	if n < 0 || n >= MaxCodes {
		return "", Errorf(Conflict, "codes_exhausted", "all %d codes are allocated", MaxCodes)
	}
	return string([]byte{CodeAlphabet[n/len(CodeAlphabet)], CodeAlphabet[n%len(CodeAlphabet)]}), nil
}

// ValidCode reports whether s is a 2-character code of CodeAlphabet.
func ValidCode(s string) bool {
	return len(s) == 2 && strings.IndexByte(CodeAlphabet, s[0]) >= 0 && strings.IndexByte(CodeAlphabet, s[1]) >= 0
}

// Message is a notification to an organisation, kept in its outbox.
type Message struct {
	ID       string    `json:"id"`
	Org      string    `json:"org"`
	At       time.Time `json:"at"`
	Subject  string    `json:"subject"`
	Body     string    `json:"body"`
	Entity   string    `json:"entity"` // application | model
	EntityID string    `json:"entityId"`
}

// OutcomeMessage is what the applicant is told when a decision is released.
func OutcomeMessage(id, org, entity, entityID, what string, d *Decision, code string, now time.Time) Message {
	m := Message{ID: id, Org: org, At: now, Entity: entity, EntityID: entityID}
	if d.Approve {
		m.Subject = fmt.Sprintf("%s approved", what)
		m.Body = fmt.Sprintf("Your %s was approved.", what)
		if code != "" {
			m.Body += fmt.Sprintf(" Your code is %s.", code)
		}
	} else {
		m.Subject = fmt.Sprintf("%s rejected", what)
		m.Body = fmt.Sprintf("Your %s was rejected: %s You may change it and submit it again.", what, d.Reason)
	}
	return m
}

package fee

import (
	"time"

	"github.com/facepay/platform/shared/domain"
)

// MaxSignUpBatch is the most devices one sign-up request names.
const MaxSignUpBatch = 500

// MaxSignUpAhead is how far ahead a sign-up may be dated.
const MaxSignUpAhead = 92 * 24 * time.Hour

// Enrolment is a stored sign-up: a provider signed a device up for the fee from Date, within
// its confirmation that began at ConfirmedFrom. (Provider, SN, ConfirmedFrom) is its natural
// key: signing up again within the same confirmation changes nothing.
type Enrolment struct {
	Provider      string    `json:"provider"`
	SN            string    `json:"sn"`
	Date          Date      `json:"date"`
	ConfirmedFrom time.Time `json:"confirmedFrom"`
	SignedBy      string    `json:"signedBy"`
	At            time.Time `json:"at"`
}

// SignUp is the enrolment as the engine reads it.
func (e Enrolment) SignUp() SignUp { return SignUp{Provider: e.Provider, Date: e.Date} }

// Sign-up outcomes per device.
const (
	SignUpCreated = "signed_up"
	SignUpExisted = "already_signed_up"
	SignUpRefused = "refused"
)

// SignUpResult is one device's outcome in a sign-up request: one bad SN never fails the others.
type SignUpResult struct {
	SN        string     `json:"sn"`
	Outcome   string     `json:"outcome"`
	Enrolment *Enrolment `json:"enrolment,omitempty"`
	Code      string     `json:"code,omitempty"`
	Message   string     `json:"message,omitempty"`
}

// CheckSignUpDate returns Invalid unless date is a date from today (Asia/Shanghai) to
// MaxSignUpAhead ahead: a sign-up is never back-dated, so a stated month never changes
// because of one ("invalid_date", "sign_up_date_past", "sign_up_date_too_far").
func CheckSignUpDate(date Date, now time.Time) error {
	if err := date.Validate("date"); err != nil {
		return err
	}
	if today := DateOf(now); date < today {
		return domain.Errorf(domain.Invalid, "sign_up_date_past", "a sign-up cannot start before today (%s)", today)
	}
	if date > DateOf(now.Add(MaxSignUpAhead)) {
		return domain.Errorf(domain.Invalid, "sign_up_date_too_far", "a sign-up starts at most %d days ahead", int(MaxSignUpAhead.Hours()/24))
	}
	return nil
}

// NewEnrolment signs device sn up for provider from date, given the device's confirmations.
// The device must be confirmed to the provider now (Forbidden "device_not_confirmed", what a
// provider gets for a device not its own as well, so devices cannot be probed); existing are
// the device's stored enrolments: one within the same confirmation is returned with created
// false.
func NewEnrolment(provider, sn string, date Date, by string, confirmations []Confirmation, existing []Enrolment, now time.Time) (Enrolment, bool, error) {
	var current *Confirmation
	for i, c := range confirmations {
		if c.Provider == provider && !c.From.After(now) && (c.Until.IsZero() || c.Until.After(now)) {
			current = &confirmations[i]
		}
	}
	if current == nil {
		return Enrolment{}, false, domain.Errorf(domain.Forbidden, "device_not_confirmed", "device %s is not confirmed to you", sn)
	}
	for _, e := range existing {
		if e.Provider == provider && e.ConfirmedFrom.Equal(current.From) {
			return e, false, nil
		}
	}
	return Enrolment{Provider: provider, SN: sn, Date: date, ConfirmedFrom: current.From.UTC(), SignedBy: by, At: now.UTC()}, true, nil
}

// Standing is why a confirmed device is or is not earning today: what the sign-up view shows.
type Standing struct {
	SN            string    `json:"sn"`
	ConfirmedFrom time.Time `json:"confirmedFrom"`
	SignedUpFrom  Date      `json:"signedUpFrom,omitempty"`
	Earning       bool      `json:"earning"`
	Reason        string    `json:"reason,omitempty"`      // not_signed_up, outside_window (before or after it)
	WindowFrom    Month     `json:"windowFrom,omitempty"`  // first month of the device's window
	WindowUntil   Month     `json:"windowUntil,omitempty"` // its last month
}

// StandingOf says whether a device confirmed to provider earns on the day of now under p.
func StandingOf(p Policy, provider, sn string, confirmations []Confirmation, enrolments []Enrolment, now time.Time) Standing {
	st := Standing{SN: sn}
	today := DateOf(now)
	var signups []SignUp
	for _, e := range enrolments {
		signups = append(signups, e.SignUp())
	}
	for _, c := range confirmations {
		if c.Provider == provider && c.owns(today.end()) {
			st.ConfirmedFrom = c.From.UTC()
		}
	}
	for _, e := range enrolments {
		if e.Provider == provider && e.ConfirmedFrom.Equal(st.ConfirmedFrom) {
			st.SignedUpFrom = e.Date
		}
	}
	if len(confirmations) > 0 {
		st.WindowFrom = firstMonth(p.Window, confirmations)
		st.WindowUntil = st.WindowFrom.AddMonths(p.Window.Months - 1)
	}
	switch dev := (DeviceInput{SN: sn, Confirmations: confirmations, SignUps: signups}); {
	case !windowHolds(p.Window, today.Month(), confirmations):
		st.Reason = ReasonOutsideWindow
	case !signedUp(provider, today, today.end(), dev, confirmationDates(confirmations)):
		st.Reason = ReasonNotSignedUp
	default:
		st.Earning = true
	}
	return st
}

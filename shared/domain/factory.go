package domain

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// The factory check (DOMAIN.md "The factory check"): a production-line station reports each
// device's SN and camera SN with the outcome of its checks; the platform records the device
// and answers pass, fail with a concrete reason, or special (check again).

// CheckResult is the outcome of one factory check, as the tool reports it and as the platform
// answers it.
type CheckResult string

// Check results.
const (
	CheckPass    CheckResult = "pass"
	CheckFail    CheckResult = "fail"
	CheckSpecial CheckResult = "special" // a tool or network problem: check again
)

// DeviceStatus is where a production device stands after its checks.
type DeviceStatus string

// Device statuses. Only a passed device may ship and take face payments.
const (
	DevicePassed       DeviceStatus = "passed"
	DeviceFailed       DeviceStatus = "failed"
	DeviceSpecial      DeviceStatus = "special"
	DeviceReregistered DeviceStatus = "reregistered" // mainboard swapped, SN rewritten: awaits its next check
)

// Reasons the platform fails a check the tool passed (errors[] codes), and warnings.
const (
	ErrModelNotAccepted = "model_not_accepted" // the model is not in PVT or MP
	ErrModelRestricted  = "model_restricted"
	ErrModelExpired     = "model_expired"
	ErrCameraSNEmpty    = "camera_sn_empty"
	WarnAlreadyChecked  = "already_checked"
	WarnSameReport      = "same_report" // the report was received before; nothing changed
	WarnBackfilled      = "backfilled"
)

// BackfillAfter is how old a report's check time may be before the report counts as
// back-filled (the line shipped during a platform outage and reports later) *(our choice)*.
const BackfillAfter = time.Hour

// MaxBatch is the most devices one factory report carries.
const MaxBatch = 500

// FactoryReport is one device's factory check as a station reports it, validated.
type FactoryReport struct {
	SN           string
	CameraSN     string
	ModelID      string
	SoftwareMode SoftwareMode
	WiredMAC     string
	WirelessMAC  string
	BluetoothMAC string
	IMEI         string
	AppVersion   string
	Result       CheckResult
	Errors       []string // the tool's failed checks
	Station      string
	CheckedAt    time.Time
	Backfill     bool // the station says it reports after the fact
}

var (
	macPattern     = regexp.MustCompile(`^[0-9A-F]{2}(:[0-9A-F]{2}){5}$`)
	imeiPattern    = regexp.MustCompile(`^[0-9]{15}$`)
	tokenPattern   = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)
	cameraPattern  = regexp.MustCompile(`^[0-9A-Za-z-]{1,32}$`)
	versionPattern = regexp.MustCompile(`^[0-9A-Za-z._+-]{1,32}$`)
	stationPattern = regexp.MustCompile(`^[0-9A-Za-z._:-]{1,40}$`)
)

// normalizeMAC upper-cases a MAC address and accepts '-' as separator. "" stays "".
func normalizeMAC(field, s string) (string, error) {
	if s == "" {
		return "", nil
	}
	m := strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(s), "-", ":"))
	if !macPattern.MatchString(m) {
		return "", Errorf(Invalid, "invalid_mac", "%s %q is not a MAC address (six hexadecimal pairs)", field, s)
	}
	return m, nil
}

// luhnValid reports whether the digits pass the Luhn check (an IMEI's last digit).
func luhnValid(d string) bool {
	sum := 0
	for i := range len(d) {
		n := int(d[len(d)-1-i] - '0')
		if i%2 == 1 {
			if n *= 2; n > 9 {
				n -= 9
			}
		}
		sum += n
	}
	return sum%10 == 0
}

// NewFactoryReport validates one device's report fields. Error codes (Invalid): invalid_sn,
// invalid_camera_sn, unknown_software_mode, invalid_mac, invalid_imei, invalid_app_version,
// invalid_result, invalid_check_error, invalid_station, invalid_checked_at. The SN is checked
// against the model later (ValidateSerialNumber), once the model is known.
func NewFactoryReport(sn, cameraSN, modelID, mode, wired, wireless, bt, imei, appVersion, result string, errs []string,
	station, checkedAt string, backfill bool, now time.Time) (FactoryReport, error) {
	r := FactoryReport{SN: sn, CameraSN: strings.TrimSpace(cameraSN), ModelID: modelID, AppVersion: appVersion, Station: station, Backfill: backfill}
	if _, err := ParseSerialNumber(sn); err != nil {
		return r, err
	}
	if r.CameraSN != "" && !cameraPattern.MatchString(r.CameraSN) {
		return r, Errorf(Invalid, "invalid_camera_sn", "cameraSn %q must be 1-32 letters, digits or '-'", cameraSN)
	}
	var err error
	if r.SoftwareMode, err = ParseSoftwareMode(mode); err != nil {
		return r, err
	}
	if r.WiredMAC, err = normalizeMAC("wiredMac", wired); err != nil {
		return r, err
	}
	if r.WirelessMAC, err = normalizeMAC("wirelessMac", wireless); err != nil {
		return r, err
	}
	if r.BluetoothMAC, err = normalizeMAC("bluetoothMac", bt); err != nil {
		return r, err
	}
	if imei != "" && (!imeiPattern.MatchString(imei) || !luhnValid(imei)) {
		return r, Errorf(Invalid, "invalid_imei", "imei %q must be 15 digits with a valid check digit", imei)
	}
	r.IMEI = imei
	if !versionPattern.MatchString(appVersion) {
		return r, Errorf(Invalid, "invalid_app_version", "appVersion %q must be 1-32 characters of 0-9A-Za-z._+-", appVersion)
	}
	switch CheckResult(result) {
	case CheckPass, CheckFail, CheckSpecial:
		r.Result = CheckResult(result)
	default:
		return r, Errorf(Invalid, "invalid_result", "result %q is not one of pass, fail, special", result)
	}
	if len(errs) > 6 {
		return r, Errorf(Invalid, "invalid_check_error", "at most 6 errors per device")
	}
	for _, e := range errs {
		if !tokenPattern.MatchString(e) {
			return r, Errorf(Invalid, "invalid_check_error", "error %q must be a snake_case code of at most 32 characters", e)
		}
	}
	if r.Result == CheckFail && len(errs) == 0 {
		return r, Errorf(Invalid, "invalid_check_error", "a failed check names what failed in errors")
	}
	r.Errors = slices.Clone(errs)
	if !stationPattern.MatchString(station) {
		return r, Errorf(Invalid, "invalid_station", "station %q must be 1-40 characters of 0-9A-Za-z._:-", station)
	}
	at, perr := time.Parse(time.RFC3339, checkedAt)
	if perr != nil || at.After(now.Add(5*time.Minute)) || at.Before(now.AddDate(-1, 0, 0)) {
		return r, Errorf(Invalid, "invalid_checked_at", "checkedAt must be an RFC 3339 time, not in the future and within a year")
	}
	r.CheckedAt = at.UTC().Truncate(time.Second)
	return r, nil
}

// Fingerprint identifies the report's content: the same report received twice has the same
// fingerprint and changes nothing.
func (r FactoryReport) Fingerprint() string {
	h := sha256.Sum256([]byte(strings.Join([]string{r.SN, r.CameraSN, r.ModelID, string(r.SoftwareMode), r.WiredMAC, r.WirelessMAC,
		r.BluetoothMAC, r.IMEI, r.AppVersion, string(r.Result), strings.Join(r.Errors, ","), r.Station,
		r.CheckedAt.Format(time.RFC3339), fmt.Sprint(r.Backfill)}, "\x1f")))
	return base64.RawURLEncoding.EncodeToString(h[:12])
}

// Device is a production device as its factory checks left it: the last check's record, the
// software mode locked at its first passing check, and the model stage it first passed in.
type Device struct {
	SN            string          `json:"sn"`
	VendorOrg     string          `json:"vendorOrg"`
	ModelID       string          `json:"modelId"`
	Status        DeviceStatus    `json:"status"`
	SoftwareMode  SoftwareMode    `json:"softwareMode"`
	CameraSN      string          `json:"cameraSn,omitempty"`
	WiredMAC      string          `json:"wiredMac,omitempty"`
	WirelessMAC   string          `json:"wirelessMac,omitempty"`
	BluetoothMAC  string          `json:"bluetoothMac,omitempty"`
	IMEI          string          `json:"imei,omitempty"`
	AppVersion    string          `json:"appVersion"`
	Result        CheckResult     `json:"result"`
	Errors        []string        `json:"errors"`
	Warnings      []string        `json:"warnings"`
	Station       string          `json:"station"`
	CheckedAt     time.Time       `json:"checkedAt"`
	ReceivedAt    time.Time       `json:"receivedAt"`
	Backfilled    bool            `json:"backfilled"`
	Checks        int             `json:"checks"`
	FirstPassedAt *time.Time      `json:"firstPassedAt,omitempty"`
	PassedIn      Stage           `json:"passedIn,omitempty"` // the model's stage at the first pass (pvt or mp)
	Registration  int             `json:"registration"`       // 1, +1 per re-registration after a mainboard swap
	Conflict      *CameraConflict `json:"conflict,omitempty"`
	// PendingModeRequest is the software-mode change request waiting for a reviewer ("" when none):
	// one at a time per device.
	PendingModeRequest string `json:"pendingModeRequest,omitempty"`
	Fingerprint        string `json:"-"`
	Version            int    `json:"-"`
}

// CameraConflict is another camera SN reported for a passed SN: the vendor resolves it (a mainboard
// swap is re-registered; anything else is investigated).
type CameraConflict struct {
	CameraSN string    `json:"cameraSn"`
	Station  string    `json:"station"`
	At       time.Time `json:"at"`
}

// CheckOutcome is the platform's answer for one reported device.
type CheckOutcome struct {
	Result     CheckResult `json:"result"`
	Errors     []string    `json:"errors"`
	Warnings   []string    `json:"warnings"`
	Backfilled bool        `json:"backfilled"`
	Created    bool        `json:"-"` // a device the platform did not know
	Changed    bool        `json:"-"` // the device must be written
}

// platformResult is what the platform makes of a tool's result given the model's stage.
func platformResult(r FactoryReport, stage Stage) (CheckResult, []string) {
	errs := slices.Clone(r.Errors)
	switch r.Result {
	case CheckSpecial:
		return CheckSpecial, errs
	case CheckFail:
		return CheckFail, errs
	}
	if r.CameraSN == "" {
		return CheckFail, append(errs, ErrCameraSNEmpty)
	}
	switch stage {
	case StagePVT, StageMP:
		return CheckPass, errs
	case StageRestricted:
		return CheckFail, append(errs, ErrModelRestricted)
	case StageExpired:
		return CheckFail, append(errs, ErrModelExpired)
	}
	return CheckFail, append(errs, ErrModelNotAccepted)
}

// ErrorMessage explains a platform reason in words.
func ErrorMessage(code string) string {
	switch code {
	case ErrModelNotAccepted:
		return "this model has not passed acceptance: devices may ship only once it is in small-batch (PVT) or mass production (MP)"
	case ErrModelRestricted:
		return "this model is restricted: devices must not ship until the restriction is lifted"
	case ErrModelExpired:
		return "this model's certification expired: devices must not ship"
	case ErrCameraSNEmpty:
		return "camera SN empty"
	}
	return ""
}

// Check applies report r of a device of model m (in stage) at now to the device's current
// record prev (nil for a device the platform does not know). It returns the device to write
// (nil when nothing changes), the answer, and the history entries. Error codes: camera_sn_conflict
// (Conflict; the conflict is recorded on the device for the vendor), software_mode_locked
// (Conflict), unsupported_software_mode (Invalid).
func Check(prev *Device, r FactoryReport, m *Model, stage Stage, now time.Time) (*Device, CheckOutcome, []Change, error) {
	if !slices.Contains(m.SoftwareModes, r.SoftwareMode) {
		return nil, CheckOutcome{}, nil, Errorf(Invalid, "unsupported_software_mode", "model %s does not support software mode %s", m.Name, r.SoftwareMode)
	}
	fp := r.Fingerprint()
	if prev != nil && prev.Fingerprint == fp {
		return nil, CheckOutcome{Result: prev.Result, Errors: nonNil(prev.Errors), Warnings: []string{WarnSameReport}, Backfilled: prev.Backfilled}, nil, nil
	}
	backfilled := r.Backfill || now.Sub(r.CheckedAt) > BackfillAfter
	if prev != nil && prev.Status == DevicePassed && r.CameraSN != "" && prev.CameraSN != r.CameraSN {
		next := *prev
		if next.Conflict != nil && next.Conflict.CameraSN == r.CameraSN {
			return nil, CheckOutcome{}, nil, cameraConflict(prev, r)
		}
		next.Conflict = &CameraConflict{CameraSN: r.CameraSN, Station: r.Station, At: now}
		ch := Change{At: now, By: "factory:" + r.Station, Action: "camera_sn_conflict", From: prev.CameraSN, To: r.CameraSN}
		return &next, CheckOutcome{Changed: true}, []Change{ch}, cameraConflict(prev, r)
	}
	if prev != nil && prev.FirstPassedAt != nil && prev.SoftwareMode != r.SoftwareMode {
		return nil, CheckOutcome{}, nil, Errorf(Conflict, "software_mode_locked",
			"device %s runs %s mode since its first passing check; changing it is a request to the platform", r.SN, prev.SoftwareMode)
	}
	result, errs := platformResult(r, stage)
	d := &Device{SN: r.SN, VendorOrg: m.VendorOrg, ModelID: m.ID, Registration: 1}
	var out []Change
	warnings := []string{}
	if prev != nil {
		cp := *prev
		d = &cp
		warnings = append(warnings, WarnAlreadyChecked)
		d.Conflict = nil
	}
	if backfilled {
		warnings = append(warnings, WarnBackfilled)
	}
	status := map[CheckResult]DeviceStatus{CheckPass: DevicePassed, CheckFail: DeviceFailed, CheckSpecial: DeviceSpecial}[result]
	if prev != nil && prev.Status != status {
		out = append(out, Change{At: now, By: "factory:" + r.Station, Action: "factory_checked", From: string(prev.Status), To: string(status)})
	}
	d.Status, d.Result, d.Errors, d.Warnings = status, result, nonNil(errs), warnings
	d.CameraSN, d.WiredMAC, d.WirelessMAC, d.BluetoothMAC, d.IMEI = r.CameraSN, r.WiredMAC, r.WirelessMAC, r.BluetoothMAC, r.IMEI
	d.AppVersion, d.Station, d.CheckedAt, d.ReceivedAt, d.Backfilled = r.AppVersion, r.Station, r.CheckedAt, now, backfilled
	d.Checks++
	d.Fingerprint = fp
	if d.FirstPassedAt == nil {
		d.SoftwareMode = r.SoftwareMode
		if result == CheckPass {
			at := now
			d.FirstPassedAt, d.PassedIn = &at, stage
		}
	}
	return d, CheckOutcome{Result: result, Errors: d.Errors, Warnings: warnings, Backfilled: backfilled, Created: prev == nil, Changed: true}, out, nil
}

func cameraConflict(prev *Device, r FactoryReport) error {
	return Errorf(Conflict, "camera_sn_conflict", "device %s passed with camera SN %s; camera SN %s is a conflict for the vendor to resolve (a mainboard swap is re-registered)",
		r.SN, prev.CameraSN, r.CameraSN)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Reregister records that device d's SN was rewritten onto a new mainboard (DOMAIN.md "Device
// serial numbers"): the device awaits its next factory check, which may bring a new camera SN
// and MACs; the software mode stays locked. Error code: not_reregistrable (Conflict) unless
// the device passed its check. The reason is kept in history.
func (d *Device) Reregister(by, reason string, now time.Time) (Change, error) {
	if d.Status != DevicePassed {
		return Change{}, Errorf(Conflict, "not_reregistrable", "device %s is %s; only a passed device is re-registered after a mainboard swap", d.SN, d.Status)
	}
	if strings.TrimSpace(reason) == "" {
		return Change{}, Errorf(Invalid, "reason_required", "say why the SN is re-registered (e.g. the mainboard swap's ticket)")
	}
	ch := Change{At: now, By: by, Action: "sn_reregistered", From: d.CameraSN, To: fmt.Sprintf("registration %d", d.Registration+1), Reason: reason}
	d.Status, d.Registration, d.Conflict, d.Fingerprint = DeviceReregistered, d.Registration+1, nil, ""
	// The camera SN and MACs of the old board stay in history (From) and on the record until
	// the next check replaces them; a new camera SN is then no conflict.
	d.CameraSN = ""
	return ch, nil
}

// InventoryEntry is one device of a vendor's inventory: a production device, or a vendor test
// device (TestDevice set), which never counts as a production device.
type InventoryEntry struct {
	SN           string       `json:"sn"`
	ModelID      string       `json:"modelId"`
	Status       string       `json:"status"` // a DeviceStatus, or the test device's status
	SoftwareMode SoftwareMode `json:"softwareMode,omitempty"`
	CameraSN     string       `json:"cameraSn,omitempty"`
	CheckedAt    *time.Time   `json:"checkedAt,omitempty"`
	Backfilled   bool         `json:"backfilled,omitempty"`
	Conflict     bool         `json:"conflict,omitempty"`
	Provider     string       `json:"provider,omitempty"`     // in a provider listing: the binding's provider
	BindingState BindingState `json:"bindingState,omitempty"` // in a provider listing: assigned or confirmed
	TestDevice   bool         `json:"testDevice"`
	TestUntil    string       `json:"testUntil,omitempty"` // a test device's expected completion date
}

// Entry is d's line in its vendor's inventory.
func (d *Device) Entry() InventoryEntry {
	at := d.CheckedAt
	return InventoryEntry{SN: d.SN, ModelID: d.ModelID, Status: string(d.Status), SoftwareMode: d.SoftwareMode, CameraSN: d.CameraSN,
		CheckedAt: &at, Backfilled: d.Backfilled, Conflict: d.Conflict != nil}
}

// Entry is a test device's line in its vendor's inventory, marked as a test device.
func (d *TestDevice) Entry() InventoryEntry {
	return InventoryEntry{SN: d.SN, ModelID: d.ModelID, Status: string(d.Status), TestDevice: true, TestUntil: d.ExpectedCompletion}
}

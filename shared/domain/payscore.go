package domain

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Pay Score for unattended devices (DOMAIN.md "Pay Score for unattended devices"): a merchant
// applies for one scenario with every field of the programme's table and its attachments;
// the application is reviewed only when complete and with a verified customer-service phone
// (else deferred to the next week's review); an approval configures a service ID due in 7–10
// Chinese working days; the merchant signs the agreement online, then submits go-live
// acceptance materials, reviewed any day and released on Tuesdays and Thursdays; approval
// makes the service live for the approved scenario only, and a reviewer's report of use in
// another scenario revokes it. Both reviews are held decisions (Reviewable): the application
// review on the weekly calendar, the acceptance on CalendarPayScoreAcceptance.

// PayScoreScenario is the unattended-device scenario a merchant applies for.
type PayScoreScenario string

// The four scenarios.
const (
	ScenarioSmartFridge  PayScoreScenario = "smart_fridge"
	ScenarioPowerBank    PayScoreScenario = "power_bank"
	ScenarioChargingPile PayScoreScenario = "charging_pile"
	ScenarioCampusWater  PayScoreScenario = "campus_water_control"
)

// Licence scopes a reviewer reads on the business licence.
const (
	ScopeFoodSales           = "food_sales"
	ScopeVendingMachineSales = "vending_machine_sales"
	ScopeSharingRental       = "sharing_rental"
	ScopeOther               = "other"
)

// scenarioRules: whether the scenario is a deposit-free rental (charging rules required) and
// which licence scopes cover it (any one; none listed: the programme states no scope).
var scenarioRules = map[PayScoreScenario]struct {
	rental bool
	scopes []string
}{
	ScenarioSmartFridge:  {false, []string{ScopeFoodSales, ScopeVendingMachineSales}},
	ScenarioPowerBank:    {true, []string{ScopeSharingRental}},
	ScenarioChargingPile: {true, []string{ScopeSharingRental}},
	ScenarioCampusWater:  {false, nil},
}

// MerchantType is the merchant's entity type as its payment account records it.
type MerchantType string

// Merchant types. Direct mode refuses individual businesses, micro merchants and service providers.
const (
	MerchantEnterprise         MerchantType = "enterprise"
	MerchantInstitution        MerchantType = "institution"
	MerchantIndividualBusiness MerchantType = "individual_business"
	MerchantMicro              MerchantType = "micro_merchant"
	MerchantServiceProvider    MerchantType = "service_provider"
)

var ineligibleTypes = map[MerchantType]string{
	MerchantIndividualBusiness: "ineligible_individual_business",
	MerchantMicro:              "ineligible_micro_merchant",
	MerchantServiceProvider:    "ineligible_service_provider",
}

// PayScoreStatus is where a Pay Score application is.
type PayScoreStatus string

// Pay Score statuses, in the order of the flow.
const (
	PayScoreDraft            PayScoreStatus = "draft"
	PayScoreDeferred         PayScoreStatus = "deferred"          // submitted without a verified phone: waits for next week's review
	PayScoreUnderReview      PayScoreStatus = "under_review"      // a reviewer decides; released on Monday
	PayScoreRejected         PayScoreStatus = "rejected"          // released rejection: apply again
	PayScoreConfiguring      PayScoreStatus = "configuring"       // approved: the service ID is being configured (7–10 working days)
	PayScoreServiceReady     PayScoreStatus = "service_ready"     // service ID configured: the merchant signs the agreement
	PayScoreDeveloping       PayScoreStatus = "developing"        // agreement signed: develops against the service ID, uploads acceptance materials
	PayScoreAcceptanceReview PayScoreStatus = "acceptance_review" // acceptance submitted; released on Tuesday or Thursday
	PayScoreLive             PayScoreStatus = "live"
	PayScoreRevoked          PayScoreStatus = "revoked"
	PayScoreExpired          PayScoreStatus = "expired"
)

// Service ID configuration takes 7–10 working days; a complaint rate of 0.01% (100 per
// million) or more is ineligible.
const (
	ServiceIDMinWorkingDays      = 7
	ServiceIDMaxWorkingDays      = 10
	ComplaintRateLimitPerMillion = 100
)

// Attachment slots of the application and of the go-live acceptance.
const (
	SlotInteractionFlow     = "interaction_flow"
	SlotDevicePanorama      = "device_panorama"
	SlotBusinessLicence     = "business_licence"
	SlotPurchaseAgreement   = "purchase_agreement"
	SlotComplaintResolution = "complaint_resolution"
	SlotScreenRecording     = "screen_recording"
	SlotOnsiteVideo         = "onsite_video"
	SlotOrderCompleted      = "order_completed"
	SlotOrderCancelled      = "order_cancelled"
	SlotEmergencySwitch     = "emergency_switch"
)

// PayScoreSlot is one attachment slot: what it holds, which file types it takes, the code a
// missing one is refused with.
type PayScoreSlot struct {
	Name        string   `json:"name"`
	What        string   `json:"what"`
	Extensions  []string `json:"extensions"`
	MissingCode string   `json:"-"`
	Acceptance  bool     `json:"acceptance"`
}

var (
	images    = []string{".png", ".jpg", ".jpeg"}
	documents = []string{".pdf", ".png", ".jpg", ".jpeg"}
	videos    = []string{".mp4"}
)

// PayScoreSlots are the slots, application first, then acceptance.
var PayScoreSlots = []PayScoreSlot{
	{SlotInteractionFlow, "product interaction-flow diagram: authorise → charge succeeded, or assessment failed → cannot use / other payment; Pay Score logo and score threshold visible on the scan-to-open page", documents, "missing_interaction_flow", false},
	{SlotDevicePanorama, "panoramic photo of the deployed device", images, "missing_device_panorama", false},
	{SlotBusinessLicence, "business licence (its scope must fit the scenario)", documents, "missing_business_licence", false},
	{SlotPurchaseAgreement, "device purchase agreement naming the applicant", documents, "missing_purchase_agreement", false},
	{SlotComplaintResolution, "screenshots showing every consumer complaint resolved (required when the merchant has complaints)", documents, "missing_complaint_resolution", false},
	{SlotScreenRecording, "phone screen recording of the whole flow", videos, "missing_screen_recording", true},
	{SlotOnsiteVideo, "on-site video of the whole flow, filmed from a third person's angle", videos, "missing_onsite_video", true},
	{SlotOrderCompleted, "order-detail screenshot of a completed order", images, "missing_completed_order_screenshot", true},
	{SlotOrderCancelled, "order-detail screenshot of a cancelled order", images, "missing_cancelled_order_screenshot", true},
	{SlotEmergencySwitch, "screenshot or recording of the emergency switch that closes the Pay Score entry", append(slices.Clone(images), videos...), "missing_emergency_switch", true},
}

// PayScoreSlotOf returns the slot called name. It returns Invalid ("unknown_slot").
func PayScoreSlotOf(name string) (PayScoreSlot, error) {
	for _, s := range PayScoreSlots {
		if s.Name == name {
			return s, nil
		}
	}
	return PayScoreSlot{}, Errorf(Invalid, "unknown_slot", "slot %q is not a Pay Score attachment slot", name)
}

// TicketBand is one band of the ticket-size distribution, in whole yuan: [FromYuan, ToYuan).
type TicketBand struct {
	FromYuan int `json:"fromYuan"`
	ToYuan   int `json:"toYuan"`
	Percent  int `json:"percent"`
}

// ChargingRules are a rental scenario's charges, in fen.
type ChargingRules struct {
	PerHourFen  int64 `json:"perHourFen"`
	FreeMinutes int   `json:"freeMinutes"`
	DailyCapFen int64 `json:"dailyCapFen"`
	TotalCapFen int64 `json:"totalCapFen"`
}

// DeploymentSite is where devices are deployed and how many.
type DeploymentSite struct {
	Site    string `json:"site" maxLength:"200"`
	Devices int    `json:"devices"`
}

// Software says who built the merchant's software: itself, or a supplier (named).
type Software struct {
	SelfBuilt bool   `json:"selfBuilt"`
	Supplier  string `json:"supplier,omitempty" maxLength:"200"`
}

// PayScoreDetails are the fields of the programme's application table, plus what eligibility
// needs (merchant type, complaints, violations).
type PayScoreDetails struct {
	Company                   string           `json:"company" maxLength:"200"` // the name on the business licence
	BusinessSummary           string           `json:"businessSummary" maxLength:"2000"`
	MerchantID                string           `json:"merchantId" maxLength:"32"`
	MerchantType              MerchantType     `json:"merchantType" maxLength:"40"`
	Software                  Software         `json:"software"`
	OperatingModel            string           `json:"operatingModel" maxLength:"20"` // self_run | franchise | hardware_sale
	CurrentDailyTransactions  int              `json:"currentDailyTransactions"`
	ExpectedDailyTransactions int              `json:"expectedDailyTransactions"`
	AverageTicketFen          int64            `json:"averageTicketFen"`
	TicketDistribution        []TicketBand     `json:"ticketDistribution" maxItems:"20"`
	ChargingRules             *ChargingRules   `json:"chargingRules,omitempty"`
	Channels                  []string         `json:"channels" maxLength:"20" maxItems:"3"` // mini_program | app | h5
	DeploymentSites           []DeploymentSite `json:"deploymentSites" maxItems:"200"`
	CommunicationGroup        string           `json:"communicationGroup" maxLength:"200"`
	FaceCapability            bool             `json:"faceCapability"` // needs face: the separate face Pay Score process follows
	MonthlyOrders             int64            `json:"monthlyOrders"`
	MonthlyComplaints         int64            `json:"monthlyComplaints"`
	Violations                bool             `json:"violations"`
}

var (
	merchantIDPattern = regexp.MustCompile(`^[0-9]{8,32}$`)
	operatingModels   = []string{"self_run", "franchise", "hardware_sale"}
	payScoreChannels  = []string{"mini_program", "app", "h5"}
)

// ComplaintRatePerMillion is the monthly complaint rate in parts per million (0 without orders).
func (d PayScoreDetails) ComplaintRatePerMillion() int64 {
	if d.MonthlyOrders <= 0 {
		return 0
	}
	return d.MonthlyComplaints * 1_000_000 / d.MonthlyOrders
}

// Check validates the details for scenario s and the merchant's eligibility. Eligibility
// codes (Forbidden): ineligible_individual_business, ineligible_micro_merchant,
// ineligible_service_provider, complaint_rate_too_high, entity_has_violations. Field codes
// (Invalid): unknown_scenario, unknown_merchant_type, missing_company, missing_business_summary,
// invalid_merchant_id, missing_software_supplier, unknown_operating_model,
// invalid_daily_transactions, invalid_ticket_size, invalid_ticket_distribution,
// missing_charging_rules, charging_rules_not_applicable, invalid_charging_rules,
// missing_channel, unknown_channel, missing_deployment_sites, invalid_deployment_site,
// missing_communication_group, invalid_complaints.
func (d *PayScoreDetails) Check(s PayScoreScenario) error {
	rules, ok := scenarioRules[s]
	if !ok {
		return Errorf(Invalid, "unknown_scenario", "scenario %q is not one of smart_fridge, power_bank, charging_pile, campus_water_control", s)
	}
	if code, bad := ineligibleTypes[d.MerchantType]; bad {
		return Errorf(Forbidden, code, "direct-mode Pay Score is not open to %s merchants", strings.ReplaceAll(string(d.MerchantType), "_", " "))
	}
	if d.MerchantType != MerchantEnterprise && d.MerchantType != MerchantInstitution {
		return Errorf(Invalid, "unknown_merchant_type", "merchantType %q is not one of enterprise, institution, individual_business, micro_merchant, service_provider", d.MerchantType)
	}
	if d.MonthlyOrders < 0 || d.MonthlyComplaints < 0 || d.MonthlyComplaints > d.MonthlyOrders && d.MonthlyOrders > 0 {
		return Errorf(Invalid, "invalid_complaints", "monthlyOrders and monthlyComplaints must be counts, complaints at most orders")
	}
	if d.ComplaintRatePerMillion() >= ComplaintRateLimitPerMillion {
		return Errorf(Forbidden, "complaint_rate_too_high", "a monthly complaint rate of %d.%04d%% is at or above the 0.01%% limit",
			d.ComplaintRatePerMillion()/10_000, d.ComplaintRatePerMillion()%10_000)
	}
	if d.Violations {
		return Errorf(Forbidden, "entity_has_violations", "an entity with violations is not eligible for Pay Score")
	}
	d.Company, d.BusinessSummary, d.CommunicationGroup = strings.TrimSpace(d.Company), strings.TrimSpace(d.BusinessSummary), strings.TrimSpace(d.CommunicationGroup)
	switch {
	case d.Company == "":
		return Errorf(Invalid, "missing_company", "company (the name on the business licence) is required")
	case d.BusinessSummary == "":
		return Errorf(Invalid, "missing_business_summary", "businessSummary is required")
	case !merchantIDPattern.MatchString(d.MerchantID):
		return Errorf(Invalid, "invalid_merchant_id", "merchantId must be the payment merchant id: 8 to 32 digits")
	case !d.Software.SelfBuilt && strings.TrimSpace(d.Software.Supplier) == "":
		return Errorf(Invalid, "missing_software_supplier", "software is self-built, or names its supplier")
	case !slices.Contains(operatingModels, d.OperatingModel):
		return Errorf(Invalid, "unknown_operating_model", "operatingModel must be self_run, franchise or hardware_sale")
	case d.CurrentDailyTransactions < 0 || d.ExpectedDailyTransactions <= 0:
		return Errorf(Invalid, "invalid_daily_transactions", "currentDailyTransactions must be 0 or more, expectedDailyTransactions more than 0")
	case d.AverageTicketFen <= 0:
		return Errorf(Invalid, "invalid_ticket_size", "averageTicketFen must be more than 0 (fen)")
	}
	if err := checkDistribution(d.TicketDistribution); err != nil {
		return err
	}
	switch {
	case rules.rental && d.ChargingRules == nil:
		return Errorf(Invalid, "missing_charging_rules", "a %s application states its charging rules (per hour, free minutes, daily cap, total cap)", s)
	case !rules.rental && d.ChargingRules != nil:
		return Errorf(Invalid, "charging_rules_not_applicable", "charging rules are for rental scenarios (power_bank, charging_pile) only")
	case d.ChargingRules != nil:
		r := d.ChargingRules
		if r.PerHourFen <= 0 || r.FreeMinutes < 0 || r.DailyCapFen < r.PerHourFen || r.TotalCapFen < r.DailyCapFen {
			return Errorf(Invalid, "invalid_charging_rules", "charging rules need perHourFen > 0, freeMinutes ≥ 0, dailyCapFen ≥ perHourFen, totalCapFen ≥ dailyCapFen")
		}
	}
	if len(d.Channels) == 0 {
		return Errorf(Invalid, "missing_channel", "channels needs mini_program, app or h5")
	}
	for _, c := range d.Channels {
		if !slices.Contains(payScoreChannels, c) {
			return Errorf(Invalid, "unknown_channel", "channel %q is not one of mini_program, app, h5", c)
		}
	}
	if len(d.DeploymentSites) == 0 {
		return Errorf(Invalid, "missing_deployment_sites", "deploymentSites lists the sites and their device counts")
	}
	for _, site := range d.DeploymentSites {
		if strings.TrimSpace(site.Site) == "" || site.Devices <= 0 {
			return Errorf(Invalid, "invalid_deployment_site", "every deployment site has a name and at least one device")
		}
	}
	if d.CommunicationGroup == "" {
		return Errorf(Invalid, "missing_communication_group", "communicationGroup (the group's name) is required")
	}
	return nil
}

func checkDistribution(bands []TicketBand) error {
	if len(bands) == 0 {
		return Errorf(Invalid, "invalid_ticket_distribution", "ticketDistribution lists the ticket-size bands (e.g. 0–10 yuan 60%%)")
	}
	total, last := 0, 0
	for i, b := range bands {
		if b.FromYuan < 0 || b.ToYuan <= b.FromYuan || b.Percent < 0 || (i > 0 && b.FromYuan < last) {
			return Errorf(Invalid, "invalid_ticket_distribution", "ticket-size bands must be ordered, not overlapping, with fromYuan < toYuan")
		}
		total, last = total+b.Percent, b.ToYuan
	}
	if total != 100 {
		return Errorf(Invalid, "invalid_ticket_distribution", "the ticket-size distribution adds up to %d%%, not 100%%", total)
	}
	return nil
}

// Phone is the merchant's customer-service phone and its verification: when, and which of the
// merchant's users recorded it. The check itself is the payment programme's (DOMAIN.md lists
// the verified phone with the merchant id and the service-ID request among what the merchant
// brings to the application); the platform records its result and holds the review on it.
type Phone struct {
	Number     string    `json:"number"`
	VerifiedAt time.Time `json:"verifiedAt"`
	VerifiedBy string    `json:"verifiedBy"`
}

var phonePattern = regexp.MustCompile(`^[0-9][0-9-]{4,19}$`)

// ServiceID is the Pay Score service ID configured on approval.
type ServiceID struct {
	ID         string     `json:"id"`
	Earliest   time.Time  `json:"earliest"` // 7 working days after the approval's release
	Due        time.Time  `json:"due"`      // 10 working days after: configured by then, no expediting
	ReadyAt    *time.Time `json:"readyAt,omitempty"`
	Expediting bool       `json:"expediting"` // always false: the programme does not expedite
}

// Signature records the online signing of the Pay Score agreement.
type Signature struct {
	By        string    `json:"by"`
	At        time.Time `json:"at"`
	Agreement string    `json:"agreement"`
}

// Revocation is why Pay Score was taken offline.
type Revocation struct {
	At               time.Time        `json:"at"`
	ReportedScenario PayScoreScenario `json:"reportedScenario"`
	Report           string           `json:"report"`
}

// PayScoreAgreement names the agreement version the merchant signs.
const PayScoreAgreement = "微信支付分服务协议"

// PayScoreApplication is a merchant's Pay Score application and go-live.
type PayScoreApplication struct {
	ID          string                 `json:"id"`
	Org         string                 `json:"org"`
	Scenario    PayScoreScenario       `json:"scenario"`
	Details     PayScoreDetails        `json:"details"`
	Phone       *Phone                 `json:"customerServicePhone,omitempty"`
	Attachments map[string]*Attachment `json:"attachments"`
	Status      PayScoreStatus         `json:"status"`
	// DeferredUntil is the start of the next week's review an application without a
	// verified phone was deferred to.
	DeferredUntil *time.Time `json:"deferredUntil,omitempty"`
	// LicenceScopes are what the reviewer read on the business licence (recorded with the decision).
	LicenceScopes     []string         `json:"licenceScopes,omitempty"`
	Decision          *Decision        `json:"-"` // held (see Application.Decision)
	Outcome           *Decision        `json:"outcome,omitempty"`
	AcceptanceOutcome *Decision        `json:"acceptanceOutcome,omitempty"`
	ServiceID         *ServiceID       `json:"serviceId,omitempty"`
	Signature         *Signature       `json:"signature,omitempty"`
	AcceptanceRound   int              `json:"acceptanceRound,omitempty"`
	LiveScenario      PayScoreScenario `json:"liveScenario,omitempty"`
	LiveSince         *time.Time       `json:"liveSince,omitempty"`
	Revocation        *Revocation      `json:"revocation,omitempty"`
	ExpiredReason     string           `json:"expiredReason,omitempty"`
	// Resume is the workflow step a release has completed and the workflow is still to be
	// told about (the release retries it); internal.
	Resume      string     `json:"resume,omitempty"`
	Execution   string     `json:"executionArn,omitempty"` // reviewers only
	CreatedBy   string     `json:"createdBy"`
	CreatedAt   time.Time  `json:"createdAt"`
	UpdatedAt   time.Time  `json:"updatedAt"`
	SubmittedAt *time.Time `json:"submittedAt,omitempty"`
	Version     int        `json:"version"`
}

// NewPayScoreApplication starts a draft by merchant c for scenario s. It returns Forbidden
// ("forbidden_role") for a caller that is not a merchant, and the errors of Check.
func NewPayScoreApplication(id string, c Caller, s PayScoreScenario, d PayScoreDetails, now time.Time) (*PayScoreApplication, Change, error) {
	if err := c.Require(RoleMerchant); err != nil {
		return nil, Change{}, err
	}
	if err := d.Check(s); err != nil {
		return nil, Change{}, err
	}
	p := &PayScoreApplication{ID: id, Org: c.Org, Scenario: s, Details: d, Attachments: map[string]*Attachment{},
		Status: PayScoreDraft, CreatedBy: c.Subject, CreatedAt: now, UpdatedAt: now}
	return p, Change{At: now, By: c.Subject, Action: "created", To: string(PayScoreDraft)}, nil
}

// VerifyPhone records the customer-service phone as verified. Allowed until the application
// is reviewed (a deferred application verifies it for next week's review). Codes:
// invalid_phone (Invalid), phone_not_changeable (Conflict).
func (p *PayScoreApplication) VerifyPhone(c Caller, number string, now time.Time) (Change, error) {
	number = strings.TrimSpace(number)
	if !phonePattern.MatchString(number) {
		return Change{}, Errorf(Invalid, "invalid_phone", "the customer-service phone must be 5 to 20 digits or dashes")
	}
	if p.Phone != nil && p.Phone.Number == number {
		return Change{}, nil // a retried verification
	}
	if p.Status != PayScoreDraft && p.Status != PayScoreDeferred {
		return Change{}, Errorf(Conflict, "phone_not_changeable", "the customer-service phone can no longer change: the application is %s", p.Status)
	}
	p.Phone, p.UpdatedAt = &Phone{Number: number, VerifiedAt: now, VerifiedBy: c.Subject}, now
	return Change{At: now, By: c.Subject, Action: "phone_verified", To: number}, nil
}

// RequestAttachment records an upload issued for slot. Application slots take uploads while
// drafting, acceptance slots once the agreement is signed (developing). Codes: unknown_slot,
// unsupported_file_type (Invalid), not_editable (Conflict).
func (p *PayScoreApplication) RequestAttachment(c Caller, att Attachment, now time.Time) (Change, error) {
	slot, err := PayScoreSlotOf(att.Slot)
	if err != nil {
		return Change{}, err
	}
	if !slices.Contains(slot.Extensions, fileExt(att.FileName)) {
		return Change{}, Errorf(Invalid, "unsupported_file_type", "slot %s takes %s files", slot.Name, strings.Join(slot.Extensions, ", "))
	}
	switch {
	case !slot.Acceptance && p.Status != PayScoreDraft:
		return Change{}, Errorf(Conflict, "not_editable", "application materials can change only while drafting; the application is %s", p.Status)
	case slot.Acceptance && p.Status != PayScoreDeveloping:
		return Change{}, Errorf(Conflict, "not_editable", "acceptance materials are uploaded after the agreement is signed and before acceptance is submitted; the application is %s", p.Status)
	}
	att.Status, att.RequestedAt = AttachmentPending, now
	p.Attachments[att.Slot] = &att
	p.UpdatedAt = now
	return Change{At: now, By: c.Subject, Action: "attachment_requested", To: att.Slot + ": " + att.FileName}, nil
}

func fileExt(name string) string {
	i := strings.LastIndexByte(name, '.')
	if i < 0 {
		return ""
	}
	return strings.ToLower(name[i:])
}

// ReceiveAttachment settles the slot's current upload (see Application.ReceiveAttachment).
func (p *PayScoreApplication) ReceiveAttachment(slot, uploadID, versionID string, size int64, reason string, now time.Time) (Change, error) {
	att, ok := p.Attachments[slot]
	if !ok || att.UploadID != uploadID || att.Status != AttachmentPending {
		return Change{}, ErrStaleUpload
	}
	att.VersionID, att.Size, att.ReceivedAt = versionID, size, &now
	att.Status = AttachmentReceived
	if reason != "" {
		att.Status, att.Reason = AttachmentRejected, reason
	}
	p.UpdatedAt = now
	return Change{At: now, By: "platform", Action: "attachment_" + string(att.Status), To: slot, Reason: reason}, nil
}

// AttachmentOf is the slot's attachment, nil without one (process-upload).
func (p *PayScoreApplication) AttachmentOf(slot string) *Attachment { return p.Attachments[slot] }

// OwnerOrg is the owning organisation (process-upload checks the key's).
func (p *PayScoreApplication) OwnerOrg() string { return p.Org }

// missing returns the error for the first required slot of the stage (acceptance or not)
// without a received file: its own code.
func (p *PayScoreApplication) missing(acceptance bool) error {
	for _, s := range PayScoreSlots {
		if s.Acceptance != acceptance {
			continue
		}
		if s.Name == SlotComplaintResolution && p.Details.MonthlyComplaints == 0 {
			continue // only merchants with complaints show them resolved
		}
		att := p.Attachments[s.Name]
		switch {
		case att == nil:
			return Errorf(Invalid, s.MissingCode, "the %s is missing (slot %s)", s.What, s.Name)
		case att.Status == AttachmentPending:
			return Errorf(Conflict, "attachment_pending", "the %s upload has not arrived yet", s.Name)
		case att.Status != AttachmentReceived:
			return Errorf(Invalid, s.MissingCode, "the %s was refused (%s); upload it again", s.Name, att.Reason)
		}
	}
	return nil
}

// Submit sends a complete application to review: every field valid, the merchant eligible,
// every required attachment received. With a verified customer-service phone it is under
// review at once; without one it is deferred to next week's review (the weekly calendar's
// first release after now) and says so. Codes: not_editable, attachment_pending (Conflict),
// the missing_* codes of PayScoreSlots and those of Check.
func (p *PayScoreApplication) Submit(c Caller, now time.Time) (Change, error) {
	if p.Status != PayScoreDraft {
		return Change{}, Errorf(Conflict, "not_editable", "application %s is %s, not a draft", p.ID, p.Status)
	}
	if err := p.Details.Check(p.Scenario); err != nil {
		return Change{}, err
	}
	if err := p.missing(false); err != nil {
		return Change{}, err
	}
	p.SubmittedAt, p.UpdatedAt = &now, now
	if p.Phone == nil {
		return p.deferReview(now, c.Subject), nil
	}
	p.Status = PayScoreUnderReview
	return Change{At: now, By: c.Subject, Action: "submitted", From: string(PayScoreDraft), To: string(PayScoreUnderReview)}, nil
}

// deferReview defers the application to next week's review.
func (p *PayScoreApplication) deferReview(now time.Time, by string) Change {
	until := ReleaseCalendars[CalendarWeekly].Next(now)
	from := p.Status
	p.Status, p.DeferredUntil, p.UpdatedAt = PayScoreDeferred, &until, now
	return Change{At: now, By: by, Action: "deferred", From: string(from), To: string(PayScoreDeferred), Reason: p.DeferralReason()}
}

// DeferralReason says why and until when the application is deferred.
func (p *PayScoreApplication) DeferralReason() string {
	if p.DeferredUntil == nil {
		return ""
	}
	return fmt.Sprintf("the customer-service phone is not verified: the application is deferred to next week's review (%s Asia/Shanghai); no service ID is configured without it",
		p.DeferredUntil.In(businessZone).Format("2006-01-02 15:04"))
}

// StartReview is the deferred application's review week starting (the workflow's timer): with
// the phone verified it goes under review, else it is deferred again by a week. Anything but a
// deferred application whose week has come changes nothing (a redelivered timer).
func (p *PayScoreApplication) StartReview(now time.Time) Change {
	if p.Status != PayScoreDeferred || p.DeferredUntil == nil || now.Before(*p.DeferredUntil) {
		return Change{}
	}
	if p.Phone == nil {
		return p.deferReview(now, "platform")
	}
	p.Status, p.DeferredUntil, p.UpdatedAt = PayScoreUnderReview, nil, now
	return Change{At: now, By: "platform", Action: "review_started", From: string(PayScoreDeferred), To: string(PayScoreUnderReview)}
}

// HeldDecision is the decision held for the release (Reviewable).
func (p *PayScoreApplication) HeldDecision() *Decision { return p.Decision }

// UnderReview reports whether a reviewer may decide now: the application or its acceptance (Reviewable).
func (p *PayScoreApplication) UnderReview() bool {
	return p.Status == PayScoreUnderReview || p.Status == PayScoreAcceptanceReview
}

// Calendar is the release calendar of the review p is in.
func (p *PayScoreApplication) Calendar() string {
	if p.Status == PayScoreAcceptanceReview {
		return CalendarPayScoreAcceptance
	}
	return CalendarWeekly
}

// Decide records a reviewer's held decision on the application or on its acceptance.
// Codes: review_deferred, not_under_review, already_released (Conflict), reason_required (Invalid).
func (p *PayScoreApplication) Decide(reviewer Caller, approve bool, reason string, now time.Time) (Change, error) {
	if p.Status == PayScoreDeferred {
		return Change{}, Errorf(Conflict, "review_deferred", "application %s is deferred to next week's review: %s", p.ID, p.DeferralReason())
	}
	if !p.UnderReview() {
		outcome := p.Outcome
		if p.AcceptanceOutcome != nil {
			outcome = p.AcceptanceOutcome
		}
		return Change{}, notDecidable("Pay Score application", p.ID, string(p.Status), outcome)
	}
	if approve && p.Status == PayScoreUnderReview && !p.LicenceCovers() {
		return Change{}, Errorf(Conflict, "licence_scope_mismatch",
			"the business licence's recorded scope %v does not cover %s (it needs one of %v); reject with that reason",
			p.LicenceScopes, p.Scenario, scenarioRules[p.Scenario].scopes)
	}
	ch, err := decide(&p.Decision, reviewer, approve, reason, now)
	if err == nil && p.Status == PayScoreUnderReview {
		p.Decision.LicenceScopes = p.LicenceScopes
	}
	return ch, err
}

// RecordLicenceScopes records what the reviewer read on the business licence. Codes:
// unknown_licence_scope (Invalid).
func (p *PayScoreApplication) RecordLicenceScopes(scopes []string) error {
	for _, s := range scopes {
		if !slices.Contains([]string{ScopeFoodSales, ScopeVendingMachineSales, ScopeSharingRental, ScopeOther}, s) {
			return Errorf(Invalid, "unknown_licence_scope", "licence scope %q is not one of food_sales, vending_machine_sales, sharing_rental, other", s)
		}
	}
	if scopes != nil {
		p.LicenceScopes = scopes
	}
	return nil
}

// LicenceCovers reports whether the recorded licence scopes cover the scenario.
func (p *PayScoreApplication) LicenceCovers() bool {
	need := scenarioRules[p.Scenario].scopes
	if len(need) == 0 {
		return true
	}
	for _, s := range p.LicenceScopes {
		if slices.Contains(need, s) {
			return true
		}
	}
	return false
}

// Release publishes the held decision. An approved application gets its service ID,
// configured within 7–10 working days of now (no expediting); an approved acceptance makes the
// service live for the approved scenario; a rejected acceptance returns the merchant to
// developing, to submit again. p.Decision stays as read, for the store to retire; Resume names
// the workflow step to tell. Codes: nothing_to_release (Conflict), working_days_unknown.
func (p *PayScoreApplication) Release(serviceID string, now time.Time) (Change, error) {
	if !p.UnderReview() || p.Decision == nil {
		return Change{}, Errorf(Conflict, "nothing_to_release", "Pay Score application %s holds no decision", p.ID)
	}
	out := *p.Decision
	out.ReleasedAt, out.Revision = &now, 0
	from := p.Status
	if from == PayScoreUnderReview {
		p.LicenceScopes = out.LicenceScopes
	}
	switch {
	case from == PayScoreUnderReview && out.Approve:
		earliest, err := WorkingDays.AddWorkingDays(now, ServiceIDMinWorkingDays)
		if err != nil {
			return Change{}, err
		}
		due, err := WorkingDays.AddWorkingDays(now, ServiceIDMaxWorkingDays)
		if err != nil {
			return Change{}, err
		}
		p.Status, p.Outcome, p.Resume = PayScoreConfiguring, &out, StepReview
		p.ServiceID = &ServiceID{ID: serviceID, Earliest: earliest.UTC(), Due: endOfWorkingDay(due)}
	case from == PayScoreUnderReview:
		p.Status, p.Outcome, p.Resume = PayScoreRejected, &out, StepReview
	case out.Approve:
		p.Status, p.AcceptanceOutcome, p.Resume = PayScoreLive, &out, StepAcceptanceDecision
		p.LiveScenario, p.LiveSince = p.Scenario, &now
	default:
		p.Status, p.AcceptanceOutcome, p.Resume = PayScoreDeveloping, &out, StepAcceptanceDecision
	}
	p.UpdatedAt = now
	return Change{At: now, By: "release", Action: "released", From: string(from), To: string(p.Status), Reason: out.Reason}, nil
}

// endOfWorkingDay is 18:00 in Asia/Shanghai on day (our choice of when a due date ends).
func endOfWorkingDay(day time.Time) time.Time {
	d := day.In(businessZone)
	return time.Date(d.Year(), d.Month(), d.Day(), 18, 0, 0, 0, businessZone).UTC()
}

// ServiceReady records the service ID configured (the workflow's timer at the due date).
// Anything but a configuring application changes nothing.
func (p *PayScoreApplication) ServiceReady(now time.Time) Change {
	if p.Status != PayScoreConfiguring || p.ServiceID == nil || p.Phone == nil {
		return Change{}
	}
	p.Status, p.ServiceID.ReadyAt, p.UpdatedAt = PayScoreServiceReady, &now, now
	return Change{At: now, By: "platform", Action: "service_id_configured", From: string(PayScoreConfiguring), To: string(PayScoreServiceReady), Reason: p.ServiceID.ID}
}

// SignAgreement records the merchant signing the Pay Score agreement online (opening the
// product is signing it). Codes: service_not_ready (Conflict). Signing again changes nothing.
func (p *PayScoreApplication) SignAgreement(c Caller, now time.Time) (Change, error) {
	if p.Signature != nil {
		return Change{}, nil
	}
	if p.Status != PayScoreServiceReady {
		return Change{}, Errorf(Conflict, "service_not_ready", "the agreement is signed once the service ID is configured; the application is %s", p.Status)
	}
	p.Signature = &Signature{By: c.Subject, At: now, Agreement: PayScoreAgreement}
	p.Status, p.UpdatedAt = PayScoreDeveloping, now
	return Change{At: now, By: c.Subject, Action: "agreement_signed", From: string(PayScoreServiceReady), To: string(PayScoreDeveloping), Reason: PayScoreAgreement}, nil
}

// SubmitAcceptance sends the go-live acceptance materials to review (released on the next
// Tuesday or Thursday). Codes: not_developing, attachment_pending (Conflict), the acceptance
// missing_* codes of PayScoreSlots.
func (p *PayScoreApplication) SubmitAcceptance(c Caller, now time.Time) (Change, error) {
	if p.Status != PayScoreDeveloping {
		return Change{}, Errorf(Conflict, "not_developing", "acceptance is submitted after the agreement is signed; the application is %s", p.Status)
	}
	if err := p.missing(true); err != nil {
		return Change{}, err
	}
	p.Status, p.UpdatedAt = PayScoreAcceptanceReview, now
	p.AcceptanceRound++
	p.Decision = nil
	return Change{At: now, By: c.Subject, Action: "acceptance_submitted", From: string(PayScoreDeveloping), To: string(PayScoreAcceptanceReview)}, nil
}

// ReportMisuse takes Pay Score offline after a reviewer saw it used outside the approved
// scenario. Codes: not_live (Conflict), same_scenario, unknown_scenario, report_required (Invalid).
func (p *PayScoreApplication) ReportMisuse(reviewer Caller, seen PayScoreScenario, report string, now time.Time) (Change, error) {
	report = strings.TrimSpace(report)
	if _, ok := scenarioRules[seen]; !ok {
		return Change{}, Errorf(Invalid, "unknown_scenario", "scenario %q is not one of smart_fridge, power_bank, charging_pile, campus_water_control", seen)
	}
	if report == "" {
		return Change{}, Errorf(Invalid, "report_required", "a misuse report says what was seen where")
	}
	if p.Status == PayScoreRevoked && p.Revocation != nil && p.Revocation.ReportedScenario == seen && p.Revocation.Report == report {
		return Change{}, nil // a retried report
	}
	if p.Status != PayScoreLive {
		return Change{}, Errorf(Conflict, "not_live", "Pay Score application %s is %s, not live", p.ID, p.Status)
	}
	if seen == p.LiveScenario {
		return Change{}, Errorf(Invalid, "same_scenario", "%s is the approved scenario; only use in another scenario is misuse", seen)
	}
	p.Status, p.Revocation, p.UpdatedAt = PayScoreRevoked, &Revocation{At: now, ReportedScenario: seen, Report: report}, now
	return Change{At: now, By: reviewer.Subject, ByReviewer: true, Action: "revoked", From: string(PayScoreLive), To: string(PayScoreRevoked),
		Reason: fmt.Sprintf("used for %s, approved for %s: %s", seen, p.LiveScenario, report)}, nil
}

// Expire ends an application whose workflow waited too long for the merchant (a callback's timeout).
func (p *PayScoreApplication) Expire(reason string, now time.Time) Change {
	if p.Status == PayScoreExpired || p.Status == PayScoreRevoked || p.Status == PayScoreRejected || p.Status == PayScoreLive {
		return Change{}
	}
	from := p.Status
	p.Status, p.ExpiredReason, p.UpdatedAt = PayScoreExpired, reason, now
	return Change{At: now, By: "platform", Action: "expired", From: string(from), To: string(PayScoreExpired), Reason: reason}
}

// ForOwner is p as the merchant may read it: no held decision, no reviewer, no internals.
func (p *PayScoreApplication) ForOwner() *PayScoreApplication {
	o := *p
	o.Decision, o.Outcome, o.AcceptanceOutcome = nil, p.Outcome.ForOwner(), p.AcceptanceOutcome.ForOwner()
	o.Execution, o.Resume, o.LicenceScopes = "", "", nil
	return &o
}

// The workflow's callback steps (statemachines/payscore.asl.json).
const (
	StepReview             = "review"              // the application review's release
	StepAgreement          = "agreement"           // the merchant signs
	StepAcceptance         = "acceptance"          // the merchant submits acceptance materials
	StepAcceptanceDecision = "acceptance_decision" // the acceptance review's release
	StepMisuse             = "misuse"              // a reviewer reports use outside the scenario
)

// StepOutput is what the workflow's callback step receives once p has passed it, and whether
// it has: the API or release that completes a step resumes the workflow with it, and the task
// that stores a step's token resumes at once when the step was completed before the token arrived.
func (p *PayScoreApplication) StepOutput(step string) (map[string]any, bool) {
	switch step {
	case StepReview:
		if p.Outcome == nil {
			return nil, false
		}
		out := map[string]any{"approve": p.Outcome.Approve}
		if p.ServiceID != nil {
			out["serviceIdDue"] = p.ServiceID.Due.Format(time.RFC3339)
		}
		return out, true
	case StepAgreement:
		return map[string]any{}, p.Signature != nil
	case StepAcceptance:
		return map[string]any{"round": p.AcceptanceRound}, p.Status == PayScoreAcceptanceReview || p.AcceptanceOutcome != nil && p.AcceptanceOutcome.Approve || p.Status == PayScoreRevoked
	case StepAcceptanceDecision:
		if p.AcceptanceOutcome == nil || p.Status == PayScoreAcceptanceReview {
			return nil, false
		}
		return map[string]any{"approve": p.AcceptanceOutcome.Approve, "round": p.AcceptanceRound}, true
	case StepMisuse:
		return map[string]any{}, p.Status == PayScoreRevoked
	}
	return nil, false
}

// PayScoreTimeline is the merchant's view of where its application is: each milestone with
// when it happened, and what the platform waits for, from whom, until when. It never shows a
// held decision: while a review is held it still waits for the reviewer's release.
type PayScoreTimeline struct {
	ID          string           `json:"id"`
	Scenario    PayScoreScenario `json:"scenario"`
	Status      PayScoreStatus   `json:"status"`
	Milestones  []Milestone      `json:"milestones"`
	Waiting     *Waiting         `json:"waiting,omitempty"`
	ServiceID   *ServiceID       `json:"serviceId,omitempty"`
	Revocation  *Revocation      `json:"revocation,omitempty"`
	Explanation string           `json:"explanation,omitempty"`
}

// Milestone is one step of the flow and when it was reached (nil: not yet).
type Milestone struct {
	Step string     `json:"step"`
	At   *time.Time `json:"at,omitempty"`
}

// Waiting is what the flow waits for: from "merchant", "reviewer" or "platform".
type Waiting struct {
	From  string     `json:"from"`
	What  string     `json:"what"`
	Since time.Time  `json:"since"`
	Due   *time.Time `json:"due,omitempty"`
}

// payScoreMilestones are the history actions that mark each milestone.
var payScoreMilestones = []struct{ step, action, to string }{
	{"submitted", "submitted", ""}, {"deferred", "deferred", ""}, {"review_started", "review_started", ""},
	{"approved", "released", string(PayScoreConfiguring)}, {"service_id_configured", "service_id_configured", ""},
	{"agreement_signed", "agreement_signed", ""}, {"acceptance_submitted", "acceptance_submitted", ""},
	{"live", "released", string(PayScoreLive)}, {"revoked", "revoked", ""},
}

// BuildPayScoreTimeline builds the timeline of p from its owner history (OwnerHistory) at now.
func BuildPayScoreTimeline(p *PayScoreApplication, history []Change, now time.Time) PayScoreTimeline {
	t := PayScoreTimeline{ID: p.ID, Scenario: p.Scenario, Status: p.Status, ServiceID: p.ServiceID, Revocation: p.Revocation}
	for _, m := range payScoreMilestones {
		ms := Milestone{Step: m.step}
		for _, c := range history {
			if c.Action == m.action && (m.to == "" || c.To == m.to) && !c.Held {
				at := c.At
				ms.At = &at // the latest
			}
		}
		if m.step == "submitted" {
			ms.At = p.SubmittedAt // submitted deferred, or straight to review
		}
		t.Milestones = append(t.Milestones, ms)
	}
	w := &Waiting{Since: p.UpdatedAt}
	switch p.Status {
	case PayScoreDraft:
		w.From, w.What = "merchant", "complete the application (fields, attachments, verified customer-service phone) and submit it"
	case PayScoreDeferred:
		w.From, w.What, w.Due = "platform", "next week's review", p.DeferredUntil
		t.Explanation = p.DeferralReason()
	case PayScoreUnderReview, PayScoreAcceptanceReview:
		due := ReleaseCalendars[p.Calendar()].Next(now)
		w.From, w.What, w.Due = "reviewer", "the review's release", &due
		if p.Status == PayScoreAcceptanceReview {
			w.What = "the go-live acceptance review, released on Tuesdays and Thursdays"
		}
	case PayScoreConfiguring:
		w.From, w.What = "platform", "service ID configuration (7–10 working days, no expediting)"
		if p.ServiceID != nil {
			w.Due = &p.ServiceID.Due
		}
	case PayScoreServiceReady:
		w.From, w.What = "merchant", "sign the Pay Score agreement online"
	case PayScoreDeveloping:
		w.From, w.What = "merchant", "develop against the service ID and submit the go-live acceptance materials"
		if p.AcceptanceOutcome != nil && !p.AcceptanceOutcome.Approve {
			t.Explanation = "acceptance rejected: " + p.AcceptanceOutcome.Reason
		}
	default:
		w = nil
	}
	switch {
	case p.Status == PayScoreRejected && p.Outcome != nil:
		t.Explanation = "rejected: " + p.Outcome.Reason
	case p.Status == PayScoreExpired:
		t.Explanation = p.ExpiredReason
	}
	t.Waiting = w
	return t
}

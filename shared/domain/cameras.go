package domain

import (
	"slices"
	"strings"
	"time"
)

// supportedCameras is the programme's list of supported camera models (DOMAIN.md section 2):
// data, not rules; a model's camera and every free test camera come from it.
var supportedCameras = []string{"FC-100", "FC-200", "FC-300", "C1"}

// SupportedCameras returns the supported camera models.
func SupportedCameras() []string { return slices.Clone(supportedCameras) }

// Test camera limits (DOMAIN.md section 3): free test cameras for the prototype stage.
const (
	MaxTestCamerasPerModel  = 2
	MaxTestCamerasPerVendor = 4
)

// TestCameraStatus is where a test camera request is.
type TestCameraStatus string

// Test camera request statuses.
const (
	TestCameraRequested TestCameraStatus = "requested"
	TestCameraShipped   TestCameraStatus = "shipped"
)

// TestCameraRequest is a vendor's request for free test cameras for a model in DVT.
type TestCameraRequest struct {
	ID             string           `json:"id"`
	ModelID        string           `json:"modelId"`
	VendorOrg      string           `json:"vendorOrg"`
	CameraModel    string           `json:"cameraModel"`
	Quantity       int              `json:"quantity"`
	Status         TestCameraStatus `json:"status"`
	TrackingNumber string           `json:"trackingNumber,omitempty"`
	RequestedAt    time.Time        `json:"requestedAt"`
	ShippedAt      *time.Time       `json:"shippedAt,omitempty"`
	Version        int              `json:"-"`
}

// NewTestCameraRequest validates a vendor's request for quantity cameras of camera for model
// m at stage. Error codes: model_not_in_dvt (Conflict), unsupported_camera,
// invalid_quantity (Invalid). The per-model and per-vendor limits are the store's to enforce
// atomically (test_camera_model_limit, test_camera_vendor_limit).
func NewTestCameraRequest(id string, c Caller, m *Model, stage Stage, camera string, quantity int, now time.Time) (*TestCameraRequest, Change, error) {
	camera = strings.TrimSpace(camera)
	switch {
	case stage != StageDVT:
		return nil, Change{}, Errorf(Conflict, "model_not_in_dvt", "test cameras are for models in the prototype stage (DVT); model %s is in %s", m.ID, stage)
	case !slices.Contains(supportedCameras, camera):
		return nil, Change{}, Errorf(Invalid, "unsupported_camera", "camera model %q is not on the supported list (%s)", camera, strings.Join(supportedCameras, ", "))
	case quantity < 1 || quantity > MaxTestCamerasPerModel:
		return nil, Change{}, Errorf(Invalid, "invalid_quantity", "quantity must be 1 to %d", MaxTestCamerasPerModel)
	}
	r := &TestCameraRequest{ID: id, ModelID: m.ID, VendorOrg: m.VendorOrg, CameraModel: camera, Quantity: quantity,
		Status: TestCameraRequested, RequestedAt: now}
	return r, Change{At: now, By: c.Subject, Action: "test_cameras_requested", To: camera}, nil
}

// Ship records the reviewer's shipment with its tracking number. Error codes:
// invalid_tracking_number (Invalid), already_shipped (Conflict, unless the same number again).
func (r *TestCameraRequest) Ship(c Caller, tracking string, now time.Time) (Change, bool, error) {
	tracking = strings.TrimSpace(tracking)
	if tracking == "" || len(tracking) > 100 {
		return Change{}, false, Errorf(Invalid, "invalid_tracking_number", "trackingNumber must be 1 to 100 characters")
	}
	if r.Status == TestCameraShipped {
		if r.TrackingNumber == tracking {
			return Change{}, false, nil
		}
		return Change{}, false, Errorf(Conflict, "already_shipped", "test camera request %s was shipped already", r.ID)
	}
	r.Status, r.TrackingNumber, r.ShippedAt = TestCameraShipped, tracking, &now
	return Change{At: now, By: "reviewer", Action: "test_cameras_shipped", To: tracking}, true, nil
}

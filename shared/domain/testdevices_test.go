package domain

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRegisterTestDevice(t *testing.T) {
	m := &Model{ID: "mdl_1", VendorOrg: "v", VendorCode: "0A", ModelCode: "1B", ModelSpec: ModelSpec{Name: "K1", OS: OSAndroid, DeviceType: DeviceVendingMachine}}
	sn := "0AA1B0000012345X7Q2M9ZK"
	now := time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)
	c := Caller{Subject: "alice", Org: "v", Role: RoleVendor}
	d, ch, err := RegisterTestDevice(c, m, StageDVT, sn, string(DeviceVendingMachine), "2027-01-15", nil, now)
	require.NoError(t, err)
	assert.Equal(t, time.Date(2027, 1, 14, 16, 0, 0, 0, time.UTC), d.ClearAt, "00:00 in Shanghai on the date")
	assert.Equal(t, TestDeviceActive, d.Status)
	assert.Equal(t, 1, d.Registration)
	assert.Equal(t, "test_device_registered", ch.Action)
	assert.True(t, d.Same("mdl_1", "2027-01-15"))

	for name, tt := range map[string]struct {
		stage         Stage
		sn, typ, date string
		prev          *TestDevice
		code          string
	}{
		"in PVT":           {StagePVT, sn, string(DeviceVendingMachine), "2027-01-15", nil, "model_not_in_dvt"},
		"another vendor":   {StageDVT, "0BA1B0000012345X7Q2M9ZK", string(DeviceVendingMachine), "2027-01-15", nil, "sn_vendor_mismatch"},
		"wrong type":       {StageDVT, sn, string(DeviceHandheld), "2027-01-15", nil, "device_type_mismatch"},
		"past date":        {StageDVT, sn, string(DeviceVendingMachine), "2026-11-30", nil, "invalid_completion_date"},
		"not a date":       {StageDVT, sn, string(DeviceVendingMachine), "15/01/2027", nil, "invalid_completion_date"},
		"still registered": {StageDVT, sn, string(DeviceVendingMachine), "2027-01-15", d, "test_device_active"},
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := RegisterTestDevice(c, m, tt.stage, tt.sn, tt.typ, tt.date, tt.prev, now)
			assert.Equal(t, tt.code, CodeOf(err))
		})
	}

	ch, changed := d.Clear("alice", ClearedByOwner, now.Add(time.Hour))
	require.True(t, changed)
	assert.Equal(t, ClearedByOwner, ch.Reason)
	_, changed = d.Clear("schedule", ClearedOnDate, now.Add(2*time.Hour))
	assert.False(t, changed, "clearing twice changes nothing")
	renewed, _, err := RegisterTestDevice(c, m, StageDVT, sn, string(DeviceVendingMachine), "2027-02-01", d, now.Add(3*time.Hour))
	require.NoError(t, err, "renewal is a new registration")
	assert.Equal(t, 2, renewed.Registration)
}

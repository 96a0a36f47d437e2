package domain

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestValidateSerialNumber(t *testing.T) {
	m := &Model{VendorCode: "0A", ModelCode: "1B", ModelSpec: ModelSpec{Name: "K1", OS: OSAndroid}}
	good := "0A" + "A" + "1B" + "0000012345" + "X7Q2M9ZK"
	s, err := ValidateSerialNumber(good, m)
	require.NoError(t, err)
	assert.Equal(t, SerialNumber{VendorCode: "0A", SystemType: "A", ModelCode: "1B", VendorSerial: "0000012345", Random: "X7Q2M9ZK"}, s)
	assert.Equal(t, good, s.String())

	for name, tt := range map[string]struct{ sn, code string }{
		"too short":        {good[:22], "invalid_sn"},
		"too long":         {good + "0", "invalid_sn"},
		"lower case":       {"0aA1B0000012345X7Q2M9ZK", "invalid_sn"},
		"separator":        {"0A-1B0000012345X7Q2M9ZK", "invalid_sn"},
		"unknown system":   {"0AX1B0000012345X7Q2M9ZK", "invalid_sn"},
		"another vendor":   {"0BA1B0000012345X7Q2M9ZK", "sn_vendor_mismatch"},
		"Windows SN":       {"0AW1B0000012345X7Q2M9ZK", "sn_system_type_mismatch"},
		"another model":    {"0AA1C0000012345X7Q2M9ZK", "sn_model_mismatch"},
		"non-ASCII letter": {"0AA1B000001234５X7Q2M9Z", "invalid_sn"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ValidateSerialNumber(tt.sn, m)
			assert.Equal(t, tt.code, CodeOf(err))
			assert.Equal(t, Invalid, KindOf(err))
		})
	}
	_, err = ValidateSerialNumber(good, &Model{VendorCode: "0A", ModelSpec: ModelSpec{OS: OSAndroid}})
	assert.Equal(t, "sn_model_mismatch", CodeOf(err), "a model without a code takes no devices")
}

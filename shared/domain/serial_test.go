package domain

import (
	"math/rand/v2"
	"strings"
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

// Property: every generated SN validates for its model, and changing any one character
// outside the random part makes it fail: the vendor code, system type and model code against
// the model; the vendor serial against the serial it was generated for (validation alone
// cannot know a vendor's numbering, only its alphabet). Inside the random part any character
// of the alphabet still validates.
func TestGeneratedSerialNumbersProperty(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	for i := range 2000 {
		os := []OS{OSAndroid, OSWindows, OSLinux}[i%3]
		vc := string([]byte{CodeAlphabet[rnd.IntN(36)], CodeAlphabet[rnd.IntN(36)]})
		mc := string([]byte{CodeAlphabet[rnd.IntN(36)], CodeAlphabet[rnd.IntN(36)]})
		m := &Model{ID: "mdl_x", VendorCode: vc, ModelCode: mc, ModelSpec: ModelSpec{Name: "K", OS: os}}
		serial := make([]byte, VendorSerialLength)
		for j := range serial {
			serial[j] = CodeAlphabet[rnd.IntN(36)]
		}
		s, err := GenerateSerialNumber(m, string(serial), rnd.IntN)
		require.NoError(t, err)
		sn := s.String()
		require.Len(t, sn, SerialNumberLength)
		valid := func(sn string) bool {
			got, err := ValidateSerialNumber(sn, m)
			return err == nil && got.VendorSerial == string(serial)
		}
		require.True(t, valid(sn), sn)
		pos := rnd.IntN(SerialNumberLength)
		b := []byte(sn)
		other := CodeAlphabet[(strings.IndexByte(CodeAlphabet, b[pos])+1+rnd.IntN(35))%36]
		b[pos] = []byte{other, other, 'a', '-', ' ', 0xC3}[rnd.IntN(6)]
		if pos >= SerialNumberLength-RandomPartLength && b[pos] == other {
			assert.True(t, valid(string(b)), "changing the random part keeps a valid SN: %s", b)
			continue
		}
		assert.False(t, valid(string(b)), "changed position %d of %s: %q", pos, sn, b)
	}
	_, err := GenerateSerialNumber(&Model{VendorCode: "0A", ModelCode: "1B", ModelSpec: ModelSpec{OS: OSAndroid}}, "short", rand.IntN)
	assert.Equal(t, "invalid_vendor_serial", CodeOf(err))
	_, err = GenerateSerialNumber(&Model{VendorCode: "0A", ModelSpec: ModelSpec{OS: OSAndroid}}, "0000012345", rand.IntN)
	assert.Equal(t, "model_has_no_code", CodeOf(err))
}

// FuzzParseSerialNumber: whatever the input, parsing never panics, and what it accepts is 23
// characters of 0-9A-Z that print back unchanged.
func FuzzParseSerialNumber(f *testing.F) {
	for _, s := range []string{"0AA1B0000012345X7Q2M9ZK", "", "0aA1B0000012345X7Q2M9ZK", "0AX1B0000012345X7Q2M9ZK", "0AA1B000001234５X7Q2M9Z"} {
		f.Add(s)
	}
	m := &Model{VendorCode: "0A", ModelCode: "1B", ModelSpec: ModelSpec{Name: "K1", OS: OSAndroid}}
	f.Fuzz(func(t *testing.T, sn string) {
		s, err := ParseSerialNumber(sn)
		if err != nil {
			require.Equal(t, "invalid_sn", CodeOf(err))
			return
		}
		require.Equal(t, sn, s.String())
		require.Len(t, sn, SerialNumberLength)
		require.Empty(t, strings.Trim(sn, CodeAlphabet))
		if _, err := ValidateSerialNumber(sn, m); err == nil {
			require.Equal(t, "0AA1B", sn[:5])
		}
	})
}

package domain

import "strings"

// SerialNumberLength is the length of a device serial number (DOMAIN.md "Device serial numbers").
const SerialNumberLength = 23

// SerialNumber is a device serial number split into its parts: vendor code (2), system type
// (1: A Android, W Windows, L Linux), model code (2), vendor serial (10), random (8), all from
// 0-9A-Z. The whole SN is globally unique; the random part's uniqueness is not enforced.
type SerialNumber struct {
	VendorCode   string `json:"vendorCode"`
	SystemType   string `json:"systemType"`
	ModelCode    string `json:"modelCode"`
	VendorSerial string `json:"vendorSerial"`
	Random       string `json:"random"`
}

// String is the SN as printed on the device's label.
func (s SerialNumber) String() string {
	return s.VendorCode + s.SystemType + s.ModelCode + s.VendorSerial + s.Random
}

// ParseSerialNumber splits sn into its parts. It returns Invalid ("invalid_sn") unless sn is
// 23 characters of 0-9A-Z (upper case, no separators) with a known system type.
func ParseSerialNumber(sn string) (SerialNumber, error) {
	if len(sn) != SerialNumberLength || strings.Trim(sn, CodeAlphabet) != "" {
		return SerialNumber{}, Errorf(Invalid, "invalid_sn", "a serial number is %d characters from 0-9A-Z (upper case, no separators)", SerialNumberLength)
	}
	s := SerialNumber{VendorCode: sn[0:2], SystemType: sn[2:3], ModelCode: sn[3:5], VendorSerial: sn[5:15], Random: sn[15:23]}
	switch s.SystemType {
	case "A", "W", "L":
	default:
		return SerialNumber{}, Errorf(Invalid, "invalid_sn", "system type %q (the SN's third character) is not A, W or L", s.SystemType)
	}
	return s, nil
}

// ValidateSerialNumber checks sn against the vendor's and the model's codes and the model's OS,
// as the platform does for every SN it is given. Error codes (Invalid): invalid_sn,
// sn_vendor_mismatch, sn_system_type_mismatch, sn_model_mismatch.
func ValidateSerialNumber(sn string, m *Model) (SerialNumber, error) {
	s, err := ParseSerialNumber(sn)
	if err != nil {
		return SerialNumber{}, err
	}
	switch {
	case s.VendorCode != m.VendorCode:
		return SerialNumber{}, Errorf(Invalid, "sn_vendor_mismatch", "serial number %s starts with vendor code %s, not %s", sn, s.VendorCode, m.VendorCode)
	case s.SystemType != m.OS.SystemTypeLetter():
		return SerialNumber{}, Errorf(Invalid, "sn_system_type_mismatch", "serial number %s has system type %s; model %s runs %s (%s)",
			sn, s.SystemType, m.Name, m.OS, m.OS.SystemTypeLetter())
	case m.ModelCode == "" || s.ModelCode != m.ModelCode:
		return SerialNumber{}, Errorf(Invalid, "sn_model_mismatch", "serial number %s has model code %s, not %s", sn, s.ModelCode, m.ModelCode)
	}
	return s, nil
}

// VendorSerialLength is the length of the vendor's own serial inside an SN.
const VendorSerialLength = 10

// RandomPartLength is the length of the SN's random part.
const RandomPartLength = 8

// GenerateSerialNumber builds the SN of a device of model m whose vendor serial is
// vendorSerial (the vendor's own 10-character numbering), with a fresh random part: each of
// its 8 characters drawn from rnd (a seeded generator; uniform over 0-9A-Z). The random
// part's uniqueness is not enforced (the whole SN's is, where devices are stored). Error
// codes (Invalid): invalid_vendor_serial; model_has_no_code when the model has no model code
// yet, unknown_os.
func GenerateSerialNumber(m *Model, vendorSerial string, rnd func(n int) int) (SerialNumber, error) {
	if m.ModelCode == "" || m.VendorCode == "" {
		return SerialNumber{}, Errorf(Conflict, "model_has_no_code", "model %s has no model code yet: serial numbers follow its approval", m.ID)
	}
	st := m.OS.SystemTypeLetter()
	if st == "" {
		return SerialNumber{}, Errorf(Invalid, "unknown_os", "model %s has no known OS", m.ID)
	}
	if len(vendorSerial) != VendorSerialLength || strings.Trim(vendorSerial, CodeAlphabet) != "" {
		return SerialNumber{}, Errorf(Invalid, "invalid_vendor_serial",
			"vendor serial %q must be %d characters from 0-9A-Z (upper case)", vendorSerial, VendorSerialLength)
	}
	r := make([]byte, RandomPartLength)
	for i := range r {
		r[i] = CodeAlphabet[rnd(len(CodeAlphabet))]
	}
	return SerialNumber{VendorCode: m.VendorCode, SystemType: st, ModelCode: m.ModelCode, VendorSerial: vendorSerial, Random: string(r)}, nil
}

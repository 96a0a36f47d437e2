package domain_test

import (
	"bytes"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/shared/domain"
)

// The standards' names are the programme's own (DOMAIN.md section 3), character for character.
func TestStandardNamesAreTheProgrammes(t *testing.T) {
	want := map[domain.TestStandard]string{
		domain.StandardDesktopCashier:    "微信刷脸支付-桌面收银测试用例v1.4",
		domain.StandardMedical:           "微信刷脸支付-医疗设备测试用例v1.0",
		domain.StandardUnattendedVending: "微信刷脸支付-无人售货机测试用例v1.1",
		domain.StandardSelfCheckout:      "微信刷脸支付-自助收银测试用例v1.0",
		domain.StandardGroupCatering:     "微信刷脸支付-团餐机测试用例v1.0",
	}
	assert.ElementsMatch(t, []domain.TestStandard{domain.StandardDesktopCashier, domain.StandardMedical,
		domain.StandardUnattendedVending, domain.StandardSelfCheckout, domain.StandardGroupCatering}, domain.AllTestStandards())
	for std, name := range want {
		assert.Equal(t, name, std.FileStem(), std)
	}
	assert.Equal(t, "1.4", domain.StandardDesktopCashier.Version())
}

// A new version of a standard is a change to standards.json only: the expected name follows.
func TestNewStandardVersionIsData(t *testing.T) {
	data, err := os.ReadFile("standards.json")
	require.NoError(t, err)
	next := bytes.Replace(data, []byte(`"version": "1.4"`), []byte(`"version": "1.5"`), 1)
	require.NotEqual(t, data, next, "standards.json names desktop cashier version 1.4")
	s, err := domain.LoadStandards(next)
	require.NoError(t, err)
	restore := domain.UseStandards(s)
	defer restore()
	assert.Equal(t, "微信刷脸支付-桌面收银测试用例v1.5", domain.DeviceDesktopWeighing.Standard().FileStem())
	restore()
	assert.Equal(t, "微信刷脸支付-桌面收银测试用例v1.4", domain.DeviceDesktopWeighing.Standard().FileStem())
}

func TestLoadStandardsRefusesBrokenDocuments(t *testing.T) {
	data, err := os.ReadFile("standards.json")
	require.NoError(t, err)
	_, err = domain.LoadStandards(data)
	require.NoError(t, err)
	for name, change := range map[string][2]string{
		"unknown category":         {`"coating_reliability": "optional"`, `"coatings": "optional"`},
		"bad requirement":          {`"coating_reliability": "optional"`, `"coating_reliability": "maybe"`},
		"device type twice":        {`"deviceTypes": ["group_catering"]`, `"deviceTypes": ["group_catering", "handheld"]`},
		"device type nowhere":      {`"deviceTypes": ["group_catering"]`, `"deviceTypes": []`},
		"unknown device type":      {`"deviceTypes": ["group_catering"]`, `"deviceTypes": ["group_catering", "toaster"]`},
		"standard without version": {`"version": "1.1"`, `"version": ""`},
		"category without sheet":   {`"sheet": "性能测试"`, `"sheet": ""`},
	} {
		broken := bytes.Replace(data, []byte(change[0]), []byte(change[1]), 1)
		require.NotEqual(t, data, broken, name)
		_, err := domain.LoadStandards(broken)
		assert.Error(t, err, name)
	}
}

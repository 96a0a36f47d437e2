package handler

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/shared/domain"
)

func TestRelease_SecondVendorApplicationKeepsTheCodeAndBlocksNothing(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	seedApp(t, db, "app_1", "org-v1", domain.PartnerDeviceVendor, decision(true, cutoff.Add(-2*time.Hour)))
	seedApp(t, db, "app_2", "org-v1", domain.PartnerDeviceVendor, decision(true, cutoff.Add(-time.Hour)))
	seedApp(t, db, "app_3", "org-m", domain.PartnerMerchant, decision(true, cutoff.Add(-time.Hour)))
	res, err := newHandler(db, &fakePipelines{}).handle(ctx, loadEvent(t, "weekly-release.json"))
	require.NoError(t, err)
	assert.Equal(t, 3, res.Applications)
	a1, _ := db.Application(ctx, "app_1")
	a2, _ := db.Application(ctx, "app_2")
	a3, _ := db.Application(ctx, "app_3")
	assert.Equal(t, domain.AppApproved, a2.Status)
	assert.Equal(t, a1.VendorCode, a2.VendorCode, "an organisation is a vendor once, with one code")
	assert.Equal(t, domain.AppApproved, a3.Status, "later partner types are still released")
}

package cloud

import (
	appsfn "github.com/facepay/platform/functions/applications/handler"
	bindingsfn "github.com/facepay/platform/functions/bindings/handler"
	cleartestdevicesfn "github.com/facepay/platform/functions/clear-test-devices/handler"
	devicesfn "github.com/facepay/platform/functions/devices/handler"
	evidencefn "github.com/facepay/platform/functions/evidence/handler"
	exportdevicesfn "github.com/facepay/platform/functions/export-devices/handler"
	factoryauthfn "github.com/facepay/platform/functions/factory-authorizer/handler"
	feestatementsfn "github.com/facepay/platform/functions/fee-statements/handler"
	feefn "github.com/facepay/platform/functions/fee/handler"
	figuresfn "github.com/facepay/platform/functions/figures/handler"
	importbindingsfn "github.com/facepay/platform/functions/import-bindings/handler"
	modelsfn "github.com/facepay/platform/functions/models/handler"
	payscoretaskfn "github.com/facepay/platform/functions/pay-score-task/handler"
	payscorefn "github.com/facepay/platform/functions/pay-score/handler"
	pipelinefn "github.com/facepay/platform/functions/pipeline-task/handler"
	pipelineapifn "github.com/facepay/platform/functions/pipeline/handler"
	prescreenfn "github.com/facepay/platform/functions/prescreen-workbook/handler"
	uploadfn "github.com/facepay/platform/functions/process-upload/handler"
	reconcilefn "github.com/facepay/platform/functions/reconcile/handler"
	releasefn "github.com/facepay/platform/functions/release-decisions/handler"
	reviewslafn "github.com/facepay/platform/functions/review-sla/handler"
	reviewfn "github.com/facepay/platform/functions/review/handler"
	rollupfn "github.com/facepay/platform/functions/rollup/handler"
	startrollupfn "github.com/facepay/platform/functions/start-rollup/handler"
	"github.com/facepay/platform/shared/lambdafn"
)

// Functions maps each function folder (the template's CodeUri) to its constructor. Every
// function in template.yaml must appear here; infra/template_test.go checks both ways.
var Functions = map[string]lambdafn.Factory{
	"functions/applications":       lambdafn.Of(appsfn.New),
	"functions/process-upload":     lambdafn.Of(uploadfn.New),
	"functions/pipeline-task":      lambdafn.Of(pipelinefn.New),
	"functions/pipeline":           lambdafn.Of(pipelineapifn.New),
	"functions/clear-test-devices": lambdafn.Of(cleartestdevicesfn.New),
	"functions/review":             lambdafn.Of(reviewfn.New),
	"functions/models":             lambdafn.Of(modelsfn.New),
	"functions/evidence":           lambdafn.Of(evidencefn.New),
	"functions/release-decisions":  lambdafn.Of(releasefn.New),
	"functions/review-sla":         lambdafn.Of(reviewslafn.New),
	"functions/prescreen-workbook": lambdafn.Of(prescreenfn.New),
	"functions/pay-score":          lambdafn.Of(payscorefn.New),
	"functions/pay-score-task":     lambdafn.Of(payscoretaskfn.New),
	"functions/devices":            lambdafn.Of(devicesfn.New),
	"functions/factory-authorizer": lambdafn.Of(factoryauthfn.New),
	"functions/reconcile":          lambdafn.Of(reconcilefn.New),
	"functions/fee":                lambdafn.Of(feefn.New),
	"functions/bindings":           lambdafn.Of(bindingsfn.New),
	"functions/import-bindings":    lambdafn.Of(importbindingsfn.New),
	"functions/rollup":             lambdafn.Of(rollupfn.New),
	"functions/figures":            lambdafn.Of(figuresfn.New),
	"functions/start-rollup":       lambdafn.Of(startrollupfn.New),
	"functions/fee-statements":     lambdafn.Of(feestatementsfn.New),
	"functions/export-devices":     lambdafn.Of(exportdevicesfn.New),
}

// Command pipeline serves the certification pipeline's API (PipelineFunction): a model's
// timeline, the PVT steps (third-party inspection, restriction, the vendor's declaration) and
// the restart of an expired model. It only completes the callbacks the state machine waits on.
package main

import (
	"github.com/facepay/platform/functions/pipeline/handler"
	"github.com/facepay/platform/shared/lambdafn"
)

func main() { lambdafn.Start(handler.New) }

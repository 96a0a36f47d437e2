// Command fee (FeeFunction) serves the technical service fee: policy versions, and the
// monthly statements for deployment providers and reviewers.
package main

import (
	"github.com/facepay/platform/functions/fee/handler"
	"github.com/facepay/platform/shared/lambdafn"
)

func main() { lambdafn.Start(handler.New) }

// Command figures (FiguresFunction) serves the daily transaction figures: today a reviewer's
// read of a device's daily series; the deployer views join it once devices are bound.
package main

import (
	"github.com/facepay/platform/functions/figures/handler"
	"github.com/facepay/platform/shared/lambdafn"
)

func main() { lambdafn.Start(handler.New) }

// Command figures (FiguresFunction) serves the daily transaction figures to reviewers: a
// device's daily series. The deployer views are in functions/bindings.
package main

import (
	"github.com/facepay/platform/functions/figures/handler"
	"github.com/facepay/platform/shared/lambdafn"
)

func main() { lambdafn.Start(handler.New) }

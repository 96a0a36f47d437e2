// Command start-rollup (StartRollupFunction) starts the daily rollup of the previous
// business day (T+1) when its schedule fires.
package main

import (
	"github.com/facepay/platform/functions/start-rollup/handler"
	"github.com/facepay/platform/shared/lambdafn"
)

func main() { lambdafn.Start(handler.New) }

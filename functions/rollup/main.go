// Command rollup (RollupFunction) is the daily rollup's work: the distributed Map's
// aggregation of one transactions object into a partial, and the merge of one shard of the
// partials into the day's figures (statemachines/rollup.asl.json).
package main

import (
	"github.com/facepay/platform/functions/rollup/handler"
	"github.com/facepay/platform/shared/lambdafn"
)

func main() { lambdafn.Start(handler.New) }

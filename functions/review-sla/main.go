// Command review-sla is the daily review-SLA sweep (ReviewSlaFunction): it counts what has
// waited for a reviewer longer than the one-week promise and publishes it as metrics.
package main

import (
	"github.com/facepay/platform/functions/review-sla/handler"
	"github.com/facepay/platform/shared/lambdafn"
)

func main() { lambdafn.Start(handler.New) }

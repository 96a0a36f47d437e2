// Command reconcile is the reconciliation sweep (ReconcileFunction, daily and on demand): it
// re-drives uploads whose notification was lost and runs a weekly release that did not run.
package main

import (
	"github.com/facepay/platform/functions/reconcile/handler"
	"github.com/facepay/platform/shared/lambdafn"
)

func main() { lambdafn.Start(handler.New) }

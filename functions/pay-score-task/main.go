// Command pay-score-task is the target of the Pay Score workflow's tasks (PayScoreTaskFunction):
// it keeps each callback step's task token server-side and runs the workflow's timed steps.
package main

import (
	"github.com/facepay/platform/functions/pay-score-task/handler"
	"github.com/facepay/platform/shared/lambdafn"
)

func main() { lambdafn.Start(handler.New) }

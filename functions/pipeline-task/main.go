// Command pipeline-task is the target of the certification pipeline's callback tasks
// (PipelineTaskFunction): it stores the task token for the step, server-side.
package main

import (
	"github.com/facepay/platform/functions/pipeline-task/handler"
	"github.com/facepay/platform/shared/lambdafn"
)

func main() { lambdafn.Start(handler.New) }

// Command process-upload validates every file that arrives in the artifacts bucket
// (ProcessUploadFunction, triggered by S3 object-created notifications).
package main

import (
	"github.com/facepay/platform/functions/process-upload/handler"
	"github.com/facepay/platform/shared/lambdafn"
)

func main() { lambdafn.Start(handler.New) }

// Command applications is the partner-facing applications API (ApplicationsFunction).
package main

import (
	"github.com/facepay/platform/functions/applications/handler"
	"github.com/facepay/platform/shared/lambdafn"
)

func main() { lambdafn.Start(handler.New) }

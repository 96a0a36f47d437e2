// Command release-decisions is the weekly release of review decisions (ReleaseDecisionsFunction, Mondays 09:00 Asia/Shanghai).
package main

import (
	"github.com/facepay/platform/functions/release-decisions/handler"
	"github.com/facepay/platform/shared/lambdafn"
)

func main() { lambdafn.Start(handler.New) }

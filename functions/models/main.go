// Command models is vendors' model registration (ModelsFunction).
package main

import (
	"github.com/facepay/platform/functions/models/handler"
	"github.com/facepay/platform/shared/lambdafn"
)

func main() { lambdafn.Start(handler.New) }

// Command bindings serves device binding (BindingsFunction): vendors fill in each device's
// deployment provider (one, a list, or a CSV import), deployment providers list and confirm
// or decline the devices assigned to them.
package main

import (
	"github.com/facepay/platform/functions/bindings/handler"
	"github.com/facepay/platform/shared/lambdafn"
)

func main() { lambdafn.Start(handler.New) }

// Command clear-test-devices (ClearTestDevicesFunction) clears vendor test devices on their
// expected pre-check completion date, daily.
package main

import (
	"github.com/facepay/platform/functions/clear-test-devices/handler"
	"github.com/facepay/platform/shared/lambdafn"
)

func main() { lambdafn.Start(handler.New) }

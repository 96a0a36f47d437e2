// Command devices serves production devices (DevicesFunction): serial numbers, device
// authorization codes, the factory check, the closed-loop query, the runtime check, inventory.
package main

import (
	"github.com/facepay/platform/functions/devices/handler"
	"github.com/facepay/platform/shared/lambdafn"
)

func main() { lambdafn.Start(handler.New) }

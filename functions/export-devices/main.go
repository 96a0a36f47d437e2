// Command export-devices writes a vendor's inventory export to S3 (ExportDevicesFunction),
// invoked asynchronously by DevicesFunction (POST /devices/exports).
package main

import (
	"github.com/facepay/platform/functions/export-devices/handler"
	"github.com/facepay/platform/shared/lambdafn"
)

func main() { lambdafn.Start(handler.New) }

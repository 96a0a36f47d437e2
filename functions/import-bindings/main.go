// Command import-bindings applies a vendor's uploaded binding CSV (ImportBindingsFunction,
// notified by S3 of binding-imports/): per-row results to binding-results/, totals and status
// on the import.
package main

import (
	"github.com/facepay/platform/functions/import-bindings/handler"
	"github.com/facepay/platform/shared/lambdafn"
)

func main() { lambdafn.Start(handler.New) }

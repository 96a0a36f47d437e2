// Command prescreen-workbook pre-screens uploaded evidence spreadsheets for process-upload.
package main

import (
	"github.com/facepay/platform/functions/prescreen-workbook/handler"
	"github.com/facepay/platform/shared/lambdafn"
)

func main() { lambdafn.Start(handler.New) }

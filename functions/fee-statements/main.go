// Command fee-statements (FeeStatementsFunction) computes the monthly technical service fee
// statements when its schedule fires on the 1st, or for the months an operator names.
package main

import (
	"github.com/facepay/platform/functions/fee-statements/handler"
	"github.com/facepay/platform/shared/lambdafn"
)

func main() { lambdafn.Start(handler.New) }

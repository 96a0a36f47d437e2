// Command review is the reviewers' admin API (ReviewFunction).
package main

import (
	"github.com/facepay/platform/functions/review/handler"
	"github.com/facepay/platform/shared/lambdafn"
)

func main() { lambdafn.Start(handler.New) }

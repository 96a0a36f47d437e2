// Command pay-score is the Pay Score API (PayScoreFunction): merchants' applications, uploads,
// phone, submission, agreement, go-live acceptance and timeline; reviewers' misuse reports.
package main

import (
	"github.com/facepay/platform/functions/pay-score/handler"
	"github.com/facepay/platform/shared/lambdafn"
)

func main() { lambdafn.Start(handler.New) }

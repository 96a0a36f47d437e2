// Command evidence is the EvidenceFunction: vendors' evidence submissions (presigned uploads,
// submit) and reviewers' access to them (download links, decisions).
package main

import (
	"github.com/facepay/platform/functions/evidence/handler"
	"github.com/facepay/platform/shared/lambdafn"
)

func main() { lambdafn.Start(handler.New) }

// Command factory-authorizer is the HTTP API's Lambda authorizer of the factory lines' routes
// (FactoryAuthorizerFunction): it checks a device authorization code against its stored hash
// and scopes the caller to the code's vendor.
package main

import (
	"github.com/facepay/platform/functions/factory-authorizer/handler"
	"github.com/facepay/platform/shared/lambdafn"
)

func main() { lambdafn.Start(handler.New) }

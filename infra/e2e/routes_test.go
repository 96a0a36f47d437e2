package e2e

import (
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/facepay/platform/infra/local/cloud"
	"github.com/facepay/platform/infra/local/cloud/cloudtest"
)

var pathParam = regexp.MustCompile(`\{[^}]+\}`)

// Every route the template wires to a function is one the function's router serves: none may
// answer route_not_found, whichever role calls it.
func TestEveryTemplateRouteReachesItsHandler(t *testing.T) {
	c := cloudtest.Start(t, time.Now())
	callers := []*cloudtest.Client{
		cloudtest.As(t, c, vendorA),
		cloudtest.As(t, c, cloud.Identity{Subject: "rita", Role: "reviewer"}),
	}
	for _, f := range c.Template.Functions {
		for _, r := range f.Routes {
			path := pathParam.ReplaceAllString(r.Path, "x")
			for _, cl := range callers {
				var body any
				if r.Method != http.MethodGet {
					body = map[string]any{}
				}
				resp := cl.Do(r.Method, path, body)
				assert.NotEqual(t, "route_not_found", resp.Code(), "%s (%s) is not served by %s", r.Key(), path, f.LogicalID)
				assert.Less(t, resp.Status, 500, "%s: %s", r.Key(), resp.Raw)
			}
		}
	}
}

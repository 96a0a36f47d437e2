package e2e

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/facepay/platform/infra/local/cloud"
	"github.com/facepay/platform/infra/local/cloud/cloudtest"
)

// openAPIDoc is infra/openapi.yaml as plain values, for tests that walk every operation.
type openAPIDoc struct {
	Paths      map[string]map[string]any `yaml:"paths"`
	Components map[string]map[string]any `yaml:"components"`
}

func loadOpenAPI(t *testing.T) openAPIDoc {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(cloudtest.Root(), "infra", "openapi.yaml"))
	require.NoError(t, err)
	var doc openAPIDoc
	require.NoError(t, yaml.Unmarshal(raw, &doc))
	return doc
}

// resolve follows a $ref ("#/components/<kind>/<name>").
func (d openAPIDoc) resolve(v any) map[string]any {
	m, _ := v.(map[string]any)
	if ref, ok := m["$ref"].(string); ok {
		parts := strings.Split(strings.TrimPrefix(ref, "#/components/"), "/")
		next, _ := d.Components[parts[0]][parts[1]].(map[string]any)
		return d.resolve(next)
	}
	return m
}

type docOperation struct {
	method, path string
	op           map[string]any
}

func (d openAPIDoc) operations() []docOperation {
	var out []docOperation
	for p, item := range d.Paths {
		for m, op := range item {
			if o, ok := op.(map[string]any); ok && m != "parameters" {
				out = append(out, docOperation{method: strings.ToUpper(m), path: p, op: o})
			}
		}
	}
	slices.SortFunc(out, func(a, b docOperation) int { return strings.Compare(a.path+a.method, b.path+b.method) })
	return out
}

func (d openAPIDoc) hasParameter(o docOperation, name string) bool {
	params, _ := o.op["parameters"].([]any)
	for _, p := range params {
		if d.resolve(p)["name"] == name {
			return true
		}
	}
	return false
}

func (o docOperation) roles() []string {
	var out []string
	rs, _ := o.op["x-roles"].([]any)
	for _, r := range rs {
		out = append(out, r.(string))
	}
	return out
}

// hostile builds a value of schema in which every string is n characters long (enums too),
// every map has one such entry and every list one such item.
func (d openAPIDoc) hostile(schema any, n int) any {
	s := d.resolve(schema)
	long := strings.Repeat("x", n)
	if all, ok := s["allOf"].([]any); ok {
		out := map[string]any{}
		for _, part := range all {
			for k, v := range d.hostile(part, n).(map[string]any) {
				out[k] = v
			}
		}
		return out
	}
	switch s["type"] {
	case "string":
		return long
	case "integer":
		return 1
	case "boolean":
		return true
	case "array":
		return []any{d.hostile(s["items"], n)}
	default:
		out := map[string]any{}
		props, _ := s["properties"].(map[string]any)
		for k, v := range props {
			out[k] = d.hostile(v, n)
		}
		if ap, ok := s["additionalProperties"].(map[string]any); ok {
			out[long[:min(n, 200)]] = d.hostile(ap, n)
		}
		return out
	}
}

// callerFor is an identity an operation serves: the reviewer for admin routes, a deployer of
// the vendor's organisation for deployers' routes, else the vendor.
func callerFor(o docOperation, vendorID cloud.Identity) cloud.Identity {
	roles := o.roles()
	if slices.Contains(roles, "reviewer") {
		return reviewer
	}
	if slices.Contains(roles, "merchant") && !slices.Contains(roles, "vendor") {
		return merchantID // Pay Score routes are the merchant's alone
	}
	if !slices.Contains(roles, "vendor") && slices.Contains(roles, "deployer") {
		return providerN(1) // approved where a scenario needs it to reach the route's checks
	}
	return vendorID
}

// Every listing answers a forged, altered or foreign cursor with 400 invalid_cursor at once
// (issue 10 point 2: such cursors reached DynamoDB and ended in a 500 after 2.5 s), and no
// cursor shows a DynamoDB key (issue 8 point 6).
func TestHostile_ForgedCursorsOnEveryListing(t *testing.T) {
	c := cloudtest.Start(t, tuesday)
	doc := loadOpenAPI(t)
	a, b := vendor(1), vendor(2)
	va := cloudtest.As(t, c, a)
	for range 2 {
		require.Equal(t, http.StatusCreated, va.Do("POST", "/applications", map[string]any{"partnerType": "device_vendor"}).Status)
	}
	// An approved provider: its listings must refuse the cursor, not its missing approval.
	applyAsDeployer(t, c, providerN(1))
	require.NoError(t, c.FireSchedule(context.Background(), "WeeklyRelease"))
	page := va.Do("GET", "/applications?limit=1", nil)
	require.Equal(t, http.StatusOK, page.Status, string(page.Raw))
	real, _ := page.Body["next"].(string)
	require.NotEmpty(t, real, "two drafts, one per page")
	plain, err := base64.RawURLEncoding.DecodeString(real)
	require.NoError(t, err)
	assert.NotContains(t, string(plain), "ORG#", "a cursor must not be a DynamoDB key")
	next := va.Do("GET", "/applications?limit=1&cursor="+url.QueryEscape(real), nil)
	require.Equal(t, http.StatusOK, next.Status, "a real cursor opens the next page: %s", next.Raw)

	b64 := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	forged := map[string]string{
		"small object":       b64(`{"a":"b"}`),
		"a plain key":        b64(`{"pk":"APP#x","sk":"META","gsi1pk":"ORG#vendor-1","gsi1sk":"APP#2026"}`),
		"garbage":            "%%%",
		"very long":          strings.Repeat("A", 5000),
		"another's cursor":   real, // valid for vendor-1's applications only
		"truncated real one": real[:len(real)-4],
	}
	listings := 0
	for _, o := range doc.operations() {
		if o.method != http.MethodGet || !doc.hasParameter(o, "cursor") {
			continue
		}
		listings++
		path := pathParam.ReplaceAllString(o.path, "x")
		id := callerFor(o, b)
		cl := cloudtest.As(t, c, id)
		for name, cursor := range forged {
			r := cl.Do("GET", path+"?cursor="+url.QueryEscape(cursor), nil)
			assert.Equal(t, http.StatusBadRequest, r.Status, "%s %s with %s: %s", o.method, o.path, name, r.Raw)
			assert.Equal(t, "invalid_cursor", r.Code(), "%s %s with %s", o.method, o.path, name)
		}
	}
	assert.GreaterOrEqual(t, listings, 6, "the document's listings")
}

// Every mutating route refuses over-long fields, path segments and Idempotency-Keys with a
// 4xx, and changes nothing (issue 10 point 1: a 300 KB withdraw reason was stored, 1 MiB
// fields ended in a 500).
func TestHostile_OverLongFieldsOnEveryMutatingRoute(t *testing.T) {
	c := cloudtest.Start(t, tuesday)
	doc := loadOpenAPI(t)
	id := vendor(1)
	v := cloudtest.As(t, c, id)
	r := v.Do("POST", "/applications", map[string]any{"partnerType": "device_vendor", "company": map[string]any{"name": "Acme"}})
	require.Equal(t, http.StatusCreated, r.Status, string(r.Raw))
	appID := r.Body["id"].(string)
	before := v.Do("GET", "/applications/"+appID, nil)

	mutating := 0
	for _, o := range doc.operations() {
		if o.method == http.MethodGet {
			continue
		}
		mutating++
		path := strings.NewReplacer("{id}", appID, "{slot}", "deck", "{kind}", "software", "{version}", "1").Replace(o.path)
		if !strings.HasPrefix(o.path, "/applications/") && !strings.HasPrefix(o.path, "/admin/applications/") {
			path = pathParam.ReplaceAllString(o.path, "x")
		}
		cl := cloudtest.As(t, c, callerFor(o, id))
		var schema, example any
		if rb, ok := o.op["requestBody"].(map[string]any); ok {
			media := rb["content"].(map[string]any)["application/json"].(map[string]any)
			schema, example = media["schema"], media["example"]
		}
		for _, n := range []int{1 << 20, 300_000, 2001} {
			var body any = map[string]any{}
			if schema != nil {
				body = doc.hostile(schema, n)
			}
			r := cl.Do(o.method, path, body)
			assert.True(t, r.Status >= 400 && r.Status < 500, "%s %s with %d-character fields: %d %s", o.method, o.path, n, r.Status, trim(r.Raw))
		}
		long := cl.Do(o.method, pathParam.ReplaceAllString(o.path, strings.Repeat("i", 1000)), map[string]any{})
		assert.True(t, long.Status >= 400 && long.Status < 500, "%s %s with a 1000-character path segment: %d %s", o.method, o.path, long.Status, trim(long.Raw))
		if doc.hasParameter(o, "Idempotency-Key") {
			r := cl.Do(o.method, path, example, "Idempotency-Key", strings.Repeat("k", 5000))
			assert.Equal(t, "invalid_idempotency_key", r.Code(), "%s %s: %s", o.method, o.path, trim(r.Raw))
		}
	}
	assert.GreaterOrEqual(t, mutating, 10)
	after := v.Do("GET", "/applications/"+appID, nil)
	assert.Equal(t, before.Body, after.Body, "refused requests changed the application")
	hist := v.Do("GET", "/applications/"+appID+"/history", nil)
	assert.Len(t, hist.Body["items"], 1, "only the creation is recorded: %s", hist.Raw)
}

func trim(b []byte) string { return string(b[:min(len(b), 300)]) }

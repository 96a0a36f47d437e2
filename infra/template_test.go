// Package infra_test keeps the deployable description and the code in step: template.yaml,
// infra/openapi.yaml, functions/, events/, statemachines/ and the store's table shape.
package infra_test

import (
	"encoding/json"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/facepay/platform/infra/local/cloud"
	"github.com/facepay/platform/infra/local/template"
	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/store"
)

func load(t *testing.T) (*template.Template, map[string]template.Operation) {
	t.Helper()
	tpl, err := template.Load("../template.yaml", cloud.Stack)
	require.NoError(t, err)
	ops, err := template.LoadOpenAPI("openapi.yaml")
	require.NoError(t, err)
	return tpl, ops
}

func TestRoutesMatchOpenAPIExactly(t *testing.T) {
	tpl, ops := load(t)
	var documented []string
	for k, op := range ops {
		documented = append(documented, k)
		assert.NotEmpty(t, op.ID, "%s has no operationId", k)
		assert.NotEmpty(t, op.Roles, "%s has no x-roles", k)
	}
	sort.Strings(documented)
	assert.Equal(t, documented, tpl.RouteKeys(), "template routes and OpenAPI operations must be the same set")
}

func TestEveryFunctionHasAFolderAConstructorAndSamples(t *testing.T) {
	tpl, _ := load(t)
	inTemplate := map[string]bool{}
	for _, f := range tpl.Functions {
		inTemplate[f.CodeURI] = true
		assert.FileExists(t, filepath.Join("..", f.CodeURI, "main.go"), f.LogicalID)
		assert.Contains(t, cloud.Functions, f.CodeURI, "%s is not registered in infra/local/cloud/functions.go", f.LogicalID)
		name := filepath.Base(f.CodeURI)
		assert.Equal(t, f.LogicalID, pascal(name)+"Function", "one name runs through folder and logical id")
		samples, _ := filepath.Glob(filepath.Join("..", "events", name, "*.json"))
		assert.NotEmpty(t, samples, "events/%s/ has no sample event", name)
	}
	dirs, err := filepath.Glob("../functions/*")
	require.NoError(t, err)
	for _, d := range dirs {
		assert.True(t, inTemplate["functions/"+filepath.Base(d)], "%s is not in template.yaml", d)
	}
	for codeURI := range cloud.Functions {
		assert.True(t, inTemplate[codeURI], "%s is registered but not in template.yaml", codeURI)
	}
}

// Every HTTP sample names a route its function serves, and every route has a sample.
func TestEventSamplesMatchRoutes(t *testing.T) {
	tpl, _ := load(t)
	for _, f := range tpl.Functions {
		samples, _ := filepath.Glob(filepath.Join("..", "events", filepath.Base(f.CodeURI), "*.json"))
		if len(f.Routes) == 0 {
			continue
		}
		routes := map[string]bool{}
		for _, r := range f.Routes {
			routes[r.Key()] = false
		}
		for _, s := range samples {
			raw, err := os.ReadFile(s)
			require.NoError(t, err)
			var ev events.APIGatewayV2HTTPRequest
			require.NoError(t, json.Unmarshal(raw, &ev), s)
			_, ok := routes[ev.RouteKey]
			assert.True(t, ok, "%s: route %q is not one of %s's", s, ev.RouteKey, f.LogicalID)
			routes[ev.RouteKey] = true
		}
		for r, seen := range routes {
			assert.True(t, seen, "route %s has no sample in events/%s/", r, filepath.Base(f.CodeURI))
		}
	}
}

var placeholder = regexp.MustCompile(`\$\{([A-Za-z0-9_]+)\}`)

// Every ${Placeholder} in ASL is declared in DefinitionSubstitutions, and nothing declared is unused.
func TestStateMachinePlaceholdersAreDeclared(t *testing.T) {
	tpl, _ := load(t)
	files, _ := filepath.Glob("../statemachines/*.asl.json")
	used := map[string]bool{}
	for _, sm := range tpl.StateMachines {
		raw, err := os.ReadFile(filepath.Join("..", sm.DefinitionURI))
		require.NoError(t, err)
		used[filepath.Base(sm.DefinitionURI)] = true
		var inASL []string
		for _, m := range placeholder.FindAllStringSubmatch(string(raw), -1) {
			inASL = append(inASL, m[1])
		}
		var declared []string
		for k := range sm.Substitutions {
			declared = append(declared, k)
		}
		assert.ElementsMatch(t, declared, unique(inASL), sm.LogicalID)
		assert.NotContains(t, string(raw), "arn:aws:lambda", "%s: ASL holds no ARNs", sm.DefinitionURI)
		def, err := sm.Definition("..")
		require.NoError(t, err)
		assert.True(t, json.Valid([]byte(def)), "%s is not valid JSON after substitution", sm.DefinitionURI)
	}
	for _, f := range files {
		assert.True(t, used[filepath.Base(f)], "%s is not used by any state machine", f)
	}
}

// The template's tables are the ones the store is written for.
func TestTableMatchesStore(t *testing.T) {
	tpl, _ := load(t)
	inputs := map[string]func(string) *dynamodb.CreateTableInput{"Table": store.TableInput, "FiguresTable": store.FiguresTableInput}
	require.Len(t, tpl.Tables, len(inputs))
	for _, tb := range tpl.Tables {
		input, ok := inputs[tb.LogicalID]
		require.True(t, ok, "%s: which store input is it?", tb.LogicalID)
		got, err := cloud.TableInput(tb)
		require.NoError(t, err)
		want := input(tb.Name)
		assert.ElementsMatch(t, want.AttributeDefinitions, got.AttributeDefinitions, tb.LogicalID)
		assert.Equal(t, want.KeySchema, got.KeySchema, tb.LogicalID)
		assert.Equal(t, len(want.GlobalSecondaryIndexes), len(got.GlobalSecondaryIndexes), tb.LogicalID)
		for i := range want.GlobalSecondaryIndexes {
			assert.Equal(t, *want.GlobalSecondaryIndexes[i].IndexName, *got.GlobalSecondaryIndexes[i].IndexName)
			assert.Equal(t, want.GlobalSecondaryIndexes[i].KeySchema, got.GlobalSecondaryIndexes[i].KeySchema)
		}
	}
}

func unique(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, v := range s {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

func pascal(kebab string) string {
	var b strings.Builder
	for _, p := range strings.Split(kebab, "-") {
		if p != "" {
			b.WriteString(strings.ToUpper(p[:1]) + p[1:])
		}
	}
	return b.String()
}

// Every operation shows an example of its request body (when it has one) and of its success
// response, and names the roles it serves; the device-type enum is the domain's list.
func TestOpenAPIOperationsHaveExamples(t *testing.T) {
	raw, err := os.ReadFile("openapi.yaml")
	require.NoError(t, err)
	var doc map[string]any
	require.NoError(t, yaml.Unmarshal(raw, &doc))
	resolve := func(v any) map[string]any {
		m, _ := v.(map[string]any)
		if ref, ok := m["$ref"].(string); ok {
			parts := strings.Split(strings.TrimPrefix(ref, "#/"), "/")
			var cur any = doc
			for _, p := range parts {
				cur = cur.(map[string]any)[p]
			}
			m, _ = cur.(map[string]any)
		}
		return m
	}
	hasExample := func(content any) bool {
		for _, media := range resolve(map[string]any{"x": content})["x"].(map[string]any) {
			mm := media.(map[string]any)
			if mm["example"] != nil || mm["examples"] != nil {
				return true
			}
		}
		return false
	}
	for path, item := range doc["paths"].(map[string]any) {
		for method, op := range item.(map[string]any) {
			if method == "parameters" {
				continue
			}
			o := op.(map[string]any)
			name := strings.ToUpper(method) + " " + path
			assert.NotEmpty(t, o["x-roles"], "%s: x-roles", name)
			if rb := resolve(o["requestBody"]); rb != nil {
				assert.True(t, hasExample(rb["content"]), "%s: request example", name)
			}
			ok := false
			for code, resp := range o["responses"].(map[string]any) {
				if strings.HasPrefix(code, "2") {
					r := resolve(resp)
					ok = ok || (r["content"] != nil && hasExample(r["content"]))
				}
			}
			assert.True(t, ok, "%s: a success response with an example", name)
		}
	}
	schema := doc["components"].(map[string]any)["schemas"].(map[string]any)["ModelSpec"].(map[string]any)
	enum := resolve(schema["properties"].(map[string]any)["deviceType"])["enum"].([]any)
	var want []any
	for _, d := range domain.DeviceTypes() {
		want = append(want, string(d))
	}
	assert.Equal(t, want, enum, "ModelSpec.deviceType lists exactly the domain's device types")
}

// The artifacts bucket expires what process-upload quarantines (refused, superseded and
// re-used uploads) and inventory exports after domain.ExportKeptFor, and nothing under the
// live prefixes.
func TestQuarantineExpires(t *testing.T) {
	raw, err := os.ReadFile("../template.yaml")
	require.NoError(t, err)
	var doc struct {
		Resources map[string]struct {
			Type       string `yaml:"Type"`
			Properties struct {
				LifecycleConfiguration struct {
					Rules []struct {
						Prefix           string `yaml:"Prefix"`
						Status           string `yaml:"Status"`
						ExpirationInDays int    `yaml:"ExpirationInDays"`
					} `yaml:"Rules"`
				} `yaml:"LifecycleConfiguration"`
			} `yaml:"Properties"`
		} `yaml:"Resources"`
	}
	require.NoError(t, yaml.Unmarshal(raw, &doc))
	b := doc.Resources["ArtifactsBucket"]
	require.Equal(t, "AWS::S3::Bucket", b.Type)
	expiring := map[string]int{}
	for _, r := range b.Properties.LifecycleConfiguration.Rules {
		if r.Status == "Enabled" && r.ExpirationInDays > 0 {
			expiring[r.Prefix] = r.ExpirationInDays
		}
	}
	assert.Equal(t, map[string]int{"quarantine/": 30, "device-exports/": int(domain.ExportKeptFor / (24 * time.Hour))}, expiring)
}

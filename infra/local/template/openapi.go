package template

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Operation is one operation of the OpenAPI document.
type Operation struct {
	ID     string
	Method string
	Path   string
	Roles  []string // x-roles
	// BodyRequired: the operation declares a required JSON request body.
	BodyRequired bool
}

// Key is the route key the operation corresponds to.
func (o Operation) Key() string { return o.Method + " " + o.Path }

var methods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// LoadOpenAPI reads the operations of the OpenAPI document at path, keyed by route key.
func LoadOpenAPI(path string) (map[string]Operation, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Paths map[string]map[string]yaml.Node `yaml:"paths"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	ops := map[string]Operation{}
	for p, item := range doc.Paths {
		for _, m := range methods {
			node, ok := item[m]
			if !ok {
				continue
			}
			var op struct {
				OperationID string   `yaml:"operationId"`
				Roles       []string `yaml:"x-roles"`
				RequestBody struct {
					Required bool `yaml:"required"`
				} `yaml:"requestBody"`
			}
			if err := node.Decode(&op); err != nil {
				return nil, fmt.Errorf("%s %s: %w", m, p, err)
			}
			o := Operation{ID: op.OperationID, Method: strings.ToUpper(m), Path: p, Roles: op.Roles, BodyRequired: op.RequestBody.Required}
			ops[o.Key()] = o
		}
	}
	return ops, nil
}

// RouteKeys returns every route key of the template's functions, sorted.
func (t *Template) RouteKeys() []string {
	var keys []string
	for _, f := range t.Functions {
		for _, r := range f.Routes {
			keys = append(keys, r.Key())
		}
	}
	sort.Strings(keys)
	return keys
}

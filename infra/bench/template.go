package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// Dummy identity used where the template leaves a value to CloudFormation.
const (
	dummyRegion  = "us-east-1"
	dummyAccount = "123456789012"
)

// functionEnv is what the template says about one function.
type functionEnv struct {
	LogicalID string
	CodeURI   string
	Vars      map[string]string // Globals merged with the function's own
}

// templateEnv reads a SAM template and returns, by function folder name (the
// last element of CodeUri), the environment each function gets: the Globals'
// variables overridden by the function's own. Intrinsic functions (!Ref,
// !GetAtt, !Sub and their long forms) become plausible local values: a
// parameter's Default, a resource's name or ARN, or "local-<name>".
func templateEnv(data []byte) (map[string]functionEnv, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("parse template: %w", err)
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("parse template: not a YAML mapping")
	}
	root := doc.Content[0]
	t := &template{params: map[string]string{}, types: map[string]string{}}
	if params := get(root, "Parameters"); params != nil && params.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(params.Content); i += 2 {
			if def := get(params.Content[i+1], "Default"); def != nil && def.Kind == yaml.ScalarNode {
				t.params[params.Content[i].Value] = def.Value
			}
		}
	}
	resources := get(root, "Resources")
	if resources == nil || resources.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("parse template: no Resources")
	}
	for i := 0; i+1 < len(resources.Content); i += 2 {
		if typ := get(resources.Content[i+1], "Type"); typ != nil {
			t.types[resources.Content[i].Value] = typ.Value
		}
	}

	globals := t.vars(get(get(get(get(root, "Globals"), "Function"), "Environment"), "Variables"))
	out := map[string]functionEnv{}
	for i := 0; i+1 < len(resources.Content); i += 2 {
		id, res := resources.Content[i].Value, resources.Content[i+1]
		if t.types[id] != "AWS::Serverless::Function" {
			continue
		}
		props := get(res, "Properties")
		codeURI := get(props, "CodeUri")
		if codeURI == nil || codeURI.Kind != yaml.ScalarNode || codeURI.Value == "" {
			continue // an inline or S3 location: nothing to build here
		}
		vars := map[string]string{}
		for k, v := range globals {
			vars[k] = v
		}
		for k, v := range t.vars(get(get(props, "Environment"), "Variables")) {
			vars[k] = v
		}
		folder := filepath.Base(filepath.Clean(filepath.FromSlash(codeURI.Value)))
		out[folder] = functionEnv{LogicalID: id, CodeURI: codeURI.Value, Vars: vars}
	}
	return out, nil
}

// template holds what value resolution needs from the whole document.
type template struct {
	params map[string]string // parameter → Default
	types  map[string]string // logical ID → resource Type
}

// vars resolves an Environment.Variables mapping.
func (t *template) vars(m *yaml.Node) map[string]string {
	out := map[string]string{}
	if m == nil || m.Kind != yaml.MappingNode {
		return out
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		name := m.Content[i].Value
		out[name] = t.value(name, m.Content[i+1])
	}
	return out
}

// value turns a variable's node into a string, resolving intrinsics.
func (t *template) value(name string, n *yaml.Node) string {
	switch {
	case n.Kind == yaml.ScalarNode && (n.Tag == "" || strings.HasPrefix(n.Tag, "!!")):
		return n.Value
	case n.Tag == "!Ref" && n.Kind == yaml.ScalarNode:
		return t.ref(n.Value)
	case n.Tag == "!GetAtt":
		return t.getAtt(n)
	case n.Tag == "!Sub":
		return t.sub(n)
	case n.Kind == yaml.MappingNode && len(n.Content) == 2:
		arg := n.Content[1]
		switch n.Content[0].Value {
		case "Ref":
			return t.ref(arg.Value)
		case "Fn::GetAtt":
			return t.getAtt(arg)
		case "Fn::Sub":
			return t.sub(arg)
		}
	}
	return dummy(name)
}

// ref resolves a Ref to a parameter, a pseudo parameter or a resource.
func (t *template) ref(target string) string {
	if v, ok := t.params[target]; ok {
		return v
	}
	switch target {
	case "AWS::Region":
		return dummyRegion
	case "AWS::AccountId":
		return dummyAccount
	case "AWS::Partition":
		return "aws"
	case "AWS::URLSuffix":
		return "amazonaws.com"
	case "AWS::StackName", "AWS::StackId":
		return "local"
	}
	name := "local-" + strings.ToLower(target)
	switch t.types[target] {
	case "AWS::Serverless::StateMachine", "AWS::StepFunctions::StateMachine",
		"AWS::SNS::Topic", "AWS::Serverless::LayerVersion", "AWS::IAM::ManagedPolicy":
		return t.arn(target)
	case "AWS::SQS::Queue":
		return fmt.Sprintf("https://sqs.%s.amazonaws.com/%s/%s", dummyRegion, dummyAccount, name)
	}
	return name
}

// getAtt resolves !GetAtt Resource.Attr (or its list form).
func (t *template) getAtt(n *yaml.Node) string {
	var res, attr string
	switch n.Kind {
	case yaml.ScalarNode:
		res, attr, _ = strings.Cut(n.Value, ".")
	case yaml.SequenceNode:
		if len(n.Content) == 2 {
			res, attr = n.Content[0].Value, n.Content[1].Value
		}
	}
	switch {
	case strings.HasSuffix(attr, "Arn"):
		return t.arn(res)
	case attr == "Name" || strings.HasSuffix(attr, "Name"):
		return "local-" + strings.ToLower(res)
	case strings.HasSuffix(attr, "Url") || strings.HasSuffix(attr, "URL") || strings.HasSuffix(attr, "Endpoint"):
		return "http://127.0.0.1:9/" + strings.ToLower(res)
	}
	return "local-" + strings.ToLower(res) + "-" + strings.ToLower(attr)
}

// arn makes an ARN of the right service for a resource.
func (t *template) arn(id string) string {
	name := "local-" + strings.ToLower(id)
	p := "arn:aws:%s:" + dummyRegion + ":" + dummyAccount + ":%s"
	switch t.types[id] {
	case "AWS::DynamoDB::Table":
		return fmt.Sprintf(p, "dynamodb", "table/"+name)
	case "AWS::S3::Bucket":
		return "arn:aws:s3:::" + name
	case "AWS::Serverless::StateMachine", "AWS::StepFunctions::StateMachine":
		return fmt.Sprintf(p, "states", "stateMachine:"+name)
	case "AWS::Serverless::Function", "AWS::Lambda::Function":
		return fmt.Sprintf(p, "lambda", "function:"+name)
	case "AWS::SNS::Topic":
		return fmt.Sprintf(p, "sns", name)
	case "AWS::SQS::Queue":
		return fmt.Sprintf(p, "sqs", name)
	case "AWS::Events::Rule":
		return fmt.Sprintf(p, "events", "rule/"+name)
	}
	return fmt.Sprintf(p, "cloudformation", name)
}

var subVar = regexp.MustCompile(`\$\{([^}!][^}]*)\}`)

// sub resolves !Sub "text ${Name} ${Res.Attr}" (or its list form, whose
// second element maps names to values).
func (t *template) sub(n *yaml.Node) string {
	text, vars := n, (*yaml.Node)(nil)
	if n.Kind == yaml.SequenceNode && len(n.Content) > 0 {
		text = n.Content[0]
		if len(n.Content) > 1 {
			vars = n.Content[1]
		}
	}
	return subVar.ReplaceAllStringFunc(text.Value, func(m string) string {
		key := m[2 : len(m)-1]
		if v := get(vars, key); v != nil {
			return t.value(key, v)
		}
		if res, attr, ok := strings.Cut(key, "."); ok {
			return t.getAtt(&yaml.Node{Kind: yaml.SequenceNode, Content: []*yaml.Node{{Value: res}, {Value: attr}}})
		}
		return t.ref(key)
	})
}

// dummy is a plausible value for a variable the template computes in a way
// this tool does not model, chosen by the variable's name.
func dummy(name string) string {
	upper := strings.ToUpper(name)
	local := "local-" + strings.ReplaceAll(strings.ToLower(name), "_", "-")
	switch {
	case strings.Contains(upper, "ARN"):
		return "arn:aws:cloudformation:" + dummyRegion + ":" + dummyAccount + ":" + local
	case strings.Contains(upper, "URL"), strings.Contains(upper, "ENDPOINT"):
		return "http://127.0.0.1:9/" + local
	}
	return local
}

// get returns the value of key in mapping m, or nil.
func get(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// envFile reads a `sam local --env-vars` file ({"Parameters": {...},
// "<LogicalID>": {...}}) when it exists; its values win over the template's.
func envFile(path string) (map[string]map[string]string, error) {
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out map[string]map[string]string
	if err := yaml.Unmarshal(data, &out); err != nil { // JSON is YAML
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	return out, nil
}

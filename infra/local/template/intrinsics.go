package template

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// decode turns a YAML node into plain values, short-form tags (!Ref, !Sub, ...) into their
// long form ({"Ref": ...}, {"Fn::Sub": ...}), as CloudFormation reads them.
func decode(n *yaml.Node) any {
	switch n.Kind {
	case yaml.DocumentNode:
		return decode(n.Content[0])
	case yaml.AliasNode:
		return decode(n.Alias)
	}
	var v any
	switch n.Kind {
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			m[n.Content[i].Value] = decode(n.Content[i+1])
		}
		v = m
	case yaml.SequenceNode:
		l := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			l = append(l, decode(c))
		}
		v = l
	default:
		switch n.Tag {
		case "!!bool":
			v = n.Value == "true"
		case "!!int":
			i, _ := strconv.Atoi(n.Value)
			v = i
		default:
			v = n.Value
		}
	}
	if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
		name := strings.TrimPrefix(n.Tag, "!")
		if name == "GetAtt" {
			if s, ok := v.(string); ok {
				id, attr, _ := strings.Cut(s, ".")
				v = []any{id, attr}
			}
		}
		if name != "Ref" && name != "Condition" {
			name = "Fn::" + name
		}
		return map[string]any{name: v}
	}
	return v
}

type resolver struct {
	stack      Stack
	params     map[string]string
	conditions map[string]any
	resources  map[string]map[string]any
	globals    map[string]any
	order      []string
	condCache  map[string]bool
}

func newResolver(root map[string]any, stack Stack) (*resolver, error) {
	r := &resolver{stack: stack, params: map[string]string{}, condCache: map[string]bool{}}
	for name, p := range asMap(root["Parameters"]) {
		r.params[name] = str(asMap(p)["Default"])
	}
	for k, v := range stack.Params {
		if _, ok := r.params[k]; !ok {
			return nil, fmt.Errorf("parameter override %s: the template declares no such parameter", k)
		}
		r.params[k] = v
	}
	r.conditions = asMap(root["Conditions"])
	r.globals = asMap(root["Globals"])
	r.resources = map[string]map[string]any{}
	for id, res := range asMap(root["Resources"]) {
		r.resources[id] = asMap(res)
		r.order = append(r.order, id)
	}
	slices.Sort(r.order)
	return r, nil
}

func (r *resolver) included(res map[string]any) bool {
	c := str(res["Condition"])
	if c == "" {
		return true
	}
	ok, _ := r.condition(c)
	return ok
}

func (r *resolver) condition(name string) (bool, error) {
	if v, ok := r.condCache[name]; ok {
		return v, nil
	}
	def, ok := r.conditions[name]
	if !ok {
		return false, fmt.Errorf("unknown condition %s", name)
	}
	v, err := r.resolve(def)
	if err != nil {
		return false, err
	}
	b, _ := v.(bool)
	r.condCache[name] = b
	return b, nil
}

// physical is the local physical name of a resource.
func (r *resolver) physical(id string) string {
	res := r.resources[id]
	props := asMap(res["Properties"])
	switch str(res["Type"]) {
	case "AWS::S3::Bucket":
		if n, ok := props["BucketName"]; ok {
			if v, err := r.resolve(n); err == nil {
				return str(v)
			}
		}
		return strings.ToLower(r.stack.Name + "-" + id)
	case "AWS::DynamoDB::Table":
		if n, ok := props["TableName"]; ok {
			if v, err := r.resolve(n); err == nil {
				return str(v)
			}
		}
		return r.stack.Name + "-" + id
	case "AWS::SQS::Queue":
		if n, ok := props["QueueName"]; ok {
			if v, err := r.resolve(n); err == nil {
				return str(v)
			}
		}
		return r.stack.Name + "-" + id
	default:
		return id
	}
}

func (r *resolver) arn(id string) string {
	s := r.stack
	switch str(r.resources[id]["Type"]) {
	case "AWS::Serverless::Function", "AWS::Lambda::Function":
		return fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", s.Region, s.AccountID, r.physical(id))
	case "AWS::Serverless::StateMachine", "AWS::StepFunctions::StateMachine":
		return fmt.Sprintf("arn:aws:states:%s:%s:stateMachine:%s", s.Region, s.AccountID, r.physical(id))
	case "AWS::DynamoDB::Table":
		return fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/%s", s.Region, s.AccountID, r.physical(id))
	case "AWS::S3::Bucket":
		return "arn:aws:s3:::" + r.physical(id)
	case "AWS::SQS::Queue":
		return fmt.Sprintf("arn:aws:sqs:%s:%s:%s", s.Region, s.AccountID, r.physical(id))
	default:
		return fmt.Sprintf("arn:aws:local:%s:%s:%s", s.Region, s.AccountID, id)
	}
}

func (r *resolver) ref(name string) (string, error) {
	switch name {
	case "AWS::StackName":
		return r.stack.Name, nil
	case "AWS::Region":
		return r.stack.Region, nil
	case "AWS::AccountId":
		return r.stack.AccountID, nil
	case "AWS::Partition":
		return "aws", nil
	case "AWS::URLSuffix":
		return "amazonaws.com", nil
	}
	if v, ok := r.params[name]; ok {
		return v, nil
	}
	res, ok := r.resources[name]
	if !ok {
		return "", fmt.Errorf("!Ref %s: no such parameter or resource", name)
	}
	switch str(res["Type"]) {
	case "AWS::Serverless::StateMachine", "AWS::StepFunctions::StateMachine":
		return r.arn(name), nil
	}
	return r.physical(name), nil
}

func (r *resolver) getAtt(id, attr string) (string, error) {
	if _, ok := r.resources[id]; !ok {
		return "", fmt.Errorf("!GetAtt %s.%s: no such resource", id, attr)
	}
	switch attr {
	case "Arn":
		return r.arn(id), nil
	case "Name", "QueueName":
		return r.physical(id), nil
	}
	return "", fmt.Errorf("!GetAtt %s.%s: attribute not supported locally", id, attr)
}

var subVar = regexp.MustCompile(`\$\{([^}!][^}]*)\}`)

func (r *resolver) sub(s string, vars map[string]any) (string, error) {
	var firstErr error
	out := subVar.ReplaceAllStringFunc(s, func(m string) string {
		name := m[2 : len(m)-1]
		if v, ok := vars[name]; ok {
			rv, err := r.resolve(v)
			if err != nil && firstErr == nil {
				firstErr = err
			}
			return str(rv)
		}
		var v string
		var err error
		if id, attr, ok := strings.Cut(name, "."); ok {
			v, err = r.getAtt(id, attr)
		} else {
			v, err = r.ref(name)
		}
		if err != nil && firstErr == nil {
			firstErr = err
		}
		return v
	})
	return out, firstErr
}

func (r *resolver) resolveMap(m map[string]any) (map[string]any, error) {
	v, err := r.resolve(m)
	if err != nil {
		return nil, err
	}
	out, _ := v.(map[string]any)
	return out, nil
}

// resolve evaluates the intrinsics in v.
func (r *resolver) resolve(v any) (any, error) {
	switch t := v.(type) {
	case map[string]any:
		if len(t) == 1 {
			for k, arg := range t {
				if out, ok, err := r.intrinsic(k, arg); ok {
					return out, err
				}
			}
		}
		out := make(map[string]any, len(t))
		for k, e := range t {
			rv, err := r.resolve(e)
			if err != nil {
				return nil, err
			}
			out[k] = rv
		}
		return out, nil
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			rv, err := r.resolve(e)
			if err != nil {
				return nil, err
			}
			out[i] = rv
		}
		return out, nil
	default:
		return v, nil
	}
}

func (r *resolver) intrinsic(name string, arg any) (any, bool, error) {
	switch name {
	case "Ref":
		v, err := r.ref(str(arg))
		return v, true, err
	case "Fn::GetAtt":
		parts := list(arg)
		if len(parts) != 2 {
			return nil, true, fmt.Errorf("Fn::GetAtt needs [resource, attribute]")
		}
		v, err := r.getAtt(str(parts[0]), str(parts[1]))
		return v, true, err
	case "Fn::Sub":
		switch a := arg.(type) {
		case string:
			v, err := r.sub(a, nil)
			return v, true, err
		case []any:
			if len(a) == 2 {
				v, err := r.sub(str(a[0]), asMap(a[1]))
				return v, true, err
			}
		}
		return nil, true, fmt.Errorf("Fn::Sub: bad argument")
	case "Fn::If":
		a := list(arg)
		if len(a) != 3 {
			return nil, true, fmt.Errorf("Fn::If needs [condition, then, else]")
		}
		ok, err := r.condition(str(a[0]))
		if err != nil {
			return nil, true, err
		}
		if ok {
			v, err := r.resolve(a[1])
			return v, true, err
		}
		v, err := r.resolve(a[2])
		return v, true, err
	case "Fn::Equals":
		a, err := r.resolve(arg)
		if err != nil {
			return nil, true, err
		}
		l := list(a)
		return len(l) == 2 && str(l[0]) == str(l[1]), true, nil
	case "Fn::Not":
		a, err := r.resolve(arg)
		if err != nil {
			return nil, true, err
		}
		l := list(a)
		b, _ := l[0].(bool)
		return !b, true, nil
	case "Condition":
		v, err := r.condition(str(arg))
		return v, true, err
	case "Fn::Join":
		a, err := r.resolve(arg)
		if err != nil {
			return nil, true, err
		}
		l := list(a)
		if len(l) != 2 {
			return nil, true, fmt.Errorf("Fn::Join needs [delimiter, list]")
		}
		var parts []string
		for _, p := range list(l[1]) {
			parts = append(parts, str(p))
		}
		return strings.Join(parts, str(l[0])), true, nil
	}
	return nil, false, nil
}

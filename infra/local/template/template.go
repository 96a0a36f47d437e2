// Package template reads the SAM template (and the OpenAPI document the HTTP API serves) into
// what the local cloud runs: functions with their environment, routes, bucket notifications
// and schedules; tables; buckets; state machines. CloudFormation intrinsics are resolved the
// way CloudFormation would, with local physical names, so the local cloud never drifts from
// what deploys.
package template

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Stack describes where the template is "deployed" locally.
type Stack struct {
	Name      string            // AWS::StackName, e.g. "facepay-local"
	Region    string            // AWS::Region
	AccountID string            // AWS::AccountId
	Params    map[string]string // parameter overrides
}

// Template is a parsed, resolved template.
type Template struct {
	Dir           string // the directory holding template.yaml (CodeUri and DefinitionUri are relative to it)
	Functions     []Function
	Tables        []Table
	Buckets       []Bucket
	StateMachines []StateMachine
	APIs          []API
	Queues        []Queue
}

// Queue is an AWS::SQS::Queue (failure destinations and dead-letter queues).
type Queue struct {
	LogicalID string
	Name      string
	ARN       string
}

// Function is an AWS::Serverless::Function.
type Function struct {
	LogicalID     string
	Name          string // local physical name (= LogicalID)
	ARN           string
	CodeURI       string        // e.g. functions/applications
	Timeout       time.Duration // the Timeout property (Globals or the function); Lambda's default is 3 s
	Env           map[string]string
	Routes        []Route
	Notifications []Notification
	Schedules     []Schedule
	Async         AsyncConfig // how Lambda treats its asynchronous invocations (EventInvokeConfig)
}

// AsyncConfig is a function's EventInvokeConfig: retries after a failed asynchronous
// invocation, and where the event goes once they are spent.
type AsyncConfig struct {
	MaximumRetryAttempts int    // 0–2; Lambda's default is 2
	OnFailure            string // destination ARN (an SQS queue); "" drops the event, as Lambda does
}

// Route is one HttpApi event: METHOD and path template ("/applications/{id}").
type Route struct {
	Event   string
	Method  string
	Path    string
	Timeout time.Duration // the integration timeout: TimeoutInMillis, 30 s (the HTTP API maximum) when absent
	// Authorizer is the route's Auth.Authorizer ("" for the API's default authorizer).
	Authorizer string
}

// Key is the API Gateway route key, "POST /applications/{id}".
func (r Route) Key() string { return r.Method + " " + r.Path }

// Notification is one S3 event: the bucket, the event patterns and the key filter.
type Notification struct {
	Event          string
	Bucket         string
	Events         []string
	Prefix, Suffix string
}

// Schedule is one ScheduleV2 (EventBridge Scheduler) event.
type Schedule struct {
	Event      string // the event's name in the template, e.g. WeeklyRelease
	Expression string // cron(0 9 ? * MON *) or rate(1 day)
	Timezone   string
	Input      string
	DeadLetter string // DeadLetterConfig.Arn: where the scheduler puts what it cannot deliver
}

// Table is an AWS::DynamoDB::Table with its resolved definition.
type Table struct {
	LogicalID  string
	Name       string
	Properties map[string]any
}

// Bucket is an AWS::S3::Bucket.
type Bucket struct {
	LogicalID string
	Name      string
	Versioned bool
}

// StateMachine is an AWS::Serverless::StateMachine.
type StateMachine struct {
	LogicalID     string
	Name          string
	ARN           string
	DefinitionURI string
	Substitutions map[string]string
}

// Definition reads the ASL file with the substitutions applied.
func (sm StateMachine) Definition(dir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, sm.DefinitionURI))
	if err != nil {
		return "", fmt.Errorf("state machine %s: %w", sm.LogicalID, err)
	}
	s := string(b)
	for k, v := range sm.Substitutions {
		s = strings.ReplaceAll(s, "${"+k+"}", v)
	}
	return s, nil
}

// API is an AWS::Serverless::HttpApi with its JWT authorizer settings.
type API struct {
	LogicalID         string
	Issuer            string
	Audience          []string
	DefaultAuthorizer string
	// LambdaAuthorizers are the API's Lambda authorizers by name.
	LambdaAuthorizers map[string]LambdaAuthorizer
}

// LambdaAuthorizer is an HTTP API Lambda authorizer: the function (logical id), the request
// headers that make its identity source (lower case), how long API Gateway caches an answer
// (ReauthorizeEvery, AuthorizerResultTtlInSeconds), and whether it gives simple responses.
type LambdaAuthorizer struct {
	Name            string
	Function        string
	IdentityHeaders []string
	TTL             time.Duration
	Simple          bool
	PayloadVersion  string
}

// Load parses and resolves the template at path for stack.
func Load(path string, stack Stack) (*Template, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	root, ok := decode(&doc).(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: not a mapping", path)
	}
	r, err := newResolver(root, stack)
	if err != nil {
		return nil, err
	}
	t := &Template{Dir: filepath.Dir(path)}
	for _, id := range r.order {
		res := r.resources[id]
		if !r.included(res) {
			continue
		}
		props, _ := res["Properties"].(map[string]any)
		if err := t.add(r, id, str(res["Type"]), props); err != nil {
			return nil, fmt.Errorf("%s: %w", id, err)
		}
	}
	return t, nil
}

func (t *Template) add(r *resolver, id, typ string, props map[string]any) error {
	switch typ {
	case "AWS::Serverless::Function":
		return t.addFunction(r, id, props)
	case "AWS::DynamoDB::Table":
		p, err := r.resolveMap(props)
		if err != nil {
			return err
		}
		t.Tables = append(t.Tables, Table{LogicalID: id, Name: r.physical(id), Properties: p})
	case "AWS::S3::Bucket":
		p, err := r.resolveMap(props)
		if err != nil {
			return err
		}
		vc, _ := p["VersioningConfiguration"].(map[string]any)
		t.Buckets = append(t.Buckets, Bucket{LogicalID: id, Name: r.physical(id), Versioned: str(vc["Status"]) == "Enabled"})
	case "AWS::Serverless::StateMachine":
		p, err := r.resolveMap(props)
		if err != nil {
			return err
		}
		subs := map[string]string{}
		if m, ok := p["DefinitionSubstitutions"].(map[string]any); ok {
			for k, v := range m {
				subs[k] = str(v)
			}
		}
		t.StateMachines = append(t.StateMachines, StateMachine{
			LogicalID: id, Name: r.physical(id), ARN: r.arn(id), DefinitionURI: str(p["DefinitionUri"]), Substitutions: subs,
		})
	case "AWS::SQS::Queue":
		t.Queues = append(t.Queues, Queue{LogicalID: id, Name: r.physical(id), ARN: r.arn(id)})
	case "AWS::Serverless::HttpApi":
		p, err := r.resolveMap(props)
		if err != nil {
			return err
		}
		api := API{LogicalID: id, LambdaAuthorizers: map[string]LambdaAuthorizer{}}
		auth, _ := p["Auth"].(map[string]any)
		api.DefaultAuthorizer = str(auth["DefaultAuthorizer"])
		authorizers, _ := auth["Authorizers"].(map[string]any)
		for name, a := range authorizers {
			am, _ := a.(map[string]any)
			if fa, ok := am["FunctionArn"]; ok {
				la := LambdaAuthorizer{Name: name, Function: functionOfARN(str(fa)), Simple: str(am["EnableSimpleResponses"]) == "true",
					PayloadVersion: str(am["AuthorizerPayloadFormatVersion"])}
				ident, _ := am["Identity"].(map[string]any)
				for _, h := range list(ident["Headers"]) {
					la.IdentityHeaders = append(la.IdentityHeaders, strings.ToLower(str(h)))
				}
				if v, ok := ident["ReauthorizeEvery"]; ok {
					n, err := strconv.Atoi(str(v))
					if err != nil || n < 0 || n > 3600 {
						return fmt.Errorf("authorizer %s: ReauthorizeEvery %v is not 0-3600", name, v)
					}
					la.TTL = time.Duration(n) * time.Second
				} else {
					la.TTL = 300 * time.Second // API Gateway's default
				}
				api.LambdaAuthorizers[name] = la
				continue
			}
			jc, _ := am["JwtConfiguration"].(map[string]any)
			api.Issuer = str(jc["issuer"])
			for _, aud := range list(jc["audience"]) {
				api.Audience = append(api.Audience, str(aud))
			}
		}
		t.APIs = append(t.APIs, api)
	}
	return nil
}

func (t *Template) addFunction(r *resolver, id string, props map[string]any) error {
	f := Function{LogicalID: id, Name: r.physical(id), ARN: r.arn(id), Env: map[string]string{}}
	merged := map[string]any{}
	if g, ok := r.globals["Function"].(map[string]any); ok {
		for k, v := range g {
			merged[k] = v
		}
	}
	for k, v := range props {
		merged[k] = v
	}
	f.CodeURI = str(merged["CodeUri"])
	f.Timeout = 3 * time.Second
	if v, ok := merged["Timeout"]; ok {
		rv, err := r.resolve(v)
		if err != nil {
			return fmt.Errorf("timeout: %w", err)
		}
		secs, err := strconv.ParseFloat(str(rv), 64)
		if err != nil || secs < 1 || secs > 900 {
			return fmt.Errorf("function %s: Timeout %v is not 1-900 seconds", id, rv)
		}
		f.Timeout = time.Duration(secs * float64(time.Second))
	}
	f.Async.MaximumRetryAttempts = 2
	if eic, ok := merged["EventInvokeConfig"].(map[string]any); ok {
		p, err := r.resolveMap(eic)
		if err != nil {
			return fmt.Errorf("EventInvokeConfig: %w", err)
		}
		if n, ok := p["MaximumRetryAttempts"].(int); ok {
			f.Async.MaximumRetryAttempts = n
		}
		dc, _ := p["DestinationConfig"].(map[string]any)
		of, _ := dc["OnFailure"].(map[string]any)
		f.Async.OnFailure = str(of["Destination"])
	}
	for _, src := range []any{r.globals["Function"], props} {
		m, _ := src.(map[string]any)
		env, _ := m["Environment"].(map[string]any)
		vars, _ := env["Variables"].(map[string]any)
		for k, v := range vars {
			rv, err := r.resolve(v)
			if err != nil {
				return fmt.Errorf("environment %s: %w", k, err)
			}
			f.Env[k] = str(rv)
		}
	}
	evs, _ := props["Events"].(map[string]any)
	for _, name := range sortedKeys(evs) {
		ev, _ := evs[name].(map[string]any)
		p, err := r.resolveMap(asMap(ev["Properties"]))
		if err != nil {
			return fmt.Errorf("event %s: %w", name, err)
		}
		switch str(ev["Type"]) {
		case "HttpApi":
			rt := Route{Event: name, Method: strings.ToUpper(str(p["Method"])), Path: str(p["Path"]), Timeout: 30 * time.Second}
			if a, ok := p["Auth"].(map[string]any); ok {
				rt.Authorizer = str(a["Authorizer"])
			}
			if v, ok := p["TimeoutInMillis"]; ok {
				ms, err := strconv.Atoi(str(v))
				if err != nil || ms < 50 || ms > 30000 {
					return fmt.Errorf("function %s event %s: TimeoutInMillis %v is not 50-30000", id, name, v)
				}
				rt.Timeout = time.Duration(ms) * time.Millisecond
			}
			f.Routes = append(f.Routes, rt)
		case "S3":
			n := Notification{Event: name, Bucket: str(p["Bucket"])}
			for _, e := range list(p["Events"]) {
				n.Events = append(n.Events, str(e))
			}
			filter, _ := p["Filter"].(map[string]any)
			key, _ := filter["S3Key"].(map[string]any)
			for _, rule := range list(key["Rules"]) {
				rm, _ := rule.(map[string]any)
				switch strings.ToLower(str(rm["Name"])) {
				case "prefix":
					n.Prefix = str(rm["Value"])
				case "suffix":
					n.Suffix = str(rm["Value"])
				}
			}
			f.Notifications = append(f.Notifications, n)
		case "ScheduleV2":
			dlq, _ := p["DeadLetterConfig"].(map[string]any)
			f.Schedules = append(f.Schedules, Schedule{
				Event: name, Expression: str(p["ScheduleExpression"]), Timezone: str(p["ScheduleExpressionTimezone"]), Input: str(p["Input"]),
				DeadLetter: str(dlq["Arn"]),
			})
		}
	}
	t.Functions = append(t.Functions, f)
	return nil
}

// Function returns the function with logicalID.
func (t *Template) Function(logicalID string) (Function, bool) {
	for _, f := range t.Functions {
		if f.LogicalID == logicalID {
			return f, true
		}
	}
	return Function{}, false
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func asMap(v any) map[string]any { m, _ := v.(map[string]any); return m }

func list(v any) []any {
	switch l := v.(type) {
	case []any:
		return l
	case nil:
		return nil
	default:
		return []any{l}
	}
}

func str(v any) string {
	switch s := v.(type) {
	case string:
		return s
	case nil:
		return ""
	default:
		return fmt.Sprint(s)
	}
}

// functionOfARN is the function a Lambda ARN names (locally the physical name is the logical id).
func functionOfARN(arn string) string {
	if i := strings.LastIndex(arn, ":function:"); i >= 0 {
		return arn[i+len(":function:"):]
	}
	return arn
}

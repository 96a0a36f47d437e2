package states

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
)

const errorPrefix = "com.amazonaws.swf.service.v2.model#"

// ServeHTTP serves the Step Functions JSON API (awsJson1_0, "X-Amz-Target:
// AWSStepFunctions.<Operation>"). Credentials and signatures are accepted as they are.
func (e *Executor) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if v := recover(); v != nil {
			e.log.Error("states: API handler panic", "panic", v)
			writeError(w, errorf("InternalFailure", 500, "internal error"))
		}
	}()
	target := r.Header.Get("X-Amz-Target")
	op, ok := strings.CutPrefix(target, "AWSStepFunctions.")
	if r.Method != http.MethodPost || !ok {
		writeError(w, errorf("UnknownOperationException", 400, "Unknown operation %q", target))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	if err != nil {
		writeError(w, errorf("SerializationException", 400, "cannot read the request body"))
		return
	}
	var req map[string]any
	if len(strings.TrimSpace(string(body))) > 0 {
		v, err := parseJSONBytes(body)
		m, ok := v.(map[string]any)
		if err != nil || !ok {
			writeError(w, errorf("SerializationException", 400, "the request body must be a JSON object"))
			return
		}
		req = m
	}
	h, ok := apiOps[op]
	if !ok {
		writeError(w, errorf("UnknownOperationException", 400, "Unknown operation %q", op))
		return
	}
	resp, err := h(e, apiRequest(req))
	if err != nil {
		writeError(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("X-Amzn-RequestId", newUUID())
	_, _ = io.WriteString(w, toJSON(resp))
}

func writeError(w http.ResponseWriter, err error) {
	var ae *apiError
	if !errors.As(err, &ae) {
		ae = errorf("InternalFailure", 500, "%v", err)
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("X-Amzn-RequestId", newUUID())
	w.WriteHeader(ae.status)
	_, _ = io.WriteString(w, toJSON(map[string]any{"__type": errorPrefix + ae.code, "message": ae.message}))
}

type apiRequest map[string]any

func (r apiRequest) str(k string) string {
	s, _ := r[k].(string)
	return s
}

func (r apiRequest) required(k string) (string, error) {
	s, ok := r[k].(string)
	if !ok || s == "" {
		return "", errorf("ValidationException", 400, "1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", k)
	}
	return s, nil
}

// execution looks up the execution named by the request's executionArn.
func (r apiRequest) execution(e *Executor) (*execution, error) {
	arn, err := r.required("executionArn")
	if err != nil {
		return nil, err
	}
	return e.execution(arn)
}

// machine looks up the state machine named by the request's stateMachineArn.
func (r apiRequest) machine(e *Executor) (*stateMachine, error) {
	arn, err := r.required("stateMachineArn")
	if err != nil {
		return nil, err
	}
	return e.machine(arn)
}

func (r apiRequest) integer(k string) int {
	n, _ := toInt(r[k])
	return int(n)
}

type apiHandler func(e *Executor, r apiRequest) (any, error)

var apiOps map[string]apiHandler

func init() {
	apiOps = map[string]apiHandler{
		"CreateStateMachine":               apiCreateStateMachine,
		"UpdateStateMachine":               apiUpdateStateMachine,
		"DescribeStateMachine":             apiDescribeStateMachine,
		"ListStateMachines":                apiListStateMachines,
		"DeleteStateMachine":               apiDeleteStateMachine,
		"StartExecution":                   apiStartExecution,
		"DescribeExecution":                apiDescribeExecution,
		"ListExecutions":                   apiListExecutions,
		"GetExecutionHistory":              apiGetExecutionHistory,
		"StopExecution":                    apiStopExecution,
		"SendTaskSuccess":                  apiSendTaskSuccess,
		"SendTaskFailure":                  apiSendTaskFailure,
		"SendTaskHeartbeat":                apiSendTaskHeartbeat,
		"DescribeStateMachineForExecution": apiDescribeStateMachineForExecution,
	}
}

func apiCreateStateMachine(e *Executor, r apiRequest) (any, error) {
	name, err := r.required("name")
	if err != nil {
		return nil, err
	}
	def, err := r.required("definition")
	if err != nil {
		return nil, err
	}
	if t := r.str("type"); t != "" && t != "STANDARD" {
		return nil, errorf("ValidationException", 400, "only STANDARD state machines are supported locally")
	}
	sm, err := e.createStateMachine(name, def, r.str("roleArn"), false)
	if err != nil {
		return nil, err
	}
	return map[string]any{"stateMachineArn": sm.arn, "creationDate": epochSeconds(sm.created)}, nil
}

func apiUpdateStateMachine(e *Executor, r apiRequest) (any, error) {
	arn, err := r.required("stateMachineArn")
	if err != nil {
		return nil, err
	}
	if _, err := e.machine(arn); err != nil {
		return nil, err
	}
	if err := e.UpdateStateMachine(arn, r.str("definition"), r.str("roleArn")); err != nil {
		return nil, err
	}
	return map[string]any{"updateDate": epochSeconds(e.clk.Now())}, nil
}

func (sm *stateMachine) describe() map[string]any {
	return map[string]any{
		"stateMachineArn": sm.arn, "name": sm.name, "status": "ACTIVE", "definition": sm.definition,
		"roleArn": sm.roleARN, "type": "STANDARD", "creationDate": epochSeconds(sm.created),
		"loggingConfiguration": map[string]any{"level": "OFF", "includeExecutionData": false},
		"tracingConfiguration": map[string]any{"enabled": false},
	}
}

func apiDescribeStateMachine(e *Executor, r apiRequest) (any, error) {
	sm, err := r.machine(e)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return sm.describe(), nil
}

func apiDescribeStateMachineForExecution(e *Executor, r apiRequest) (any, error) {
	x, err := r.execution(e)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	d := x.sm.describe()
	d["updateDate"] = d["creationDate"]
	delete(d, "status")
	delete(d, "type")
	delete(d, "creationDate")
	return d, nil
}

// page cuts items for maxResults/nextToken paging.
func page[T any](items []T, r apiRequest) ([]T, string, error) {
	start := 0
	if tok := r.str("nextToken"); tok != "" {
		n, err := strconv.Atoi(tok)
		if err != nil || n < 0 || n > len(items) {
			return nil, "", errorf("InvalidToken", 400, "Invalid Token: '%s'", tok)
		}
		start = n
	}
	size := r.integer("maxResults")
	if size <= 0 || size > 1000 {
		size = 100
	}
	end := min(len(items), start+size)
	next := ""
	if end < len(items) {
		next = strconv.Itoa(end)
	}
	return items[start:end], next, nil
}

func withToken(m map[string]any, next string) map[string]any {
	if next != "" {
		m["nextToken"] = next
	}
	return m
}

func apiListStateMachines(e *Executor, r apiRequest) (any, error) {
	e.mu.Lock()
	var list []any
	for _, sm := range e.machineSeq {
		list = append(list, map[string]any{"stateMachineArn": sm.arn, "name": sm.name, "type": "STANDARD",
			"creationDate": epochSeconds(sm.created)})
	}
	e.mu.Unlock()
	items, next, err := page(list, r)
	if err != nil {
		return nil, err
	}
	if items == nil {
		items = []any{}
	}
	return withToken(map[string]any{"stateMachines": items}, next), nil
}

func apiDeleteStateMachine(e *Executor, r apiRequest) (any, error) {
	arn, err := r.required("stateMachineArn")
	if err != nil {
		return nil, err
	}
	if !isARN(arn, "stateMachine") {
		return nil, errorf("InvalidArn", 400, "Invalid Arn: '%s'", arn)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, ok := e.machines[arn]; ok {
		delete(e.machines, arn)
		for i, sm := range e.machineSeq {
			if sm.arn == arn {
				e.machineSeq = append(e.machineSeq[:i:i], e.machineSeq[i+1:]...)
				break
			}
		}
	}
	return map[string]any{}, nil
}

func apiStartExecution(e *Executor, r apiRequest) (any, error) {
	arn, err := r.required("stateMachineArn")
	if err != nil {
		return nil, err
	}
	x, err := e.startExecution(arn, r.str("name"), r.str("input"))
	if err != nil {
		return nil, err
	}
	return map[string]any{"executionArn": x.arn, "startDate": epochSeconds(x.start)}, nil
}

func (x *execution) describeLocked() map[string]any {
	d := map[string]any{
		"executionArn": x.arn, "stateMachineArn": x.sm.arn, "name": x.name, "status": x.status,
		"startDate": epochSeconds(x.start), "input": x.input,
		"inputDetails": map[string]any{"included": true}, "redriveCount": 0, "redriveStatus": "NOT_REDRIVABLE",
	}
	if x.status != "RUNNING" {
		d["stopDate"] = epochSeconds(x.stop)
	}
	if x.status == "SUCCEEDED" {
		d["output"] = x.output
		d["outputDetails"] = map[string]any{"included": true}
	}
	if x.errName != "" {
		d["error"] = x.errName
	}
	if x.cause != "" {
		d["cause"] = x.cause
	}
	return d
}

func apiDescribeExecution(e *Executor, r apiRequest) (any, error) {
	x, err := r.execution(e)
	if err != nil {
		return nil, err
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.describeLocked(), nil
}

func apiListExecutions(e *Executor, r apiRequest) (any, error) {
	sm, err := r.machine(e)
	if err != nil {
		return nil, err
	}
	filter := r.str("statusFilter")
	e.mu.Lock()
	execs := append([]*execution(nil), sm.executions...)
	e.mu.Unlock()
	var list []any
	for i := len(execs) - 1; i >= 0; i-- { // newest first, as AWS lists them
		x := execs[i]
		x.mu.Lock()
		if filter == "" || filter == x.status {
			item := map[string]any{"executionArn": x.arn, "stateMachineArn": sm.arn, "name": x.name,
				"status": x.status, "startDate": epochSeconds(x.start)}
			if x.status != "RUNNING" {
				item["stopDate"] = epochSeconds(x.stop)
			}
			list = append(list, item)
		}
		x.mu.Unlock()
	}
	items, next, err := page(list, r)
	if err != nil {
		return nil, err
	}
	if items == nil {
		items = []any{}
	}
	return withToken(map[string]any{"executions": items}, next), nil
}

func apiGetExecutionHistory(e *Executor, r apiRequest) (any, error) {
	x, err := r.execution(e)
	if err != nil {
		return nil, err
	}
	include := true
	if b, ok := r["includeExecutionData"].(bool); ok {
		include = b
	}
	x.mu.Lock()
	events := make([]any, len(x.events))
	for i, ev := range x.events {
		events[i] = ev.toAPI(include)
	}
	x.mu.Unlock()
	if rev, _ := r["reverseOrder"].(bool); rev {
		for i, j := 0, len(events)-1; i < j; i, j = i+1, j-1 {
			events[i], events[j] = events[j], events[i]
		}
	}
	items, next, err := page(events, r)
	if err != nil {
		return nil, err
	}
	return withToken(map[string]any{"events": items}, next), nil
}

func apiStopExecution(e *Executor, r apiRequest) (any, error) {
	arn, err := r.required("executionArn")
	if err != nil {
		return nil, err
	}
	if err := e.StopExecution(arn, r.str("error"), r.str("cause")); err != nil {
		return nil, err
	}
	x, _ := e.execution(arn)
	x.mu.Lock()
	defer x.mu.Unlock()
	return map[string]any{"stopDate": epochSeconds(x.stop)}, nil
}

func apiSendTaskSuccess(e *Executor, r apiRequest) (any, error) {
	tok, err := r.required("taskToken")
	if err != nil {
		return nil, err
	}
	out, err := r.required("output")
	if err != nil {
		return nil, err
	}
	return map[string]any{}, e.SendTaskSuccess(tok, out)
}

func apiSendTaskFailure(e *Executor, r apiRequest) (any, error) {
	tok, err := r.required("taskToken")
	if err != nil {
		return nil, err
	}
	return map[string]any{}, e.SendTaskFailure(tok, r.str("error"), r.str("cause"))
}

func apiSendTaskHeartbeat(e *Executor, r apiRequest) (any, error) {
	tok, err := r.required("taskToken")
	if err != nil {
		return nil, err
	}
	return map[string]any{}, e.SendTaskHeartbeat(tok)
}

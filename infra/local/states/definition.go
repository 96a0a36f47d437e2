package states

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// machine is a parsed, validated state machine (the top level, a Parallel branch or a Map
// item processor).
type machine struct {
	startAt        string
	states         map[string]*state
	timeoutSeconds int64
}

// optPath is an InputPath/OutputPath/ResultPath/ItemsPath field: absent (default "$"),
// null, or a path.
type optPath struct {
	null bool
	path *jsonPath // nil with null == false means "$"
}

// dynValue is a field whose value comes from a path or an intrinsic function (ErrorPath,
// CausePath).
type dynValue struct {
	path *jsonPath
	call *intrinsic
}

type state struct {
	name, typ  string
	next       string
	end        bool
	inputPath  optPath
	outputPath optPath
	resultPath optPath

	parameters     *payloadTemplate
	resultSelector *payloadTemplate
	result         any
	hasResult      bool
	retry          []*retrier
	catch          []*catcher

	// Task
	resource         string
	timeoutSeconds   int64
	timeoutPath      *jsonPath
	heartbeatSeconds int64
	heartbeatPath    *jsonPath
	credentials      any

	// Choice
	choices     []*choiceRule
	defaultNext string

	// Wait
	seconds       *int64
	secondsPath   *jsonPath
	timestamp     *time.Time
	timestampPath *jsonPath

	// Parallel
	branches []*machine

	// Map
	itemsPath          optPath
	itemSelector       *payloadTemplate
	maxConcurrency     int64
	maxConcurrencyPath *jsonPath
	processor          *machine
	distributed        bool
	itemReader         *itemReader
	batcher            *itemBatcher
	resultWriter       *resultWriter
	toleratedCount     int64
	toleratedPercent   float64
	hasTolerated       bool

	// Fail
	errName, cause     string
	errorDyn, causeDyn *dynValue
}

type retrier struct {
	errorEquals []string
	interval    float64
	maxAttempts int64
	backoffRate float64
	maxDelay    float64
	jitter      string
}

type catcher struct {
	errorEquals []string
	next        string
	resultPath  optPath
}

// itemBatcher groups a distributed Map's items: each child gets
// {"BatchInput": ..., "Items": [...]}.
type itemBatcher struct {
	maxItems     int64
	maxItemsPath *jsonPath
	maxBytes     int64
	batchInput   *payloadTemplate
}

// resultWriter exports a distributed Map's child results to S3 (Resource and Parameters)
// and/or shapes them (WriterConfig).
type resultWriter struct {
	parameters     *payloadTemplate // Bucket, Prefix; nil: no export
	transformation string           // NONE, COMPACT, FLATTEN
}

type itemReader struct {
	resource   string
	parameters *payloadTemplate
	inputType  string // for s3:getObject: JSON (default) or CSV
	maxItems   int64
}

// definitionError is an invalid-definition problem with AWS's code and a location.
type definitionError struct {
	code, msg, at string
}

func (e *definitionError) Error() string {
	return fmt.Sprintf("Invalid State Machine Definition: '%s: %s at %s'", e.code, e.msg, e.at)
}

// parseDefinition parses and validates an ASL (JSONPath) definition.
func parseDefinition(def string) (*machine, error) {
	v, err := parseJSON(def)
	if err != nil {
		return nil, &definitionError{"INVALID_JSON_DESCRIPTION", err.Error(), "/"}
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, &definitionError{"SCHEMA_VALIDATION_FAILED", "the definition must be a JSON object", "/"}
	}
	if ql, ok := m["QueryLanguage"]; ok && ql != "JSONPath" {
		return nil, &definitionError{"SCHEMA_VALIDATION_FAILED", "only the JSONPath query language is supported", "/QueryLanguage"}
	}
	return parseMachine(m, "", true)
}

var machineFields = map[string]bool{"StartAt": true, "States": true, "Comment": true, "Version": true, "TimeoutSeconds": true, "QueryLanguage": true, "ProcessorConfig": true}

func parseMachine(m map[string]any, at string, top bool) (*machine, error) {
	for k := range m {
		if !machineFields[k] {
			return nil, &definitionError{"SCHEMA_VALIDATION_FAILED", fmt.Sprintf("Field %s is not supported", k), at + "/" + k}
		}
	}
	mc := &machine{states: map[string]*state{}}
	start, ok := m["StartAt"].(string)
	if !ok || start == "" {
		return nil, &definitionError{"SCHEMA_VALIDATION_FAILED", "The field 'StartAt' is required", at + "/StartAt"}
	}
	mc.startAt = start
	if t, ok := m["TimeoutSeconds"]; ok {
		n, ok := toInt(t)
		if !ok || n <= 0 || !top {
			return nil, &definitionError{"SCHEMA_VALIDATION_FAILED", "TimeoutSeconds must be a positive integer", at + "/TimeoutSeconds"}
		}
		mc.timeoutSeconds = n
	}
	states, ok := m["States"].(map[string]any)
	if !ok || len(states) == 0 {
		return nil, &definitionError{"SCHEMA_VALIDATION_FAILED", "The field 'States' is required and must be a non-empty object", at + "/States"}
	}
	for _, name := range sortedKeys(states) {
		sm, ok := states[name].(map[string]any)
		if !ok {
			return nil, &definitionError{"SCHEMA_VALIDATION_FAILED", "a state must be an object", at + "/States/" + name}
		}
		if len(name) > 80 || name == "" {
			return nil, &definitionError{"SCHEMA_VALIDATION_FAILED", "state names must be 1 to 80 characters", at + "/States/" + name}
		}
		st, err := parseState(name, sm, at+"/States/"+name)
		if err != nil {
			return nil, err
		}
		mc.states[name] = st
	}
	if _, ok := mc.states[start]; !ok {
		return nil, &definitionError{"MISSING_TRANSITION_TARGET", "Missing 'StartAt' target: " + start, at + "/StartAt"}
	}
	// transitions and reachability
	reach := map[string]bool{}
	var visit func(string)
	visit = func(n string) {
		if reach[n] {
			return
		}
		reach[n] = true
		for _, t := range mc.states[n].targets() {
			if _, ok := mc.states[t]; ok {
				visit(t)
			}
		}
	}
	visit(start)
	for _, name := range sortedKeys(states) {
		st := mc.states[name]
		for _, t := range st.targets() {
			if _, ok := mc.states[t]; !ok {
				return nil, &definitionError{"MISSING_TRANSITION_TARGET", "Missing 'Next' target: " + t, at + "/States/" + name}
			}
		}
		if !reach[name] {
			return nil, &definitionError{"UNREACHABLE_STATE", "State '" + name + "' is not reachable", at + "/States/" + name}
		}
	}
	return mc, nil
}

func (s *state) targets() []string {
	var t []string
	if s.next != "" {
		t = append(t, s.next)
	}
	for _, c := range s.choices {
		t = append(t, c.next)
	}
	if s.defaultNext != "" {
		t = append(t, s.defaultNext)
	}
	for _, c := range s.catch {
		t = append(t, c.next)
	}
	return t
}

var stateFields = map[string][]string{
	"Task":     {"Next", "End", "InputPath", "OutputPath", "ResultPath", "Parameters", "ResultSelector", "Retry", "Catch", "Resource", "TimeoutSeconds", "TimeoutSecondsPath", "HeartbeatSeconds", "HeartbeatSecondsPath", "Credentials"},
	"Pass":     {"Next", "End", "InputPath", "OutputPath", "ResultPath", "Parameters", "Result"},
	"Choice":   {"InputPath", "OutputPath", "Choices", "Default"},
	"Wait":     {"Next", "End", "InputPath", "OutputPath", "Seconds", "SecondsPath", "Timestamp", "TimestampPath"},
	"Succeed":  {"InputPath", "OutputPath"},
	"Fail":     {"Error", "Cause", "ErrorPath", "CausePath"},
	"Parallel": {"Next", "End", "InputPath", "OutputPath", "ResultPath", "Parameters", "ResultSelector", "Retry", "Catch", "Branches"},
	"Map": {"Next", "End", "InputPath", "OutputPath", "ResultPath", "Parameters", "ResultSelector", "Retry", "Catch",
		"ItemsPath", "ItemSelector", "MaxConcurrency", "MaxConcurrencyPath", "Iterator", "ItemProcessor", "ItemReader",
		"ItemBatcher", "ResultWriter", "ToleratedFailureCount", "ToleratedFailurePercentage",
		"ToleratedFailureCountPath", "ToleratedFailurePercentagePath", "Label"},
}

func parseState(name string, m map[string]any, at string) (*state, error) {
	fail := func(code, format string, args ...any) (*state, error) {
		return nil, &definitionError{code, fmt.Sprintf(format, args...), at}
	}
	typ, _ := m["Type"].(string)
	allowed, ok := stateFields[typ]
	if !ok {
		return fail("SCHEMA_VALIDATION_FAILED", "unknown state Type %q", typ)
	}
	for k := range m {
		if k != "Type" && k != "Comment" && !contains(allowed, k) {
			return fail("SCHEMA_VALIDATION_FAILED", "Field '%s' is not supported for a %s state", k, typ)
		}
	}
	s := &state{name: name, typ: typ}
	var err error
	str := func(k string) (string, bool, error) {
		v, ok := m[k]
		if !ok {
			return "", false, nil
		}
		sv, ok := v.(string)
		if !ok {
			return "", false, fmt.Errorf("field %s must be a string", k)
		}
		return sv, true, nil
	}
	s.next, _, err = str("Next")
	if err != nil {
		return fail("SCHEMA_VALIDATION_FAILED", "%v", err)
	}
	if e, ok := m["End"]; ok {
		b, ok := e.(bool)
		if !ok {
			return fail("SCHEMA_VALIDATION_FAILED", "End must be a boolean")
		}
		s.end = b
	}
	switch typ {
	case "Task", "Pass", "Wait", "Parallel", "Map":
		if (s.next == "") == !s.end {
			return fail("SCHEMA_VALIDATION_FAILED", "a %s state must have exactly one of Next and End: true", typ)
		}
	}
	if s.inputPath, err = parseOptPath(m, "InputPath", false); err != nil {
		return fail("INVALID_JSONPATH", "%v", err)
	}
	if s.outputPath, err = parseOptPath(m, "OutputPath", false); err != nil {
		return fail("INVALID_JSONPATH", "%v", err)
	}
	if s.resultPath, err = parseOptPath(m, "ResultPath", true); err != nil {
		return fail("INVALID_JSONPATH", "%v", err)
	}
	if p, ok := m["Parameters"]; ok {
		if s.parameters, err = compileTemplate(p); err != nil {
			return fail("SCHEMA_VALIDATION_FAILED", "Parameters: %v", err)
		}
	}
	if p, ok := m["ResultSelector"]; ok {
		if s.resultSelector, err = compileTemplate(p); err != nil {
			return fail("SCHEMA_VALIDATION_FAILED", "ResultSelector: %v", err)
		}
	}
	if r, ok := m["Result"]; ok {
		s.result, s.hasResult = r, true
	}
	if s.retry, err = parseRetry(m["Retry"]); err != nil {
		return fail("SCHEMA_VALIDATION_FAILED", "Retry: %v", err)
	}
	if s.catch, err = parseCatch(m["Catch"]); err != nil {
		return fail("SCHEMA_VALIDATION_FAILED", "Catch: %v", err)
	}

	switch typ {
	case "Task":
		if s.resource, _, err = str("Resource"); err != nil || s.resource == "" {
			return fail("SCHEMA_VALIDATION_FAILED", "a Task state must have a Resource string")
		}
		if !strings.HasPrefix(s.resource, "arn:") {
			return fail("INVALID_RESOURCE", "Resource %q is not an ARN", s.resource)
		}
		if s.timeoutSeconds, s.timeoutPath, err = intOrPath(m, "TimeoutSeconds"); err != nil {
			return fail("SCHEMA_VALIDATION_FAILED", "%v", err)
		}
		if s.heartbeatSeconds, s.heartbeatPath, err = intOrPath(m, "HeartbeatSeconds"); err != nil {
			return fail("SCHEMA_VALIDATION_FAILED", "%v", err)
		}
		if s.heartbeatSeconds > 0 && s.timeoutSeconds > 0 && s.heartbeatSeconds >= s.timeoutSeconds {
			return fail("SCHEMA_VALIDATION_FAILED", "HeartbeatSeconds must be smaller than TimeoutSeconds")
		}
		s.credentials = m["Credentials"]
	case "Choice":
		arr, ok := m["Choices"].([]any)
		if !ok || len(arr) == 0 {
			return fail("SCHEMA_VALIDATION_FAILED", "a Choice state must have a non-empty Choices array")
		}
		for i, x := range arr {
			xm, ok := x.(map[string]any)
			if !ok {
				return fail("SCHEMA_VALIDATION_FAILED", "Choices[%d] must be an object", i)
			}
			r, err := compileChoiceRule(xm, true)
			if err != nil {
				return fail("SCHEMA_VALIDATION_FAILED", "Choices[%d]: %v", i, err)
			}
			s.choices = append(s.choices, r)
		}
		if s.defaultNext, _, err = str("Default"); err != nil {
			return fail("SCHEMA_VALIDATION_FAILED", "%v", err)
		}
	case "Wait":
		n := 0
		if v, ok := m["Seconds"]; ok {
			sec, ok := toInt(v)
			if !ok || sec < 0 {
				return fail("SCHEMA_VALIDATION_FAILED", "Seconds must be a non-negative integer")
			}
			s.seconds = &sec
			n++
		}
		if v, ok, err := str("Timestamp"); err != nil {
			return fail("SCHEMA_VALIDATION_FAILED", "%v", err)
		} else if ok {
			t, err := parseTimestamp(v)
			if err != nil {
				return fail("SCHEMA_VALIDATION_FAILED", "Timestamp must be an RFC 3339 timestamp")
			}
			s.timestamp = &t
			n++
		}
		for _, k := range []string{"SecondsPath", "TimestampPath"} {
			v, ok, err := str(k)
			if err != nil {
				return fail("SCHEMA_VALIDATION_FAILED", "%v", err)
			}
			if !ok {
				continue
			}
			p, err := parsePath(v)
			if err != nil || !p.definite() {
				return fail("INVALID_JSONPATH", "%s: invalid reference path %q", k, v)
			}
			if k == "SecondsPath" {
				s.secondsPath = p
			} else {
				s.timestampPath = p
			}
			n++
		}
		if n != 1 {
			return fail("SCHEMA_VALIDATION_FAILED", "a Wait state must have exactly one of Seconds, SecondsPath, Timestamp, TimestampPath")
		}
	case "Fail":
		s.errName, _, _ = str("Error")
		s.cause, _, _ = str("Cause")
		for _, k := range []string{"ErrorPath", "CausePath"} {
			v, ok, err := str(k)
			if err != nil {
				return fail("SCHEMA_VALIDATION_FAILED", "%v", err)
			}
			if !ok {
				continue
			}
			d := &dynValue{}
			if strings.HasPrefix(v, "States.") {
				d.call, err = parseIntrinsic(v)
			} else {
				d.path, err = parsePath(v)
			}
			if err != nil {
				return fail("INVALID_JSONPATH", "%s: %v", k, err)
			}
			if k == "ErrorPath" {
				if _, ok := m["Error"]; ok {
					return fail("SCHEMA_VALIDATION_FAILED", "Error and ErrorPath are mutually exclusive")
				}
				s.errorDyn = d
			} else {
				if _, ok := m["Cause"]; ok {
					return fail("SCHEMA_VALIDATION_FAILED", "Cause and CausePath are mutually exclusive")
				}
				s.causeDyn = d
			}
		}
	case "Parallel":
		arr, ok := m["Branches"].([]any)
		if !ok || len(arr) == 0 {
			return fail("SCHEMA_VALIDATION_FAILED", "a Parallel state must have a non-empty Branches array")
		}
		for i, b := range arr {
			bm, ok := b.(map[string]any)
			if !ok {
				return fail("SCHEMA_VALIDATION_FAILED", "Branches[%d] must be an object", i)
			}
			mc, err := parseMachine(bm, fmt.Sprintf("%s/Branches[%d]", at, i), false)
			if err != nil {
				return nil, err
			}
			s.branches = append(s.branches, mc)
		}
	case "Map":
		if err := parseMapFields(s, m, at); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func parseMapFields(s *state, m map[string]any, at string) error {
	fail := func(code, format string, args ...any) error {
		return &definitionError{code, fmt.Sprintf(format, args...), at}
	}
	var err error
	if s.itemsPath, err = parseOptPath(m, "ItemsPath", false); err != nil {
		return fail("INVALID_JSONPATH", "%v", err)
	}
	if sel, ok := m["ItemSelector"]; ok {
		if _, ok := m["Parameters"]; ok {
			return fail("SCHEMA_VALIDATION_FAILED", "ItemSelector and Parameters are mutually exclusive")
		}
		if s.itemSelector, err = compileTemplate(sel); err != nil {
			return fail("SCHEMA_VALIDATION_FAILED", "ItemSelector: %v", err)
		}
	} else if s.parameters != nil {
		// legacy: in a Map state Parameters selects each item's input
		s.itemSelector, s.parameters = s.parameters, nil
	}
	if s.maxConcurrency, s.maxConcurrencyPath, err = intOrPath(m, "MaxConcurrency"); err != nil {
		return fail("SCHEMA_VALIDATION_FAILED", "%v", err)
	}
	proc, ok := m["ItemProcessor"].(map[string]any)
	if !ok {
		proc, ok = m["Iterator"].(map[string]any)
	}
	if !ok {
		return fail("SCHEMA_VALIDATION_FAILED", "a Map state must have an ItemProcessor (or Iterator)")
	}
	if pc, ok := proc["ProcessorConfig"].(map[string]any); ok && pc["Mode"] == "DISTRIBUTED" {
		s.distributed = true
	}
	if s.processor, err = parseMachine(proc, at+"/ItemProcessor", false); err != nil {
		return err
	}
	if v, ok := m["ToleratedFailureCount"]; ok {
		n, ok := toInt(v)
		if !ok || n < 0 {
			return fail("SCHEMA_VALIDATION_FAILED", "ToleratedFailureCount must be a non-negative integer")
		}
		s.toleratedCount, s.hasTolerated = n, true
	}
	if v, ok := m["ToleratedFailurePercentage"]; ok {
		f, ok := toFloat(v)
		if !ok || f < 0 || f > 100 {
			return fail("SCHEMA_VALIDATION_FAILED", "ToleratedFailurePercentage must be between 0 and 100")
		}
		s.toleratedPercent, s.hasTolerated = f, true
		if _, ok := m["ToleratedFailureCount"]; !ok {
			s.toleratedCount = -1
		}
	}
	if r, ok := m["ItemReader"].(map[string]any); ok {
		ir := &itemReader{}
		ir.resource, _ = r["Resource"].(string)
		switch ir.resource {
		case "arn:aws:states:::s3:listObjectsV2", "arn:aws:states:::s3:getObject":
		default:
			return fail("SCHEMA_VALIDATION_FAILED", "unsupported ItemReader Resource %q", ir.resource)
		}
		if p, ok := r["Parameters"]; ok {
			if ir.parameters, err = compileTemplate(p); err != nil {
				return fail("SCHEMA_VALIDATION_FAILED", "ItemReader.Parameters: %v", err)
			}
		}
		if rc, ok := r["ReaderConfig"].(map[string]any); ok {
			ir.inputType, _ = rc["InputType"].(string)
			if n, ok := toInt(rc["MaxItems"]); ok {
				ir.maxItems = n
			}
		}
		s.itemReader = ir
	} else if _, ok := m["ItemReader"]; ok {
		return fail("SCHEMA_VALIDATION_FAILED", "ItemReader must be an object")
	}
	if w, ok := m["ResultWriter"].(map[string]any); ok {
		if !s.distributed {
			return fail("SCHEMA_VALIDATION_FAILED", "ResultWriter is only allowed in a distributed Map")
		}
		rw := &resultWriter{}
		res, hasRes := w["Resource"].(string)
		p, hasParams := w["Parameters"]
		if hasRes != hasParams {
			return fail("SCHEMA_VALIDATION_FAILED", "ResultWriter needs both Resource and Parameters, or neither")
		}
		if hasRes {
			if res != "arn:aws:states:::s3:putObject" {
				return fail("SCHEMA_VALIDATION_FAILED", "unsupported ResultWriter Resource %q", res)
			}
			if rw.parameters, err = compileTemplate(p); err != nil {
				return fail("SCHEMA_VALIDATION_FAILED", "ResultWriter.Parameters: %v", err)
			}
			rw.transformation = "NONE"
		} else {
			rw.transformation = "COMPACT"
		}
		wc, hasConfig := w["WriterConfig"].(map[string]any)
		if !hasRes && !hasConfig {
			return fail("SCHEMA_VALIDATION_FAILED", "ResultWriter needs Resource and Parameters, or WriterConfig")
		}
		if hasConfig {
			if t, ok := wc["Transformation"].(string); ok {
				if !contains([]string{"NONE", "COMPACT", "FLATTEN"}, t) {
					return fail("SCHEMA_VALIDATION_FAILED", "WriterConfig.Transformation %q is not NONE, COMPACT or FLATTEN", t)
				}
				rw.transformation = t
			}
			if o, ok := wc["OutputType"].(string); ok && o != "JSON" {
				// JSONL export exists in AWS; its file naming is not pinned down here yet.
				return fail("SCHEMA_VALIDATION_FAILED", "WriterConfig.OutputType %q is not supported by the local executor (JSON is)", o)
			}
		}
		s.resultWriter = rw
	} else if _, ok := m["ResultWriter"]; ok {
		return fail("SCHEMA_VALIDATION_FAILED", "ResultWriter must be an object")
	}
	if b, ok := m["ItemBatcher"].(map[string]any); ok {
		ib := &itemBatcher{}
		if ib.maxItems, ib.maxItemsPath, err = intOrPath(b, "MaxItemsPerBatch"); err != nil {
			return fail("SCHEMA_VALIDATION_FAILED", "ItemBatcher: %v", err)
		}
		if ib.maxBytes, _, err = intOrPath(b, "MaxInputBytesPerBatch"); err != nil {
			return fail("SCHEMA_VALIDATION_FAILED", "ItemBatcher: %v", err)
		}
		if bi, ok := b["BatchInput"]; ok {
			if ib.batchInput, err = compileTemplate(bi); err != nil {
				return fail("SCHEMA_VALIDATION_FAILED", "ItemBatcher.BatchInput: %v", err)
			}
		}
		if ib.maxItems == 0 && ib.maxItemsPath == nil && ib.maxBytes == 0 {
			return fail("SCHEMA_VALIDATION_FAILED", "ItemBatcher needs MaxItemsPerBatch or MaxInputBytesPerBatch")
		}
		s.batcher = ib
	} else if _, ok := m["ItemBatcher"]; ok {
		return fail("SCHEMA_VALIDATION_FAILED", "ItemBatcher must be an object")
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func parseOptPath(m map[string]any, k string, reference bool) (optPath, error) {
	v, ok := m[k]
	if !ok {
		return optPath{}, nil
	}
	if v == nil {
		return optPath{null: true}, nil
	}
	s, ok := v.(string)
	if !ok {
		return optPath{}, fmt.Errorf("%s must be a string or null", k)
	}
	p, err := parsePath(s)
	if err != nil {
		return optPath{}, fmt.Errorf("%s: %v", k, err)
	}
	if reference && (!p.definite() || p.context) {
		return optPath{}, fmt.Errorf("%s: %q is not a reference path", k, s)
	}
	return optPath{path: p}, nil
}

// intOrPath reads "<k>" (a positive integer) or "<k>Path" (a reference path).
func intOrPath(m map[string]any, k string) (int64, *jsonPath, error) {
	v, hasV := m[k]
	ps, hasP := m[k+"Path"]
	if hasV && hasP {
		return 0, nil, fmt.Errorf("%s and %sPath are mutually exclusive", k, k)
	}
	if hasV {
		n, ok := toInt(v)
		if !ok || n < 0 || (n == 0 && k != "MaxConcurrency") {
			return 0, nil, fmt.Errorf("%s must be a positive integer", k)
		}
		return n, nil, nil
	}
	if hasP {
		s, ok := ps.(string)
		if !ok {
			return 0, nil, fmt.Errorf("%sPath must be a string", k)
		}
		p, err := parsePath(s)
		if err != nil || !p.definite() {
			return 0, nil, fmt.Errorf("%sPath: invalid reference path %q", k, s)
		}
		return 0, p, nil
	}
	return 0, nil, nil
}

func parseErrorEquals(m map[string]any) ([]string, error) {
	arr, ok := m["ErrorEquals"].([]any)
	if !ok || len(arr) == 0 {
		return nil, fmt.Errorf("ErrorEquals must be a non-empty array of strings")
	}
	var out []string
	for _, x := range arr {
		s, ok := x.(string)
		if !ok {
			return nil, fmt.Errorf("ErrorEquals must contain strings")
		}
		out = append(out, s)
	}
	if contains(out, errALL) && len(out) > 1 {
		return nil, fmt.Errorf("States.ALL must appear alone in ErrorEquals")
	}
	return out, nil
}

func checkALLLast(lists [][]string) error {
	for i, l := range lists {
		if contains(l, errALL) && i != len(lists)-1 {
			return fmt.Errorf("States.ALL must appear in the last element")
		}
	}
	return nil
}

func parseRetry(v any) ([]*retrier, error) {
	if v == nil {
		return nil, nil
	}
	arr, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("must be an array")
	}
	var out []*retrier
	var lists [][]string
	for _, x := range arr {
		m, ok := x.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("must contain objects")
		}
		r := &retrier{interval: 1, maxAttempts: 3, backoffRate: 2, jitter: "NONE"}
		var err error
		if r.errorEquals, err = parseErrorEquals(m); err != nil {
			return nil, err
		}
		for k, val := range m {
			switch k {
			case "ErrorEquals", "Comment":
			case "IntervalSeconds":
				n, ok := toInt(val)
				if !ok || n < 1 {
					return nil, fmt.Errorf("IntervalSeconds must be a positive integer")
				}
				r.interval = float64(n)
			case "MaxAttempts":
				n, ok := toInt(val)
				if !ok || n < 0 {
					return nil, fmt.Errorf("MaxAttempts must be a non-negative integer")
				}
				r.maxAttempts = n
			case "BackoffRate":
				f, ok := toFloat(val)
				if !ok || f < 1 {
					return nil, fmt.Errorf("BackoffRate must be a number >= 1.0")
				}
				r.backoffRate = f
			case "MaxDelaySeconds":
				n, ok := toInt(val)
				if !ok || n < 1 {
					return nil, fmt.Errorf("MaxDelaySeconds must be a positive integer")
				}
				r.maxDelay = float64(n)
			case "JitterStrategy":
				s, _ := val.(string)
				if s != "FULL" && s != "NONE" {
					return nil, fmt.Errorf("JitterStrategy must be FULL or NONE")
				}
				r.jitter = s
			default:
				return nil, fmt.Errorf("Field '%s' is not supported in a Retrier", k)
			}
		}
		out = append(out, r)
		lists = append(lists, r.errorEquals)
	}
	return out, checkALLLast(lists)
}

func parseCatch(v any) ([]*catcher, error) {
	if v == nil {
		return nil, nil
	}
	arr, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("must be an array")
	}
	var out []*catcher
	var lists [][]string
	for _, x := range arr {
		m, ok := x.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("must contain objects")
		}
		c := &catcher{}
		var err error
		if c.errorEquals, err = parseErrorEquals(m); err != nil {
			return nil, err
		}
		for k := range m {
			switch k {
			case "ErrorEquals", "Next", "ResultPath", "Comment":
			default:
				return nil, fmt.Errorf("Field '%s' is not supported in a Catcher", k)
			}
		}
		if c.next, _ = m["Next"].(string); c.next == "" {
			return nil, fmt.Errorf("a Catcher must have Next")
		}
		if c.resultPath, err = parseOptPath(m, "ResultPath", true); err != nil {
			return nil, err
		}
		out = append(out, c)
		lists = append(lists, c.errorEquals)
	}
	return out, checkALLLast(lists)
}

// stateNames lists a machine's states in a stable order (for diagnostics).
func (m *machine) stateNames() []string {
	names := make([]string, 0, len(m.states))
	for n := range m.states {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

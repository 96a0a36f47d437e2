package states

import (
	"errors"
	mrand "math/rand/v2"
	"strings"
	"time"
)

func randFloat() float64 { return mrand.Float64() }

const (
	lambdaInvoke         = "arn:aws:states:::lambda:invoke"
	lambdaInvokeCallback = "arn:aws:states:::lambda:invoke.waitForTaskToken"
	dynamoPrefix         = "arn:aws:states:::dynamodb:"
)

// splitResource turns "arn:aws:states:::lambda:invoke" into ("lambda", "invoke").
func splitResource(arn string) (resourceType, resource string) {
	rest := strings.TrimPrefix(arn, "arn:aws:states:::")
	if i := strings.IndexByte(rest, ':'); i >= 0 {
		return rest[:i], rest[i+1:]
	}
	return rest, ""
}

func isLambdaARN(r string) bool {
	return strings.HasPrefix(r, "arn:aws:lambda:") && strings.Contains(r, ":function:")
}

// taskTimeouts resolves TimeoutSeconds(Path) and HeartbeatSeconds(Path).
func taskTimeouts(st *state, in any) (timeout, heartbeat int64, err error) {
	timeout, heartbeat = st.timeoutSeconds, st.heartbeatSeconds
	resolve := func(p *jsonPath, field string) (int64, error) {
		v, err := p.eval(in)
		n, ok := toInt(v)
		if err != nil || !ok || n <= 0 {
			return 0, newErr(errRuntime, "Invalid %s '%s': the value must be a positive integer", field, p.src)
		}
		return n, nil
	}
	if st.timeoutPath != nil {
		if timeout, err = resolve(st.timeoutPath, "TimeoutSecondsPath"); err != nil {
			return
		}
	}
	if st.heartbeatPath != nil {
		if heartbeat, err = resolve(st.heartbeatPath, "HeartbeatSecondsPath"); err != nil {
			return
		}
	}
	return
}

// runTask runs one attempt of a Task state's resource with its effective input in.
func (s *strand) runTask(st *state, in any, sc *stateCtx) (any, error) {
	e := s.x.e
	timeout, heartbeat, err := taskTimeouts(st, in)
	if err != nil {
		return nil, err
	}
	callback := strings.HasSuffix(st.resource, ".waitForTaskToken")
	var entry *tokenEntry
	if callback {
		sc.token = newToken()
		entry = &tokenEntry{clk: e.clk, w: newWaiter(e.clk)}
		e.registerToken(sc.token, entry)
		defer e.releaseToken(sc.token)
	}
	params := in
	if st.parameters != nil {
		if params, err = st.parameters.eval(in, s.contextObject(sc)); err != nil {
			return nil, err
		}
	}
	if isLambdaARN(st.resource) {
		return s.runLambdaFunction(st, params, timeout)
	}
	if !strings.HasPrefix(st.resource, "arn:aws:states:::") {
		return nil, newErr(errTaskFailed, "the local executor does not support the resource %q", st.resource)
	}
	rtype, rname := splitResource(st.resource)
	sched := map[string]any{"resourceType": rtype, "resource": rname, "region": e.opts.Region, "parameters": toJSON(params)}
	if timeout > 0 {
		sched["timeoutInSeconds"] = timeout
	}
	if heartbeat > 0 {
		sched["heartbeatInSeconds"] = heartbeat
	}
	s.record("TaskScheduled", sched)
	s.record("TaskStarted", map[string]any{"resourceType": rtype, "resource": rname})
	fail := func(se *stateError) (any, error) {
		s.record("TaskFailed", map[string]any{"resourceType": rtype, "resource": rname, "error": se.Name, "cause": se.Cause})
		return nil, se
	}

	var result any
	var se *stateError
	switch {
	case st.resource == lambdaInvoke || st.resource == lambdaInvokeCallback:
		result, se = s.invokeLambdaIntegration(params)
	case strings.HasPrefix(st.resource, dynamoPrefix):
		result, se = s.dynamoDB(strings.TrimPrefix(st.resource, dynamoPrefix), params)
	default:
		se = newErr(errTaskFailed, "the local executor does not support the resource %q", st.resource)
	}
	if err := s.ctx.Err(); err != nil {
		return nil, err
	}
	if se != nil {
		return fail(se)
	}
	if !callback {
		s.record("TaskSucceeded", map[string]any{"resourceType": rtype, "resource": rname,
			"output": toJSON(result), "outputDetails": map[string]any{"truncated": false}})
		return result, nil
	}

	s.record("TaskSubmitted", map[string]any{"resourceType": rtype, "resource": rname,
		"output": toJSON(result), "outputDetails": map[string]any{"truncated": false}})
	var timer interface{ Stop() bool }
	if timeout > 0 {
		w := entry.w
		timer = e.clk.AfterFunc(time.Duration(timeout)*time.Second, func() {
			w.deliver(wakeMsg{err: newErr(errTimeout, "")})
		})
	}
	if heartbeat > 0 {
		entry.startHeartbeat(time.Duration(heartbeat) * time.Second)
	}
	m, err := s.wait(entry.w)
	if timer != nil {
		timer.Stop()
	}
	entry.stopHeartbeat()
	if err != nil {
		return nil, err
	}
	if m.err != nil {
		if m.err.Name == errTimeout || m.err.Name == errHeartbeatTimeout {
			s.record("TaskTimedOut", map[string]any{"resourceType": rtype, "resource": rname, "error": m.err.Name, "cause": m.err.Cause})
			return nil, m.err
		}
		return fail(m.err)
	}
	s.record("TaskSucceeded", map[string]any{"resourceType": rtype, "resource": rname,
		"output": toJSON(m.output), "outputDetails": map[string]any{"truncated": false}})
	return m.output, nil
}

// runLambdaFunction runs a Task whose Resource is a Lambda function ARN: the result is
// the function's response payload.
func (s *strand) runLambdaFunction(st *state, params any, timeout int64) (any, error) {
	sched := map[string]any{"resource": st.resource, "input": toJSON(params), "inputDetails": map[string]any{"truncated": false}}
	if timeout > 0 {
		sched["timeoutInSeconds"] = timeout
	}
	s.record("LambdaFunctionScheduled", sched)
	s.record("LambdaFunctionStarted", nil)
	out, se := s.invoke(st.resource, params)
	if err := s.ctx.Err(); err != nil {
		return nil, err
	}
	if se != nil {
		s.record("LambdaFunctionFailed", map[string]any{"error": se.Name, "cause": se.Cause})
		return nil, se
	}
	s.record("LambdaFunctionSucceeded", map[string]any{"output": toJSON(out), "outputDetails": map[string]any{"truncated": false}})
	return out, nil
}

// invokeLambdaIntegration runs the lambda:invoke integration: Parameters carry
// FunctionName, Payload and optionally Qualifier; the result wraps the payload as the
// Lambda Invoke API response.
func (s *strand) invokeLambdaIntegration(params any) (any, *stateError) {
	p, _ := params.(map[string]any)
	fn, _ := p["FunctionName"].(string)
	if fn == "" {
		return nil, newErr("Lambda.InvalidParameterValueException", "FunctionName is required")
	}
	if q, ok := p["Qualifier"].(string); ok && q != "" {
		fn += ":" + q
	}
	payload, ok := p["Payload"]
	if !ok {
		payload = map[string]any{}
	}
	out, se := s.invoke(fn, payload)
	if se != nil {
		return nil, se
	}
	return map[string]any{
		"ExecutedVersion": "$LATEST",
		"Payload":         out,
		"SdkHttpMetadata": map[string]any{
			"AllHttpHeaders": map[string]any{"X-Amz-Executed-Version": []any{"$LATEST"}, "Content-Type": []any{"application/json"}},
			"HttpHeaders":    map[string]any{"X-Amz-Executed-Version": "$LATEST", "Content-Type": "application/json"},
			"HttpStatusCode": intNumber(200),
		},
		"SdkResponseMetadata": map[string]any{"RequestId": newUUID()},
		"StatusCode":          intNumber(200),
	}, nil
}

// invoke calls the LambdaInvoker. A handler error becomes an error named after its type
// whose cause is the Lambda error document, as on AWS.
func (s *strand) invoke(fn string, payload any) (any, *stateError) {
	inv := s.x.e.opts.Lambda
	if inv == nil {
		return nil, newErr("Lambda.ServiceException", "no Lambda invoker is configured in the local executor")
	}
	resp, err := inv.Invoke(s.ctx, fn, []byte(toJSON(payload)))
	if err != nil {
		var fe *FunctionError
		switch {
		case errors.As(err, &fe):
			name := fe.Type
			if name == "" {
				name = "Lambda.Unknown"
			}
			cause := toJSON(map[string]any{"errorMessage": fe.Message, "errorType": fe.Type, "stackTrace": []any{}})
			return nil, &stateError{Name: name, Cause: cause}
		case errors.Is(err, ErrFunctionNotFound):
			return nil, newErr("Lambda.ResourceNotFoundException", "Function not found: %s (Service: Lambda, Status Code: 404)", fn)
		}
		return nil, newErr("Lambda.ServiceException", "%v", err)
	}
	if len(strings.TrimSpace(string(resp))) == 0 {
		return nil, nil
	}
	v, err := parseJSONBytes(resp)
	if err != nil {
		return string(resp), nil
	}
	return v, nil
}

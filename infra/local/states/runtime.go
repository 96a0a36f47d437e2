package states

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/facepay/platform/infra/local/clock"
)

// maxPayload is Step Functions' payload size quota (256 KiB).
const maxPayload = 256 * 1024

// execution is one run of a state machine.
type execution struct {
	e         *Executor
	arn, name string
	sm        *stateMachine
	def       *machine
	roleARN   string
	input     string
	inputVal  any
	start     time.Time
	ctx       context.Context
	cancel    context.CancelFunc
	timeout   *clock.Timer

	mu      sync.Mutex
	status  string
	stop    time.Time
	output  string
	errName string
	cause   string
	events  []*event
}

func (e *Executor) startExecution(machineARN, name, input string) (*execution, error) {
	sm, err := e.machine(machineARN)
	if err != nil {
		return nil, err
	}
	if input == "" {
		input = "{}"
	}
	inputVal, err := parseJSON(input)
	if err != nil {
		return nil, errorf("InvalidExecutionInput", 400, "Invalid Execution Input: '%s'", input)
	}
	if len(input) > maxPayload {
		return nil, errorf("InvalidExecutionInput", 400, "Execution input exceeds the maximum size")
	}
	if name == "" {
		name = newUUID()
	} else if !validName(name) {
		return nil, errorf("InvalidName", 400, "Invalid Name: '%s'", name)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, errorf("ServiceUnavailable", 503, "the executor is closed")
	}
	if old, ok := sm.byName[name]; ok {
		// AWS: an identical request for an execution that is still running is idempotent.
		old.mu.Lock()
		same := old.input == input && old.status == "RUNNING"
		old.mu.Unlock()
		if same {
			return old, nil
		}
		return nil, errorf("ExecutionAlreadyExists", 400, "Execution Already Exists: '%s'", old.arn)
	}
	x := &execution{
		e: e, name: name, sm: sm, def: sm.def, roleARN: sm.roleARN,
		arn:   fmt.Sprintf("arn:aws:states:%s:%s:execution:%s:%s", e.opts.Region, e.opts.AccountID, sm.name, name),
		input: input, inputVal: inputVal, start: e.clk.Now(), status: "RUNNING",
	}
	x.ctx, x.cancel = context.WithCancel(e.ctx)
	sm.byName[name] = x
	sm.executions = append(sm.executions, x)
	e.executions[x.arn] = x
	if x.def.timeoutSeconds > 0 {
		x.timeout = e.clk.At(x.start.Add(time.Duration(x.def.timeoutSeconds)*time.Second), func() {
			x.abort("TIMED_OUT", "States.Timeout", "The execution timed out")
		})
	}
	busy := e.clk.Busy()
	e.wg.Add(1)
	go x.run(busy)
	return x, nil
}

// run drives the execution from its goroutine; busy is the clock mark taken for it.
func (x *execution) run(busy func()) {
	defer x.e.wg.Done()
	s := &strand{x: x, ctx: x.ctx, busy: busy}
	defer func() { s.busy() }()
	s.record("ExecutionStarted", map[string]any{
		"input": x.input, "inputDetails": map[string]any{"truncated": false}, "roleArn": x.roleARN,
	})
	out, err := s.runMachine(x.def, x.inputVal, nil)
	x.finish(out, err)
}

// finish records the end of a run unless the execution was already stopped.
func (x *execution) finish(out any, err error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.status != "RUNNING" {
		return
	}
	x.stop = x.e.clk.Now()
	var se *stateError
	switch {
	case err == nil:
		x.status = "SUCCEEDED"
		x.output = toJSON(out)
		x.appendLocked(0, "ExecutionSucceeded", map[string]any{
			"output": x.output, "outputDetails": map[string]any{"truncated": false}})
	case errors.Is(err, context.Canceled):
		x.status = "ABORTED"
		x.appendLocked(0, "ExecutionAborted", map[string]any{})
	case errors.As(err, &se):
		x.status = "FAILED"
		x.errName, x.cause = se.Name, se.Cause
		x.appendLocked(0, "ExecutionFailed", map[string]any{"error": se.Name, "cause": se.Cause})
	default:
		x.status = "FAILED"
		x.errName, x.cause = errRuntime, err.Error()
		x.appendLocked(0, "ExecutionFailed", map[string]any{"error": errRuntime, "cause": err.Error()})
	}
	x.endLocked()
}

// abort ends a running execution as ABORTED (StopExecution, Close) or TIMED_OUT.
func (x *execution) abort(status, errName, cause string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.status != "RUNNING" {
		return
	}
	x.status = status
	x.stop = x.e.clk.Now()
	x.errName, x.cause = errName, cause
	details := map[string]any{}
	if errName != "" {
		details["error"] = errName
	}
	if cause != "" {
		details["cause"] = cause
	}
	typ := "ExecutionAborted"
	if status == "TIMED_OUT" {
		typ = "ExecutionTimedOut"
	}
	x.appendLocked(0, typ, details)
	x.endLocked()
}

func (x *execution) endLocked() {
	if x.timeout != nil {
		x.timeout.Stop()
	}
	x.cancel()
}

func (x *execution) appendLocked(prev int64, typ string, details map[string]any) int64 {
	ev := &event{id: int64(len(x.events) + 1), prev: prev, at: x.e.clk.Now(), typ: typ, details: details}
	if prev == 0 && len(x.events) > 0 {
		ev.prev = x.events[len(x.events)-1].id
	}
	if details != nil {
		ev.detailsKey = detailsKeyFor(typ)
	}
	x.events = append(x.events, ev)
	return ev.id
}

// strand is one thread of an execution (the main run, or a Parallel branch or Map
// iteration). It holds the clock's busy mark while it works.
type strand struct {
	x    *execution
	ctx  context.Context
	busy func()
	last int64 // id of this strand's last event
}

func noop() {}

// record appends an event unless this strand has been cancelled or the execution ended.
func (s *strand) record(typ string, details map[string]any) {
	if s.ctx.Err() != nil {
		return
	}
	x := s.x
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.status != "RUNNING" {
		return
	}
	prev := s.last
	ev := &event{id: int64(len(x.events) + 1), prev: prev, at: x.e.clk.Now(), typ: typ, details: details}
	if details != nil {
		ev.detailsKey = detailsKeyFor(typ)
	}
	x.events = append(x.events, ev)
	s.last = ev.id
}

// wakeMsg is what ends a wait: a timer firing, a task token completing, a timeout.
type wakeMsg struct {
	output any
	err    *stateError
	busy   func()
}

// waiter delivers at most one wakeMsg to a blocked strand. The deliverer's busy mark is
// taken inside deliver, so the clock never sees a gap between the wake-up and the work.
type waiter struct {
	clk  *clock.Clock
	mu   sync.Mutex
	done bool
	ch   chan wakeMsg
}

func newWaiter(clk *clock.Clock) *waiter {
	return &waiter{clk: clk, ch: make(chan wakeMsg, 1)}
}

// deliver hands m to the waiting strand; it reports false when the wait already ended.
func (w *waiter) deliver(m wakeMsg) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return false
	}
	w.done = true
	m.busy = w.clk.Busy()
	w.ch <- m
	return true
}

// close ends the wait without a message, releasing a message delivered meanwhile.
func (w *waiter) close() {
	w.mu.Lock()
	w.done = true
	w.mu.Unlock()
	select {
	case m := <-w.ch:
		m.busy()
	default:
	}
}

// wait blocks the strand (releasing its busy mark) until w delivers or the strand is
// cancelled; it returns the strand's context error in that case.
func (s *strand) wait(w *waiter) (wakeMsg, error) {
	s.busy()
	s.busy = noop
	select {
	case m := <-w.ch:
		s.busy = m.busy
		return m, nil
	case <-s.ctx.Done():
		w.close()
		return wakeMsg{}, s.ctx.Err()
	}
}

// sleepUntil blocks the strand until virtual time t.
func (s *strand) sleepUntil(t time.Time) error {
	clk := s.x.e.clk
	if !t.After(clk.Now()) {
		return s.ctx.Err()
	}
	w := newWaiter(clk)
	tm := clk.At(t, func() { w.deliver(wakeMsg{}) })
	_, err := s.wait(w)
	if err != nil {
		tm.Stop()
	}
	return err
}

// mapItem is the context for a Map iteration ($$.Map.Item).
type mapItem struct {
	index int
	value any
}

// stateCtx is what the context object says about the current state.
type stateCtx struct {
	name       string
	entered    time.Time
	retryCount int
	enteredID  int64 // id of the StateEntered event
	token      string
	item       *mapItem
}

func formatTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

// contextObject builds the context object ($$) lazily.
func (s *strand) contextObject(sc *stateCtx) func() any {
	var built any
	return func() any {
		if built != nil {
			return built
		}
		x := s.x
		st := map[string]any{"Name": sc.name, "EnteredTime": formatTime(sc.entered), "RetryCount": intNumber(int64(sc.retryCount))}
		c := map[string]any{
			"Execution": map[string]any{
				"Id": x.arn, "Input": x.inputVal, "Name": x.name, "RoleArn": x.roleARN,
				"StartTime": formatTime(x.start), "RedriveCount": intNumber(0),
			},
			"State":        st,
			"StateMachine": map[string]any{"Id": x.sm.arn, "Name": x.sm.name},
		}
		if sc.token != "" {
			c["Task"] = map[string]any{"Token": sc.token}
		}
		if sc.item != nil {
			c["Map"] = map[string]any{"Item": map[string]any{"Index": intNumber(int64(sc.item.index)), "Value": sc.item.value}}
		}
		built = c
		return c
	}
}

// runMachine runs m from its StartAt state with input until a terminal state.
func (s *strand) runMachine(m *machine, input any, item *mapItem) (any, error) {
	name := m.startAt
	for {
		if err := s.ctx.Err(); err != nil {
			return nil, err
		}
		st := m.states[name]
		out, next, err := s.runState(st, input, item)
		if err != nil {
			return nil, err
		}
		if next == "" {
			return out, nil
		}
		input, name = out, next
	}
}

// applyInputPath applies InputPath (failures are States.Runtime).
func applyPath(p optPath, field string, input any, ctx func() any) (any, error) {
	if p.null {
		return map[string]any{}, nil
	}
	if p.path == nil {
		return input, nil
	}
	root := input
	if p.path.context {
		root = ctx()
	}
	v, err := p.path.eval(root)
	if err != nil {
		return nil, newErr(errRuntime, "Invalid path '%s' : No results for path: %s='%s'", p.path.src, field, p.path.src)
	}
	return v, nil
}

// applyResultPath merges result into the state's raw input as ResultPath says.
func applyResultPath(p optPath, input, result any) (any, error) {
	if p.null {
		return input, nil
	}
	if p.path == nil {
		return result, nil
	}
	v, err := setPath(input, p.path, result)
	if err != nil {
		return nil, newErr(errResultPathMatchFailure, "%v", err)
	}
	return v, nil
}

// checkSize enforces the payload quota on a state's output, returning its JSON.
func checkSize(v any) (string, error) {
	j := toJSON(v)
	if len(j) > maxPayload {
		return "", newErr(errDataLimitExceeded, "The state/task returned a result with a size exceeding the maximum number of bytes service limit.")
	}
	return j, nil
}

// runState runs one state and returns its output and the next state ("" at the end).
func (s *strand) runState(st *state, raw any, item *mapItem) (any, string, error) {
	sc := &stateCtx{name: st.name, entered: s.x.e.clk.Now(), item: item}
	ctx := s.contextObject(sc)
	s.record(st.typ+"StateEntered", map[string]any{"name": st.name, "input": toJSON(raw),
		"inputDetails": map[string]any{"truncated": false}})
	sc.enteredID = s.last

	next := st.next
	var out any
	var err error
	switch st.typ {
	case "Pass":
		out, err = s.runPass(st, raw, ctx)
	case "Choice":
		out, next, err = s.runChoice(st, raw, ctx)
	case "Wait":
		out, err = s.runWait(st, raw, ctx)
	case "Succeed":
		out, err = applyPath(st.inputPath, "InputPath", raw, ctx)
		if err == nil {
			out, err = applyPath(st.outputPath, "OutputPath", out, ctx)
		}
		next = ""
	case "Fail":
		return nil, "", s.runFail(st, raw, ctx)
	case "Task", "Parallel", "Map":
		out, next, err = s.runWithRetry(st, raw, sc)
	}
	if err != nil {
		var se *stateError
		if errors.As(err, &se) && se.Name == errRuntime {
			err = &stateError{Name: errRuntime, Cause: fmt.Sprintf(
				"An error occurred while executing the state '%s' (entered at the event id #%d). %s", st.name, sc.enteredID, se.Cause)}
		}
		return nil, "", err
	}
	j, err := checkSize(out)
	if err != nil {
		return nil, "", err
	}
	s.record(st.typ+"StateExited", map[string]any{"name": st.name, "output": j,
		"outputDetails": map[string]any{"truncated": false}})
	return out, next, nil
}

func (s *strand) runPass(st *state, raw any, ctx func() any) (any, error) {
	in, err := applyPath(st.inputPath, "InputPath", raw, ctx)
	if err != nil {
		return nil, err
	}
	if st.parameters != nil {
		if in, err = st.parameters.eval(in, ctx); err != nil {
			return nil, err
		}
	}
	result := in
	if st.hasResult {
		result = st.result
	}
	out, err := applyResultPath(st.resultPath, raw, result)
	if err != nil {
		return nil, err
	}
	return applyPath(st.outputPath, "OutputPath", out, ctx)
}

func (s *strand) runChoice(st *state, raw any, ctx func() any) (any, string, error) {
	in, err := applyPath(st.inputPath, "InputPath", raw, ctx)
	if err != nil {
		return nil, "", err
	}
	next := ""
	for _, r := range st.choices {
		ok, err := r.eval(in, ctx)
		if err != nil {
			return nil, "", err
		}
		if ok {
			next = r.next
			break
		}
	}
	if next == "" {
		next = st.defaultNext
	}
	if next == "" {
		return nil, "", newErr(errNoChoiceMatched, "No Matches!")
	}
	out, err := applyPath(st.outputPath, "OutputPath", in, ctx)
	return out, next, err
}

func (s *strand) runWait(st *state, raw any, ctx func() any) (any, error) {
	in, err := applyPath(st.inputPath, "InputPath", raw, ctx)
	if err != nil {
		return nil, err
	}
	now := s.x.e.clk.Now()
	var until time.Time
	switch {
	case st.seconds != nil:
		until = now.Add(time.Duration(*st.seconds) * time.Second)
	case st.timestamp != nil:
		until = *st.timestamp
	case st.secondsPath != nil:
		v, err := st.secondsPath.eval(in)
		n, ok := toInt(v)
		if err != nil || !ok || n < 0 {
			return nil, newErr(errRuntime, "Invalid SecondsPath '%s': the value must be a non-negative integer", st.secondsPath.src)
		}
		until = now.Add(time.Duration(n) * time.Second)
	case st.timestampPath != nil:
		v, err := st.timestampPath.eval(in)
		str, ok := v.(string)
		var t time.Time
		if ok {
			t, err = parseTimestamp(str)
		}
		if err != nil || !ok {
			return nil, newErr(errRuntime, "Invalid TimestampPath '%s': the value must be an RFC 3339 timestamp", st.timestampPath.src)
		}
		until = t
	}
	if err := s.sleepUntil(until); err != nil {
		return nil, err
	}
	return applyPath(st.outputPath, "OutputPath", in, ctx)
}

func (s *strand) runFail(st *state, raw any, ctx func() any) error {
	name, cause := st.errName, st.cause
	eval := func(d *dynValue) (string, error) {
		var v any
		var err error
		if d.call != nil {
			v, err = d.call.eval(raw, ctx)
		} else {
			root := raw
			if d.path.context {
				root = ctx()
			}
			v, err = d.path.eval(root)
		}
		if err != nil {
			return "", newErr(errRuntime, "%v", err)
		}
		str, ok := v.(string)
		if !ok {
			return "", newErr(errRuntime, "the ErrorPath/CausePath value must be a string, got %s", typeName(v))
		}
		return str, nil
	}
	var err error
	if st.errorDyn != nil {
		if name, err = eval(st.errorDyn); err != nil {
			return err
		}
	}
	if st.causeDyn != nil {
		if cause, err = eval(st.causeDyn); err != nil {
			return err
		}
	}
	return &stateError{Name: name, Cause: cause}
}

// runWithRetry runs a Task, Parallel or Map state, applying Retry and Catch.
func (s *strand) runWithRetry(st *state, raw any, sc *stateCtx) (any, string, error) {
	ctx := s.contextObject(sc)
	in, err := applyPath(st.inputPath, "InputPath", raw, ctx)
	if err != nil {
		return nil, "", err
	}
	attempts := make([]int64, len(st.retry))
	for {
		out, err := s.attempt(st, raw, in, sc)
		if err == nil {
			return out, st.next, nil
		}
		var se *stateError
		if !errors.As(err, &se) {
			return nil, "", err // cancelled
		}
		retried := false
		for i, r := range st.retry {
			if !se.matches(r.errorEquals) {
				continue
			}
			if attempts[i] < r.maxAttempts {
				delay := r.interval
				for range attempts[i] {
					delay *= r.backoffRate
				}
				if r.maxDelay > 0 && delay > r.maxDelay {
					delay = r.maxDelay
				}
				if r.jitter == "FULL" {
					delay *= randFloat()
				}
				attempts[i]++
				sc.retryCount++
				if err := s.sleepUntil(s.x.e.clk.Now().Add(time.Duration(delay * float64(time.Second)))); err != nil {
					return nil, "", err
				}
				retried = true
			}
			break // only the first matching retrier applies
		}
		if retried {
			continue
		}
		for _, c := range st.catch {
			if !se.matches(c.errorEquals) {
				continue
			}
			out, err := applyResultPath(c.resultPath, raw, se.errorOutput())
			if err != nil {
				return nil, "", err
			}
			return out, c.next, nil
		}
		return nil, "", se
	}
}

// attempt runs one attempt of a Task, Parallel or Map state from its effective input to
// its output (ResultSelector, ResultPath and OutputPath applied).
func (s *strand) attempt(st *state, raw, in any, sc *stateCtx) (any, error) {
	var result any
	var err error
	switch st.typ {
	case "Task":
		result, err = s.runTask(st, in, sc)
	case "Parallel":
		result, err = s.runParallel(st, in, sc)
	case "Map":
		result, err = s.runMap(st, in, sc)
	}
	if err != nil {
		return nil, err
	}
	ctx := s.contextObject(sc)
	if st.resultSelector != nil {
		if result, err = st.resultSelector.eval(result, ctx); err != nil {
			return nil, err
		}
	}
	out, err := applyResultPath(st.resultPath, raw, result)
	if err != nil {
		return nil, err
	}
	return applyPath(st.outputPath, "OutputPath", out, ctx)
}

func (s *strand) runParallel(st *state, in any, sc *stateCtx) (any, error) {
	ctx := s.contextObject(sc)
	if st.parameters != nil {
		var err error
		if in, err = st.parameters.eval(in, ctx); err != nil {
			return nil, err
		}
	}
	s.record("ParallelStateStarted", nil)
	results, err := s.fanOut(len(st.branches), 0, 0, func(child *strand, i int) (any, error) {
		return child.runMachine(st.branches[i], in, nil)
	})
	if err != nil {
		s.record("ParallelStateFailed", nil)
		return nil, err
	}
	s.record("ParallelStateSucceeded", nil)
	return results, nil
}

type branchResult struct {
	i    int
	out  any
	err  error
	busy func()
}

// fanOut runs n children with at most limit at once (0: no limit) and collects their
// outputs in order. It stops at the first failure unless tolerated failures remain
// (tolerate < 0: none tolerated).
func (s *strand) fanOut(n, limit int, tolerate int, run func(child *strand, i int) (any, error)) ([]any, error) {
	results := make([]any, n)
	if n == 0 {
		return results, nil
	}
	if limit <= 0 || limit > n {
		limit = n
	}
	e := s.x.e
	bctx, cancel := context.WithCancel(s.ctx)
	ch := make(chan branchResult, n)
	launched := 0
	parentLast := s.last
	launch := func(i int) {
		busy := e.clk.Busy()
		launched++
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			child := &strand{x: s.x, ctx: bctx, busy: busy, last: parentLast}
			out, err := run(child, i)
			handoff := e.clk.Busy()
			child.busy()
			ch <- branchResult{i: i, out: out, err: err, busy: handoff}
		}()
	}
	for launched < limit {
		launch(launched)
	}
	s.busy()
	s.busy = noop
	received, failures := 0, 0
	var firstErr error
	for received < n && firstErr == nil {
		select {
		case r := <-ch:
			s.busy = r.busy
			received++
			if r.err != nil {
				failures++
				if failures > tolerate {
					firstErr = r.err
					break
				}
				var se *stateError
				if errors.As(r.err, &se) {
					results[r.i] = se.errorOutput()
				}
			} else {
				results[r.i] = r.out
			}
			if launched < n {
				launch(launched)
			}
			if received < n {
				s.busy()
				s.busy = noop
			}
		case <-s.ctx.Done():
			firstErr = s.ctx.Err()
		}
	}
	cancel()
	if remaining := launched - received; remaining > 0 {
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			for range remaining {
				(<-ch).busy()
			}
		}()
	}
	if firstErr != nil {
		return nil, firstErr
	}
	return results, nil
}

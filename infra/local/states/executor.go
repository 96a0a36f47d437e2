package states

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/facepay/platform/infra/local/clock"
)

// LambdaInvoker runs Lambda functions for Task states.
type LambdaInvoker interface {
	// Invoke runs the function identified by functionName (a Lambda ARN, possibly with
	// :alias/version, or a bare name) with payload.
	// A handler error is returned as *FunctionError; any other error means the function
	// could not be invoked (wrap ErrFunctionNotFound when it does not exist).
	Invoke(ctx context.Context, functionName string, payload []byte) ([]byte, error)
}

// FunctionError is an error returned by a function's handler: Type is what Lambda reports
// as errorType (for a Go handler, the error's type name) and is the error name ASL's
// Retry and Catch match.
type FunctionError struct {
	Type    string
	Message string
}

// Error formats the error as "Type: Message".
func (e *FunctionError) Error() string { return e.Type + ": " + e.Message }

// ErrFunctionNotFound is wrapped by a LambdaInvoker when no such function exists; the task
// then fails with Lambda.ResourceNotFoundException, as on AWS.
var ErrFunctionNotFound = errors.New("function not found")

// Options configure an Executor.
type Options struct {
	Clock    *clock.Clock     // required: all waits and timeouts run on it
	Lambda   LambdaInvoker    // may be nil when no Lambda tasks are used
	DynamoDB *dynamodb.Client // may be nil; for the dynamodb:* integrations
	S3       *s3.Client       // may be nil; for distributed Map ItemReader and ResultWriter
	// S3ListPageSize is the page size of the ItemReader's ListObjectsV2 calls (0: S3's 1000);
	// tests set it low to run the reader over several pages.
	S3ListPageSize int32
	Region         string       // default "us-east-1"
	AccountID      string       // default "000000000000"
	Logger         *slog.Logger // may be nil
}

// Executor runs state machines and serves the Step Functions JSON API. Create it with New
// and stop it with Close.
type Executor struct {
	opts Options
	clk  *clock.Clock
	log  *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu         sync.Mutex
	closed     bool
	machines   map[string]*stateMachine // by ARN
	machineSeq []*stateMachine          // creation order
	executions map[string]*execution    // by ARN
	tokens     map[string]*tokenEntry
	deadTokens map[string]bool // tokens of tasks that finished: late calls get TaskTimedOut
}

type stateMachine struct {
	arn, name, roleARN, definition string
	def                            *machine
	created                        time.Time
	executions                     []*execution
	byName                         map[string]*execution
}

// New returns an executor using opts. A nil Clock gets a frozen clock at the current time.
func New(opts Options) *Executor {
	if opts.Clock == nil {
		opts.Clock = clock.New(time.Now())
	}
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	if opts.AccountID == "" {
		opts.AccountID = "000000000000"
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Executor{
		opts: opts, clk: opts.Clock, log: log, ctx: ctx, cancel: cancel,
		machines:   map[string]*stateMachine{},
		executions: map[string]*execution{},
		tokens:     map[string]*tokenEntry{},
		deadTokens: map[string]bool{},
	}
}

// Close aborts every running execution and waits for their goroutines to end.
func (e *Executor) Close() {
	e.mu.Lock()
	e.closed = true
	running := make([]*execution, 0, len(e.executions))
	for _, x := range e.executions {
		running = append(running, x)
	}
	e.mu.Unlock()
	for _, x := range running {
		x.abort("ABORTED", "", "the local executor was closed")
	}
	e.cancel()
	e.wg.Wait()
}

// validName applies AWS's rules for state machine and execution names: 1 to 80
// characters, no white space, brackets, wildcards, control or special characters.
func validName(s string) bool {
	if s == "" || utf8.RuneCountInString(s) > 80 || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) || strings.ContainsRune("<>{}[]?*\"#%\\^|~`$&,;:/", r) {
			return false
		}
	}
	return true
}

// apiError is an error the JSON API returns: an AWS error code, HTTP status and message.
type apiError struct {
	code    string
	status  int
	message string
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

// ErrorCode returns the Step Functions error code ("TaskTimedOut", "TaskDoesNotExist",
// "InvalidToken", "ExecutionDoesNotExist", "InvalidDefinition", ...) of an error returned
// by the Executor's Go methods, or "" for other errors.
func ErrorCode(err error) string {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.code
	}
	return ""
}

func errorf(code string, status int, format string, args ...any) *apiError {
	return &apiError{code: code, status: status, message: fmt.Sprintf(format, args...)}
}

func (e *Executor) machineARN(name string) string {
	return fmt.Sprintf("arn:aws:states:%s:%s:stateMachine:%s", e.opts.Region, e.opts.AccountID, name)
}

// CreateStateMachine registers (or, when the name exists, updates) a state machine and
// returns its ARN. It returns an InvalidDefinition or InvalidName error for bad input.
func (e *Executor) CreateStateMachine(name, definition, roleARN string) (arn string, err error) {
	sm, err := e.createStateMachine(name, definition, roleARN, true)
	if err != nil {
		return "", err
	}
	return sm.arn, nil
}

func (e *Executor) createStateMachine(name, definition, roleARN string, update bool) (*stateMachine, error) {
	if !validName(name) {
		return nil, errorf("InvalidName", 400, "Invalid Name: '%s'", name)
	}
	def, err := parseDefinition(definition)
	if err != nil {
		return nil, errorf("InvalidDefinition", 400, "%v", err)
	}
	arn := e.machineARN(name)
	e.mu.Lock()
	defer e.mu.Unlock()
	if sm, ok := e.machines[arn]; ok {
		if !update && (sm.definition != definition || sm.roleARN != roleARN) {
			return nil, errorf("StateMachineAlreadyExists", 400, "State Machine Already Exists: '%s'", arn)
		}
		sm.definition, sm.def, sm.roleARN = definition, def, roleARN
		return sm, nil
	}
	sm := &stateMachine{arn: arn, name: name, roleARN: roleARN, definition: definition, def: def,
		created: e.clk.Now(), byName: map[string]*execution{}}
	e.machines[arn] = sm
	e.machineSeq = append(e.machineSeq, sm)
	return sm, nil
}

// UpdateStateMachine replaces the definition (when definition is not empty) and role (when
// roleARN is not empty) of an existing machine; running executions keep their definition.
// It returns StateMachineDoesNotExist or InvalidDefinition errors.
func (e *Executor) UpdateStateMachine(arn, definition, roleARN string) error {
	var def *machine
	if definition != "" {
		var err error
		if def, err = parseDefinition(definition); err != nil {
			return errorf("InvalidDefinition", 400, "%v", err)
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	sm, ok := e.machines[arn]
	if !ok {
		return errorf("StateMachineDoesNotExist", 400, "State Machine Does Not Exist: '%s'", arn)
	}
	if def != nil {
		sm.definition, sm.def = definition, def
	}
	if roleARN != "" {
		sm.roleARN = roleARN
	}
	return nil
}

// StartExecution starts an execution of the machine at machineARN and returns its ARN.
// An empty name gets a generated one. Starting again with the same name and input returns
// the same ARN; with a different input it is an ExecutionAlreadyExists error.
func (e *Executor) StartExecution(machineARN, name, input string) (executionARN string, err error) {
	x, err := e.startExecution(machineARN, name, input)
	if err != nil {
		return "", err
	}
	return x.arn, nil
}

// DescribeExecution reports an execution's status ("RUNNING", "SUCCEEDED", "FAILED",
// "TIMED_OUT", "ABORTED") and, once it has ended, its output or error and cause.
func (e *Executor) DescribeExecution(executionARN string) (status, output, errName, cause string, err error) {
	x, err := e.execution(executionARN)
	if err != nil {
		return "", "", "", "", err
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.status, x.output, x.errName, x.cause, nil
}

// SendTaskSuccess completes the callback task waiting on token with output (a JSON
// document). It returns InvalidToken, TaskDoesNotExist, TaskTimedOut or InvalidOutput errors.
func (e *Executor) SendTaskSuccess(token, output string) error {
	v, err := parseJSON(output)
	if err != nil {
		return errorf("InvalidOutput", 400, "Invalid Output: '%s'", output)
	}
	return e.completeToken(token, wakeMsg{output: v})
}

// SendTaskFailure fails the callback task waiting on token with the given error and cause.
// It returns InvalidToken, TaskDoesNotExist or TaskTimedOut errors.
func (e *Executor) SendTaskFailure(token, errName, cause string) error {
	return e.completeToken(token, wakeMsg{err: &stateError{Name: errName, Cause: cause}})
}

// StopExecution aborts a running execution. It returns ExecutionDoesNotExist or InvalidArn.
func (e *Executor) StopExecution(executionARN, errName, cause string) error {
	x, err := e.execution(executionARN)
	if err != nil {
		return err
	}
	x.abort("ABORTED", errName, cause)
	return nil
}

func (e *Executor) execution(arn string) (*execution, error) {
	if !isARN(arn, "execution") {
		return nil, errorf("InvalidArn", 400, "Invalid Arn: '%s'", arn)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	x, ok := e.executions[arn]
	if !ok {
		return nil, errorf("ExecutionDoesNotExist", 400, "Execution Does Not Exist: '%s'", arn)
	}
	return x, nil
}

func (e *Executor) machine(arn string) (*stateMachine, error) {
	if !isARN(arn, "stateMachine") {
		return nil, errorf("InvalidArn", 400, "Invalid Arn: '%s'", arn)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	sm, ok := e.machines[arn]
	if !ok {
		return nil, errorf("StateMachineDoesNotExist", 400, "State Machine Does Not Exist: '%s'", arn)
	}
	return sm, nil
}

var arnRE = regexp.MustCompile(`^arn:aws[a-z-]*:states:[a-z0-9-]+:[0-9]+:(stateMachine|execution):[^:\s]+(:[^:\s]+)?$`)

func isARN(s, kind string) bool {
	m := arnRE.FindStringSubmatch(s)
	return m != nil && m[1] == kind
}

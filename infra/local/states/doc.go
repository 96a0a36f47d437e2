// Package states is an embedded AWS Step Functions executor for local runs and tests.
//
// It runs Amazon States Language (JSONPath flavour) definitions on the local cloud's
// virtual clock (package clock), so Wait states, task timeouts, heartbeats, retry
// intervals and execution timeouts elapse only when the clock is advanced. It serves the
// Step Functions JSON API (awsJson1_0) as an http.Handler, so the aws-sdk-go-v2 sfn client
// and the AWS CLI work against it with an endpoint override.
//
// Files by concern: executor.go (the Executor, its Go API and registry), definition.go
// (parsing and validation), values.go, jsonpath.go and template.go (JSON values, paths,
// payload templates, ResultPath), intrinsics.go (States.* functions), choice.go (Choice
// rules), errors.go (error names and Retry/Catch matching), runtime.go (executions, the
// clock contract, Pass/Choice/Wait/Succeed/Fail/Parallel, Retry and Catch), tasks.go
// (Task states and Lambda), dynamodb.go (the DynamoDB integrations), mapstate.go (Map,
// distributed Map, its S3 item reader and result writer), tokens.go (task tokens), history.go (execution
// history events) and api.go (the JSON API).
//
// Clock contract: every goroutine doing execution work holds a clock.Busy mark and
// releases it when it blocks (on a timer, a task token, child branches) or ends; whoever
// wakes it (a timer callback, SendTaskSuccess, a finishing branch) takes a new mark before
// handing over, so clock.Advance fires due timers one at a time, in order, each after the
// work it caused has settled.
//
// Where the AWS service and the States Language specification differ, the service wins: a
// Parameters/ResultSelector path that selects nothing fails with States.Runtime (not
// States.ParameterPathFailure), and States.Runtime and States.DataLimitExceeded can be
// neither retried nor caught, even by States.ALL.
package states

package states

import (
	"fmt"
	"testing"
	"time"
)

// bench20States has 20 states: 12 top-level (with a Parallel and a Map), 4 in the
// Parallel's branches and 4 in the Map's item processor.
const bench20States = `{"StartAt":"Init","States":{
 "Init":{"Type":"Pass","Parameters":{"id.$":"$.id","items":[1,2,3,4],"n":0},"Next":"Format"},
 "Format":{"Type":"Pass","Parameters":{"label.$":"States.Format('run {}', $.id)"},"ResultPath":"$.meta","Next":"Route?"},
 "Route?":{"Type":"Choice","Choices":[{"Variable":"$.id","NumericLessThan":0,"Next":"Bad"}],"Default":"Fan"},
 "Bad":{"Type":"Fail","Error":"Negative"},
 "Fan":{"Type":"Parallel","ResultPath":"$.par","Next":"Each","Branches":[
   {"StartAt":"A1","States":{"A1":{"Type":"Pass","Result":1,"Next":"A2"},"A2":{"Type":"Pass","End":true}}},
   {"StartAt":"B1","States":{"B1":{"Type":"Pass","Result":2,"Next":"B2"},"B2":{"Type":"Pass","End":true}}}]},
 "Each":{"Type":"Map","ItemsPath":"$.items","MaxConcurrency":2,"ResultPath":"$.mapped","Next":"Sum",
   "ItemSelector":{"v.$":"$$.Map.Item.Value","i.$":"$$.Map.Item.Index"},
   "ItemProcessor":{"StartAt":"M1","States":{
     "M1":{"Type":"Pass","Parameters":{"d.$":"States.MathAdd($.v, $.i)"},"Next":"M2"},
     "M2":{"Type":"Choice","Choices":[{"Variable":"$.d","NumericGreaterThan":100,"Next":"M3"}],"Default":"M4"},
     "M3":{"Type":"Fail","Error":"TooBig"},
     "M4":{"Type":"Pass","End":true}}}},
 "Sum":{"Type":"Pass","Parameters":{"count.$":"States.ArrayLength($.mapped)"},"ResultPath":"$.sum","Next":"Pause"},
 "Pause":{"Type":"Wait","Seconds":0,"Next":"Check?"},
 "Check?":{"Type":"Choice","Choices":[{"Variable":"$.sum.count","NumericEquals":4,"Next":"Shape"}],"Default":"Bad"},
 "Shape":{"Type":"Pass","InputPath":"$.sum","ResultPath":"$.shape","Next":"Trim"},
 "Trim":{"Type":"Pass","OutputPath":"$.shape","Next":"Done"},
 "Done":{"Type":"Succeed"}}}`

// BenchmarkExecutions20States measures executions per second of a 20-state machine with
// a Parallel and a Map, started through the Go API and run concurrently.
func BenchmarkExecutions20States(b *testing.B) {
	env := newEnv(b)
	arn, err := env.exec.CreateStateMachine("bench", bench20States, "")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	const batch = 256
	for done := 0; done < b.N; {
		n := min(batch, b.N-done)
		arns := make([]string, n)
		for i := range n {
			if arns[i], err = env.exec.StartExecution(arn, "", fmt.Sprintf(`{"id":%d}`, done+i)); err != nil {
				b.Fatal(err)
			}
		}
		env.clk.Settle()
		for _, x := range arns {
			status, _, errName, cause, err := env.exec.DescribeExecution(x)
			if err != nil || status != "SUCCEEDED" {
				b.Fatalf("%s: %s %s %s %v", x, status, errName, cause, err)
			}
		}
		done += n
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "execs/s")
}

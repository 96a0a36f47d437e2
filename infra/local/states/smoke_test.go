package states

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/stretchr/testify/require"
)

// TestPipelineThroughStateKinds runs Pass, Wait, Parallel, Task and Map in one machine.
func TestPipelineThroughStateKinds(t *testing.T) {
	env := newEnv(t)
	arn := env.create(t, "smoke", `{"StartAt":"A","States":{
	  "A":{"Type":"Pass","Parameters":{"x.$":"$.v","f.$":"States.Format('v={}', $.v)"},"ResultPath":"$.q","Next":"W"},
	  "W":{"Type":"Wait","Seconds":60,"Next":"P"},
	  "P":{"Type":"Parallel","Branches":[{"StartAt":"B","States":{"B":{"Type":"Pass","End":true}}},{"StartAt":"C","States":{"C":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"echo","Payload.$":"$"},"OutputPath":"$.Payload","End":true}}}],"Next":"M"},
	  "M":{"Type":"Map","ItemsPath":"$[0].p.arr","MaxConcurrency":1,"ItemProcessor":{"StartAt":"I","States":{"I":{"Type":"Pass","End":true}}},"End":true}}}`)
	x := env.start(t, arn, `{"v":3,"p":{"arr":[1,2]}}`)
	d := env.finish(t, x, time.Minute, 3)
	require.Equal(t, "SUCCEEDED", string(d.Status), aws.ToString(d.Cause))
	require.JSONEq(t, `[1,2]`, aws.ToString(d.Output))
	t.Log(eventTypes(env.history(t, x)))
}

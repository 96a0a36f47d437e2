package lambdafn

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRequireNamesEveryMissingSetting(t *testing.T) {
	env := map[string]string{"TABLE_NAME": "t"}
	d := Deps{Getenv: func(k string) string { return env[k] }}
	got, err := d.Require("TABLE_NAME")
	require.NoError(t, err)
	assert.Equal(t, "t", got["TABLE_NAME"])
	_, err = d.Require("TABLE_NAME", "BUCKET_NAME", "STATE_MACHINE_ARN")
	assert.EqualError(t, err, "missing settings: BUCKET_NAME, STATE_MACHINE_ARN")
}

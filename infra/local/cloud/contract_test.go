package cloud

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// The document validates under kin-openapi's strict checks, examples included: allOf over a
// schema with additionalProperties false refused valid requests (issue 10 point 1).
func TestContract_TheDocumentIsStrictlyValid(t *testing.T) {
	_, err := LoadContract(context.Background(), filepath.Join("..", "..", "openapi.yaml"))
	require.NoError(t, err)
}

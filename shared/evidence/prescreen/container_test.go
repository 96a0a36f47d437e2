package prescreen

import (
	"bytes"
	"io"
	"math/rand"
	"testing"

	"github.com/richardlehane/mscfb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The container built around a workbook stream is well formed for any stream size,
// including one that needs DIFAT sectors (more than 109 FAT sectors: over 6.8 MiB).
func TestWrapStream(t *testing.T) {
	for _, size := range []int{1, 4096, 70_000, 8 << 20} {
		data := make([]byte, size)
		rand.New(rand.NewSource(int64(size))).Read(data)
		r, err := mscfb.New(bytes.NewReader(wrapStream(data)))
		require.NoError(t, err, size)
		e, err := r.Next()
		require.NoError(t, err, size)
		assert.Equal(t, "Workbook", e.Name)
		got, err := io.ReadAll(e)
		require.NoError(t, err)
		require.GreaterOrEqual(t, len(got), size)
		assert.True(t, bytes.Equal(data, got[:size]), "size %d: the stream reads back", size)
		assert.Empty(t, bytes.Trim(got[size:], "\x00"), "padded with zeros")
	}
}

package edgeauth

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The library module stays lean: what only the Redis store, the command or
// the examples need lives in their own modules (go.work joins them), so
// that an importer of the root package does not carry it.
func TestLibraryModuleIsLean(t *testing.T) {
	mod, err := os.ReadFile("go.mod")
	require.NoError(t, err)
	for _, dep := range []string{"github.com/redis/go-redis", "github.com/prometheus/", "github.com/go-chi/chi"} {
		require.NotContains(t, string(mod), dep, "the root go.mod must not require %s", dep)
	}
	for _, line := range strings.Split(string(mod), "\n") {
		if strings.Contains(line, "yaml") {
			require.Contains(t, line, "// indirect", "YAML only as testify's own dependency")
		}
	}
}

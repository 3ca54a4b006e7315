package edgeauth_test

import (
	"testing"

	"github.com/edgeauth/edgeauth"
	"github.com/edgeauth/edgeauth/internal/revoketest"
	"github.com/edgeauth/edgeauth/internal/sessiontest"
)

// The three revocation remedies (denylist, sign-out-everywhere,
// token versions), run through the Manager against the MemoryStore; the
// redisstore module runs the same scenarios against Redis.
func TestRevocationRemedies(t *testing.T) {
	t.Run("memory", func(t *testing.T) {
		revoketest.Remedies(t, func(t *testing.T, clk *sessiontest.Clock) edgeauth.Store {
			return edgeauth.NewMemoryStore(edgeauth.MemoryStoreConfig{Now: clk.Now})
		})
	})
}

package edgeauth_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeauth/edgeauth"
	"github.com/edgeauth/edgeauth/internal/revoketest"
	"github.com/edgeauth/edgeauth/internal/sessiontest"
)

// One account signing in and out without end must neither fill the store nor push out
// anybody else's revocations, and memory stays bounded.
func TestRevocationFloodMemoryStore(t *testing.T) {
	const (
		maxEntries = 300
		quota      = 20
	)
	clk := sessiontest.NewClock(edgeauth.TestNow)
	store := edgeauth.NewMemoryStore(edgeauth.MemoryStoreConfig{MaxEntries: maxEntries, MaxSessionsPerUser: quota, Now: clk.Now})
	m, _ := revoketest.NewManagerAt(t, clk, edgeauth.Config{Store: store, Callbacks: edgeauth.Callbacks{JWT: revoketest.RoleCallback}})
	v := revoketest.PrepareVictims(t, m)
	before := edgeauth.MemoryStoreSize(store)

	// Far more cycles than the store has room for; the clock moves on now and then.
	cycles := revoketest.Flood(t, m, 5*maxEntries, func(cycle int) {
		if cycle%50 == 49 {
			clk.Advance(time.Second)
		}
	})
	require.Greater(t, cycles, maxEntries)
	assert.LessOrEqual(t, edgeauth.MemoryStoreSize(store), before+quota+1, "the flood holds at most its quota and a cutoff")
	edgeauth.CheckMemoryStoreInvariants(t, store)

	revoketest.CheckVictims(t, m, v)

	// The flooding account can sign in again once its cutoff has passed.
	clk.Advance(time.Second)
	_, err := m.Load(sessiontest.RequestCarrying("GET", "/", revoketest.SignIn(t, m, &edgeauth.User{ID: "mallory"})))
	require.NoError(t, err)
}

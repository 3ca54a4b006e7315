package edgeauth

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeauth/edgeauth/internal/redistest"
	"github.com/edgeauth/edgeauth/redisstore"
)

const (
	// floodMax and floodBudget bound the flood; it runs at least its minimum whatever
	// the budget, so that a slow machine still floods far past every bound.
	floodMax    = 20_000
	floodBudget = 3 * time.Second
)

// floodVictims are the sessions a flood must not free: revoked before it, by every remedy.
type floodVictims struct {
	stolenAdmin  http.Header // a copy of alice's admin cookie, signed out
	aliceCurrent http.Header // alice's live session
	signedOut    []http.Header
	banned       http.Header
	carol, dave  http.Header // live until after the flood
}

func prepareVictims(t *testing.T, m *Manager) *floodVictims {
	t.Helper()
	ctx := context.Background()
	v := &floodVictims{}
	v.stolenAdmin = signIn(t, m, &User{ID: "alice", Attributes: map[string]any{"role": "admin"}})
	require.NoError(t, m.SignOut(httptest.NewRecorder(), requestCarrying("POST", "/logout", v.stolenAdmin)))
	v.aliceCurrent = signIn(t, m, &User{ID: "alice", Attributes: map[string]any{"role": "admin"}})
	for i := range 20 {
		h := signIn(t, m, &User{ID: fmt.Sprint("user-", i)})
		require.NoError(t, m.SignOut(httptest.NewRecorder(), requestCarrying("POST", "/logout", h)))
		v.signedOut = append(v.signedOut, h)
	}
	v.banned = signIn(t, m, &User{ID: "erin"})
	require.NoError(t, m.RevokeUser(ctx, "erin"))
	v.carol = signIn(t, m, &User{ID: "carol"})
	v.dave = signIn(t, m, &User{ID: "dave"})
	return v
}

// flood signs one account in and out, at least minCycles and at most floodMax times,
// within floodBudget once past the minimum; every sign-out must succeed.
func flood(t *testing.T, m *Manager, minCycles int, tick func(cycle int)) int {
	t.Helper()
	start := time.Now()
	cycles := 0
	for cycles < floodMax && (cycles < minCycles || time.Since(start) < floodBudget) {
		if tick != nil {
			tick(cycles)
		}
		h := signIn(t, m, &User{ID: "mallory"})
		if err := m.SignOut(httptest.NewRecorder(), requestCarrying("POST", "/logout", h)); err != nil {
			t.Fatalf("sign-out %d of the flooding account failed: %v", cycles, err)
		}
		cycles++
	}
	t.Logf("%d sign-in/sign-out cycles of one account in %v", cycles, time.Since(start).Round(time.Millisecond))
	return cycles
}

// checkVictims asserts that every revocation made before the flood holds and that
// revoking still works for everyone else.
func checkVictims(t *testing.T, m *Manager, v *floodVictims) {
	t.Helper()
	ctx := context.Background()
	_, err := m.Load(requestCarrying("GET", "/admin", v.stolenAdmin))
	require.ErrorIs(t, err, ErrRevoked, "a revoked admin cookie must stay revoked")
	s, err := m.Load(requestCarrying("GET", "/admin", v.aliceCurrent))
	require.NoError(t, err, "alice's own session is untouched")
	assert.Equal(t, "admin", s.Role)
	for i, h := range v.signedOut {
		_, err := m.Load(requestCarrying("GET", "/", h))
		require.ErrorIs(t, err, ErrRevoked, "user-%d", i)
	}
	_, err = m.Load(requestCarrying("GET", "/", v.banned))
	require.ErrorIs(t, err, ErrRevoked, "the ban holds")

	// Other users' sign-out and ban work after the flood.
	require.NoError(t, m.SignOut(httptest.NewRecorder(), requestCarrying("POST", "/logout", v.carol)))
	_, err = m.Load(requestCarrying("GET", "/", v.carol))
	require.ErrorIs(t, err, ErrRevoked)
	require.NoError(t, m.RevokeUser(ctx, "dave"))
	_, err = m.Load(requestCarrying("GET", "/", v.dave))
	require.ErrorIs(t, err, ErrRevoked)
	for i := range 20 {
		h := signIn(t, m, &User{ID: fmt.Sprint("late-", i)})
		require.NoError(t, m.SignOut(httptest.NewRecorder(), requestCarrying("POST", "/logout", h)))
		_, err = m.Load(requestCarrying("GET", "/", h))
		require.ErrorIs(t, err, ErrRevoked)
	}
}

// One account signing in and out without end must neither fill the store nor push out
// anybody else's revocations, and memory stays bounded.
func TestRevocationFloodMemoryStore(t *testing.T) {
	const (
		maxEntries = 300
		quota      = 20
	)
	clk := newClock(testNow)
	store := NewMemoryStore(MemoryStoreConfig{MaxEntries: maxEntries, MaxSessionsPerUser: quota, Now: clk.Now})
	m, _ := newTestManagerAt(t, clk, Config{Store: store, Callbacks: Callbacks{JWT: roleCallback}})
	v := prepareVictims(t, m)
	before := store.Len()

	// Far more cycles than the store has room for; the clock moves on now and then.
	cycles := flood(t, m, 5*maxEntries, func(cycle int) {
		if cycle%50 == 49 {
			clk.Advance(time.Second)
		}
	})
	require.Greater(t, cycles, maxEntries)
	assert.LessOrEqual(t, store.Len(), before+quota+1, "the flood holds at most its quota and a cutoff")
	checkInvariants(t, store)

	checkVictims(t, m, v)

	// The flooding account can sign in again once its cutoff has passed.
	clk.Advance(time.Second)
	_, err := m.Load(requestCarrying("GET", "/", signIn(t, m, &User{ID: "mallory"})))
	require.NoError(t, err)
}

// The same flood against a real redis-server that may evict (volatile-lru, every
// revocation key has a TTL) with little memory to spare: per-user collapse keeps the
// flood from growing Redis, so nothing is evicted; the same number of revocations, one
// key each, is evicted.
func TestRevocationFloodRedis(t *testing.T) {
	const margin = 256 << 10 // client buffers alone vary by tens of KB
	ctx := context.Background()
	client := redis.NewClient(&redis.Options{Addr: redistest.Start(t), ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = client.Close() })
	store := redisstore.New(client, redisstore.Options{})
	// Redis expires keys on its own clock: the manager's clock starts at the real time
	// and stays there (never ahead of Redis).
	clk := newClock(time.Now().Unix())
	// A generous timeout: a check that times out on a loaded machine would fail closed
	// and read as a lost revocation.
	m, _ := newTestManagerAt(t, clk, Config{Store: store, Callbacks: Callbacks{JWT: roleCallback}, RevocationTimeout: 10 * time.Second})
	v := prepareVictims(t, m)

	keysBefore, err := client.DBSize(ctx).Result()
	require.NoError(t, err)
	used := redisInfoInt(t, client, "memory", "used_memory")
	require.NoError(t, client.ConfigSet(ctx, "maxmemory-policy", "volatile-lru").Err())
	require.NoError(t, client.ConfigSet(ctx, "maxmemory", strconv.FormatInt(used+margin, 10)).Err())

	// 4000 revocations as one key each would take about twice the margin (see the control).
	cycles := flood(t, m, 4000, nil)

	assert.Zero(t, redisInfoInt(t, client, "stats", "evicted_keys"), "the flood must not evict anything")
	keysAfter, err := client.DBSize(ctx).Result()
	require.NoError(t, err)
	assert.LessOrEqual(t, keysAfter, keysBefore+2, "the flood holds one sorted set and one cutoff")
	t.Logf("used_memory grew by %d bytes", redisInfoInt(t, client, "memory", "used_memory")-used)

	checkVictims(t, m, v)
	assert.Zero(t, redisInfoInt(t, client, "stats", "evicted_keys"))

	// The control: as many revocations, one key each (with a TTL, as any revocation
	// has), exceed the margin and are evicted, victims' revocations among them.
	pipe := client.Pipeline()
	exp := time.Now().Add(30 * 24 * time.Hour)
	for i := range cycles {
		key := fmt.Sprintf("control:t:%043d", i)
		pipe.Set(ctx, key, exp.UnixMilli(), 0)
		pipe.ExpireAt(ctx, key, exp)
		if i%500 == 499 {
			_, err := pipe.Exec(ctx)
			require.NoError(t, err)
		}
	}
	_, err = pipe.Exec(ctx)
	require.NoError(t, err)
	assert.Positive(t, redisInfoInt(t, client, "stats", "evicted_keys"), "the same flood, one key per revocation, must be evicted")
}

// redisInfoInt reads one integer field of an INFO section.
func redisInfoInt(t *testing.T, client *redis.Client, section, field string) int64 {
	t.Helper()
	info, err := client.Info(context.Background(), section).Result()
	require.NoError(t, err)
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			require.NoError(t, err)
			return n
		}
	}
	t.Fatalf("INFO %s has no %s", section, field)
	return 0
}

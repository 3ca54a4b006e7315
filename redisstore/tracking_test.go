package redisstore

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeauth/edgeauth"
	"github.com/edgeauth/edgeauth/internal/redistest"
	"github.com/edgeauth/edgeauth/internal/storetest"
)

// propagationDeadline bounds how long a test waits for a revocation to reach another
// store: far above the milliseconds it takes, so that a loaded machine does not fail it.
const propagationDeadline = 10 * time.Second

// newCachedStore returns a store with a local cache on client, closed when the test ends,
// once its tracking is established.
func newCachedStore(t *testing.T, client redis.UniversalClient, opts Options) *Store {
	t.Helper()
	if opts.LocalCache == nil {
		opts.LocalCache = &LocalCache{}
	}
	s := New(client, opts)
	t.Cleanup(func() { _ = s.Close() })
	waitTracking(t, s)
	return s
}

// tracked reports whether s serves hits: tracking established on every node and heard
// from recently.
func tracked(s *Store) bool {
	s.cache.mu.RLock()
	live := s.cache.live
	s.cache.mu.RUnlock()
	return live && s.cache.since(time.Now()) < s.cache.validUntil.Load()
}

func waitTracking(t *testing.T, s *Store) {
	t.Helper()
	require.Eventually(t, func() bool { return tracked(s) }, propagationDeadline, 5*time.Millisecond,
		"tracking was not established")
}

// warm checks until the answer comes from the cache (a fetch can race the maintenance
// of tracking), and returns it.
func warm(t *testing.T, s *Store, counter *commandCounter, sessionID, userID string) (bool, time.Time) {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(propagationDeadline)
	for {
		before := counter.Total()
		revoked, cutoff, err := s.Check(ctx, sessionID, userID)
		require.NoError(t, err)
		if counter.Total() == before {
			return revoked, cutoff
		}
		require.False(t, time.Now().After(deadline), "check of %q/%q never served from the cache", userID, sessionID)
		time.Sleep(5 * time.Millisecond)
	}
}

// countedClient returns a client with a command counter.
func countedClient(t *testing.T, addr string) (*redis.Client, *commandCounter) {
	t.Helper()
	c := newClient(t, addr)
	counter := &commandCounter{}
	c.AddHook(counter)
	return c, counter
}

func TestLocalCacheConformance(t *testing.T) {
	client := newClient(t, redistest.Start(t))
	runCachedConformance(t, client)
}

func runCachedConformance(t *testing.T, client redis.UniversalClient) {
	var n atomic.Int64
	storetest.Run(t, func(t *testing.T, lim storetest.Limits) (storetest.Store, storetest.Clock) {
		return newCachedStore(t, client, Options{
			Prefix:                 fmt.Sprintf("cached%d:", n.Add(1)),
			MaxSessionsPerUser:     lim.MaxSessionsPerUser,
			MaxSessionsWithoutUser: lim.MaxSessionsWithoutUser,
		}), storetest.RealClock{}
	})
}

// A warm check makes no network call: no command, no dial.
func TestLocalCacheWarmCheckNoNetwork(t *testing.T) {
	ctx := context.Background()
	addr := redistest.Start(t)
	client, counter := countedClient(t, addr)
	s := newCachedStore(t, client, Options{})
	require.NoError(t, s.RevokeSession(ctx, "user", "revoked", time.Now().Add(time.Hour)))
	require.NoError(t, s.RevokeUser(ctx, "banned", time.Now(), time.Now().Add(time.Hour)))

	checks := []struct {
		sid, user string
		revoked   bool
		cutoff    bool
	}{
		{"live", "user", false, false},
		{"revoked", "user", true, false},
		{"any", "banned", false, true},
		{"", "banned", false, true},
		{"anon", "", false, false},
	}
	for _, c := range checks {
		revoked, cutoff := warm(t, s, counter, c.sid, c.user)
		assert.Equal(t, c.revoked, revoked, c)
		assert.Equal(t, c.cutoff, !cutoff.IsZero(), c)
	}
	statsBefore := commandStats(t, addr)
	before := counter.Total()
	for range 1000 {
		for _, c := range checks {
			revoked, cutoff, err := s.Check(ctx, c.sid, c.user)
			require.NoError(t, err)
			assert.Equal(t, c.revoked, revoked)
			assert.Equal(t, c.cutoff, !cutoff.IsZero())
		}
	}
	assert.Equal(t, before, counter.Total(), "warm checks sent commands")
	assert.Equal(t, statsBefore, commandStats(t, addr), "redis saw the store's scripts")
}

// commandStats returns how many scripts Redis has run.
func commandStats(t *testing.T, addr string) string { return redistest.ScriptCalls(t, addr) }

// runPropagation checks that revocations made through a reach b's warm cache.
func runPropagation(t *testing.T, a, b *Store, counter *commandCounter) {
	ctx := context.Background()
	exp := time.Now().Add(time.Hour)
	for _, c := range [][2]string{{"s1", "u1"}, {"s2", "u1"}, {"s3", "u2"}, {"anon", ""}, {"other-anon", ""}} {
		revoked, cutoff := warm(t, b, counter, c[0], c[1])
		require.False(t, revoked)
		require.True(t, cutoff.IsZero())
	}

	t.Run("sign-out", func(t *testing.T) {
		require.NoError(t, a.RevokeSession(ctx, "u1", "s1", exp))
		eventuallyRevoked(t, b, "s1", "u1")
		revoked, _ := warm(t, b, counter, "s2", "u1")
		assert.False(t, revoked, "the user's other session stays")
	})
	t.Run("ban", func(t *testing.T) {
		require.NoError(t, a.RevokeUser(ctx, "u2", time.Now(), exp))
		require.Eventually(t, func() bool {
			_, cutoff, err := b.Check(ctx, "s3", "u2")
			return err == nil && !cutoff.IsZero()
		}, propagationDeadline, time.Millisecond)
		_, cutoff := warm(t, b, counter, "s3", "u2")
		assert.False(t, cutoff.IsZero())
	})
	t.Run("session without user", func(t *testing.T) {
		require.NoError(t, a.RevokeSession(ctx, "", "anon", exp))
		eventuallyRevoked(t, b, "anon", "")
		revoked, _ := warm(t, b, counter, "other-anon", "")
		assert.False(t, revoked)
	})
}

func eventuallyRevoked(t *testing.T, s *Store, sessionID, userID string) {
	t.Helper()
	require.Eventually(t, func() bool {
		revoked, _, err := s.Check(context.Background(), sessionID, userID)
		return err == nil && revoked
	}, propagationDeadline, time.Millisecond, "%q/%q not revoked", userID, sessionID)
}

// A revocation made through one store reaches another store's warm cache.
func TestLocalCachePropagation(t *testing.T) {
	addr := redistest.Start(t)
	a := newCachedStore(t, newClient(t, addr), Options{})
	client, counter := countedClient(t, addr)
	b := newCachedStore(t, client, Options{})
	runPropagation(t, a, b, counter)
}

// Losing the tracking connection flushes the cache: an invalidation sent while it was
// down cannot be missed, and the cache comes back once tracking does.
func TestLocalCacheReconnect(t *testing.T) {
	ctx := context.Background()
	srv := redistest.StartServer(t)
	writer := New(newClient(t, srv.Addr()), Options{})
	client, counter := countedClient(t, srv.Addr())
	s := newCachedStore(t, client, Options{})

	t.Run("connection killed", func(t *testing.T) {
		revoked, _ := warm(t, s, counter, "sid", "user")
		require.False(t, revoked)
		// Kill the tracking connection and revoke before it can be re-established: the
		// invalidation has no connection to go to.
		_, err := redistest.Do(srv.Addr(), "CLIENT", "KILL", "TYPE", "pubsub")
		require.NoError(t, err)
		require.NoError(t, writer.RevokeSession(ctx, "user", "sid", time.Now().Add(time.Hour)))
		eventuallyRevoked(t, s, "sid", "user")
		waitTracking(t, s)
		revoked, _ = warm(t, s, counter, "sid", "user")
		assert.True(t, revoked, "after tracking is back, the cache serves the new state")
	})

	t.Run("redis restarted", func(t *testing.T) {
		revoked, _ := warm(t, s, counter, "other", "user")
		require.False(t, revoked)
		srv.Stop(t)
		// Fail closed: the cached "not revoked" is dropped, and checks fail.
		require.Eventually(t, func() bool {
			cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
			defer cancel()
			_, _, err := s.Check(cctx, "other", "user")
			return err != nil
		}, propagationDeadline, time.Millisecond, "the cache kept answering without redis")
		assert.Equal(t, 0, s.cache.len())
		for range 5 {
			cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
			_, _, err := s.Check(cctx, "other", "user")
			cancel()
			assert.Error(t, err)
		}

		srv.Restart(t)
		waitTracking(t, s)
		require.NoError(t, writer.RevokeSession(ctx, "user", "other", time.Now().Add(time.Hour)))
		eventuallyRevoked(t, s, "other", "user")
		revoked, _ = warm(t, s, counter, "other", "user")
		assert.True(t, revoked)
	})
}

// FLUSHALL drops every key at once; Redis then sends an invalidation without keys, and
// the cache drops everything too.
func TestLocalCacheFlushAll(t *testing.T) {
	ctx := context.Background()
	addr := redistest.Start(t)
	client, counter := countedClient(t, addr)
	s := newCachedStore(t, client, Options{})
	require.NoError(t, s.RevokeSession(ctx, "user", "sid", time.Now().Add(time.Hour)))
	revoked, _ := warm(t, s, counter, "sid", "user")
	require.True(t, revoked)

	_, err := redistest.Do(addr, "FLUSHALL")
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		revoked, _, err := s.Check(ctx, "sid", "user")
		return err == nil && !revoked
	}, propagationDeadline, time.Millisecond, "the cache kept a revocation redis no longer has")
	waitTracking(t, s)
	revoked, _ = warm(t, s, counter, "sid", "user")
	assert.False(t, revoked)
}

// A tracking connection that goes silent, with no error to notice, stops cache hits
// after a few ping intervals: checks then ask Redis, which here does not answer either,
// so they fail closed.
func TestLocalCacheSilentNetwork(t *testing.T) {
	ctx := context.Background()
	proxy := redistest.StartProxy(t, redistest.Start(t))
	client, counter := countedClient(t, proxy.Addr())
	s := newCachedStore(t, client, Options{})
	revoked, _ := warm(t, s, counter, "sid", "user")
	require.False(t, revoked)

	proxy.Freeze()
	require.Eventually(t, func() bool {
		cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		_, _, err := s.Check(cctx, "sid", "user")
		return err != nil
	}, propagationDeadline, 10*time.Millisecond, "the cache kept answering over a dead network")

	proxy.Thaw()
	waitTracking(t, s)
	revoked, _ = warm(t, s, counter, "sid", "user")
	assert.False(t, revoked)
}

// A Redis that refuses tracking leaves a working store that asks Redis every time, and
// says why.
func TestLocalCacheTrackingRefused(t *testing.T) {
	t.Run("no CLIENT command", func(t *testing.T) {
		client, counter := countedClient(t, redistest.Start(t, "--rename-command", "CLIENT", ""))
		assertRefused(t, client, counter)
	})
	t.Run("ACL user without the channel", func(t *testing.T) {
		addr := redistest.Start(t)
		_, err := redistest.Do(addr, "ACL", "SETUSER", "edge", "on", ">pw", "~*", "+@all", "resetchannels")
		require.NoError(t, err)
		client := redis.NewClient(&redis.Options{Addr: addr, Username: "edge", Password: "pw", ContextTimeoutEnabled: true})
		t.Cleanup(func() { _ = client.Close() })
		counter := &commandCounter{}
		client.AddHook(counter)
		assertRefused(t, client, counter)
	})
}

func assertRefused(t *testing.T, client *redis.Client, counter *commandCounter) {
	ctx := context.Background()
	rec := &logRecorder{}
	s := New(client, Options{Logger: slog.New(rec), LocalCache: &LocalCache{}})
	t.Cleanup(func() { _ = s.Close() })
	require.Eventually(t, func() bool {
		for _, r := range rec.logged() {
			if strings.Contains(r.Message, "refused client tracking") {
				return true
			}
		}
		return false
	}, propagationDeadline, 10*time.Millisecond, "no warning")
	require.NoError(t, s.RevokeSession(ctx, "user", "sid", time.Now().Add(time.Hour)))
	for range 3 {
		before := counter.Total()
		revoked, _, err := s.Check(ctx, "sid", "user")
		require.NoError(t, err)
		assert.True(t, revoked)
		assert.Greater(t, counter.Total(), before, "every check asks redis")
	}
	assert.Equal(t, 0, s.cache.len())
	var warnings int
	for _, r := range rec.logged() {
		if r.Level == slog.LevelWarn && strings.Contains(r.Message, "tracking") {
			warnings++
		}
	}
	assert.Equal(t, 1, warnings, "one warning, not one per retry")
}

// A client that cannot be tracked (a Ring) gets a store without a cache, and a warning.
func TestLocalCacheUnsupportedClient(t *testing.T) {
	ctx := context.Background()
	ring := redis.NewRing(&redis.RingOptions{Addrs: map[string]string{"a": redistest.Start(t)}, ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = ring.Close() })
	rec := &logRecorder{}
	s := New(ring, Options{Logger: slog.New(rec), LocalCache: &LocalCache{}})
	assert.Nil(t, s.cache)
	require.Len(t, rec.logged(), 1)
	assert.Contains(t, rec.logged()[0].Message, "local cache needs")
	require.NoError(t, s.RevokeSession(ctx, "user", "sid", time.Now().Add(time.Hour)))
	revoked, _, err := s.Check(ctx, "sid", "user")
	require.NoError(t, err)
	assert.True(t, revoked)
	assert.NoError(t, s.Close())
}

// Close stops every goroutine the cache started and closes its connections; the store
// keeps working, a round trip per check.
func TestLocalCacheClose(t *testing.T) {
	const slack = 2 // runtime goroutines that come and go on their own
	ctx := context.Background()
	addr := redistest.Start(t)
	client, counter := countedClient(t, addr)
	_, _, err := New(client, Options{}).Check(ctx, "warm", "the client's pool")
	require.NoError(t, err)
	baseline := runtime.NumGoroutine()

	for range 3 {
		s := New(client, Options{LocalCache: &LocalCache{}})
		waitTracking(t, s)
		warm(t, s, counter, "sid", "user")
		require.NoError(t, s.Close())
		require.NoError(t, s.Close(), "Close twice")

		before := counter.Total()
		revoked, _, err := s.Check(ctx, "sid", "user")
		require.NoError(t, err)
		assert.False(t, revoked)
		assert.Greater(t, counter.Total(), before, "after Close a check asks redis")
	}
	if !assert.Eventually(t, func() bool {
		return runtime.NumGoroutine() <= baseline+slack
	}, 5*time.Second, 20*time.Millisecond) {
		buf := make([]byte, 1<<16)
		t.Fatalf("goroutines: %d after Close, %d before (slack %d)\n%s", runtime.NumGoroutine(), baseline, slack, buf[:runtime.Stack(buf, true)])
	}
	clients, err := redistest.Do(addr, "CLIENT", "LIST", "TYPE", "pubsub")
	require.NoError(t, err)
	assert.Empty(t, strings.TrimSpace(clients), "tracking connections left open")

	// A store closed before its tracking was established stops as well.
	s := New(client, Options{LocalCache: &LocalCache{}})
	require.NoError(t, s.Close())
}

// The cache is bounded by LocalCache.MaxEntries, and entries expire after its TTL
// without a lookup.
func TestLocalCacheLimits(t *testing.T) {
	ctx := context.Background()
	client := newClient(t, redistest.Start(t))
	s := newCachedStore(t, client, Options{LocalCache: &LocalCache{MaxEntries: 10, TTL: 200 * time.Millisecond}})
	for i := range 100 {
		_, _, err := s.Check(ctx, fmt.Sprint("sid-", i), fmt.Sprint("user-", i%7))
		require.NoError(t, err)
		assert.LessOrEqual(t, s.cache.len(), 10)
	}
	require.Positive(t, s.cache.len())
	assert.Eventually(t, func() bool { return s.cache.len() == 0 }, propagationDeadline, 50*time.Millisecond,
		"expired entries were not reclaimed")

	// Ids too long to cache are checked in Redis every time.
	long := strings.Repeat("x", maxCachedIDBytes)
	_, _, err := s.Check(ctx, "sid", long)
	require.NoError(t, err)
	assert.Equal(t, 0, s.cache.len())
}

// CheckCached answers only what the local cache holds, as Check would, and never does I/O.
func TestCheckCached(t *testing.T) {
	ctx := context.Background()
	addr := redistest.Start(t)
	client, counter := countedClient(t, addr)

	_, _, ok := New(client, Options{}).CheckCached("sid", "user")
	assert.False(t, ok, "without a local cache")
	var _ edgeauth.CachedChecker = (*Store)(nil)

	s := newCachedStore(t, client, Options{})
	_, _, ok = s.CheckCached("sid", "user")
	assert.False(t, ok, "before any check")
	revoked, cutoff := warm(t, s, counter, "sid", "user")
	require.False(t, revoked)
	require.True(t, cutoff.IsZero())
	before := counter.Total()
	revoked, cutoff, ok = s.CheckCached("sid", "user")
	assert.True(t, ok, "after a check")
	assert.False(t, revoked)
	assert.True(t, cutoff.IsZero())
	assert.Equal(t, before, counter.Total(), "CheckCached sent a command")

	require.NoError(t, s.RevokeSession(ctx, "user", "sid", time.Now().Add(time.Hour)))
	require.Eventually(t, func() bool { _, _, ok := s.CheckCached("sid", "user"); return !ok },
		propagationDeadline, time.Millisecond, "the revocation did not invalidate the cached answer")
	revoked, _ = warm(t, s, counter, "sid", "user")
	require.True(t, revoked)
	revoked, _, ok = s.CheckCached("sid", "user")
	assert.True(t, ok)
	assert.True(t, revoked, "the cached answer after the revocation")

	require.NoError(t, s.Close())
	_, _, ok = s.CheckCached("sid", "user")
	assert.False(t, ok, "a closed store's cache")
}

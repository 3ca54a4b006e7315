package redisstore

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeauth/edgeauth/internal/redistest"
	"github.com/edgeauth/edgeauth/internal/storetest"
)

func newClient(t *testing.T, addr string) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{
		Addr:                  addr,
		ContextTimeoutEnabled: true,
		DialTimeout:           time.Second,
	})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestConformance(t *testing.T) {
	client := newClient(t, redistest.Start(t))
	var n atomic.Int64
	storetest.Run(t, func(t *testing.T) (storetest.Store, storetest.Clock) {
		// A fresh prefix per subtest gives each an empty store on the shared server.
		return New(client, Options{Prefix: fmt.Sprintf("conf%d:", n.Add(1))}), storetest.RealClock{}
	})
}

func TestPrefixIsolation(t *testing.T) {
	ctx := context.Background()
	client := newClient(t, redistest.Start(t))
	a := New(client, Options{Prefix: "a:"})
	b := New(client, Options{Prefix: "b:"})
	def := New(client, Options{})
	exp := time.Now().Add(time.Hour)

	require.NoError(t, a.RevokeToken(ctx, "jti", exp))
	require.NoError(t, a.RevokeUser(ctx, "user:1", time.Now(), exp))

	revoked, cutoff, err := a.Check(ctx, "jti", "user:1")
	require.NoError(t, err)
	assert.True(t, revoked)
	assert.False(t, cutoff.IsZero())
	for name, s := range map[string]*Store{"b": b, "default": def} {
		revoked, cutoff, err := s.Check(ctx, "jti", "user:1")
		require.NoError(t, err)
		assert.False(t, revoked, name)
		assert.True(t, cutoff.IsZero(), name)
	}

	require.NoError(t, def.RevokeUser(ctx, "user:1", time.Now(), exp))
	keys, err := client.Keys(ctx, "*").Result()
	require.NoError(t, err)
	assert.Len(t, keys, 3)
	var defaults int
	for _, k := range keys {
		assert.NotContains(t, k, "user:1", "ids are hashed, not stored in key names")
		assert.NotContains(t, k, "jti")
		if strings.HasPrefix(k, DefaultPrefix+"u:") {
			defaults++
		}
		ttl, err := client.PTTL(ctx, k).Result()
		require.NoError(t, err)
		assert.Greater(t, ttl, time.Duration(0), "key %q must have a TTL", k)
		assert.LessOrEqual(t, ttl, time.Hour+time.Second, "key %q TTL", k)
	}
	assert.Equal(t, 1, defaults)
}

func TestCorruptEntry(t *testing.T) {
	ctx := context.Background()
	client := newClient(t, redistest.Start(t))
	s := New(client, Options{})
	require.NoError(t, client.HSet(ctx, s.userKey("u"), "c", "not-a-number").Err())
	_, _, err := s.Check(ctx, "", "u")
	assert.ErrorIs(t, err, ErrCorruptEntry)

	// A key of the wrong type is a Redis error, returned wrapped.
	require.NoError(t, client.Set(ctx, s.userKey("v"), "x", 0).Err())
	_, _, err = s.Check(ctx, "j", "v")
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), "edgeauth: redis check:"), err.Error())
}

func TestNilClient(t *testing.T) {
	s := New(nil, Options{})
	ctx := context.Background()
	_, _, err := s.Check(ctx, "j", "u")
	assert.ErrorIs(t, err, ErrNoClient)
	assert.ErrorIs(t, s.RevokeToken(ctx, "j", time.Now().Add(time.Hour)), ErrNoClient)
	assert.ErrorIs(t, s.RevokeUser(ctx, "u", time.Now(), time.Now().Add(time.Hour)), ErrNoClient)
}

// A Redis that accepts connections but never answers must not hold a request beyond its
// context deadline, and the error must say so.
func TestContextDeadlinePropagates(t *testing.T) {
	s := New(newClient(t, redistest.Unresponsive(t)), Options{})

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	revoked, cutoff, err := s.Check(ctx, "j", "u")
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.False(t, revoked)
	assert.True(t, cutoff.IsZero())

	ctx2, cancel2 := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel2()
	assert.ErrorIs(t, s.RevokeUser(ctx2, "u", time.Now(), time.Now().Add(time.Hour)), context.DeadlineExceeded)
}

// Redis stopped mid-test: calls fail (the manager then fails closed); Redis back: they work
// again, and nothing leaks goroutines.
func TestServerDownAndBack(t *testing.T) {
	const (
		// calls is how often each operation runs, so that a goroutine leaked per call
		// would exceed slack, which absorbs runtime and redis-server process goroutines
		// that come and go on their own.
		calls = 20
		slack = 2
	)
	ctx := context.Background()
	srv := redistest.StartServer(t)
	baseline := runtime.NumGoroutine()

	client := redis.NewClient(&redis.Options{
		Addr:                  srv.Addr(),
		ContextTimeoutEnabled: true,
		DialTimeout:           time.Second,
	})
	s := New(client, Options{})
	exp := time.Now().Add(time.Hour)
	require.NoError(t, s.RevokeToken(ctx, "j", exp))
	revoked, _, err := s.Check(ctx, "j", "u")
	require.NoError(t, err)
	require.True(t, revoked)

	srv.Stop(t)
	// go-redis retries a refused dial until the deadline: a short one keeps the loops quick.
	for range calls {
		cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		revoked, cutoff, err := s.Check(cctx, "j", "u")
		cancel()
		require.Error(t, err, "Check must fail while Redis is down")
		assert.False(t, revoked)
		assert.True(t, cutoff.IsZero())
		assert.True(t, strings.HasPrefix(err.Error(), "edgeauth: redis check:"), err.Error())
	}
	for range calls {
		cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		assert.Error(t, s.RevokeToken(cctx, "j2", exp), "RevokeToken must fail while Redis is down")
		cancel()
	}

	srv.Restart(t)
	// The restarted server is empty (no persistence) and has no cached scripts: revoking
	// again also exercises the EVALSHA -> EVAL fallback.
	var lastErr error
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		cctx, cancel := context.WithTimeout(ctx, time.Second)
		lastErr = s.RevokeToken(cctx, "j2", exp)
		cancel()
		if lastErr == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	require.NoError(t, lastErr, "store must work again after Redis restarts")
	for i := range calls {
		require.NoError(t, s.RevokeUser(ctx, fmt.Sprint("u", i), time.Now(), exp))
		revoked, _, err = s.Check(ctx, "j2", "u")
		require.NoError(t, err)
		assert.True(t, revoked)
	}

	require.NoError(t, client.Close())
	// Goroutines exit asynchronously after Close: poll, bounded.
	if !assert.Eventually(t, func() bool {
		return runtime.NumGoroutine() <= baseline+slack
	}, 5*time.Second, 20*time.Millisecond) {
		n := runtime.NumGoroutine()
		buf := make([]byte, 1<<16)
		t.Fatalf("goroutines: %d after close, %d before client (slack %d)\n%s", n, baseline, slack, buf[:runtime.Stack(buf, true)])
	}
}

func TestKeyHelpers(t *testing.T) {
	s := New(nil, Options{Prefix: "p:"})
	assert.NotEqual(t, s.tokenKey("x"), s.userKey("x"))
	assert.True(t, strings.HasPrefix(s.tokenKey("x"), "p:t:"))
	assert.True(t, strings.HasPrefix(s.userKey("x"), "p:u:"))
	assert.Len(t, s.userKey(strings.Repeat("x", 10_000)), len("p:u:")+43)

	base := time.Unix(1_700_000_000, 0)
	assert.Equal(t, int64(1_700_000_000_000), ceilMilli(base))
	assert.Equal(t, int64(1_700_000_000_001), ceilMilli(base.Add(time.Nanosecond)))
	assert.Equal(t, int64(1_700_000_000), cutoffSecond(base))
	assert.Equal(t, int64(1_700_000_001), cutoffSecond(base.Add(time.Millisecond)))
}

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
	runConformance(t, client)
}

func runConformance(t *testing.T, client redis.UniversalClient) {
	var n atomic.Int64
	storetest.Run(t, func(t *testing.T, lim storetest.Limits) (storetest.Store, storetest.Clock) {
		// A fresh prefix per subtest gives each an empty store on the shared server.
		return New(client, Options{
			Prefix:                 fmt.Sprintf("conf%d:", n.Add(1)),
			MaxSessionsPerUser:     lim.MaxSessionsPerUser,
			MaxSessionsWithoutUser: lim.MaxSessionsWithoutUser,
		}), storetest.RealClock{}
	})
}

func TestKeyLayout(t *testing.T) {
	ctx := context.Background()
	client := newClient(t, redistest.Start(t))
	a := New(client, Options{Prefix: "a:"})
	b := New(client, Options{Prefix: "b:"})
	def := New(client, Options{})
	exp := time.Now().Add(time.Hour)

	require.NoError(t, a.RevokeSession(ctx, "user:1", "sid", exp))
	require.NoError(t, a.RevokeUser(ctx, "user:1", time.Now(), exp))
	require.NoError(t, a.RevokeSession(ctx, "", "anon", exp))

	revoked, cutoff, err := a.Check(ctx, "sid", "user:1")
	require.NoError(t, err)
	assert.True(t, revoked)
	assert.False(t, cutoff.IsZero())
	for name, s := range map[string]*Store{"b": b, "default": def} {
		revoked, cutoff, err := s.Check(ctx, "sid", "user:1")
		require.NoError(t, err)
		assert.False(t, revoked, name)
		assert.True(t, cutoff.IsZero(), name)
		revoked, _, err = s.Check(ctx, "anon", "")
		require.NoError(t, err)
		assert.False(t, revoked, name)
	}

	require.NoError(t, def.RevokeUser(ctx, "user:1", time.Now(), exp))
	keys, err := client.Keys(ctx, "*").Result()
	require.NoError(t, err)
	tag := "{" + hashID("user:1") + "}"
	assert.ElementsMatch(t, []string{"a:s:" + tag, "a:u:" + tag, "a:n", DefaultPrefix + "u:" + tag}, keys)
	for _, k := range keys {
		assert.NotContains(t, k, "user:1", "ids are hashed, not stored in key names")
		ttl, err := client.PTTL(ctx, k).Result()
		require.NoError(t, err)
		assert.Greater(t, ttl, time.Duration(0), "key %q must have a TTL", k)
		assert.LessOrEqual(t, ttl, time.Hour+time.Second, "key %q TTL", k)
	}
	members, err := client.ZRangeWithScores(ctx, "a:s:"+tag, 0, -1).Result()
	require.NoError(t, err)
	require.Len(t, members, 1)
	assert.Equal(t, memberID("sid"), members[0].Member)
	assert.Equal(t, float64(ceilMilli(exp)), members[0].Score)
}

// A user's keys share one hash tag, the part of the key Redis Cluster hashes to pick a
// slot, so that a revocation's script and a check touch a single slot.
func TestUserKeysShareHashTag(t *testing.T) {
	s := New(nil, Options{})
	for _, id := range []string{"u", "{u}", "}{", "{", strings.Repeat("x", 10_000)} {
		keys := s.userKeys(id)
		require.Len(t, keys, 2)
		assert.Equal(t, hashTag(keys[0]), hashTag(keys[1]), id)
		assert.Equal(t, hashID(id), hashTag(keys[0]), id)
	}
	assert.NotEqual(t, hashTag(s.userKeys("u")[0]), hashTag(s.userKeys("v")[0]))
}

// hashTag is the part of a key Redis Cluster hashes: the text between the first '{' and
// the first '}' after it, when not empty; otherwise the whole key.
func hashTag(key string) string {
	open := strings.IndexByte(key, '{')
	if open < 0 {
		return key
	}
	end := strings.IndexByte(key[open+1:], '}')
	if end <= 0 {
		return key
	}
	return key[open+1 : open+1+end]
}

// A user at the quota costs a few kilobytes, whatever the number of sign-outs: the set
// stays in Redis's compact encoding.
func TestMemoryPerUser(t *testing.T) {
	ctx := context.Background()
	client := newClient(t, redistest.Start(t))
	s := New(client, Options{})
	exp := time.Now().Add(30 * 24 * time.Hour)
	for i := range 3 * DefaultMaxSessionsPerUser {
		require.NoError(t, s.RevokeSession(ctx, "flood", fmt.Sprint("a-session-id-", i), exp))
		if i == DefaultMaxSessionsPerUser-1 {
			keys := s.userKeys("flood")
			n, err := client.ZCard(ctx, keys[0]).Result()
			require.NoError(t, err)
			assert.EqualValues(t, DefaultMaxSessionsPerUser, n)
			enc, err := client.ObjectEncoding(ctx, keys[0]).Result()
			require.NoError(t, err)
			assert.Contains(t, []string{"listpack", "ziplist"}, enc, "the compact encoding (ziplist before Redis 7)")
			size, err := client.MemoryUsage(ctx, keys[0]).Result()
			require.NoError(t, err)
			t.Logf("a user at the quota of %d sessions: %d bytes", DefaultMaxSessionsPerUser, size)
			assert.Less(t, size, int64(4<<10))
		}
	}
	keys, err := client.Keys(ctx, "*").Result()
	require.NoError(t, err)
	assert.LessOrEqual(t, len(keys), 2)
	n, err := client.ZCard(ctx, s.userKeys("flood")[0]).Result()
	require.NoError(t, err)
	assert.LessOrEqual(t, n, int64(DefaultMaxSessionsPerUser))
}

func TestCorruptEntry(t *testing.T) {
	ctx := context.Background()
	client := newClient(t, redistest.Start(t))
	s := New(client, Options{})
	require.NoError(t, client.HSet(ctx, s.userKeys("u")[1], "c", "not-a-number").Err())
	_, _, err := s.Check(ctx, "", "u")
	assert.ErrorIs(t, err, ErrCorruptEntry)

	// A key of the wrong type is a Redis error, returned wrapped.
	require.NoError(t, client.Set(ctx, s.userKeys("v")[1], "x", 0).Err())
	_, _, err = s.Check(ctx, "j", "v")
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), "edgeauth: redis check:"), err.Error())
	require.NoError(t, client.Set(ctx, s.userKeys("w")[0], "x", 0).Err())
	err = s.RevokeSession(ctx, "w", "j", time.Now().Add(time.Hour))
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), "edgeauth: redis revoke session:"), err.Error())
}

func TestNilClient(t *testing.T) {
	s := New(nil, Options{})
	ctx := context.Background()
	_, _, err := s.Check(ctx, "j", "u")
	assert.ErrorIs(t, err, ErrNoClient)
	assert.ErrorIs(t, s.RevokeSession(ctx, "u", "j", time.Now().Add(time.Hour)), ErrNoClient)
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
	require.NoError(t, s.RevokeSession(ctx, "u", "j", exp))
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
		assert.Error(t, s.RevokeSession(cctx, "u", "j2", exp), "RevokeSession must fail while Redis is down")
		cancel()
	}

	srv.Restart(t)
	// The restarted server is empty (no persistence) and has no cached scripts: revoking
	// again also exercises the EVALSHA -> EVAL fallback.
	var lastErr error
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		cctx, cancel := context.WithTimeout(ctx, time.Second)
		lastErr = s.RevokeSession(cctx, "u", "j2", exp)
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
	assert.NotEqual(t, s.userKeys("x")[0], s.userKeys("x")[1])
	assert.Equal(t, "p:n", s.sharedKey())
	assert.True(t, strings.HasPrefix(s.userKeys("x")[0], "p:s:{"))
	assert.True(t, strings.HasPrefix(s.userKeys("x")[1], "p:u:{"))
	assert.Len(t, s.userKeys(strings.Repeat("x", 10_000))[1], len("p:u:{}")+43)

	base := time.Unix(1_700_000_000, 0)
	assert.Equal(t, int64(1_700_000_000_000), ceilMilli(base))
	assert.Equal(t, int64(1_700_000_000_001), ceilMilli(base.Add(time.Nanosecond)))
}

// A one-node Redis Cluster rejects a script or pipeline whose keys span slots
// (CROSSSLOT), as a real cluster does: the suite passing on it shows every operation
// stays on one slot.
func TestClusterConformance(t *testing.T) {
	addr := redistest.Start(t, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf")
	ctx := context.Background()
	admin := newClient(t, addr)
	slots := make([]int, 16384)
	for i := range slots {
		slots[i] = i
	}
	require.NoError(t, admin.ClusterAddSlots(ctx, slots...).Err())
	require.Eventually(t, func() bool {
		info, err := admin.ClusterInfo(ctx).Result()
		return err == nil && strings.Contains(info, "cluster_state:ok")
	}, 10*time.Second, 20*time.Millisecond, "cluster did not come up")

	client := redis.NewClusterClient(&redis.ClusterOptions{
		Addrs:                 []string{addr},
		ContextTimeoutEnabled: true,
		DialTimeout:           time.Second,
	})
	t.Cleanup(func() { _ = client.Close() })
	runConformance(t, client)

	// The same script with keys on two slots is refused, so the check above is real.
	err := revokeSessionScript.Run(ctx, client, []string{"a:s:{x}", "a:u:{y}"}, "m", time.Now().Add(time.Hour).UnixMilli(), 1, 0).Err()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "CROSSSLOT")
}

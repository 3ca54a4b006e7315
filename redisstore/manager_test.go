package redisstore_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeauth/edgeauth"
	"github.com/edgeauth/edgeauth/internal/redistest"
	"github.com/edgeauth/edgeauth/internal/revoketest"
	"github.com/edgeauth/edgeauth/internal/sessiontest"
	"github.com/edgeauth/edgeauth/redisstore"
)

// The three revocation remedies, run through the Manager against
// Redis; the root package runs the same scenarios against the MemoryStore.
func TestRevocationRemedies(t *testing.T) {
	// The clock starts at the real time: Redis expires keys on its own clock.
	t.Run("redis", func(t *testing.T) {
		revoketest.Remedies(t, func(t *testing.T, _ *sessiontest.Clock) edgeauth.Store {
			client := redis.NewClient(&redis.Options{Addr: redistest.Start(t), ContextTimeoutEnabled: true})
			t.Cleanup(func() { _ = client.Close() })
			return redisstore.New(client, redisstore.Options{Prefix: "test:" + t.Name() + ":"})
		})
	})
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
	clk := sessiontest.NewClock(time.Now().Unix())
	// A generous timeout: a check that times out on a loaded machine would fail closed
	// and read as a lost revocation.
	m, _ := revoketest.NewManagerAt(t, clk, edgeauth.Config{Store: store, Callbacks: edgeauth.Callbacks{JWT: revoketest.RoleCallback}, RevocationTimeout: 10 * time.Second})
	v := revoketest.PrepareVictims(t, m)

	keysBefore, err := client.DBSize(ctx).Result()
	require.NoError(t, err)
	used := redisInfoInt(t, client, "memory", "used_memory")
	require.NoError(t, client.ConfigSet(ctx, "maxmemory-policy", "volatile-lru").Err())
	require.NoError(t, client.ConfigSet(ctx, "maxmemory", strconv.FormatInt(used+margin, 10)).Err())

	// 4000 revocations as one key each would take about twice the margin (see the control).
	cycles := revoketest.Flood(t, m, 4000, nil)

	assert.Zero(t, redisInfoInt(t, client, "stats", "evicted_keys"), "the flood must not evict anything")
	keysAfter, err := client.DBSize(ctx).Result()
	require.NoError(t, err)
	assert.LessOrEqual(t, keysAfter, keysBefore+2, "the flood holds one sorted set and one cutoff")
	t.Logf("used_memory grew by %d bytes", redisInfoInt(t, client, "memory", "used_memory")-used)

	revoketest.CheckVictims(t, m, v)
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

// Both stores have the same default quota.
func TestStoresShareDefaults(t *testing.T) {
	assert.Equal(t, edgeauth.DefaultMaxSessionsPerUser, redisstore.DefaultMaxSessionsPerUser)
	assert.Equal(t, redisstore.DefaultMaxSessionsWithoutUser, edgeauth.DefaultMemoryStoreMaxEntries/10)
}

// Both stores return the one invalid-revocation error value, and the one store-full value.
func TestStoreErrorsAreOneValue(t *testing.T) {
	err := edgeauth.NewMemoryStore(edgeauth.MemoryStoreConfig{}).RevokeSession(context.Background(), "u", "", time.Now().Add(time.Hour))
	require.ErrorIs(t, err, edgeauth.ErrInvalidRevocation)
	require.ErrorIs(t, err, redisstore.ErrInvalidRevocation)

	s := edgeauth.NewMemoryStore(edgeauth.MemoryStoreConfig{MaxSessionsWithoutUser: 1})
	exp := time.Now().Add(time.Hour)
	require.NoError(t, s.RevokeSession(context.Background(), "", "a", exp))
	err = s.RevokeSession(context.Background(), "", "b", exp)
	require.ErrorIs(t, err, edgeauth.ErrStoreFull)
	require.ErrorIs(t, err, redisstore.ErrStoreFull)
}

package redisstore

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeauth/edgeauth/internal/redistest"
)

// clusterClient connects to cluster as NewClientFromURL does, with a command counter.
func clusterClient(t *testing.T, cluster *redistest.Cluster) (*redis.ClusterClient, *commandCounter) {
	t.Helper()
	c, err := NewClientFromURL(cluster.URL())
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	client := c.(*redis.ClusterClient)
	counter := &commandCounter{}
	client.AddHook(counter)
	return client, counter
}

// clusterInstances starts a cluster of three masters and two stores with local caches on
// it, each with its own client, as two instances of a service would have.
func clusterInstances(t *testing.T) (*redistest.Cluster, []*Store, []*commandCounter) {
	t.Helper()
	cluster := redistest.StartCluster(t, 3)
	var stores []*Store
	var counters []*commandCounter
	for range 2 {
		client, counter := clusterClient(t, cluster)
		stores = append(stores, newCachedStore(t, client, Options{}))
		counters = append(counters, counter)
	}
	return cluster, stores, counters
}

// The suite on a real cluster of three masters, without and with the local cache.
func TestClusterOfThree(t *testing.T) {
	cluster := redistest.StartCluster(t, 3)
	client, _ := clusterClient(t, cluster)
	t.Run("conformance", func(t *testing.T) { runConformance(t, client) })
	t.Run("conformance with local cache", func(t *testing.T) { runCachedConformance(t, client) })
	t.Run("propagation", func(t *testing.T) {
		a := newCachedStore(t, client, Options{Prefix: "prop:"})
		other, counter := clusterClient(t, cluster)
		b := newCachedStore(t, other, Options{Prefix: "prop:"})
		b.tracking.mu.Lock()
		assert.Len(t, b.tracking.nodes, 3, "one tracking connection per master")
		b.tracking.mu.Unlock()
		runPropagation(t, a, b, counter)
	})
}

// ownerOf returns the index of the node that holds key.
func ownerOf(t *testing.T, cluster *redistest.Cluster, key string) int {
	t.Helper()
	for i, addr := range cluster.Addrs() {
		_, err := redistest.Do(addr, "EXISTS", key)
		if err == nil {
			return i
		}
		require.Contains(t, err.Error(), "MOVED")
	}
	t.Fatalf("no node holds %q", key)
	return -1
}

// userOn returns a user id whose keys node i holds.
func userOn(t *testing.T, cluster *redistest.Cluster, s *Store, i int) string {
	t.Helper()
	for n := range 1000 {
		user := fmt.Sprint("user-", n)
		if ownerOf(t, cluster, s.userKeys(user)[0]) == i {
			return user
		}
	}
	t.Fatalf("no user on node %d", i)
	return ""
}

// A master goes down under two instances with local caches: checks of the users it
// holds fail closed within the revocation timeout on both, the users the other masters
// hold are still checked (in Redis: no cache while a master is untracked), and when it
// comes back, bans and sign-outs reach both instances and warm checks are local again.
func TestClusterNodeOutage(t *testing.T) {
	const revocationTimeout = 500 * time.Millisecond
	ctx := context.Background()
	cluster, stores, counters := clusterInstances(t)
	a, b := stores[0], stores[1]

	victim := userOn(t, cluster, a, 1)
	survivor := userOn(t, cluster, a, 2)
	exp := time.Now().Add(time.Hour)
	require.NoError(t, a.RevokeSession(ctx, survivor, "signed-out", exp))
	for i, s := range stores {
		warm(t, s, counters[i], "sid", victim)
		revoked, _ := warm(t, s, counters[i], "signed-out", survivor)
		require.True(t, revoked)
	}

	cluster.Nodes[1].Stop(t)
	check := func(s *Store, sid, user string) (bool, time.Time, error) {
		cctx, cancel := context.WithTimeout(ctx, revocationTimeout)
		defer cancel()
		return s.Check(cctx, sid, user)
	}
	for _, s := range stores {
		require.Eventually(t, func() bool {
			_, _, err := check(s, "sid", victim)
			return err != nil
		}, propagationDeadline, 10*time.Millisecond, "a check of a user on the stopped master kept succeeding")
		// Bounded: the revocation timeout ends every attempt (generous slack for a loaded
		// machine; an unbounded wait would be go-redis's retries and socket timeouts).
		for range 3 {
			start := time.Now()
			revoked, cutoff, err := check(s, "sid", victim)
			require.Error(t, err)
			assert.False(t, revoked)
			assert.True(t, cutoff.IsZero())
			assert.Less(t, time.Since(start), 10*revocationTimeout)
		}
	}
	for i, s := range stores {
		before := counters[i].Total()
		revoked, _, err := check(s, "signed-out", survivor)
		require.NoError(t, err)
		assert.True(t, revoked)
		assert.Greater(t, counters[i].Total(), before, "no cache hit while a master is untracked")
	}
	// Revocations of the survivor still go through, and reach the other instance at once.
	require.NoError(t, a.RevokeUser(ctx, survivor, time.Now(), exp))
	_, cutoff, err := check(b, "any", survivor)
	require.NoError(t, err)
	assert.False(t, cutoff.IsZero())
	cctx, cancel := context.WithTimeout(ctx, revocationTimeout)
	err = a.RevokeUser(cctx, victim, time.Now(), exp)
	cancel()
	require.Error(t, err, "the victim's master is down")

	cluster.Nodes[1].Restart(t)
	cluster.WaitOK(t)
	for _, s := range stores {
		waitTracking(t, s)
	}
	// The restarted master has lost its data (no persistence): ban the victim again.
	require.NoError(t, a.RevokeUser(ctx, victim, time.Now(), exp))
	require.NoError(t, b.RevokeSession(ctx, survivor, "later", exp))
	for i, s := range stores {
		require.Eventually(t, func() bool {
			_, cutoff, err := s.Check(ctx, "sid", victim)
			return err == nil && !cutoff.IsZero()
		}, propagationDeadline, time.Millisecond)
		eventuallyRevoked(t, s, "later", survivor)
		_, cutoff := warm(t, s, counters[i], "sid", victim)
		assert.False(t, cutoff.IsZero())
		revoked, _ := warm(t, s, counters[i], "signed-out", survivor)
		assert.True(t, revoked)
	}
}

// A master that owns no slot yet takes the writes to a slot it imports (ASK redirects)
// before it owns any: it is tracked too, so that a revocation written there reaches the
// other instances' caches.
func TestClusterSlotMigration(t *testing.T) {
	ctx := context.Background()
	cluster, stores, counters := clusterInstances(t)
	a, b, counterB := stores[0], stores[1], counters[1]
	const victim = "victim"
	key := a.userKeys(victim)[1] // the key RevokeUser writes
	source := cluster.Nodes[ownerOf(t, cluster, key)].Addr()

	target := cluster.AddNode(t).Addr()
	require.Eventually(t, func() bool {
		b.tracking.mu.Lock()
		n := len(b.tracking.nodes)
		b.tracking.mu.Unlock()
		return n == 4 && tracked(b)
	}, propagationDeadline, 10*time.Millisecond, "the new master is not tracked")
	_, cutoff := warm(t, b, counterB, "sid", victim)
	require.True(t, cutoff.IsZero())

	do := func(addr string, args ...string) string {
		t.Helper()
		out, err := redistest.Do(addr, args...)
		require.NoError(t, err, args)
		return out
	}
	slot := do(source, "CLUSTER", "KEYSLOT", key)
	sourceID, targetID := do(source, "CLUSTER", "MYID"), do(target, "CLUSTER", "MYID")
	do(target, "CLUSTER", "SETSLOT", slot, "IMPORTING", sourceID)
	do(source, "CLUSTER", "SETSLOT", slot, "MIGRATING", targetID)
	// The key is not on the source: the source redirects the write to the target.
	require.NoError(t, a.RevokeUser(ctx, victim, time.Now(), time.Now().Add(time.Hour)))
	require.Equal(t, "1", do(target, "CLUSTER", "COUNTKEYSINSLOT", slot), "the ban was written on the importing master")
	// Mid-migration a check of the victim may fail (a two-key script on a slot in
	// migration gets TRYAGAIN), but it must not keep answering from the cache.
	require.Eventually(t, func() bool {
		cctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel()
		_, cutoff, err := b.Check(cctx, "sid", victim)
		return err != nil || !cutoff.IsZero()
	}, propagationDeadline, time.Millisecond, "the ban on the importing master did not reach the cache")

	for _, n := range cluster.Nodes {
		do(n.Addr(), "CLUSTER", "SETSLOT", slot, "NODE", targetID)
	}
	cluster.WaitOK(t)
	require.Eventually(t, func() bool {
		_, cutoff, err := b.Check(ctx, "sid", victim)
		return err == nil && !cutoff.IsZero()
	}, propagationDeadline, 10*time.Millisecond)
	_, cutoff = warm(t, b, counterB, "sid", victim)
	assert.False(t, cutoff.IsZero())
}

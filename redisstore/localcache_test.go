package redisstore

import (
	"fmt"
	"runtime"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// liveCache returns a cache whose tracking is established and alive for an hour.
func liveCache(entries int, ttl time.Duration) *localCache {
	c := newLocalCache(entries, ttl)
	c.setLive(true)
	c.extend(int64(time.Hour))
	return c
}

// fill runs a whole fetch of key in group, as Check does, and reports whether it was kept.
func fill(c *localCache, group string, key checkKey, r checkResult, now time.Time) bool {
	f, ok := c.begin(group)
	if !ok {
		return false
	}
	c.finish(f, key, r, true, now)
	_, kept := c.get(key, now)
	return kept
}

func TestLocalCacheKeepsFetches(t *testing.T) {
	now := time.Now()
	c := liveCache(10, time.Minute)
	key := checkKey{"user", "sid"}
	want := checkResult{memberExpiry: 5, hasCutoff: true, cutoff: 7, cutoffExpiry: 9}
	require.True(t, fill(c, "g", key, want, now))
	got, ok := c.get(key, now)
	require.True(t, ok)
	assert.Equal(t, want, got)

	// A failed fetch keeps nothing.
	other := checkKey{"user", "other"}
	f, ok := c.begin("g")
	require.True(t, ok)
	c.finish(f, other, checkResult{}, false, now)
	_, ok = c.get(other, now)
	assert.False(t, ok)
}

// A result read while its keys may have changed unseen is dropped: the fetch raced an
// invalidation of its group, a flush, or a loss of tracking.
func TestLocalCacheDropsRacedFetches(t *testing.T) {
	now := time.Now()
	key := checkKey{"user", "sid"}
	for name, race := range map[string]func(c *localCache){
		"invalidated":    func(c *localCache) { c.invalidate("g") },
		"flushed":        func(c *localCache) { c.flush() },
		"tracking lost":  func(c *localCache) { c.setLive(false) },
		"tracking again": func(c *localCache) { c.setLive(false); c.setLive(true); c.extend(int64(time.Hour)) },
	} {
		t.Run(name, func(t *testing.T) {
			c := liveCache(10, time.Minute)
			f, ok := c.begin("g")
			require.True(t, ok)
			race(c)
			c.finish(f, key, checkResult{}, true, now)
			_, ok = c.get(key, now)
			assert.False(t, ok, "a raced result must not be kept")
			assert.Equal(t, 0, c.len())
			// The next fetch, begun after the race, is kept again (when tracking is up).
			if c.live {
				assert.True(t, fill(c, "g", key, checkResult{}, now))
			}
		})
	}

	t.Run("another group", func(t *testing.T) {
		c := liveCache(10, time.Minute)
		f, ok := c.begin("g")
		require.True(t, ok)
		c.invalidate("h")
		c.finish(f, key, checkResult{}, true, now)
		_, ok = c.get(key, now)
		assert.True(t, ok, "an invalidation of another user's keys does not matter")
	})

	t.Run("two fetches, one raced", func(t *testing.T) {
		c := liveCache(10, time.Minute)
		early, _ := c.begin("g")
		c.invalidate("g")
		late, _ := c.begin("g")
		c.finish(late, checkKey{"user", "late"}, checkResult{}, true, now)
		c.finish(early, key, checkResult{}, true, now)
		_, ok := c.get(key, now)
		assert.False(t, ok)
		_, ok = c.get(checkKey{"user", "late"}, now)
		assert.True(t, ok)
	})

	t.Run("tracking down", func(t *testing.T) {
		c := newLocalCache(10, time.Minute)
		_, ok := c.begin("g")
		assert.False(t, ok, "nothing is fetched for keeping while tracking is down")
		assert.Empty(t, c.groups)
	})
}

func TestLocalCacheInvalidation(t *testing.T) {
	now := time.Now()
	c := liveCache(100, time.Minute)
	for i := range 3 {
		require.True(t, fill(c, "g", checkKey{"user", fmt.Sprint(i)}, checkResult{}, now))
		require.True(t, fill(c, "h", checkKey{"other", fmt.Sprint(i)}, checkResult{}, now))
	}
	c.invalidate("g")
	assert.Equal(t, 3, c.len())
	for i := range 3 {
		_, ok := c.get(checkKey{"user", fmt.Sprint(i)}, now)
		assert.False(t, ok)
		_, ok = c.get(checkKey{"other", fmt.Sprint(i)}, now)
		assert.True(t, ok)
	}
	c.invalidate("nothing cached")
	c.flush()
	assert.Equal(t, 0, c.len())
	assert.Empty(t, c.groups, "no group outlives its entries")
	assert.Nil(t, c.oldest)
	assert.Nil(t, c.newest)
}

// Hits stop when tracking has not been heard from in time, whether or not anything
// noticed the connection is gone.
func TestLocalCacheValidUntil(t *testing.T) {
	now := time.Now()
	c := liveCache(10, time.Minute)
	key := checkKey{"user", "sid"}
	require.True(t, fill(c, "g", key, checkResult{}, now))
	c.extend(c.since(now) + int64(time.Second))
	_, ok := c.get(key, now.Add(999*time.Millisecond))
	assert.True(t, ok)
	_, ok = c.get(key, now.Add(time.Second))
	assert.False(t, ok)

	c.setLive(false)
	c.extend(int64(time.Hour))
	assert.Zero(t, c.validUntil.Load(), "only live tracking extends")
}

func TestLocalCacheBounds(t *testing.T) {
	now := time.Now()
	c := liveCache(3, time.Minute)
	for i := range 10 {
		require.True(t, fill(c, fmt.Sprint("g", i), checkKey{fmt.Sprint("u", i), "s"}, checkResult{}, now))
		assert.LessOrEqual(t, c.len(), 3)
	}
	// The oldest went first.
	for i := range 10 {
		_, ok := c.get(checkKey{fmt.Sprint("u", i), "s"}, now)
		assert.Equal(t, i >= 7, ok, "entry %d", i)
	}
	assert.Len(t, c.groups, 3, "evicted entries take their groups with them")

	// Entries expire after the TTL, and a sweep reclaims them without a lookup.
	c = liveCache(100, time.Minute)
	for i := range 50 {
		require.True(t, fill(c, "g", checkKey{"u", fmt.Sprint(i)}, checkResult{}, now))
	}
	later := now.Add(30 * time.Second)
	require.True(t, fill(c, "h", checkKey{"v", "s"}, checkResult{}, later))
	_, ok := c.get(checkKey{"u", "0"}, now.Add(time.Minute))
	assert.False(t, ok, "expired")
	c.sweep(now.Add(time.Minute))
	assert.Equal(t, 1, c.len())
	_, ok = c.get(checkKey{"v", "s"}, now.Add(time.Minute))
	assert.True(t, ok)
	assert.Len(t, c.groups, 1)
}

// An entry holds its own copy of the ids, never the caller's (request) memory.
func TestLocalCacheClonesKeys(t *testing.T) {
	now := time.Now()
	c := liveCache(10, time.Minute)
	header := "user-id;session-id"
	user, sid := header[:7], header[8:]
	require.True(t, fill(c, "g", checkKey{user, sid}, checkResult{}, now))
	require.Len(t, c.entries, 1)
	for k := range c.entries {
		assert.Equal(t, checkKey{"user-id", "session-id"}, k)
		assert.NotSame(t, unsafe.StringData(user), unsafe.StringData(k.userID))
		assert.NotSame(t, unsafe.StringData(sid), unsafe.StringData(k.sessionID))
	}
}

func TestCheckResultAt(t *testing.T) {
	const now = 1_700_000_000_000
	for _, tc := range []struct {
		name    string
		r       checkResult
		revoked bool
		cutoff  int64 // 0: none
	}{
		{"nothing", checkResult{}, false, 0},
		{"denylisted", checkResult{memberExpiry: now + 1}, true, 0},
		{"denylist entry expired", checkResult{memberExpiry: now}, false, 0},
		{"cutoff", checkResult{hasCutoff: true, cutoff: 42, cutoffExpiry: now + 1}, false, 42},
		{"cutoff without expiry", checkResult{hasCutoff: true, cutoff: 42}, false, 42},
		{"cutoff at the epoch", checkResult{hasCutoff: true}, false, -1},
		{"cutoff expired", checkResult{hasCutoff: true, cutoff: 42, cutoffExpiry: now}, false, 0},
		{"both", checkResult{memberExpiry: now + 1, hasCutoff: true, cutoff: 42}, true, 42},
	} {
		revoked, cutoff := tc.r.at(now)
		assert.Equal(t, tc.revoked, revoked, tc.name)
		switch tc.cutoff {
		case 0:
			assert.True(t, cutoff.IsZero(), tc.name)
		case -1:
			assert.Equal(t, time.Unix(0, 0), cutoff, tc.name)
		default:
			assert.Equal(t, time.Unix(tc.cutoff, 0), cutoff, tc.name)
		}
	}
}

func TestGroupOfKey(t *testing.T) {
	s := New(nil, Options{Prefix: "p:"})
	tr := &tracking{prefix: s.prefix}
	for _, user := range []string{"u", "{x}", ""} {
		for _, key := range append(s.userKeys(user), s.sharedKey()) {
			if user == "" && key != s.sharedKey() {
				continue
			}
			group, ok := tr.groupOf(key)
			require.True(t, ok, key)
			if key == s.sharedKey() {
				assert.Equal(t, sharedGroup, group)
			} else {
				assert.Equal(t, groupOf(user), group, key)
			}
		}
	}
	for _, key := range []string{"q:n", "p:", "p:x", "p:s:{}", "p:s:{abc", "p:x:{abc}", "n"} {
		_, ok := tr.groupOf(key)
		assert.False(t, ok, key)
	}
}

// A full cache at the default size, with UUID-sized ids and one user per entry (the
// most memory an entry takes short of longer ids), stays under 25 MB.
func TestLocalCacheMemory(t *testing.T) {
	const entries = DefaultLocalCacheEntries
	now := time.Now()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	c := liveCache(entries, time.Minute)
	for i := range entries + 1000 {
		user := fmt.Sprintf("user-%031d", i)
		fill(c, groupOf(user), checkKey{user, fmt.Sprintf("%036d", i)}, checkResult{}, now)
	}
	require.Equal(t, entries, c.len())
	runtime.GC()
	runtime.ReadMemStats(&after)
	perEntry := (int64(after.HeapAlloc) - int64(before.HeapAlloc)) / int64(c.len())
	t.Logf("%d entries, one per user: %d bytes per entry", c.len(), perEntry)
	assert.Less(t, perEntry*entries, int64(25_000_000))
	runtime.KeepAlive(c)
}

func TestClusterMasters(t *testing.T) {
	const nodes = `07c37dfeb235213a872192d90877d0cd55635b91 127.0.0.1:30004@31004,hostname4 slave e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 0 1426238317239 4 connected
67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1 127.0.0.1:30002@31002,hostname2 master - 0 1426238316232 2 connected 5461-10922
292f8b365bb7edb5e285caf0b7e6ddc7265d2f4f 127.0.0.1:30003@31003 master,fail? - 0 1426238318243 3 connected 10923-16383
e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 127.0.0.1:30001@31001,hostname1 myself,master - 0 0 1 connected 0-5460
aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa 127.0.0.1:30007@31007 master - 0 0 7 connected
bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb 127.0.0.1:30008@31008 master,fail - 0 0 8 disconnected 100-200
cccccccccccccccccccccccccccccccccccccccc :0@0 master,noaddr - 0 0 9 disconnected
dddddddddddddddddddddddddddddddddddddddd 127.0.0.1:30010@31010 master,handshake - 0 0 0 connected
eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee [::1]:30011@31011 master - 0 0 11 connected [5461->-67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1]
garbage
`
	assert.Equal(t, []string{
		"127.0.0.1:30001", // myself
		"127.0.0.1:30002",
		"127.0.0.1:30003", // suspected, not yet failed: still a master
		"127.0.0.1:30007", // no slots yet: it may be importing one
		"[::1]:30011",
	}, clusterMasters(nodes))
	assert.Empty(t, clusterMasters(""))
}

package edgeauth

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeauth/edgeauth/internal/storetest"
)

var storeTestStart = time.Date(2025, 6, 1, 12, 0, 0, 250_000_000, time.UTC)

func TestMemoryStoreConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, lim storetest.Limits) (storetest.Store, storetest.Clock) {
		clk := storetest.NewFakeClock(storeTestStart)
		s := NewMemoryStore(MemoryStoreConfig{
			Now:                    clk.Now,
			MaxSessionsPerUser:     lim.MaxSessionsPerUser,
			MaxSessionsWithoutUser: lim.MaxSessionsWithoutUser,
		})
		t.Cleanup(func() { checkInvariants(t, s) })
		return s, clk
	})
}

// rejected is what the Manager concludes from Check for a session signed in at signedIn.
func rejected(t *testing.T, s Store, user, sessionID string, signedIn time.Time) bool {
	t.Helper()
	revoked, cutoff, err := s.Check(context.Background(), sessionID, user)
	require.NoError(t, err)
	return revoked || (user != "" && revokedByCutoff(signedIn, cutoff))
}

func TestMemoryStoreFullPolicy(t *testing.T) {
	ctx := context.Background()
	clk := storetest.NewFakeClock(storeTestStart)
	s := NewMemoryStore(MemoryStoreConfig{MaxEntries: 6, MaxSessionsPerUser: 10, MaxSessionsWithoutUser: 2, Now: clk.Now})
	defer checkInvariants(t, s)
	now := clk.Now()
	hour := now.Add(time.Hour)

	require.NoError(t, s.RevokeSession(ctx, "alice", "a1", hour))
	require.NoError(t, s.RevokeUser(ctx, "carol", now, hour))
	require.NoError(t, s.RevokeSession(ctx, "", "anon-1", hour))
	for i := range 3 {
		require.NoError(t, s.RevokeSession(ctx, "mallory", fmt.Sprint("m", i), now.Add(time.Duration(i+1)*time.Hour)))
	}
	require.Equal(t, 6, s.size())

	// Full: a new user's revocation collapses the user with the most entries.
	require.NoError(t, s.RevokeSession(ctx, "dave", "d1", hour))
	assert.Equal(t, 5, s.size(), "mallory's three sessions became one cutoff")
	for i := range 3 {
		assert.True(t, rejected(t, s, "mallory", fmt.Sprint("m", i), now), "m%d", i)
	}
	assert.True(t, rejected(t, s, "alice", "a1", now))
	assert.True(t, rejected(t, s, "dave", "d1", now))
	_, cutoff, err := s.Check(ctx, "", "carol")
	require.NoError(t, err)
	assert.True(t, cutoff.Equal(time.Unix(now.Unix()+1, 0)), "carol's ban stands: %v", cutoff)
	// The cutoff lasts as long as mallory's longest entry.
	s.mu.RLock()
	assert.Equal(t, now.Add(3*time.Hour), s.users[userKey("mallory")].cutoffUntil)
	s.mu.RUnlock()

	require.NoError(t, s.RevokeSession(ctx, "erin", "e1", hour))
	require.Equal(t, 6, s.size())

	// Every user holds one entry: nobody can free space, so a new user's revocation
	// fails and nothing is forgotten.
	assert.ErrorIs(t, s.RevokeSession(ctx, "frank", "f1", hour), ErrStoreFull)
	assert.ErrorIs(t, s.RevokeUser(ctx, "frank", now, hour), ErrStoreFull)
	assert.ErrorIs(t, s.RevokeSession(ctx, "", "anon-2", hour), ErrStoreFull, "the pool has room, the store has not")
	assert.Equal(t, 6, s.size())

	// A user who already has an entry still revokes: folded into its cutoff, no growth.
	require.NoError(t, s.RevokeSession(ctx, "alice", "a2", hour))
	require.NoError(t, s.RevokeUser(ctx, "erin", now, hour))
	assert.Equal(t, 6, s.size())
	for _, c := range []struct{ user, sid string }{{"alice", "a1"}, {"alice", "a2"}, {"erin", "e1"}, {"dave", "d1"}, {"", "anon-1"}} {
		assert.True(t, rejected(t, s, c.user, c.sid, now), "%s/%s", c.user, c.sid)
	}

	// Updating existing entries needs no room.
	require.NoError(t, s.RevokeSession(ctx, "dave", "d1", hour.Add(time.Hour)))
	require.NoError(t, s.RevokeSession(ctx, "", "anon-1", hour.Add(time.Hour)))
	require.NoError(t, s.RevokeUser(ctx, "carol", now.Add(time.Second), hour.Add(time.Hour)))

	// Once entries expire, the cap sweeps them to make room.
	clk.Advance(time.Hour)
	require.NoError(t, s.RevokeSession(ctx, "frank", "f1", clk.Now().Add(time.Hour)))
	require.NoError(t, s.RevokeSession(ctx, "", "anon-2", clk.Now().Add(time.Hour)))
	for _, c := range []struct{ user, sid string }{{"dave", "d1"}, {"frank", "f1"}, {"", "anon-1"}, {"", "anon-2"}} {
		assert.True(t, rejected(t, s, c.user, c.sid, now), "%s/%s", c.user, c.sid)
	}
	_, cutoff, err = s.Check(ctx, "", "carol")
	require.NoError(t, err)
	assert.True(t, cutoff.Equal(time.Unix(now.Unix()+2, 0)), "carol's raised ban: %v", cutoff)
}

// The requester that holds the most entries pays for its own revocation.
func TestMemoryStoreFloodingRequesterPays(t *testing.T) {
	ctx := context.Background()
	clk := storetest.NewFakeClock(storeTestStart)
	s := NewMemoryStore(MemoryStoreConfig{MaxEntries: 4, MaxSessionsPerUser: 10, Now: clk.Now})
	defer checkInvariants(t, s)
	now := clk.Now()
	require.NoError(t, s.RevokeSession(ctx, "alice", "a1", now.Add(time.Hour)))
	for i := range 3 {
		require.NoError(t, s.RevokeSession(ctx, "bob", fmt.Sprint("b", i), now.Add(time.Hour)))
	}
	require.NoError(t, s.RevokeSession(ctx, "bob", "b3", now.Add(2*time.Hour)))
	assert.Equal(t, 2, s.size())
	for i := range 4 {
		assert.True(t, rejected(t, s, "bob", fmt.Sprint("b", i), now))
	}
	revoked, cutoff, err := s.Check(ctx, "a1", "alice")
	require.NoError(t, err)
	assert.True(t, revoked)
	assert.True(t, cutoff.IsZero(), "alice keeps her denylist and no cutoff")
}

// One account signing out without end holds at most its quota plus a cutoff.
func TestMemoryStoreOneUserFlood(t *testing.T) {
	ctx := context.Background()
	clk := storetest.NewFakeClock(storeTestStart)
	const quota, flood = 50, 20_000
	s := NewMemoryStore(MemoryStoreConfig{MaxSessionsPerUser: quota, Now: clk.Now})
	defer checkInvariants(t, s)
	require.NoError(t, s.RevokeSession(ctx, "alice", "stolen", clk.Now().Add(time.Hour)))
	for i := range flood {
		if i%1000 == 0 {
			clk.Advance(time.Second)
		}
		require.NoError(t, s.RevokeSession(ctx, "mallory", fmt.Sprint(i), clk.Now().Add(time.Hour)))
		require.LessOrEqual(t, s.size(), 1+quota+1)
	}
	assert.True(t, rejected(t, s, "alice", "stolen", storeTestStart))
	assert.True(t, rejected(t, s, "mallory", "0", storeTestStart))
}

func TestMemoryStoreWithoutUserPoolDefault(t *testing.T) {
	assert.Equal(t, DefaultMemoryStoreMaxEntries/10, NewMemoryStore(MemoryStoreConfig{}).maxWithoutUser)
	assert.Equal(t, 1, NewMemoryStore(MemoryStoreConfig{MaxEntries: 5}).maxWithoutUser)
	assert.Equal(t, 20, NewMemoryStore(MemoryStoreConfig{MaxEntries: 200}).maxWithoutUser)
}

func TestMemoryStorePeriodicSweep(t *testing.T) {
	ctx := context.Background()
	clk := storetest.NewFakeClock(storeTestStart)
	s := NewMemoryStore(MemoryStoreConfig{Now: clk.Now})
	defer checkInvariants(t, s)
	for i := range 100 {
		require.NoError(t, s.RevokeSession(ctx, fmt.Sprint("u", i%7), fmt.Sprintf("j%d", i), clk.Now().Add(time.Second)))
		require.NoError(t, s.RevokeSession(ctx, "", fmt.Sprintf("j%d", i), clk.Now().Add(time.Second)))
	}
	require.Equal(t, 200, s.size())

	// Far below the cap, an insert after the sweep interval still drops expired entries.
	clk.Advance(memorySweepEvery)
	require.NoError(t, s.RevokeSession(ctx, "u0", "fresh", clk.Now().Add(time.Hour)))
	assert.Equal(t, 1, s.size())
}

func TestMemoryStoreDefaults(t *testing.T) {
	s := NewMemoryStore(MemoryStoreConfig{})
	assert.Equal(t, DefaultMemoryStoreMaxEntries, s.maxEntries)
	assert.Equal(t, DefaultMaxSessionsPerUser, s.maxPerUser)
	require.NotNil(t, s.now)

	// The real clock works end to end.
	ctx := context.Background()
	require.NoError(t, s.RevokeSession(ctx, "u", "j", time.Now().Add(time.Hour)))
	revoked, _, err := s.Check(ctx, "j", "u")
	require.NoError(t, err)
	assert.True(t, revoked)

	assert.ErrorIs(t, s.RevokeSession(ctx, "u", "", time.Now().Add(time.Hour)), ErrInvalidRevocation)
	assert.ErrorIs(t, s.RevokeUser(ctx, "", time.Now(), time.Now().Add(time.Hour)), ErrInvalidRevocation)
}

// Random operations, clock jumps and a tiny cap keep the accounting exact and never
// lose a revocation.
func TestMemoryStoreAccounting(t *testing.T) {
	ctx := context.Background()
	clk := storetest.NewFakeClock(storeTestStart)
	s := NewMemoryStore(MemoryStoreConfig{MaxEntries: 40, MaxSessionsPerUser: 6, MaxSessionsWithoutUser: 5, Now: clk.Now})
	rng := rand.New(rand.NewPCG(3, 4))
	type revoked struct {
		user, sid string
		signedIn  time.Time
		until     time.Time
	}
	var live []revoked
	var full int
	for op := range 5000 {
		if op%200 == 199 {
			clk.Advance(time.Duration(rng.IntN(90)) * time.Minute)
		}
		now := clk.Now()
		user := ""
		if rng.IntN(8) > 0 {
			user = fmt.Sprint("u", rng.IntN(30))
		}
		until := now.Add(time.Duration(1+rng.IntN(180)) * time.Minute)
		var err error
		if rng.IntN(10) == 0 && user != "" {
			err = s.RevokeUser(ctx, user, now, until)
		} else {
			sid := fmt.Sprint("s", rng.IntN(400))
			err = s.RevokeSession(ctx, user, sid, until)
			if err == nil {
				live = append(live, revoked{user, sid, now, until})
			}
		}
		if err != nil {
			require.ErrorIs(t, err, ErrStoreFull)
			full++
		}
		checkInvariants(t, s)
		require.LessOrEqual(t, s.size(), 40)
		if op%50 != 0 {
			continue
		}
		kept := live[:0]
		for _, r := range live {
			if now.Before(r.until) {
				require.True(t, rejected(t, s, r.user, r.sid, r.signedIn), "op %d: lost %+v", op, r)
				kept = append(kept, r)
			}
		}
		live = kept
	}
	assert.Positive(t, full, "the run must hit the cap")
}

// checkInvariants recounts the store: the entry count, the heap order and its indexes,
// and no empty users. It runs after every operation of some tests, hence plain ifs.
func checkInvariants(t *testing.T, s *MemoryStore) {
	t.Helper()
	s.mu.RLock()
	defer s.mu.RUnlock()
	if len(s.byEntries) != len(s.users) {
		t.Fatalf("heap holds %d users, map %d", len(s.byEntries), len(s.users))
	}
	n := len(s.withoutUser)
	for _, u := range s.users {
		if u.entryCount() == 0 {
			t.Fatal("empty user kept")
		}
		if s.byEntries[u.heapIndex] != u {
			t.Fatalf("stale heap index %d", u.heapIndex)
		}
		n += u.entryCount()
	}
	if n != s.entries {
		t.Fatalf("entry count %d, recounted %d", s.entries, n)
	}
	if len(s.withoutUser) > s.maxWithoutUser {
		t.Fatalf("pool holds %d > %d", len(s.withoutUser), s.maxWithoutUser)
	}
	for i := 1; i < len(s.byEntries); i++ {
		if s.byEntries.Less(i, (i-1)/2) {
			t.Fatalf("heap order broken at %d", i)
		}
	}
}

// A full store at the defaults stays under 20 MB in the worst case, every entry a
// different user's (the README's figure).
func TestMemoryStoreEntrySize(t *testing.T) {
	const entries = DefaultMemoryStoreMaxEntries
	ctx := context.Background()
	exp := time.Now().Add(time.Hour)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	s := NewMemoryStore(MemoryStoreConfig{MaxEntries: entries})
	for i := range entries {
		require.NoError(t, s.RevokeSession(ctx, fmt.Sprint("user-", i), "a-uuid-sized-session-id-0123456789ab", exp))
	}
	require.ErrorIs(t, s.RevokeSession(ctx, "one-more", "sid", exp), ErrStoreFull)
	runtime.GC()
	runtime.ReadMemStats(&after)
	perEntry := (int64(after.HeapAlloc) - int64(before.HeapAlloc)) / int64(s.size())
	t.Logf("%d entries, one per user: %d bytes per entry", s.size(), perEntry)
	assert.Less(t, perEntry*entries, int64(20_000_000))
	runtime.KeepAlive(s)
}

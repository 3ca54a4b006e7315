// Package storetest is a conformance suite for revocation stores (edgeauth.Store).
// It declares its own Store interface with the same method set so that both the root
// package's tests and store packages can use it without import cycles.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeauth/edgeauth/internal/revocation"
)

// Store has the method set of edgeauth.Store.
type Store interface {
	RevokeSession(ctx context.Context, userID, sessionID string, exp time.Time) error
	RevokeUser(ctx context.Context, userID string, before, keepUntil time.Time) error
	Check(ctx context.Context, sessionID, userID string) (revoked bool, cutoff time.Time, err error)
}

// Limits are the store's bounds for one subtest; zero means the store's default.
type Limits struct {
	MaxSessionsPerUser     int
	MaxSessionsWithoutUser int
}

// Clock is the time the store under test sees.
type Clock interface {
	Now() time.Time
	// Advance lets at least d pass for the store: a fake clock jumps, a real one sleeps.
	Advance(d time.Duration)
}

// FakeClock is a manually advanced Clock, safe for concurrent use.
type FakeClock struct {
	mu  sync.Mutex
	now time.Time
}

// NewFakeClock returns a FakeClock set to start.
func NewFakeClock(start time.Time) *FakeClock { return &FakeClock{now: start} }

// Now returns the current fake time.
func (c *FakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the fake time forward by d.
func (c *FakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// RealClock is the wall clock, for stores with their own notion of time (Redis TTLs).
type RealClock struct{}

// Now returns time.Now().
func (RealClock) Now() time.Time { return time.Now() }

// Advance sleeps for d.
func (RealClock) Advance(d time.Duration) { time.Sleep(d) }

// expiryStep is how far the suite moves time to expire entries. It is short because real
// stores actually wait for it.
const expiryStep = 400 * time.Millisecond

// expiryPoll bounds how long the suite waits for a real store to drop an expired entry
// (Redis expires lazily on access, so one read after the deadline normally suffices).
const expiryPoll = 3 * time.Second

// Run runs the conformance suite. newStore is called once per subtest and must return an
// empty store (or one whose keys cannot overlap with other calls) honouring lim, and the
// clock it uses.
func Run(t *testing.T, newStore func(t *testing.T, lim Limits) (Store, Clock)) {
	defaults := func(t *testing.T) (Store, Clock) { return newStore(t, Limits{}) }

	t.Run("SessionDenylist", func(t *testing.T) {
		s, clk := defaults(t)
		ctx := context.Background()
		revoked, cutoff, err := s.Check(ctx, "sid-1", "user-1")
		require.NoError(t, err)
		assert.False(t, revoked)
		assert.True(t, cutoff.IsZero())

		require.NoError(t, s.RevokeSession(ctx, "user-1", "sid-1", clk.Now().Add(time.Hour)))
		revoked, cutoff, err = s.Check(ctx, "sid-1", "user-1")
		require.NoError(t, err)
		assert.True(t, revoked)
		assert.True(t, cutoff.IsZero(), "a session revocation must not create a user cutoff")

		// Revoking again with an earlier exp neither fails nor shortens the entry (checked in Expiry).
		require.NoError(t, s.RevokeSession(ctx, "user-1", "sid-1", clk.Now().Add(time.Minute)))
		revoked, _, err = s.Check(ctx, "sid-1", "user-1")
		require.NoError(t, err)
		assert.True(t, revoked)

		revoked, _, err = s.Check(ctx, "sid-2", "user-1")
		require.NoError(t, err)
		assert.False(t, revoked, "other session must not be revoked")
		// A session is looked up under its user: the same id under another user, or
		// without a user, is another session.
		for _, user := range []string{"user-2", ""} {
			revoked, _, err = s.Check(ctx, "sid-1", user)
			require.NoError(t, err)
			assert.False(t, revoked, "user %q", user)
		}
	})

	t.Run("SessionWithoutUser", func(t *testing.T) {
		s, clk := defaults(t)
		ctx := context.Background()
		require.NoError(t, s.RevokeSession(ctx, "", "sid", clk.Now().Add(time.Hour)))
		revoked, cutoff, err := s.Check(ctx, "sid", "")
		require.NoError(t, err)
		assert.True(t, revoked)
		assert.True(t, cutoff.IsZero())
		revoked, _, err = s.Check(ctx, "sid", "user")
		require.NoError(t, err)
		assert.False(t, revoked)
	})

	t.Run("SessionExpInPast", func(t *testing.T) {
		s, clk := defaults(t)
		ctx := context.Background()
		for _, user := range []string{"user", ""} {
			require.NoError(t, s.RevokeSession(ctx, user, "old", clk.Now().Add(-time.Hour)))
			revoked, _, err := s.Check(ctx, "old", user)
			require.NoError(t, err)
			assert.False(t, revoked, "an already expired session needs no entry")
		}
	})

	t.Run("UserCutoff", func(t *testing.T) {
		s, clk := defaults(t)
		ctx := context.Background()
		base := clk.Now().Truncate(time.Second)
		keep := clk.Now().Add(time.Hour)

		// A fractional ban time rounds up to the next whole second.
		require.NoError(t, s.RevokeUser(ctx, "alice", base.Add(700*time.Millisecond), keep))
		revoked, cutoff, err := s.Check(ctx, "sid-a", "alice")
		require.NoError(t, err)
		assert.False(t, revoked, "a user cutoff must not denylist the session")
		assert.True(t, cutoff.Equal(base.Add(time.Second)), "cutoff %v, want %v", cutoff, base.Add(time.Second))

		// A whole-second ban time is kept as is.
		require.NoError(t, s.RevokeUser(ctx, "bob", base.Add(-10*time.Second), keep))
		_, cutoff, err = s.Check(ctx, "", "bob")
		require.NoError(t, err)
		assert.True(t, cutoff.Equal(base.Add(-10*time.Second)), "cutoff %v", cutoff)

		_, cutoff, err = s.Check(ctx, "", "carol")
		require.NoError(t, err)
		assert.True(t, cutoff.IsZero(), "other user must have no cutoff")
	})

	t.Run("UserCutoffMonotonic", func(t *testing.T) {
		s, clk := defaults(t)
		ctx := context.Background()
		base := clk.Now().Truncate(time.Second)
		keep := clk.Now().Add(time.Hour)

		require.NoError(t, s.RevokeUser(ctx, "u", base, keep))
		require.True(t, cutoffOf(t, s, "u").Equal(base))

		require.NoError(t, s.RevokeUser(ctx, "u", base.Add(-time.Minute), keep))
		assert.True(t, cutoffOf(t, s, "u").Equal(base), "an earlier ban must not lower the cutoff")

		require.NoError(t, s.RevokeUser(ctx, "u", base.Add(5*time.Second), keep))
		assert.True(t, cutoffOf(t, s, "u").Equal(base.Add(5*time.Second)), "a later ban must raise the cutoff")

		require.NoError(t, s.RevokeUser(ctx, "u", base.Add(2*time.Second), keep.Add(time.Hour)))
		assert.True(t, cutoffOf(t, s, "u").Equal(base.Add(5*time.Second)))
	})

	t.Run("Independence", func(t *testing.T) {
		s, clk := defaults(t)
		ctx := context.Background()
		exp := clk.Now().Add(time.Hour)
		before := clk.Now().Truncate(time.Second)

		// The same string as session id and as user id, and ids shaped like key syntax
		// (hash tags included), must not collide.
		ids := []string{"x", "s:x", "u:x", "n", "x:", ":", "a:b:c", "{x}", "}{", "{", "*", "ü\x00x"}
		require.NoError(t, s.RevokeSession(ctx, "{x}", "x", exp))
		require.NoError(t, s.RevokeSession(ctx, "", "n", exp))
		require.NoError(t, s.RevokeUser(ctx, "u:x", before, exp))

		for _, id := range ids {
			revoked, cutoff, err := s.Check(ctx, id, id)
			require.NoError(t, err, id)
			assert.False(t, revoked, "session %q of user %q", id, id)
			assert.Equal(t, id == "u:x", !cutoff.IsZero(), "user %q", id)
			revoked, _, err = s.Check(ctx, id, "{x}")
			require.NoError(t, err, id)
			assert.Equal(t, id == "x", revoked, "session %q of user {x}", id)
			revoked, _, err = s.Check(ctx, id, "")
			require.NoError(t, err, id)
			assert.Equal(t, id == "n", revoked, "session %q without user", id)
		}
	})

	t.Run("EmptyIDs", func(t *testing.T) {
		s, clk := defaults(t)
		ctx := context.Background()
		exp := clk.Now().Add(time.Hour)
		before := clk.Now()

		for _, user := range []string{"u", ""} {
			assert.ErrorIs(t, s.RevokeSession(ctx, user, "", exp), revocation.ErrInvalid, "user %q", user)
			assert.ErrorIs(t, s.RevokeSession(ctx, user, "j", time.Time{}), revocation.ErrInvalid, "zero exp")
		}
		assert.ErrorIs(t, s.RevokeUser(ctx, "", before, exp), revocation.ErrInvalid)
		assert.ErrorIs(t, s.RevokeUser(ctx, "u", time.Time{}, exp), revocation.ErrInvalid, "zero cutoff")
		assert.ErrorIs(t, s.RevokeUser(ctx, "u", before, time.Time{}), revocation.ErrInvalid, "zero keepUntil")

		revoked, cutoff, err := s.Check(ctx, "", "")
		require.NoError(t, err)
		assert.False(t, revoked)
		assert.True(t, cutoff.IsZero())

		require.NoError(t, s.RevokeSession(ctx, "u", "j", exp))
		require.NoError(t, s.RevokeUser(ctx, "u", before, exp))
		revoked, cutoff, err = s.Check(ctx, "j", "u")
		require.NoError(t, err)
		assert.True(t, revoked)
		assert.False(t, cutoff.IsZero())
		revoked, cutoff, err = s.Check(ctx, "", "u")
		require.NoError(t, err)
		assert.False(t, revoked)
		assert.False(t, cutoff.IsZero())
	})

	t.Run("Expiry", func(t *testing.T) {
		s, clk := defaults(t)
		ctx := context.Background()
		now := clk.Now()
		short, long := now.Add(expiryStep), now.Add(time.Hour)
		before := now.Truncate(time.Second)

		for _, user := range []string{"user", ""} {
			require.NoError(t, s.RevokeSession(ctx, user, "short", short))
			require.NoError(t, s.RevokeSession(ctx, user, "long", long))
			// Extended: a second revocation with a later exp must keep the entry longer.
			require.NoError(t, s.RevokeSession(ctx, user, "extended", short))
			require.NoError(t, s.RevokeSession(ctx, user, "extended", long))
			// Not shortened: a second revocation with an earlier exp must not cut the entry.
			require.NoError(t, s.RevokeSession(ctx, user, "kept", long))
			require.NoError(t, s.RevokeSession(ctx, user, "kept", short))
		}

		require.NoError(t, s.RevokeUser(ctx, "u-short", before, short))
		require.NoError(t, s.RevokeUser(ctx, "u-extended", before, short))
		require.NoError(t, s.RevokeUser(ctx, "u-extended", before.Add(-time.Minute), long))
		require.NoError(t, s.RevokeUser(ctx, "u-kept", before, long))
		require.NoError(t, s.RevokeUser(ctx, "u-kept", before, short))

		revoked, cutoff, err := s.Check(ctx, "short", "u-short")
		require.NoError(t, err)
		require.False(t, revoked)
		require.False(t, cutoff.IsZero())
		for _, user := range []string{"user", ""} {
			revoked, _, err := s.Check(ctx, "short", user)
			require.NoError(t, err)
			require.True(t, revoked)
		}

		clk.Advance(expiryStep + 100*time.Millisecond)
		waitUntil(t, "short entries to expire", func() bool {
			_, cutoff, err := s.Check(ctx, "", "u-short")
			require.NoError(t, err)
			withUser, _, err := s.Check(ctx, "short", "user")
			require.NoError(t, err)
			withoutUser, _, err := s.Check(ctx, "short", "")
			require.NoError(t, err)
			return cutoff.IsZero() && !withUser && !withoutUser
		})

		for _, user := range []string{"user", ""} {
			for _, sid := range []string{"long", "extended", "kept"} {
				revoked, _, err := s.Check(ctx, sid, user)
				require.NoError(t, err)
				assert.True(t, revoked, "session %q of %q must still be revoked", sid, user)
			}
		}
		for _, u := range []string{"u-extended", "u-kept"} {
			assert.True(t, cutoffOf(t, s, u).Equal(before), "user %q cutoff, want %v", u, before)
		}
	})

	t.Run("Collapse", func(t *testing.T) {
		const quota = 3
		s, clk := newStore(t, Limits{MaxSessionsPerUser: quota})
		ctx := context.Background()
		short, long := clk.Now().Add(expiryStep), clk.Now().Add(time.Hour)
		// bob's longest entry is already stored; carol's arrives with the collapse.
		signedIn := clk.Now()
		for i := range quota {
			exp := short
			if i == 1 {
				exp = long
			}
			require.NoError(t, s.RevokeSession(ctx, "bob", fmt.Sprint("bob-", i), exp))
			require.NoError(t, s.RevokeSession(ctx, "carol", fmt.Sprint("carol-", i), short))
			require.NoError(t, s.RevokeSession(ctx, "alice", fmt.Sprint("alice-", i), long))
		}
		for _, user := range []string{"bob", "carol", "alice"} {
			assert.True(t, cutoffOf(t, s, user).IsZero(), "%s is within quota", user)
		}

		at := clk.Now()
		require.NoError(t, s.RevokeSession(ctx, "bob", "bob-new", short))
		require.NoError(t, s.RevokeSession(ctx, "carol", "carol-new", long))
		after := clk.Now()
		for _, user := range []string{"bob", "carol"} {
			cutoff := cutoffOf(t, s, user)
			require.False(t, cutoff.IsZero(), "%s over quota must get a cutoff", user)
			// Every session signed in up to the collapse is rejected, and only those: one
			// that signs in after the collapse's second is not.
			assert.Greater(t, cutoff.Unix(), at.Unix(), user)
			assert.LessOrEqual(t, cutoff.Unix(), after.Unix()+1, user)
			for _, sid := range []string{user + "-0", user + "-1", user + "-2", user + "-new"} {
				assertRejected(t, s, user, sid, signedIn)
			}
			assertRejected(t, s, user, "never-revoked", at)
		}
		// alice is untouched: her denylist stands and she has no cutoff.
		assert.True(t, cutoffOf(t, s, "alice").IsZero())
		for i := range quota {
			revoked, _, err := s.Check(ctx, fmt.Sprint("alice-", i), "alice")
			require.NoError(t, err)
			assert.True(t, revoked)
		}

		// The cutoff lasts as long as the longest entry it replaced.
		clk.Advance(expiryStep + 100*time.Millisecond)
		for _, user := range []string{"bob", "carol"} {
			assert.False(t, cutoffOf(t, s, user).IsZero(), "%s's cutoff must outlive its short entries", user)
		}
	})

	t.Run("CollapseMerges", func(t *testing.T) {
		s, clk := newStore(t, Limits{MaxSessionsPerUser: 1})
		ctx := context.Background()
		now := clk.Now()
		later := now.Truncate(time.Second).Add(time.Hour)
		// A ban reaching into the future is not lowered by a collapse, nor is its expiry
		// shortened.
		require.NoError(t, s.RevokeUser(ctx, "u", later, now.Add(2*time.Hour)))
		require.NoError(t, s.RevokeSession(ctx, "u", "a", now.Add(time.Minute)))
		require.NoError(t, s.RevokeSession(ctx, "u", "b", now.Add(time.Minute)))
		assert.True(t, cutoffOf(t, s, "u").Equal(later))

		// A collapse raises an older cutoff.
		require.NoError(t, s.RevokeUser(ctx, "v", now.Add(-time.Hour), now.Add(time.Hour)))
		require.NoError(t, s.RevokeSession(ctx, "v", "a", now.Add(time.Minute)))
		require.NoError(t, s.RevokeSession(ctx, "v", "b", now.Add(time.Minute)))
		assertRejected(t, s, "v", "a", now)
		assert.Greater(t, cutoffOf(t, s, "v").Unix(), now.Unix())

		// After a collapse the user's denylist starts again, within quota.
		require.NoError(t, s.RevokeSession(ctx, "v", "c", now.Add(time.Minute)))
		revoked, _, err := s.Check(ctx, "c", "v")
		require.NoError(t, err)
		assert.True(t, revoked)
	})

	t.Run("ExpiredEntriesLeaveTheQuota", func(t *testing.T) {
		const quota = 2
		s, clk := newStore(t, Limits{MaxSessionsPerUser: quota})
		ctx := context.Background()
		for i := range quota {
			require.NoError(t, s.RevokeSession(ctx, "u", fmt.Sprint("old-", i), clk.Now().Add(expiryStep)))
		}
		clk.Advance(expiryStep + 100*time.Millisecond)
		waitUntil(t, "old entries to expire", func() bool {
			revoked, _, err := s.Check(ctx, "old-0", "u")
			require.NoError(t, err)
			return !revoked
		})
		for i := range quota {
			require.NoError(t, s.RevokeSession(ctx, "u", fmt.Sprint("new-", i), clk.Now().Add(time.Hour)))
		}
		assert.True(t, cutoffOf(t, s, "u").IsZero(), "expired entries must not count towards the quota")
	})

	t.Run("PoolWithoutUserIsBounded", func(t *testing.T) {
		const pool = 3
		s, clk := newStore(t, Limits{MaxSessionsWithoutUser: pool})
		ctx := context.Background()
		for i := range pool {
			require.NoError(t, s.RevokeSession(ctx, "", fmt.Sprint("short-", i), clk.Now().Add(expiryStep)))
		}
		err := s.RevokeSession(ctx, "", "one-more", clk.Now().Add(time.Hour))
		require.ErrorIs(t, err, revocation.ErrFull)
		// Updating a stored entry needs no room.
		require.NoError(t, s.RevokeSession(ctx, "", "short-0", clk.Now().Add(expiryStep+50*time.Millisecond)))
		for i := range pool {
			revoked, _, err := s.Check(ctx, fmt.Sprint("short-", i), "")
			require.NoError(t, err)
			assert.True(t, revoked, "a full pool keeps its entries")
		}
		revoked, _, err := s.Check(ctx, "one-more", "")
		require.NoError(t, err)
		assert.False(t, revoked)

		// Users do not share the pool.
		for i := range 2 * pool {
			require.NoError(t, s.RevokeSession(ctx, fmt.Sprint("user-", i), "sid", clk.Now().Add(time.Hour)))
		}
		require.NoError(t, s.RevokeUser(ctx, "banned", clk.Now(), clk.Now().Add(time.Hour)))

		// Expired entries make room.
		clk.Advance(expiryStep + 200*time.Millisecond)
		waitUntil(t, "pool entries to expire", func() bool {
			return s.RevokeSession(ctx, "", "one-more", clk.Now().Add(time.Hour)) == nil
		})
		revoked, _, err = s.Check(ctx, "one-more", "")
		require.NoError(t, err)
		assert.True(t, revoked)
	})

	t.Run("NeverWeakerThanTheDenylist", func(t *testing.T) {
		// Random sign-ins, sign-outs and bans of a few users, with a small quota, against a
		// plain unbounded denylist: every session the denylist rejects, the store rejects.
		s, clk := newStore(t, Limits{MaxSessionsPerUser: 3})
		ctx := context.Background()
		rng := rand.New(rand.NewPCG(1, 2))
		type session struct {
			user, id string
			signedIn time.Time
			revoked  bool
		}
		var sessions []*session
		for op := range 400 {
			if op%100 == 99 {
				clk.Advance(150 * time.Millisecond)
			}
			user := fmt.Sprint("user-", rng.IntN(4))
			switch r := rng.IntN(10); {
			case r < 4 || len(sessions) == 0:
				sessions = append(sessions, &session{user: user, id: fmt.Sprint("sid-", op), signedIn: clk.Now()})
			case r < 9:
				victim := sessions[rng.IntN(len(sessions))]
				victim.revoked = true
				require.NoError(t, s.RevokeSession(ctx, victim.user, victim.id, clk.Now().Add(time.Hour)))
			default:
				before := clk.Now()
				require.NoError(t, s.RevokeUser(ctx, user, before, before.Add(time.Hour)))
				for _, ss := range sessions {
					if ss.user == user && ss.signedIn.Unix() < revocation.CutoffSecond(before) {
						ss.revoked = true
					}
				}
			}
		}
		var revoked int
		for _, ss := range sessions {
			if ss.revoked {
				revoked++
				assertRejected(t, s, ss.user, ss.id, ss.signedIn)
			}
		}
		require.Greater(t, revoked, 100, "the run must revoke far beyond the quota")
	})

	t.Run("Concurrency", func(t *testing.T) {
		s, clk := defaults(t)
		ctx := context.Background()
		exp := clk.Now().Add(time.Hour)
		base := clk.Now().Truncate(time.Second)
		const workers, perWorker = 16, 25

		inParallel(t, workers, func(w int) error {
			for i := range perWorker {
				sid := fmt.Sprintf("sid-%d-%d", w, i)
				user := fmt.Sprintf("user-%d-%d", w, i)
				if err := s.RevokeSession(ctx, user, sid, exp); err != nil {
					return err
				}
				// Everyone raises the same shared cutoff; the maximum must win.
				shared := base.Add(time.Duration(w*perWorker+i) * time.Second)
				if err := s.RevokeUser(ctx, "shared", shared, exp); err != nil {
					return err
				}
				if err := s.RevokeUser(ctx, user, base, exp); err != nil {
					return err
				}
				revoked, cutoff, err := s.Check(ctx, sid, user)
				if err != nil {
					return err
				}
				if !revoked || !cutoff.Equal(base) {
					return fmt.Errorf("read after write: %s revoked=%v, %s cutoff=%v", sid, revoked, user, cutoff)
				}
			}
			return nil
		})

		for w := range workers {
			for i := range perWorker {
				revoked, cutoff, err := s.Check(ctx, fmt.Sprintf("sid-%d-%d", w, i), fmt.Sprintf("user-%d-%d", w, i))
				require.NoError(t, err)
				require.True(t, revoked, "lost session revocation %d-%d", w, i)
				require.True(t, cutoff.Equal(base), "lost user revocation %d-%d", w, i)
			}
		}
		want := base.Add(time.Duration(workers*perWorker-1) * time.Second)
		assert.True(t, cutoffOf(t, s, "shared").Equal(want), "shared cutoff, want max %v", want)
	})

	t.Run("ConcurrentCollapse", func(t *testing.T) {
		// Many sign-outs of one user at once, far past the quota: none is lost.
		s, clk := newStore(t, Limits{MaxSessionsPerUser: 5})
		ctx := context.Background()
		signedIn := clk.Now()
		exp := signedIn.Add(time.Hour)
		const workers, perWorker = 8, 25
		inParallel(t, workers, func(w int) error {
			for i := range perWorker {
				if err := s.RevokeSession(ctx, "flood", fmt.Sprintf("sid-%d-%d", w, i), exp); err != nil {
					return err
				}
			}
			return nil
		})
		for w := range workers {
			for i := range perWorker {
				assertRejected(t, s, "flood", fmt.Sprintf("sid-%d-%d", w, i), signedIn)
			}
		}
	})

	t.Run("ContextCanceled", func(t *testing.T) {
		s, clk := defaults(t)
		exp := clk.Now().Add(time.Hour)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()

		for _, user := range []string{"u", ""} {
			assert.ErrorIs(t, s.RevokeSession(ctx, user, "j", exp), context.Canceled)
		}
		assert.ErrorIs(t, s.RevokeUser(ctx, "u", clk.Now(), exp), context.Canceled)
		revoked, cutoff, err := s.Check(ctx, "j", "u")
		assert.ErrorIs(t, err, context.Canceled)
		assert.False(t, revoked)
		assert.True(t, cutoff.IsZero())

		dctx, dcancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
		defer dcancel()
		_, _, err = s.Check(dctx, "j", "u")
		assert.True(t, errors.Is(err, context.DeadlineExceeded), "got %v", err)
	})
}

// rejects reports whether a session of a user, signed in at signedIn, is refused given
// what Check returned: denylisted, or signed in (whole seconds) before the user's cutoff.
// It is the rule the Manager applies.
func rejects(revoked bool, cutoff, signedIn time.Time) bool {
	return revoked || (!cutoff.IsZero() && signedIn.Unix() < revocation.CutoffSecond(cutoff))
}

// assertRejected checks that the store refuses the session.
func assertRejected(t *testing.T, s Store, user, sessionID string, signedIn time.Time) {
	t.Helper()
	revoked, cutoff, err := s.Check(context.Background(), sessionID, user)
	require.NoError(t, err)
	assert.True(t, rejects(revoked, cutoff, signedIn),
		"session %q of %q signed in at %v must be rejected (revoked=%v cutoff=%v)", sessionID, user, signedIn, revoked, cutoff)
}

func cutoffOf(t *testing.T, s Store, user string) time.Time {
	t.Helper()
	_, cutoff, err := s.Check(context.Background(), "", user)
	require.NoError(t, err)
	return cutoff
}

// inParallel runs work(0) … work(workers-1) at once and reports their errors.
func inParallel(t *testing.T, workers int, work func(worker int) error) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			if err := work(w); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// waitUntil polls cond, bounded by expiryPoll: real stores drop expired entries on
// their own schedule.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(expiryPoll)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", expiryPoll, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

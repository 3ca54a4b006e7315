// Package storetest is a conformance suite for revocation stores (edgeauth.Store).
// It declares its own Store interface with the same method set so that both the root
// package's tests and store packages can use it without import cycles.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Store has the method set of edgeauth.Store.
type Store interface {
	RevokeToken(ctx context.Context, jti string, exp time.Time) error
	RevokeUser(ctx context.Context, userID string, before, keepUntil time.Time) error
	Check(ctx context.Context, jti, userID string) (revoked bool, cutoff time.Time, err error)
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
// empty store (or one whose keys cannot overlap with other calls) and the clock it uses.
func Run(t *testing.T, newStore func(t *testing.T) (Store, Clock)) {
	t.Run("TokenDenylist", func(t *testing.T) {
		s, clk := newStore(t)
		ctx := context.Background()
		revoked, cutoff, err := s.Check(ctx, "jti-1", "user-1")
		require.NoError(t, err)
		assert.False(t, revoked)
		assert.True(t, cutoff.IsZero())

		require.NoError(t, s.RevokeToken(ctx, "jti-1", clk.Now().Add(time.Hour)))
		revoked, cutoff, err = s.Check(ctx, "jti-1", "user-1")
		require.NoError(t, err)
		assert.True(t, revoked)
		assert.True(t, cutoff.IsZero(), "a token revocation must not create a user cutoff")

		// Revoking again with an earlier exp neither fails nor shortens the entry (checked in Expiry).
		require.NoError(t, s.RevokeToken(ctx, "jti-1", clk.Now().Add(time.Minute)))
		revoked, _, err = s.Check(ctx, "jti-1", "")
		require.NoError(t, err)
		assert.True(t, revoked)

		revoked, _, err = s.Check(ctx, "jti-2", "user-1")
		require.NoError(t, err)
		assert.False(t, revoked, "other jti must not be revoked")
	})

	t.Run("TokenExpInPast", func(t *testing.T) {
		s, clk := newStore(t)
		ctx := context.Background()
		require.NoError(t, s.RevokeToken(ctx, "old", clk.Now().Add(-time.Hour)))
		revoked, _, err := s.Check(ctx, "old", "")
		require.NoError(t, err)
		assert.False(t, revoked, "an already expired token needs no entry")
	})

	t.Run("UserCutoff", func(t *testing.T) {
		s, clk := newStore(t)
		ctx := context.Background()
		base := clk.Now().Truncate(time.Second)
		keep := clk.Now().Add(time.Hour)

		// A fractional ban time rounds up to the next whole second.
		require.NoError(t, s.RevokeUser(ctx, "alice", base.Add(700*time.Millisecond), keep))
		revoked, cutoff, err := s.Check(ctx, "jti-a", "alice")
		require.NoError(t, err)
		assert.False(t, revoked, "a user cutoff must not denylist the jti")
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
		s, clk := newStore(t)
		ctx := context.Background()
		base := clk.Now().Truncate(time.Second)
		keep := clk.Now().Add(time.Hour)
		cutoffOf := func() time.Time {
			t.Helper()
			_, c, err := s.Check(ctx, "", "u")
			require.NoError(t, err)
			return c
		}

		require.NoError(t, s.RevokeUser(ctx, "u", base, keep))
		require.True(t, cutoffOf().Equal(base))

		require.NoError(t, s.RevokeUser(ctx, "u", base.Add(-time.Minute), keep))
		assert.True(t, cutoffOf().Equal(base), "an earlier ban must not lower the cutoff")

		require.NoError(t, s.RevokeUser(ctx, "u", base.Add(5*time.Second), keep))
		assert.True(t, cutoffOf().Equal(base.Add(5*time.Second)), "a later ban must raise the cutoff")

		require.NoError(t, s.RevokeUser(ctx, "u", base.Add(2*time.Second), keep.Add(time.Hour)))
		assert.True(t, cutoffOf().Equal(base.Add(5*time.Second)))
	})

	t.Run("Independence", func(t *testing.T) {
		s, clk := newStore(t)
		ctx := context.Background()
		exp := clk.Now().Add(time.Hour)
		before := clk.Now().Truncate(time.Second)

		// The same string as jti and as user id, and ids shaped like key syntax, must not collide.
		ids := []string{"x", "t:x", "u:x", "x:", ":", "a:b:c", "{x}", "*", "ü\x00x"}
		require.NoError(t, s.RevokeToken(ctx, "x", exp))
		require.NoError(t, s.RevokeUser(ctx, "u:x", before, exp))

		for _, id := range ids {
			revoked, cutoff, err := s.Check(ctx, id, id)
			require.NoError(t, err, id)
			assert.Equal(t, id == "x", revoked, "jti %q", id)
			assert.Equal(t, id == "u:x", !cutoff.IsZero(), "user %q", id)
		}
	})

	t.Run("EmptyIDs", func(t *testing.T) {
		s, clk := newStore(t)
		ctx := context.Background()
		exp := clk.Now().Add(time.Hour)
		before := clk.Now()

		assert.Error(t, s.RevokeToken(ctx, "", exp))
		assert.Error(t, s.RevokeUser(ctx, "", before, exp))
		assert.Error(t, s.RevokeToken(ctx, "j", time.Time{}), "zero exp")
		assert.Error(t, s.RevokeUser(ctx, "u", time.Time{}, exp), "zero cutoff")
		assert.Error(t, s.RevokeUser(ctx, "u", before, time.Time{}), "zero keepUntil")

		revoked, cutoff, err := s.Check(ctx, "", "")
		require.NoError(t, err)
		assert.False(t, revoked)
		assert.True(t, cutoff.IsZero())

		require.NoError(t, s.RevokeToken(ctx, "j", exp))
		require.NoError(t, s.RevokeUser(ctx, "u", before, exp))
		revoked, cutoff, err = s.Check(ctx, "j", "")
		require.NoError(t, err)
		assert.True(t, revoked)
		assert.True(t, cutoff.IsZero())
		revoked, cutoff, err = s.Check(ctx, "", "u")
		require.NoError(t, err)
		assert.False(t, revoked)
		assert.False(t, cutoff.IsZero())
	})

	t.Run("Expiry", func(t *testing.T) {
		s, clk := newStore(t)
		ctx := context.Background()
		now := clk.Now()
		short, long := now.Add(expiryStep), now.Add(time.Hour)
		before := now.Truncate(time.Second)

		require.NoError(t, s.RevokeToken(ctx, "short", short))
		require.NoError(t, s.RevokeToken(ctx, "long", long))
		// Extended: a second revocation with a later exp must keep the entry longer.
		require.NoError(t, s.RevokeToken(ctx, "extended", short))
		require.NoError(t, s.RevokeToken(ctx, "extended", long))
		// Not shortened: a second revocation with an earlier exp must not cut the entry.
		require.NoError(t, s.RevokeToken(ctx, "kept", long))
		require.NoError(t, s.RevokeToken(ctx, "kept", short))

		require.NoError(t, s.RevokeUser(ctx, "u-short", before, short))
		require.NoError(t, s.RevokeUser(ctx, "u-extended", before, short))
		require.NoError(t, s.RevokeUser(ctx, "u-extended", before.Add(-time.Minute), long))
		require.NoError(t, s.RevokeUser(ctx, "u-kept", before, long))
		require.NoError(t, s.RevokeUser(ctx, "u-kept", before, short))

		revoked, cutoff, err := s.Check(ctx, "short", "u-short")
		require.NoError(t, err)
		require.True(t, revoked)
		require.False(t, cutoff.IsZero())

		clk.Advance(expiryStep + 100*time.Millisecond)
		deadline := time.Now().Add(expiryPoll)
		for {
			revoked, cutoff, err = s.Check(ctx, "short", "u-short")
			require.NoError(t, err)
			if !revoked && cutoff.IsZero() {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("entries not expired after %v: revoked=%v cutoff=%v", expiryPoll, revoked, cutoff)
			}
			time.Sleep(20 * time.Millisecond)
		}

		for _, jti := range []string{"long", "extended", "kept"} {
			revoked, _, err := s.Check(ctx, jti, "")
			require.NoError(t, err)
			assert.True(t, revoked, "token %q must still be revoked", jti)
		}
		for _, u := range []string{"u-extended", "u-kept"} {
			_, cutoff, err := s.Check(ctx, "", u)
			require.NoError(t, err)
			assert.True(t, cutoff.Equal(before), "user %q cutoff %v, want %v", u, cutoff, before)
		}
	})

	t.Run("Concurrency", func(t *testing.T) {
		s, clk := newStore(t)
		ctx := context.Background()
		exp := clk.Now().Add(time.Hour)
		base := clk.Now().Truncate(time.Second)
		const workers, perWorker = 16, 25

		var wg sync.WaitGroup
		errs := make(chan error, workers)
		for w := range workers {
			wg.Go(func() {
				for i := range perWorker {
					jti := fmt.Sprintf("jti-%d-%d", w, i)
					user := fmt.Sprintf("user-%d-%d", w, i)
					if err := s.RevokeToken(ctx, jti, exp); err != nil {
						errs <- err
						return
					}
					// Everyone raises the same shared cutoff; the maximum must win.
					shared := base.Add(time.Duration(w*perWorker+i) * time.Second)
					if err := s.RevokeUser(ctx, "shared", shared, exp); err != nil {
						errs <- err
						return
					}
					if err := s.RevokeUser(ctx, user, base, exp); err != nil {
						errs <- err
						return
					}
					revoked, cutoff, err := s.Check(ctx, jti, user)
					if err == nil && (!revoked || !cutoff.Equal(base)) {
						err = fmt.Errorf("read after write: %s revoked=%v, %s cutoff=%v", jti, revoked, user, cutoff)
					}
					if err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}

		for w := range workers {
			for i := range perWorker {
				revoked, cutoff, err := s.Check(ctx, fmt.Sprintf("jti-%d-%d", w, i), fmt.Sprintf("user-%d-%d", w, i))
				require.NoError(t, err)
				require.True(t, revoked, "lost token revocation %d-%d", w, i)
				require.True(t, cutoff.Equal(base), "lost user revocation %d-%d", w, i)
			}
		}
		_, cutoff, err := s.Check(ctx, "", "shared")
		require.NoError(t, err)
		want := base.Add(time.Duration(workers*perWorker-1) * time.Second)
		assert.True(t, cutoff.Equal(want), "shared cutoff %v, want max %v", cutoff, want)
	})

	t.Run("ContextCanceled", func(t *testing.T) {
		s, clk := newStore(t)
		exp := clk.Now().Add(time.Hour)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()

		err := s.RevokeToken(ctx, "j", exp)
		assert.ErrorIs(t, err, context.Canceled)
		err = s.RevokeUser(ctx, "u", clk.Now(), exp)
		assert.ErrorIs(t, err, context.Canceled)
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

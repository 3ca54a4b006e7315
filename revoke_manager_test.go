package edgeauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// countingStore records calls and can fail or hang.
type countingStore struct {
	Store
	checks     atomic.Int64
	fail       error
	failRevoke error
	hang       bool
}

func (s *countingStore) RevokeSession(ctx context.Context, userID, sessionID string, exp time.Time) error {
	if s.failRevoke != nil {
		return s.failRevoke
	}
	return s.Store.RevokeSession(ctx, userID, sessionID, exp)
}

func (s *countingStore) Check(ctx context.Context, jti, userID string) (bool, time.Time, error) {
	s.checks.Add(1)
	if s.hang {
		<-ctx.Done()
		return false, time.Time{}, ctx.Err()
	}
	if s.fail != nil {
		return false, time.Time{}, s.fail
	}
	return s.Store.Check(ctx, jti, userID)
}

func TestRevocationFailures(t *testing.T) {
	t.Run("garbage never reaches the store", func(t *testing.T) {
		clk := newClock(testNow)
		store := &countingStore{Store: memStore(clk)}
		m, _ := newTestManagerAt(t, clk, Config{Store: store})
		r := httptest.NewRequest("GET", "/", nil)
		r.AddCookie(&http.Cookie{Name: "authjs.session-token", Value: "eyJhbGciOiJkaXIifQ..x.y.z"})
		_, err := m.Load(r)
		require.ErrorIs(t, err, ErrInvalidToken)
		_, err = m.Load(httptest.NewRequest("GET", "/", nil))
		require.ErrorIs(t, err, ErrNoSession)
		assert.Zero(t, store.checks.Load())

		_, err = m.Load(requestCarrying("GET", "/", signIn(t, m, &User{ID: "a"})))
		require.NoError(t, err)
		assert.Equal(t, int64(1), store.checks.Load(), "every verified request is checked")
	})

	t.Run("store error fails closed and keeps the cookie", func(t *testing.T) {
		clk := newClock(testNow)
		store := &countingStore{Store: memStore(clk), fail: errors.New("connection refused")}
		m, _ := newTestManagerAt(t, clk, Config{Store: store})
		h := signIn(t, m, &User{ID: "a"})
		w := httptest.NewRecorder()
		_, err := m.Refresh(w, requestCarrying("GET", "/", h))
		require.ErrorIs(t, err, ErrNoSession)
		require.ErrorIs(t, err, ErrRevocationUnavailable)
		assert.Empty(t, w.Header().Values("Set-Cookie"), "an outage must not sign users out")
	})

	t.Run("fail open when chosen", func(t *testing.T) {
		clk := newClock(testNow)
		store := &countingStore{Store: memStore(clk), fail: errors.New("down")}
		m, _ := newTestManagerAt(t, clk, Config{Store: store, RevocationFailOpen: true})
		s, err := m.Load(requestCarrying("GET", "/", signIn(t, m, &User{ID: "a"})))
		require.NoError(t, err)
		assert.Equal(t, "a", s.UserID)
	})

	t.Run("a hanging store is bounded by the timeout", func(t *testing.T) {
		before := runtime.NumGoroutine()
		clk := newClock(testNow)
		store := &countingStore{Store: memStore(clk), hang: true}
		m, _ := newTestManagerAt(t, clk, Config{Store: store, RevocationTimeout: 20 * time.Millisecond})
		h := signIn(t, m, &User{ID: "a"})
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := m.Load(requestCarrying("GET", "/", h))
				assert.ErrorIs(t, err, context.DeadlineExceeded)
			}()
		}
		wg.Wait()
		require.Eventually(t, func() bool { return runtime.NumGoroutine() <= before+1 }, 2*time.Second, 10*time.Millisecond)
	})

	t.Run("no store", func(t *testing.T) {
		m, _ := newTestManager(t, Config{})
		assert.ErrorIs(t, m.RevokeUser(context.Background(), "a"), ErrNoStore)
		assert.ErrorIs(t, m.RevokeToken(context.Background(), &Token{ID: "x"}), ErrNoStore)
	})
}

// Many goroutines signing in, checking and revoking: no revocation is lost.
func TestRevocationConcurrency(t *testing.T) {
	clk := newClock(testNow)
	m, _ := newTestManagerAt(t, clk, Config{Store: memStore(clk)})
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 20 {
				h := signIn(t, m, &User{ID: fmt.Sprintf("u%d-%d", i, j)})
				if _, err := m.Load(requestCarrying("GET", "/", h)); err != nil {
					t.Errorf("fresh session rejected: %v", err)
					return
				}
				if err := m.SignOut(httptest.NewRecorder(), requestCarrying("POST", "/logout", h)); err != nil {
					t.Errorf("sign-out: %v", err)
					return
				}
				if _, err := m.Load(requestCarrying("GET", "/", h)); !errors.Is(err, ErrRevoked) {
					t.Errorf("revocation lost: %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// The session endpoint is polled by every Auth.js client: an outage of the
// revocation store must answer null without clearing anyone's cookie.
func TestSessionEndpointDuringStoreOutage(t *testing.T) {
	clk := newClock(testNow)
	store := &countingStore{Store: memStore(clk)}
	m, _ := newTestManagerAt(t, clk, Config{Store: store})
	h := signIn(t, m, &User{ID: "a"})
	store.fail = errors.New("connection refused")
	rec := httptest.NewRecorder()
	m.SessionHandler().ServeHTTP(rec, requestCarrying("GET", "/api/auth/session", h))
	assert.Equal(t, "null", rec.Body.String())
	assert.Empty(t, rec.Header().Values("Set-Cookie"))

	store.fail = nil
	rec = httptest.NewRecorder()
	m.SessionHandler().ServeHTTP(rec, requestCarrying("GET", "/api/auth/session", h))
	assert.NotEqual(t, "null", rec.Body.String(), "the session is back once the store is")
}

// A copy refreshed just before sign-out expires later than the token used to
// sign out; the denylist entry must outlive it.
func TestRevokedSessionStaysRevokedForRefreshedCopies(t *testing.T) {
	clk := newClock(testNow)
	m, _ := newTestManagerAt(t, clk, Config{Store: memStore(clk)})
	original := signIn(t, m, &User{ID: "alice"})
	clk.Advance(25 * time.Hour)
	w := httptest.NewRecorder()
	_, err := m.Refresh(w, requestCarrying("GET", "/", original))
	require.NoError(t, err)
	stolen := w.Header()
	require.Len(t, responseCookies(stolen), 1)

	require.NoError(t, m.SignOut(httptest.NewRecorder(), requestCarrying("POST", "/logout", original)))
	for _, after := range []time.Duration{0, 30*24*time.Hour - 25*time.Hour + time.Minute, 5 * time.Hour} {
		clk.Advance(after)
		_, err = m.Refresh(httptest.NewRecorder(), requestCarrying("GET", "/", stolen))
		require.Error(t, err, "after %v more", after)
		if !errors.Is(err, ErrExpired) {
			require.ErrorIs(t, err, ErrRevoked)
		}
	}
}

// Signing out while the store's check fails still writes the revocation.
func TestSignOutRevokesWhenCheckFails(t *testing.T) {
	clk := newClock(testNow)
	store := &countingStore{Store: memStore(clk)}
	m, _ := newTestManagerAt(t, clk, Config{Store: store})
	h := signIn(t, m, &User{ID: "a"})
	store.fail = errors.New("check timed out")
	require.NoError(t, m.SignOut(httptest.NewRecorder(), requestCarrying("POST", "/logout", h)))
	store.fail = nil
	_, err := m.Load(requestCarrying("GET", "/", h))
	require.ErrorIs(t, err, ErrRevoked)
}

// A sign-out whose revocation fails says so, whatever the path: copies of the cookie
// keep working, and the caller must be able to tell the user. The cookies are cleared
// all the same.
func TestSignOutReportsFailedRevocation(t *testing.T) {
	down := errors.New("connection refused")
	tests := []struct {
		name  string
		setup func(t *testing.T, clk *clock) (Store, *User, func())
		want  error
	}{
		{
			name: "store full of single entries",
			setup: func(t *testing.T, clk *clock) (Store, *User, func()) {
				s := NewMemoryStore(MemoryStoreConfig{MaxEntries: 1, Now: clk.Now})
				require.NoError(t, s.RevokeSession(context.Background(), "alice", "x", clk.Now().Add(time.Hour)))
				return s, &User{ID: "bob"}, nil
			},
			want: ErrStoreFull,
		},
		{
			name: "pool without user id full",
			setup: func(t *testing.T, clk *clock) (Store, *User, func()) {
				s := NewMemoryStore(MemoryStoreConfig{MaxSessionsWithoutUser: 1, Now: clk.Now})
				require.NoError(t, s.RevokeSession(context.Background(), "", "x", clk.Now().Add(time.Hour)))
				return s, &User{Name: "no id"}, nil
			},
			want: ErrStoreFull,
		},
		{
			name: "write fails",
			setup: func(t *testing.T, clk *clock) (Store, *User, func()) {
				s := &countingStore{Store: memStore(clk)}
				return s, &User{ID: "bob"}, func() { s.failRevoke = down }
			},
			want: down,
		},
		{
			name: "check and write fail",
			setup: func(t *testing.T, clk *clock) (Store, *User, func()) {
				s := &countingStore{Store: memStore(clk)}
				return s, &User{ID: "bob"}, func() { s.fail, s.failRevoke = down, down }
			},
			want: down,
		},
		{
			name: "session already revoked, write fails",
			setup: func(t *testing.T, clk *clock) (Store, *User, func()) {
				s := &countingStore{Store: memStore(clk)}
				return s, &User{ID: "bob"}, func() {
					require.NoError(t, s.RevokeUser(context.Background(), "bob", clk.Now().Add(time.Second), clk.Now().Add(time.Hour)))
					s.failRevoke = down
				}
			},
			want: down,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock(testNow)
			store, user, breakStore := tt.setup(t, clk)
			var signedOut atomic.Int64
			m, _ := newTestManagerAt(t, clk, Config{Store: store, Events: Events{
				SignOut: func(context.Context, *Token) { signedOut.Add(1) },
			}})
			h := signIn(t, m, user)
			if breakStore != nil {
				breakStore()
			}
			w := httptest.NewRecorder()
			err := m.SignOut(w, requestCarrying("POST", "/logout", h))
			require.ErrorIs(t, err, tt.want)
			assertCleared(t, w.Header(), "authjs.session-token")
			assert.Equal(t, int64(1), signedOut.Load(), "the event fires all the same")
		})
	}
}

// cachingStore is a countingStore that can answer from memory when cached is
// set, and records whether Check ran under a deadline.
type cachingStore struct {
	countingStore
	cached, deadline atomic.Bool
}

func (s *cachingStore) CheckCached(sessionID, userID string) (bool, time.Time, bool) {
	if !s.cached.Load() {
		return false, time.Time{}, false
	}
	return s.Store.(CachedChecker).CheckCached(sessionID, userID)
}

func (s *cachingStore) Check(ctx context.Context, sessionID, userID string) (bool, time.Time, error) {
	_, ok := ctx.Deadline()
	s.deadline.Store(ok)
	return s.countingStore.Check(ctx, sessionID, userID)
}

// A store's answer from memory is used as is; anything else goes to Check,
// under RevocationTimeout; either way a revocation is seen.
func TestRevocationCachedChecks(t *testing.T) {
	clk := newClock(testNow)
	store := &cachingStore{countingStore: countingStore{Store: memStore(clk)}}
	m, _ := newTestManagerAt(t, clk, Config{Store: store})
	h := signIn(t, m, &User{ID: "a"})

	_, err := m.Load(requestCarrying("GET", "/", h))
	require.NoError(t, err)
	assert.Equal(t, int64(1), store.checks.Load())
	assert.True(t, store.deadline.Load(), "Check runs under RevocationTimeout")

	store.cached.Store(true)
	_, err = m.Load(requestCarrying("GET", "/", h))
	require.NoError(t, err)
	assert.Equal(t, int64(1), store.checks.Load(), "an answer from memory needs no Check")
	require.NoError(t, m.RevokeUser(context.Background(), "a"))
	_, err = m.Load(requestCarrying("GET", "/", h))
	require.ErrorIs(t, err, ErrRevoked, "from memory")
	assert.Equal(t, int64(1), store.checks.Load())

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = m.Load(requestCarrying("GET", "/", h).WithContext(ctx))
	require.ErrorIs(t, err, ErrRevocationUnavailable, "a cancelled request goes to Check, which fails closed")
	assert.Equal(t, int64(2), store.checks.Load())
}

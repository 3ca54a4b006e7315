// Package revoketest holds the revocation scenarios that run against every
// store: the root package's tests run them on a MemoryStore, the redisstore
// module's on a real redis-server.
package revoketest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeauth/edgeauth"
	"github.com/edgeauth/edgeauth/internal/sessiontest"
)

// NewManagerAt returns a manager on clk with a test secret unless cfg has one.
// A MemoryStore must run on the same clock: on the real clock it would drop
// revocations whose expiry, computed on the test clock, is already past.
func NewManagerAt(t testing.TB, clk *sessiontest.Clock, cfg edgeauth.Config) (*edgeauth.Manager, *sessiontest.Clock) {
	t.Helper()
	if cfg.Secrets == nil {
		cfg.Secrets = []string{"test-secret"}
	}
	if cfg.Now == nil {
		cfg.Now = clk.Now
	}
	m, err := edgeauth.New(cfg)
	require.NoError(t, err)
	return m, clk
}

// SignIn signs user in and returns the response's headers.
func SignIn(t testing.TB, m *edgeauth.Manager, user *edgeauth.User) http.Header {
	t.Helper()
	w := httptest.NewRecorder()
	_, err := m.SignIn(w, httptest.NewRequest("POST", "/login", nil), user)
	require.NoError(t, err)
	return w.Header()
}

// RoleCallback copies User.Attributes["role"] into the token on sign-in.
func RoleCallback(_ context.Context, p edgeauth.JWTParams) (*edgeauth.Token, error) {
	if p.User != nil {
		if role, ok := p.User.Attributes["role"]; ok {
			if err := p.Token.SetClaim("role", role); err != nil {
				return nil, err
			}
		}
	}
	return p.Token, nil
}

// Remedies runs the three revocation remedies (denylist,
// sign-out-everywhere, token versions) through a Manager on the store that storeOn returns.
func Remedies(t *testing.T, storeOn func(t *testing.T, clk *sessiontest.Clock) edgeauth.Store) {
	// setup returns a manager and its store on one clock, near real time.
	setup := func(t *testing.T, cfg edgeauth.Config) (*edgeauth.Manager, *sessiontest.Clock) {
		clk := sessiontest.NewClock(time.Now().Unix())
		cfg.Store = storeOn(t, clk)
		return NewManagerAt(t, clk, cfg)
	}
	t.Run("sign-out revokes the token everywhere", func(t *testing.T) {
		m, _ := setup(t, edgeauth.Config{})
		alice := SignIn(t, m, &edgeauth.User{ID: "alice"})
		other := SignIn(t, m, &edgeauth.User{ID: "alice"})

		w := httptest.NewRecorder()
		require.NoError(t, m.SignOut(w, sessiontest.RequestCarrying("POST", "/logout", alice)))

		// A copy of the old cookie (stolen, or another tab) no longer works.
		_, err := m.Load(sessiontest.RequestCarrying("GET", "/", alice))
		require.ErrorIs(t, err, edgeauth.ErrNoSession)
		require.ErrorIs(t, err, edgeauth.ErrRevoked)
		_, err = m.Load(sessiontest.RequestCarrying("GET", "/", other))
		require.NoError(t, err, "only the signed-out session is revoked")
	})

	t.Run("sign out everywhere", func(t *testing.T) {
		m, clk := setup(t, edgeauth.Config{})
		phone := SignIn(t, m, &edgeauth.User{ID: "bob"})
		laptop := SignIn(t, m, &edgeauth.User{ID: "bob"})
		carol := SignIn(t, m, &edgeauth.User{ID: "carol"})
		clk.Advance(time.Second)
		require.NoError(t, m.RevokeUser(context.Background(), "bob"))

		for _, h := range []http.Header{phone, laptop} {
			_, err := m.Load(sessiontest.RequestCarrying("GET", "/", h))
			require.ErrorIs(t, err, edgeauth.ErrRevoked)
		}
		_, err := m.Load(sessiontest.RequestCarrying("GET", "/", carol))
		require.NoError(t, err)

		clk.Advance(time.Second)
		again := SignIn(t, m, &edgeauth.User{ID: "bob"})
		_, err = m.Load(sessiontest.RequestCarrying("GET", "/", again))
		require.NoError(t, err, "signing in after the cutoff works")
	})

	t.Run("revoked token is never re-issued", func(t *testing.T) {
		m, clk := setup(t, edgeauth.Config{})
		h := SignIn(t, m, &edgeauth.User{ID: "dan"})
		tok, err := m.Codec().Decode(sessiontest.ResponseCookies(h)[0].Value)
		require.NoError(t, err)
		require.NoError(t, m.RevokeToken(context.Background(), tok))

		clk.Advance(48 * time.Hour) // past UpdateAge: would refresh
		w := httptest.NewRecorder()
		_, err = m.Refresh(w, sessiontest.RequestCarrying("GET", "/", h))
		require.ErrorIs(t, err, edgeauth.ErrRevoked)
		sessiontest.AssertCleared(t, w.Header(), "authjs.session-token")
	})

	t.Run("refreshed copies share the revocation", func(t *testing.T) {
		m, clk := setup(t, edgeauth.Config{})
		h := SignIn(t, m, &edgeauth.User{ID: "eve"})
		clk.Advance(25 * time.Hour)
		w := httptest.NewRecorder()
		_, err := m.Refresh(w, sessiontest.RequestCarrying("GET", "/", h))
		require.NoError(t, err)
		refreshed := w.Header()
		require.Len(t, sessiontest.ResponseCookies(refreshed), 1)

		require.NoError(t, m.SignOut(httptest.NewRecorder(), sessiontest.RequestCarrying("POST", "/logout", refreshed)))
		_, err = m.Load(sessiontest.RequestCarrying("GET", "/", h))
		require.ErrorIs(t, err, edgeauth.ErrRevoked, "the pre-refresh cookie dies with the session")
	})

	t.Run("token versions", func(t *testing.T) {
		var current atomic.Int64
		current.Store(1)
		m, clk := setup(t, edgeauth.Config{
			Callbacks: edgeauth.Callbacks{JWT: func(_ context.Context, p edgeauth.JWTParams) (*edgeauth.Token, error) {
				if p.User != nil {
					_ = p.Token.SetClaim("version", current.Load())
				}
				return p.Token, nil
			}},
			TokenVersion: func(_ context.Context, userID string) (int64, error) {
				if userID != "fay" {
					return 0, fmt.Errorf("unknown user")
				}
				return current.Load(), nil
			},
		})
		h := SignIn(t, m, &edgeauth.User{ID: "fay"})
		_, err := m.Load(sessiontest.RequestCarrying("GET", "/", h))
		require.NoError(t, err)

		current.Store(2)
		_, err = m.Load(sessiontest.RequestCarrying("GET", "/", h))
		require.ErrorIs(t, err, edgeauth.ErrRevoked)

		fresh := SignIn(t, m, &edgeauth.User{ID: "fay"})
		_, err = m.Load(sessiontest.RequestCarrying("GET", "/", fresh))
		require.NoError(t, err)

		noVersion, _ := NewManagerAt(t, clk, edgeauth.Config{})
		unversioned := SignIn(t, noVersion, &edgeauth.User{ID: "fay"})
		_, err = m.Load(sessiontest.RequestCarrying("GET", "/", unversioned))
		require.ErrorIs(t, err, edgeauth.ErrRevoked, "a token without the version claim is rejected")

		_, err = m.Load(sessiontest.RequestCarrying("GET", "/", SignIn(t, m, &edgeauth.User{ID: "gus"})))
		require.ErrorIs(t, err, edgeauth.ErrRevocationUnavailable, "a failing lookup fails closed")
	})
}

const (
	// floodMax and floodBudget bound the flood; it runs at least its minimum whatever
	// the budget, so that a slow machine still floods far past every bound.
	floodMax    = 20_000
	floodBudget = 3 * time.Second
)

// Victims are the sessions a flood must not free: revoked before it, by every remedy.
type Victims struct {
	stolenAdmin  http.Header // a copy of alice's admin cookie, signed out
	aliceCurrent http.Header // alice's live session
	signedOut    []http.Header
	banned       http.Header
	carol, dave  http.Header // live until after the flood
}

// PrepareVictims signs users in and revokes them by every remedy.
func PrepareVictims(t *testing.T, m *edgeauth.Manager) *Victims {
	t.Helper()
	ctx := context.Background()
	v := &Victims{}
	v.stolenAdmin = SignIn(t, m, &edgeauth.User{ID: "alice", Attributes: map[string]any{"role": "admin"}})
	require.NoError(t, m.SignOut(httptest.NewRecorder(), sessiontest.RequestCarrying("POST", "/logout", v.stolenAdmin)))
	v.aliceCurrent = SignIn(t, m, &edgeauth.User{ID: "alice", Attributes: map[string]any{"role": "admin"}})
	for i := range 20 {
		h := SignIn(t, m, &edgeauth.User{ID: fmt.Sprint("user-", i)})
		require.NoError(t, m.SignOut(httptest.NewRecorder(), sessiontest.RequestCarrying("POST", "/logout", h)))
		v.signedOut = append(v.signedOut, h)
	}
	v.banned = SignIn(t, m, &edgeauth.User{ID: "erin"})
	require.NoError(t, m.RevokeUser(ctx, "erin"))
	v.carol = SignIn(t, m, &edgeauth.User{ID: "carol"})
	v.dave = SignIn(t, m, &edgeauth.User{ID: "dave"})
	return v
}

// Flood signs one account in and out, at least minCycles and at most floodMax times,
// within floodBudget once past the minimum; every sign-out must succeed.
func Flood(t *testing.T, m *edgeauth.Manager, minCycles int, tick func(cycle int)) int {
	t.Helper()
	start := time.Now()
	cycles := 0
	for cycles < floodMax && (cycles < minCycles || time.Since(start) < floodBudget) {
		if tick != nil {
			tick(cycles)
		}
		h := SignIn(t, m, &edgeauth.User{ID: "mallory"})
		if err := m.SignOut(httptest.NewRecorder(), sessiontest.RequestCarrying("POST", "/logout", h)); err != nil {
			t.Fatalf("sign-out %d of the flooding account failed: %v", cycles, err)
		}
		cycles++
	}
	t.Logf("%d sign-in/sign-out cycles of one account in %v", cycles, time.Since(start).Round(time.Millisecond))
	return cycles
}

// CheckVictims asserts that every revocation made before the flood holds and that
// revoking still works for everyone else.
func CheckVictims(t *testing.T, m *edgeauth.Manager, v *Victims) {
	t.Helper()
	ctx := context.Background()
	_, err := m.Load(sessiontest.RequestCarrying("GET", "/admin", v.stolenAdmin))
	require.ErrorIs(t, err, edgeauth.ErrRevoked, "a revoked admin cookie must stay revoked")
	s, err := m.Load(sessiontest.RequestCarrying("GET", "/admin", v.aliceCurrent))
	require.NoError(t, err, "alice's own session is untouched")
	assert.Equal(t, "admin", s.Role)
	for i, h := range v.signedOut {
		_, err := m.Load(sessiontest.RequestCarrying("GET", "/", h))
		require.ErrorIs(t, err, edgeauth.ErrRevoked, "user-%d", i)
	}
	_, err = m.Load(sessiontest.RequestCarrying("GET", "/", v.banned))
	require.ErrorIs(t, err, edgeauth.ErrRevoked, "the ban holds")

	// Other users' sign-out and ban work after the flood.
	require.NoError(t, m.SignOut(httptest.NewRecorder(), sessiontest.RequestCarrying("POST", "/logout", v.carol)))
	_, err = m.Load(sessiontest.RequestCarrying("GET", "/", v.carol))
	require.ErrorIs(t, err, edgeauth.ErrRevoked)
	require.NoError(t, m.RevokeUser(ctx, "dave"))
	_, err = m.Load(sessiontest.RequestCarrying("GET", "/", v.dave))
	require.ErrorIs(t, err, edgeauth.ErrRevoked)
	for i := range 20 {
		h := SignIn(t, m, &edgeauth.User{ID: fmt.Sprint("late-", i)})
		require.NoError(t, m.SignOut(httptest.NewRecorder(), sessiontest.RequestCarrying("POST", "/logout", h)))
		_, err = m.Load(sessiontest.RequestCarrying("GET", "/", h))
		require.ErrorIs(t, err, edgeauth.ErrRevoked)
	}
}

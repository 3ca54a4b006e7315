package edgeauth

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A read-only Manager never writes Set-Cookie, on any path, and refuses the
// calls whose job is to write it.
func TestReadOnly(t *testing.T) {
	clk := newClock(testNow)
	store := memStore(clk)
	var jwtCalls, events atomic.Int32
	cfg := Config{
		Store: store,
		Callbacks: Callbacks{JWT: func(ctx context.Context, p JWTParams) (*Token, error) {
			jwtCalls.Add(1)
			return roleCallback(ctx, p)
		}},
		Events: Events{
			SignIn:  func(context.Context, *User, *Token) { events.Add(1) },
			SignOut: func(context.Context, *Token) { events.Add(1) },
		},
		Rules: []Rule{{Pattern: "/admin/:path*", Roles: []string{"admin"}}, {Pattern: "/:path*"}},
	}
	owner, _ := newTestManagerAt(t, clk, cfg) // the app that owns the cookie
	cfg.ReadOnly = true
	ro, _ := newTestManagerAt(t, clk, cfg)

	live := signIn(t, owner, &User{ID: "alice", Attributes: map[string]any{"role": "admin"}})
	jwtCalls.Store(0)
	events.Store(0)
	tampered := http.Header{"Set-Cookie": {(&http.Cookie{Name: DefaultCookieName, Value: mwTamper(responseCookies(live)[0].Value)}).String()}}
	noCookies := func(t *testing.T, w *httptest.ResponseRecorder) {
		t.Helper()
		assert.Empty(t, w.Header().Values("Set-Cookie"))
	}

	t.Run("SignIn, Update and SignOut fail with ErrReadOnly and write nothing", func(t *testing.T) {
		w := httptest.NewRecorder()
		s, err := ro.SignIn(w, httptest.NewRequest("POST", "/login", nil), &User{ID: "bob"})
		assert.ErrorIs(t, err, ErrReadOnly)
		assert.Nil(t, s)
		noCookies(t, w)

		w = httptest.NewRecorder()
		s, err = ro.Update(w, requestCarrying("POST", "/", live), map[string]any{"role": "root"})
		assert.ErrorIs(t, err, ErrReadOnly)
		assert.Nil(t, s)
		noCookies(t, w)

		w = httptest.NewRecorder()
		assert.ErrorIs(t, ro.SignOut(w, requestCarrying("POST", "/logout", live)), ErrReadOnly)
		noCookies(t, w)
		assert.Equal(t, 0, store.size(), "a refused SignOut revokes nothing")
		assert.Zero(t, events.Load())
	})

	t.Run("no rolling refresh", func(t *testing.T) {
		clk.Advance(48 * time.Hour) // past UpdateAge
		defer clk.Advance(-48 * time.Hour)
		w := httptest.NewRecorder()
		s, err := ro.Refresh(w, requestCarrying("GET", "/", live))
		require.NoError(t, err)
		assert.Equal(t, "alice", s.UserID)
		noCookies(t, w)

		w = httptest.NewRecorder()
		ran := false
		ro.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { ran = true })).
			ServeHTTP(w, requestCarrying("GET", "/admin", live))
		assert.True(t, ran)
		noCookies(t, w)
		assert.Zero(t, jwtCalls.Load(), "the jwt callback belongs to the owner")

		// The owner would have re-issued.
		w = httptest.NewRecorder()
		_, err = owner.Refresh(w, requestCarrying("GET", "/", live))
		require.NoError(t, err)
		assert.NotEmpty(t, w.Header().Values("Set-Cookie"))
		jwtCalls.Store(0)
	})

	t.Run("bad, expired and revoked cookies are not cleared", func(t *testing.T) {
		w := httptest.NewRecorder()
		_, err := ro.Refresh(w, requestCarrying("GET", "/", tampered))
		assert.ErrorIs(t, err, ErrInvalidToken)
		noCookies(t, w)

		w = httptest.NewRecorder()
		ro.Handler(http.NotFoundHandler()).ServeHTTP(w, requestCarrying("GET", "/dashboard", tampered))
		assert.Equal(t, http.StatusSeeOther, w.Code, "still refused")
		noCookies(t, w)

		clk.Advance(31 * 24 * time.Hour)
		w = httptest.NewRecorder()
		_, err = ro.Refresh(w, requestCarrying("GET", "/", live))
		assert.ErrorIs(t, err, ErrExpired)
		noCookies(t, w)
		clk.Advance(-31 * 24 * time.Hour)

		s, err := ro.Load(requestCarrying("GET", "/", live))
		require.NoError(t, err)
		require.NoError(t, ro.RevokeToken(context.Background(), s.Token), "a read-only Manager still revokes")
		w = httptest.NewRecorder()
		_, err = ro.Refresh(w, requestCarrying("GET", "/", live))
		assert.ErrorIs(t, err, ErrRevoked)
		noCookies(t, w)
		w = httptest.NewRecorder()
		ro.SessionHandler().ServeHTTP(w, requestCarrying("GET", "/api/auth/session", live))
		assert.Equal(t, "null", w.Body.String())
		noCookies(t, w)
	})

	t.Run("the session endpoint answers without re-issuing", func(t *testing.T) {
		fresh := signIn(t, owner, &User{ID: "carol", Attributes: map[string]any{"role": "user"}})
		jwtCalls.Store(0)
		w := httptest.NewRecorder()
		ro.SessionHandler().ServeHTTP(w, requestCarrying("GET", "/api/auth/session", fresh))
		assert.Contains(t, w.Body.String(), `"expires":`)
		noCookies(t, w)
		assert.Zero(t, jwtCalls.Load())

		w = httptest.NewRecorder()
		ro.SessionHandler().ServeHTTP(w, requestCarrying("GET", "/api/auth/session", tampered))
		assert.Equal(t, "null", w.Body.String())
		noCookies(t, w)

		// The owner re-issues on every read.
		w = httptest.NewRecorder()
		owner.SessionHandler().ServeHTTP(w, requestCarrying("GET", "/api/auth/session", fresh))
		assert.NotEmpty(t, w.Header().Values("Set-Cookie"))
	})

	t.Run("the write primitives refuse too", func(t *testing.T) {
		w := httptest.NewRecorder()
		assert.ErrorIs(t, ro.issue(w, &Token{Subject: "x"}, nil, ""), ErrReadOnly)
		ro.clear(w, []string{DefaultCookieName})
		noCookies(t, w)
	})
}

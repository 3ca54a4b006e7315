package edgeauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// stubSource proves the sessions named by the "sid" cookie; "panic" and
// "nil" misbehave.
type stubSource map[string]Session

var errStubNoSession = errors.New("stub: no session")

func (src stubSource) Session(r *http.Request) (*Session, error) {
	c, err := r.Cookie("sid")
	if err != nil {
		return nil, errStubNoSession
	}
	switch c.Value {
	case "panic":
		panic("stub source")
	case "nil":
		return nil, nil
	case "leaky":
		return nil, fmt.Errorf("stub: lookup of %q failed", c.Value+"-token-value")
	}
	s, ok := src[c.Value]
	if !ok {
		return nil, errStubNoSession
	}
	s.User = map[string]any{}
	for k, v := range src[c.Value].User {
		s.User[k] = v
	}
	return &s, nil
}

func sourceManager(t *testing.T, cfg Config) *Manager {
	t.Helper()
	t.Setenv("AUTH_SECRET", "") // a Source needs no Auth.js secret
	cfg.Source = stubSource{
		"alice": {UserID: "alice", Role: "admin", Expires: time.Unix(testNow+3600, 0),
			User: map[string]any{"email": "alice@example.com", "plan": json.Number("3"), "team": "red\nblue"}},
		"bob": {UserID: "bob", Role: "user", User: map[string]any{"email": "bob@example.com"}},
		"cy":  {UserID: "cy", Role: "user,admin", Roles: []string{"user", "admin"}},
		"di":  {UserID: "di", Role: "admin", Roles: []string{"user"}},
	}
	m, err := New(cfg)
	require.NoError(t, err)
	return m
}

// A Manager with a Source decides on its sessions through the one decision
// path: rules, roles, identity headers, Require, FromContext; it never
// writes a cookie.
func TestSourceMiddleware(t *testing.T) {
	m := sourceManager(t, Config{
		Rules:        []Rule{{Pattern: "/admin/:path*", Roles: []string{"admin"}}, {Pattern: "/app/:path*"}},
		APIPrefixes:  []string{"/api"},
		ClaimHeaders: map[string]string{"x-user-email": "email", "x-user-plan": "plan", "x-user-team": "team"},
	})
	type seen struct {
		header http.Header
		userID string
		err    error
	}
	var got *seen
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := FromContext(r.Context())
		got = &seen{header: r.Header, err: err}
		if s != nil {
			got.userID = s.UserID
		}
	}))
	for _, tc := range []struct {
		name, path, sid string
		status          int
		location        string
		userID, email   string
	}{
		{name: "admin passes", path: "/admin/x", sid: "alice", userID: "alice", email: "alice@example.com"},
		{name: "user passes a guarded path", path: "/app", sid: "bob", userID: "bob", email: "bob@example.com"},
		{name: "wrong role", path: "/admin/x", sid: "bob", status: http.StatusForbidden},
		{name: "no session: browser", path: "/app?q=1", status: http.StatusSeeOther, location: "/login?callbackUrl=%2Fapp%3Fq%3D1"},
		{name: "unknown session", path: "/app", sid: "mallory", status: http.StatusSeeOther, location: "/login?callbackUrl=%2Fapp"},
		{name: "panicking source", path: "/app", sid: "panic", status: http.StatusSeeOther, location: "/login?callbackUrl=%2Fapp"},
		{name: "nil session, nil error", path: "/app", sid: "nil", status: http.StatusSeeOther, location: "/login?callbackUrl=%2Fapp"},
		{name: "public path, signed in", path: "/", sid: "alice", userID: "alice", email: "alice@example.com"},
		{name: "public path, signed out", path: "/"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got = nil
			r := httptest.NewRequest(http.MethodGet, tc.path, nil)
			if tc.sid != "" {
				r.AddCookie(&http.Cookie{Name: "sid", Value: tc.sid})
			}
			r.Header.Set("X-User-Id", "spoofed")
			r.Header.Set("x_user_role", "admin")
			r.Header.Set("X-User-Email", "spoofed@example.com")
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			assert.Empty(t, w.Header().Values("Set-Cookie"), "a Source's Manager never writes cookies")
			if tc.status != 0 {
				assert.Equal(t, tc.status, w.Code)
				assert.Equal(t, tc.location, w.Header().Get("Location"))
				assert.Nil(t, got)
				return
			}
			require.NotNil(t, got)
			assert.Equal(t, tc.userID, got.userID)
			assert.Equal(t, tc.userID, got.header.Get("X-User-Id"))
			assert.Equal(t, tc.email, got.header.Get("X-User-Email"))
			assert.Empty(t, got.header.Values("X_user_role"))
			if tc.userID == "" {
				assert.ErrorIs(t, got.err, ErrNoSession)
				assert.Empty(t, got.header.Values("X-User-Role"))
				return
			}
			assert.Empty(t, got.header.Get("X-User-Plan"), "only string fields are forwarded")
			assert.Empty(t, got.header.Values("X-User-Team"), "a control character drops the header")
		})
	}

	t.Run("API request without a session", func(t *testing.T) {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/api/app", nil))
		assert.Equal(t, http.StatusOK, w.Code, "no rule guards /api/app")
		w = httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/app/x", nil))
		assert.Equal(t, http.StatusUnauthorized, w.Code)
		assert.JSONEq(t, `{"error":"unauthorized"}`, w.Body.String())
	})
}

// Load, Check and Require: every "no session" is an ErrNoSession, with the
// Source's cause kept; a panic or (nil, nil) is ErrSource.
func TestSourceLoad(t *testing.T) {
	m := sourceManager(t, Config{Rules: []Rule{{Pattern: "/app/:path*"}}})
	req := func(sid string) *http.Request {
		r := httptest.NewRequest(http.MethodGet, "/app", nil)
		if sid != "" {
			r.AddCookie(&http.Cookie{Name: "sid", Value: sid})
		}
		return r
	}
	s, err := m.Load(req("alice"))
	require.NoError(t, err)
	assert.Equal(t, "alice", s.UserID)
	assert.Nil(t, s.Token)
	body, err := s.MarshalJSON()
	require.NoError(t, err)
	assert.JSONEq(t, `{"user":{"email":"alice@example.com","plan":3,"team":"red\nblue"},"expires":"2027-01-15T09:00:00.000Z"}`, string(body))

	_, err = m.Load(req(""))
	assert.ErrorIs(t, err, ErrNoSession)
	assert.ErrorIs(t, err, errStubNoSession, "the Source's cause is kept")
	for _, sid := range []string{"panic", "nil"} {
		_, err = m.Load(req(sid))
		assert.ErrorIs(t, err, ErrNoSession, sid)
		assert.ErrorIs(t, err, ErrSource, sid)
	}
	d := m.Check(req("mallory"))
	assert.Equal(t, http.StatusSeeOther, d.Status)
	assert.ErrorIs(t, d.Err, errStubNoSession)

	// Require without Handler verifies through the Source, and passes the
	// session on for FromContext.
	var fromCtx *Session
	guard := m.Require("admin")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fromCtx, _ = FromContext(r.Context())
	}))
	for sid, want := range map[string]int{"alice": http.StatusOK, "bob": http.StatusForbidden, "": http.StatusSeeOther, "panic": http.StatusSeeOther} {
		w := httptest.NewRecorder()
		fromCtx = nil
		guard.ServeHTTP(w, req(sid))
		assert.Equal(t, want, w.Code, sid)
		if want == http.StatusOK {
			require.NotNil(t, fromCtx)
			assert.Equal(t, sid, fromCtx.UserID)
		}
	}

	// The session endpoint reads, never writes.
	w := httptest.NewRecorder()
	m.SessionHandler().ServeHTTP(w, req("alice"))
	assert.Contains(t, w.Body.String(), `"alice@example.com"`)
	assert.Empty(t, w.Header().Values("Set-Cookie"))
}

// A Manager with a Source is read-only, needs no Auth.js secret, and
// refuses every Auth.js-only field, naming it.
func TestSourceConfig(t *testing.T) {
	m := sourceManager(t, Config{ReadOnly: true})
	w := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodPost, "/", nil)
	r.AddCookie(&http.Cookie{Name: "sid", Value: "alice"})
	_, err := m.SignIn(w, r, &User{ID: "alice"})
	assert.ErrorIs(t, err, ErrReadOnly)
	_, err = m.Update(w, r, nil)
	assert.ErrorIs(t, err, ErrReadOnly)
	assert.ErrorIs(t, m.SignOut(w, r), ErrReadOnly)
	s, err := m.Refresh(w, r)
	require.NoError(t, err)
	assert.Equal(t, "alice", s.UserID)
	assert.Empty(t, w.Header())
	assert.Equal(t, "", m.CookieName())
	assert.Nil(t, m.Codec())
	assert.ErrorIs(t, m.RevokeUser(context.Background(), "alice"), ErrNoStore)

	for field, cfg := range map[string]Config{
		"Secrets":            {Secrets: []string{"s"}},
		"Format":             {Format: FormatNextAuthV4},
		"Cookie":             {Cookie: CookieConfig{Secure: true}},
		"MaxAge":             {MaxAge: time.Hour},
		"UpdateAge":          {UpdateAge: time.Hour},
		"ClockTolerance":     {ClockTolerance: time.Second},
		"UserIDClaim":        {UserIDClaim: "id"},
		"RoleClaim":          {RoleClaim: "roles"},
		"Callbacks":          {Callbacks: Callbacks{Session: func(context.Context, SessionParams) (*Session, error) { return nil, nil }}},
		"Events.SignIn":      {Events: Events{SignIn: func(context.Context, *User, *Token) {}}},
		"Events.SignOut":     {Events: Events{SignOut: func(context.Context, *Token) {}}},
		"AllowBearer":        {AllowBearer: true},
		"Store":              {Store: NewMemoryStore(MemoryStoreConfig{})},
		"TokenVersion":       {TokenVersion: func(context.Context, string) (int64, error) { return 0, nil }},
		"VersionClaim":       {VersionClaim: "v"},
		"RevocationTimeout":  {RevocationTimeout: time.Second},
		"RevocationFailOpen": {RevocationFailOpen: true},
		"CacheSize":          {CacheSize: -1},
		"CacheBytes":         {CacheBytes: 1 << 20},
	} {
		cfg.Source = stubSource{}
		_, err := New(cfg)
		assert.ErrorIs(t, err, ErrConfig, field)
		if err != nil {
			assert.True(t, strings.Contains(err.Error(), ": "+field+" applies"), "%s: %v", field, err)
		}
	}
	_, err = New(Config{Source: stubSource{}, Rules: []Rule{{Pattern: "no-slash"}}})
	assert.Error(t, err, "the middleware's own settings are still checked")
}

// A misbehaving Source is logged: a warning for the operator, and the
// rejection with ErrSource as its reason.
func TestSourceLogs(t *testing.T) {
	var logs strings.Builder
	m := sourceManager(t, Config{
		Rules:         []Rule{{Pattern: "/app"}},
		Logger:        slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo})),
		LogRejections: true,
	})
	r := httptest.NewRequest(http.MethodGet, "/app", nil)
	r.AddCookie(&http.Cookie{Name: "sid", Value: "panic"})
	m.Handler(http.NotFoundHandler()).ServeHTTP(httptest.NewRecorder(), r)
	assert.Contains(t, logs.String(), `level=WARN msg="edgeauth: session source panicked"`)
	assert.Contains(t, logs.String(), `reason="edgeauth: session source failed"`)
}

// A Source's error text is never logged: it may quote the token it read.
func TestSourceErrorTextNotLogged(t *testing.T) {
	var logs strings.Builder
	m := sourceManager(t, Config{
		Rules:  []Rule{{Pattern: "/app"}},
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	r := httptest.NewRequest(http.MethodGet, "/app", nil)
	r.AddCookie(&http.Cookie{Name: "sid", Value: "leaky"})
	w := httptest.NewRecorder()
	m.Handler(http.NotFoundHandler()).ServeHTTP(w, r)
	assert.Equal(t, http.StatusSeeOther, w.Code)
	_, err := m.Load(r)
	assert.ErrorContains(t, err, "leaky-token-value", "the caller still gets the cause")
	assert.Contains(t, logs.String(), `msg="edgeauth: session source found no session"`)
	assert.NotContains(t, logs.String(), "token-value")
}

// A session with several roles is admitted by rules and Require when one of
// them is required; Roles, when set, is what counts, not Role.
func TestSourceSeveralRoles(t *testing.T) {
	m := sourceManager(t, Config{Rules: []Rule{{Pattern: "/admin/:path*", Roles: []string{"admin"}}}})
	for _, tc := range []struct {
		sid  string
		want int
	}{{"alice", 200}, {"bob", 403}, {"cy", 200}, {"di", 403}} {
		for name, h := range map[string]http.Handler{
			"rule":    m.Handler(http.NotFoundHandler()),
			"Require": m.Require("admin")(http.NotFoundHandler()),
		} {
			r := httptest.NewRequest("POST", "/admin/x", nil)
			r.Header.Set("Cookie", "sid="+tc.sid)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			got := w.Code
			if got == http.StatusNotFound {
				got = 200 // passed to next
			}
			assert.Equal(t, tc.want, got, "%s %s", name, tc.sid)
		}
	}
}

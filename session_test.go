package edgeauth

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSignInIssuesFreshCookie(t *testing.T) {
	var events []string
	m, _ := newTestManager(t, Config{
		Callbacks: Callbacks{JWT: roleCallback},
		Events: Events{SignIn: func(_ context.Context, u *User, tok *Token) {
			events = append(events, "signIn:"+u.ID+":"+tok.ID)
		}},
	})
	w := httptest.NewRecorder()
	s, err := m.SignIn(w, httptest.NewRequest("POST", "/login", nil),
		&User{ID: "alice", Name: "Alice", Email: "alice@example.com", Attributes: map[string]any{"role": "admin"}})
	require.NoError(t, err)
	assert.Equal(t, "alice", s.UserID)
	assert.Equal(t, "admin", s.Role)
	assert.Equal(t, "private, no-cache, no-store", w.Header().Get("Cache-Control"))

	cookies := responseCookies(w.Header())
	require.Len(t, cookies, 1)
	c := cookies[0]
	assert.Equal(t, "authjs.session-token", c.Name)
	assert.True(t, c.HttpOnly)
	assert.Equal(t, http.SameSiteLaxMode, c.SameSite)
	assert.Equal(t, "/", c.Path)
	assert.False(t, c.Secure)
	assert.Equal(t, int((30 * 24 * time.Hour).Seconds()), c.MaxAge)
	assert.Equal(t, int64(testNow+30*24*3600), c.Expires.Unix())

	tok, err := m.Codec().Decode(c.Value)
	require.NoError(t, err)
	assert.Equal(t, "alice", tok.Subject)
	assert.Equal(t, "Alice", tok.Name)
	assert.Equal(t, "admin", tok.StringClaim("role"))
	assert.Equal(t, []string{"signIn:alice:" + tok.ID}, events)

	// Signing in again over an existing session: a new jti, one cookie set.
	w2 := httptest.NewRecorder()
	_, err = m.SignIn(w2, requestCarrying("POST", "/login", w.Header()), &User{ID: "alice"})
	require.NoError(t, err)
	again := responseCookies(w2.Header())
	require.Len(t, again, 1)
	tok2, err := m.Codec().Decode(again[0].Value)
	require.NoError(t, err)
	assert.NotEqual(t, tok.ID, tok2.ID)
}

func TestSignUpTrigger(t *testing.T) {
	var triggers []Trigger
	m, _ := newTestManager(t, Config{Callbacks: Callbacks{JWT: func(_ context.Context, p JWTParams) (*Token, error) {
		triggers = append(triggers, p.Trigger)
		return p.Token, nil
	}}})
	signIn(t, m, &User{ID: "new", IsNew: true})
	signIn(t, m, &User{ID: "old"})
	assert.Equal(t, []Trigger{TriggerSignUp, TriggerSignIn}, triggers)
}

func TestLoad(t *testing.T) {
	m, clk := newTestManager(t, Config{Callbacks: Callbacks{JWT: roleCallback}})
	h := signIn(t, m, &User{ID: "bob", Attributes: map[string]any{"role": "user"}})

	s, err := m.Load(requestCarrying("GET", "/", h))
	require.NoError(t, err)
	assert.Equal(t, "bob", s.UserID)
	assert.Equal(t, "user", s.Role)

	_, err = m.Load(httptest.NewRequest("GET", "/", nil))
	assert.ErrorIs(t, err, ErrNoSession)
	assert.False(t, errors.Is(err, ErrInvalidToken), "a missing cookie is not an invalid token")

	clk.Advance(31 * 24 * time.Hour)
	_, err = m.Load(requestCarrying("GET", "/", h))
	assert.ErrorIs(t, err, ErrNoSession)
	assert.ErrorIs(t, err, ErrExpired)

	bad := httptest.NewRequest("GET", "/", nil)
	bad.AddCookie(&http.Cookie{Name: "authjs.session-token", Value: "garbage"})
	_, err = m.Load(bad)
	assert.ErrorIs(t, err, ErrNoSession)
	assert.ErrorIs(t, err, ErrInvalidToken)
}

func TestRefreshRollsExpiryAfterUpdateAge(t *testing.T) {
	var triggers []Trigger
	m, clk := newTestManager(t, Config{Callbacks: Callbacks{JWT: func(_ context.Context, p JWTParams) (*Token, error) {
		triggers = append(triggers, p.Trigger)
		return p.Token, nil
	}}})
	h := signIn(t, m, &User{ID: "carol"})
	first, err := m.Codec().Decode(responseCookies(h)[0].Value)
	require.NoError(t, err)

	clk.Advance(23 * time.Hour)
	w := httptest.NewRecorder()
	_, err = m.Refresh(w, requestCarrying("GET", "/", h))
	require.NoError(t, err)
	assert.Empty(t, w.Header().Values("Set-Cookie"), "younger than UpdateAge: no re-issue")

	clk.Advance(2 * time.Hour)
	w = httptest.NewRecorder()
	s, err := m.Refresh(w, requestCarrying("GET", "/", h))
	require.NoError(t, err)
	cookies := responseCookies(w.Header())
	require.Len(t, cookies, 1)
	second, err := m.Codec().Decode(cookies[0].Value)
	require.NoError(t, err)
	assert.Equal(t, first.ID, second.ID, "the jti survives rolling refresh")
	assert.Equal(t, first.Expires.Add(25*time.Hour), second.Expires)
	assert.Equal(t, second.Expires, s.Expires)
	assert.Equal(t, "private, no-cache, no-store", w.Header().Get("Cache-Control"))
	assert.Equal(t, []Trigger{TriggerSignIn, TriggerRefresh}, triggers)
}

func TestRefreshClearsBadAndEndedSessions(t *testing.T) {
	end := false
	m, clk := newTestManager(t, Config{UpdateAge: -1, Callbacks: Callbacks{JWT: func(_ context.Context, p JWTParams) (*Token, error) {
		if end && p.Trigger == TriggerRefresh {
			return nil, nil
		}
		return p.Token, nil
	}}})
	h := signIn(t, m, &User{ID: "dave"})

	end = true
	w := httptest.NewRecorder()
	_, err := m.Refresh(w, requestCarrying("GET", "/", h))
	assert.ErrorIs(t, err, ErrNoSession)
	assert.ErrorIs(t, err, ErrSessionEnded)
	assertCleared(t, w.Header(), "authjs.session-token")

	end = false
	clk.Advance(40 * 24 * time.Hour)
	w = httptest.NewRecorder()
	_, err = m.Refresh(w, requestCarrying("GET", "/", h))
	assert.ErrorIs(t, err, ErrExpired)
	assertCleared(t, w.Header(), "authjs.session-token")

	// No cookie at all: nothing to clear, nothing written.
	w = httptest.NewRecorder()
	_, err = m.Refresh(w, httptest.NewRequest("GET", "/", nil))
	assert.ErrorIs(t, err, ErrNoSession)
	assert.Empty(t, w.Header())
}

func TestUpdate(t *testing.T) {
	m, _ := newTestManager(t, Config{Callbacks: Callbacks{JWT: func(_ context.Context, p JWTParams) (*Token, error) {
		if p.Trigger == TriggerUpdate {
			data := p.Data.(map[string]string)
			p.Token.Name = data["name"]
		}
		return p.Token, nil
	}}})
	h := signIn(t, m, &User{ID: "erin", Name: "Erin"})
	w := httptest.NewRecorder()
	s, err := m.Update(w, requestCarrying("POST", "/", h), map[string]string{"name": "Erin B."})
	require.NoError(t, err)
	assert.Equal(t, "Erin B.", s.User["name"])
	s2, err := m.Load(requestCarrying("GET", "/", h, w.Header()))
	require.NoError(t, err)
	assert.Equal(t, "Erin B.", s2.User["name"])

	_, err = m.Update(httptest.NewRecorder(), httptest.NewRequest("POST", "/", nil), nil)
	assert.ErrorIs(t, err, ErrNoSession)
}

func TestSignOutClearsEveryChunk(t *testing.T) {
	var signedOut []*Token
	m, _ := newTestManager(t, Config{Events: Events{SignOut: func(_ context.Context, tok *Token) {
		signedOut = append(signedOut, tok)
	}}})
	big := strings.Repeat("x", 4000)
	h := signIn(t, m, &User{ID: "frank", Name: big})
	require.Len(t, responseCookies(h), 2, "a large token is chunked")

	w := httptest.NewRecorder()
	require.NoError(t, m.SignOut(w, requestCarrying("POST", "/logout", h)))
	assertCleared(t, w.Header(), "authjs.session-token", "authjs.session-token.0", "authjs.session-token.1")
	require.Len(t, signedOut, 1)
	require.NotNil(t, signedOut[0])
	assert.Equal(t, "frank", signedOut[0].Subject)

	// Signed out already: still clears the plain name, the event sees nil.
	w = httptest.NewRecorder()
	require.NoError(t, m.SignOut(w, httptest.NewRequest("POST", "/logout", nil)))
	assertCleared(t, w.Header(), "authjs.session-token")
	assert.Nil(t, signedOut[1])
}

func TestChunkTransitions(t *testing.T) {
	m, _ := newTestManager(t, Config{})
	big := signIn(t, m, &User{ID: "g", Name: strings.Repeat("y", 7000)})
	require.Len(t, responseCookies(big), 3)
	w := httptest.NewRecorder()
	_, err := m.SignIn(w, requestCarrying("POST", "/login", big), &User{ID: "g"})
	require.NoError(t, err)
	var live, cleared []string
	for _, c := range responseCookies(w.Header()) {
		if c.MaxAge < 0 {
			cleared = append(cleared, c.Name)
		} else {
			live = append(live, c.Name)
		}
	}
	assert.Equal(t, []string{"authjs.session-token"}, live)
	assert.ElementsMatch(t, []string{"authjs.session-token.0", "authjs.session-token.1", "authjs.session-token.2"}, cleared)

	_, err = m.SignIn(httptest.NewRecorder(), httptest.NewRequest("POST", "/", nil), &User{ID: "g", Name: strings.Repeat("z", 20000)})
	assert.ErrorIs(t, err, ErrSessionTooLarge)
}

func TestTooLargeWritesNothing(t *testing.T) {
	m, _ := newTestManager(t, Config{Cookie: CookieConfig{MaxChunks: 1}})
	w := httptest.NewRecorder()
	_, err := m.SignIn(w, httptest.NewRequest("POST", "/", nil), &User{ID: "h", Name: strings.Repeat("z", 5000)})
	assert.ErrorIs(t, err, ErrSessionTooLarge)
	assert.Empty(t, w.Header())
}

// TestIssueErrorsAreNotTokenErrors: a session the application asks to issue
// and that cannot be issued is ErrInvalidSession, never ErrInvalidToken,
// which is kept for tokens a client sent.
func TestIssueErrorsAreNotTokenErrors(t *testing.T) {
	badClaim := func(_ context.Context, p JWTParams) (*Token, error) {
		tok := p.Token.Clone()
		if tok.Claims == nil {
			tok.Claims = map[string]json.RawMessage{}
		}
		tok.Claims["role"] = json.RawMessage(`{"admin"`)
		return tok, nil
	}
	issueErr := func(t *testing.T, err error) {
		t.Helper()
		require.ErrorIs(t, err, ErrInvalidSession)
		require.NotErrorIs(t, err, ErrInvalidToken)
	}

	t.Run("Encode", func(t *testing.T) {
		c := newTestCodec(t, CodecConfig{})
		_, err := c.Encode(&Token{Subject: "a", Claims: map[string]json.RawMessage{"x": json.RawMessage("nope")}})
		issueErr(t, err)
	})
	t.Run("SignIn too large", func(t *testing.T) {
		m, _ := newTestManager(t, Config{Cookie: CookieConfig{MaxChunks: 1}})
		_, err := m.SignIn(httptest.NewRecorder(), httptest.NewRequest("POST", "/", nil), &User{ID: "h", Name: strings.Repeat("z", 5000)})
		require.ErrorIs(t, err, ErrSessionTooLarge)
		issueErr(t, err)
	})
	t.Run("SignIn with a jwt callback's bad claims", func(t *testing.T) {
		m, _ := newTestManager(t, Config{Callbacks: Callbacks{JWT: badClaim}})
		w := httptest.NewRecorder()
		_, err := m.SignIn(w, httptest.NewRequest("POST", "/", nil), &User{ID: "h"})
		issueErr(t, err)
		assert.Empty(t, w.Header().Values("Set-Cookie"))
	})
	t.Run("Update with a jwt callback's bad claims", func(t *testing.T) {
		m, _ := newTestManager(t, Config{Callbacks: Callbacks{JWT: func(ctx context.Context, p JWTParams) (*Token, error) {
			if p.Trigger == TriggerUpdate {
				return badClaim(ctx, p)
			}
			return p.Token, nil
		}}})
		h := signIn(t, m, &User{ID: "h"})
		_, err := m.Update(httptest.NewRecorder(), requestCarrying("POST", "/", h), nil)
		issueErr(t, err)
		require.ErrorIs(t, err, ErrNoSession, "Update's errors stay ErrNoSession ones")
	})
	t.Run("token rejections stay ErrInvalidToken", func(t *testing.T) {
		m, _ := newTestManager(t, Config{})
		r := httptest.NewRequest("GET", "/", nil)
		r.AddCookie(&http.Cookie{Name: m.CookieName(), Value: "not-a-token"})
		_, err := m.Load(r)
		require.ErrorIs(t, err, ErrInvalidToken)
		require.NotErrorIs(t, err, ErrInvalidSession)
		_, err = newTestCodec(t, CodecConfig{}).Decode("a.b.c.d.e")
		require.ErrorIs(t, err, ErrInvalidToken)
		require.NotErrorIs(t, err, ErrInvalidSession)
	})
}

func TestCallbackFailuresFailClosed(t *testing.T) {
	boom := errors.New("db down: password=hunter2")
	cases := map[string]Callbacks{
		"jwt error":       {JWT: func(context.Context, JWTParams) (*Token, error) { return nil, boom }},
		"jwt panic":       {JWT: func(context.Context, JWTParams) (*Token, error) { panic("boom") }},
		"session error":   {Session: func(context.Context, SessionParams) (*Session, error) { return nil, boom }},
		"session panic":   {Session: func(context.Context, SessionParams) (*Session, error) { panic("boom") }},
		"session nil":     {Session: func(context.Context, SessionParams) (*Session, error) { return nil, nil }},
		"jwt returns nil": {JWT: func(context.Context, JWTParams) (*Token, error) { return nil, nil }},
	}
	for name, cb := range cases {
		t.Run(name, func(t *testing.T) {
			m, _ := newTestManager(t, Config{Callbacks: cb})
			w := httptest.NewRecorder()
			s, err := m.SignIn(w, httptest.NewRequest("POST", "/", nil), &User{ID: "i"})
			assert.Nil(t, s)
			require.Error(t, err)
			assert.Empty(t, w.Header().Values("Set-Cookie"), "no half-set cookies")

			// The session endpoint answers null, never a 500 or the error text.
			good, _ := newTestManager(t, Config{})
			h := signIn(t, good, &User{ID: "i"})
			rec := httptest.NewRecorder()
			m.SessionHandler().ServeHTTP(rec, requestCarrying("GET", "/api/auth/session", h))
			assert.Equal(t, 200, rec.Code)
			assert.Equal(t, "null", rec.Body.String())
			assert.NotContains(t, rec.Body.String(), "hunter2")
		})
	}
}

func TestSessionHandler(t *testing.T) {
	m, clk := newTestManager(t, Config{Callbacks: Callbacks{JWT: roleCallback}})
	rec := httptest.NewRecorder()
	m.SessionHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/api/auth/session", nil))
	assert.Equal(t, 200, rec.Code)
	assert.Equal(t, "null", rec.Body.String())
	assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	assert.Equal(t, "private, no-cache, no-store", rec.Header().Get("Cache-Control"))
	assert.Equal(t, "0", rec.Header().Get("Expires"))
	assert.Equal(t, "no-cache", rec.Header().Get("Pragma"))

	h := signIn(t, m, &User{ID: "jo", Name: "Jo", Email: "jo@example.com", Attributes: map[string]any{"role": "admin"}})
	clk.Advance(time.Hour)
	rec = httptest.NewRecorder()
	m.SessionHandler().ServeHTTP(rec, requestCarrying("GET", "/api/auth/session", h))
	assert.Equal(t, 200, rec.Code)
	assert.JSONEq(t, `{"user":{"name":"Jo","email":"jo@example.com"},"expires":"2027-02-14T09:00:00.000Z"}`, rec.Body.String())
	cookies := responseCookies(rec.Header())
	require.Len(t, cookies, 1, "like Auth.js, every read re-issues the cookie")
	assert.Equal(t, int64(testNow+3600+30*24*3600), cookies[0].Expires.Unix())

	rec = httptest.NewRecorder()
	m.SessionHandler().ServeHTTP(rec, httptest.NewRequest("POST", "/api/auth/session", nil))
	assert.Equal(t, http.StatusMethodNotAllowed, rec.Code)
}

func TestSessionJSONShape(t *testing.T) {
	s := &Session{
		User:    map[string]any{"name": "A", "image": json.RawMessage("null")},
		Expires: time.Date(2026, 1, 2, 3, 4, 5, 600_000_000, time.UTC),
		Extra:   map[string]any{"accessToken": "<x>"},
	}
	b, err := s.MarshalJSON()
	require.NoError(t, err)
	assert.Equal(t, `{"user":{"image":null,"name":"A"},"expires":"2026-01-02T03:04:05.600Z","accessToken":"<x>"}`, string(b))
}

func TestNewConfigErrors(t *testing.T) {
	for _, name := range []string{"AUTH_SECRET", "AUTH_SECRET_1", "AUTH_SECRET_2", "AUTH_SECRET_3"} {
		t.Setenv(name, "")
	}
	_, err := New(Config{})
	assert.ErrorIs(t, err, ErrNoSecret)
	t.Setenv("AUTH_SECRET", "from-env")
	m, err := New(Config{})
	require.NoError(t, err)
	assert.Equal(t, "authjs.session-token", m.CookieName())
	m, err = New(Config{Cookie: CookieConfig{Secure: true}})
	require.NoError(t, err)
	assert.Equal(t, "__Secure-authjs.session-token", m.CookieName())
	assert.Equal(t, "__Secure-authjs.session-token", m.codec.salt, "the cookie name is the salt")
	m, err = New(Config{Format: FormatNextAuthV4})
	require.NoError(t, err)
	assert.Equal(t, "next-auth.session-token", m.CookieName())
	_, err = New(Config{Cookie: CookieConfig{Name: "__Host-s", Domain: "example.com"}})
	assert.ErrorIs(t, err, ErrConfig)
}

func TestBearerFallback(t *testing.T) {
	for _, allow := range []bool{false, true} {
		m, _ := newTestManager(t, Config{AllowBearer: allow})
		h := signIn(t, m, &User{ID: "kim"})
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", "Bearer "+responseCookies(h)[0].Value)
		s, err := m.Load(r)
		if !allow {
			assert.ErrorIs(t, err, ErrNoSession)
			continue
		}
		require.NoError(t, err)
		assert.Equal(t, "kim", s.UserID)

		// The cookie wins over the header.
		other := signIn(t, m, &User{ID: "lee"})
		r2 := requestCarrying("GET", "/", other)
		r2.Header.Set("Authorization", "Bearer "+responseCookies(h)[0].Value)
		s, err = m.Load(r2)
		require.NoError(t, err)
		assert.Equal(t, "lee", s.UserID)
	}
}

// Operators see failing callbacks and stores at warning level; clients'
// bad cookies stay at debug level; nothing secret reaches the log.
func TestLogging(t *testing.T) {
	var buf strings.Builder
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	m, _ := newTestManager(t, Config{Secrets: []string{"log-secret-value"}, Logger: logger, Callbacks: Callbacks{
		Session: func(context.Context, SessionParams) (*Session, error) { return nil, errors.New("db password=hunter2") },
	}})
	h := signInNoSession(t, m)
	_, err := m.Load(requestCarrying("GET", "/", h))
	require.ErrorIs(t, err, ErrCallback)
	bad := httptest.NewRequest("GET", "/", nil)
	bad.AddCookie(&http.Cookie{Name: "authjs.session-token", Value: "eyJhbGciOiJkaXIifQ..x.y.z"})
	_, _ = m.Load(bad)

	out := buf.String()
	assert.Contains(t, out, `level=WARN msg="edgeauth: session callback failed"`)
	assert.Contains(t, out, `level=DEBUG msg="edgeauth: token rejected"`)
	for _, secret := range []string{"hunter2", "log-secret-value", responseCookies(h)[0].Value[:40]} {
		assert.NotContains(t, out, secret)
	}
}

// signInNoSession issues a cookie with the codec directly, since the
// manager's own SignIn runs the (failing) session callback.
func signInNoSession(t *testing.T, m *Manager) http.Header {
	t.Helper()
	tok := &Token{Subject: "u"}
	raw, err := m.codec.Encode(tok)
	require.NoError(t, err)
	h := http.Header{}
	require.NoError(t, m.jar.write(h, raw, tok.Expires, m.now(), nil))
	return h
}

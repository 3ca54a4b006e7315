package edgeauth

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// requireMux guards routes where they are declared, on a plain ServeMux.
func requireMux(m *Manager) *http.ServeMux {
	mux := http.NewServeMux()
	me := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := FromContext(r.Context())
		if err != nil {
			http.Error(w, "no session in context", http.StatusInternalServerError)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"id": s.UserID, "header": r.Header.Get("X-User-Id")})
	})
	mux.Handle("GET /api/me", m.Require()(me))
	mux.Handle("GET /api/admin/stats", m.Require("admin")(me))
	mux.Handle("GET /reports", m.Require("admin", "auditor")(me))
	mux.Handle("GET /account", m.Require()(me))
	mux.Handle("/api/cors", m.Require()(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent) // a CORS middleware would answer the preflight
	})))
	mux.HandleFunc("GET /public", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "public") })
	return mux
}

type requireCase struct {
	name     string
	method   string
	target   string
	accept   string
	user     string
	header   http.Header
	status   int // 0: next ran
	location string
	body     string
	id       string // the session next saw
}

var requireCases = []requireCase{
	{name: "public route", target: "/public", body: "public"},
	{name: "API without session", target: "/api/me", accept: jsonAccept, status: 401, body: unauth},
	{name: "API prefix without session, browser Accept", target: "/api/me", status: 401, body: unauth},
	{name: "browser without session", target: "/account?tab=1", status: 303, location: login("%2Faccount%3Ftab%3D1")},
	{name: "signed in", target: "/account", user: "alice", id: "alice"},
	{name: "API signed in", target: "/api/me", user: "alice", id: "alice"},
	{name: "wrong role API", target: "/api/admin/stats", user: "alice", status: 403, body: forbid},
	{name: "wrong role browser", target: "/reports", user: "alice", status: 403, body: "Forbidden\n"},
	{name: "role admin", target: "/api/admin/stats", user: "root", id: "root"},
	{name: "one of several roles", target: "/reports", user: "audrey", id: "audrey"},
	{name: "spoofed role header changes nothing", target: "/api/admin/stats", user: "alice", header: spoof(), status: 403, body: forbid},
	{name: "POST is API-style", method: "POST", target: "/api/cors", status: 401, body: unauth},
	{name: "preflight passes without session", method: "OPTIONS", target: "/api/cors",
		header: http.Header{"Origin": {"https://app.example"}, "Access-Control-Request-Method": {"DELETE"}}, status: 204},
}

func (c requireCase) request(tokens map[string]string) *http.Request {
	method := c.method
	if method == "" {
		method = "GET"
	}
	r := httptest.NewRequest(method, c.target, nil)
	r.Header.Set("Accept", htmlAccept)
	if c.accept != "" {
		r.Header.Set("Accept", c.accept)
	}
	for k, v := range c.header {
		r.Header[k] = v
	}
	if c.user != "" {
		r.AddCookie(&http.Cookie{Name: DefaultCookieName, Value: tokens[c.user]})
	}
	return r
}

// Require behind Handler answers as the middleware answers on a guarded
// path; without Handler in front it verifies the session itself and
// reaches the same decisions.
func TestRequire(t *testing.T) {
	cfg := mwConfig(mwNow)
	cfg.Rules = nil // every route is guarded where it is declared
	m := mwNew(t, cfg)
	tokens := map[string]string{}
	for u := range mwUsers {
		tokens[u] = mwSignIn(t, m, u)
	}
	for _, front := range []string{"Handler", "alone"} {
		h := http.Handler(requireMux(m))
		if front == "Handler" {
			h = m.Handler(h)
		}
		for _, c := range requireCases {
			t.Run(front+"/"+c.name, func(t *testing.T) {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, c.request(tokens))
				status := c.status
				if status == 0 {
					status = 200
				}
				passed := status < 300
				assert.Equal(t, status, w.Code, w.Body.String())
				assert.Equal(t, c.location, w.Header().Get("Location"))
				if c.body != "" && !passed {
					assert.Equal(t, c.body, w.Body.String())
				}
				if c.id != "" {
					var got map[string]string
					require.NoError(t, json.Unmarshal(w.Body.Bytes(), &got))
					assert.Equal(t, c.id, got["id"], "the session reaches next in its context")
					if front == "Handler" {
						assert.Equal(t, c.id, got["header"], "Handler sets identity headers")
					}
				}
				if !passed {
					assert.Contains(t, w.Header().Get("Cache-Control"), "no-store")
				}
			})
		}
	}

	// UnauthorizedURL applies to browsers, as in Handler.
	cfg.UnauthorizedURL = "/unauthorized"
	mu := mwNew(t, cfg)
	w := httptest.NewRecorder()
	mu.Handler(requireMux(mu)).ServeHTTP(w, requireCase{target: "/reports", user: "alice"}.request(tokens))
	assert.Equal(t, 303, w.Code)
	assert.Equal(t, "/unauthorized", w.Header().Get("Location"))
}

// A session that Handler ended (here: the jwt callback ends it on its
// rolling refresh) stays ended for Require, which never verifies again what
// Handler decided.
func TestRequireTrustsHandlersVerdict(t *testing.T) {
	cfg := mwConfig(mwNow.Add(48 * time.Hour)) // past UpdateAge: Handler re-issues
	cfg.Rules = nil
	cfg.Callbacks.JWT = func(ctx context.Context, p JWTParams) (*Token, error) {
		if p.Trigger == TriggerRefresh {
			return nil, nil // the user was deleted, say
		}
		return mwJWT(ctx, p)
	}
	m := mwNew(t, cfg)
	tok := mwSignIn(t, mwNew(t, mwConfig(mwNow)), "alice")
	r := requireCase{target: "/api/me", user: "alice"}.request(map[string]string{"alice": tok})

	w := httptest.NewRecorder()
	m.Handler(requireMux(m)).ServeHTTP(w, r)
	assert.Equal(t, 401, w.Code)
	assert.NotEmpty(t, w.Header().Values("Set-Cookie"), "Handler cleared the ended session")

	// Load alone (no refresh) would accept the token: the verdict is Handler's.
	_, err := m.Load(r)
	require.NoError(t, err)
}

func TestRequireDetails(t *testing.T) {
	type call struct {
		status int
		err    error
	}
	var calls []call
	cfg := mwConfig(mwNow)
	cfg.Rules = nil
	cfg.ErrorHandler = func(w http.ResponseWriter, _ *http.Request, status int, err error) {
		calls = append(calls, call{status, err})
		w.WriteHeader(status)
	}
	m := mwNew(t, cfg)
	alice := mwSignIn(t, m, "alice")
	r := httptest.NewRequest("GET", "/x", nil)
	r.Header.Set("Accept", jsonAccept)
	r.AddCookie(&http.Cookie{Name: DefaultCookieName, Value: alice})
	w := httptest.NewRecorder()
	m.Handler(m.Require("admin")(http.NotFoundHandler())).ServeHTTP(w, r)
	m.Require()(nil).ServeHTTP(w, httptest.NewRequest("GET", "/x", nil))
	require.Len(t, calls, 2)
	assert.Equal(t, 403, calls[0].status)
	assert.ErrorIs(t, calls[0].err, ErrForbidden)
	assert.EqualError(t, calls[0].err, `edgeauth: forbidden by Require("admin")`)
	assert.Equal(t, 303, calls[1].status)
	assert.ErrorIs(t, calls[1].err, ErrNoSession)

	// Nested guards: the outer one's session serves the inner one.
	w = httptest.NewRecorder()
	var seen *Session
	m.Require()(m.Require("user")(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		seen, _ = FromContext(r.Context())
	}))).ServeHTTP(w, r)
	require.NotNil(t, seen)
	assert.Equal(t, "alice", seen.UserID)

	// No URL: 400, no panic. An empty role is a programming error.
	w = httptest.NewRecorder()
	m.Require()(http.NotFoundHandler()).ServeHTTP(w, &http.Request{Method: "GET", Header: http.Header{}})
	assert.Equal(t, 400, w.Code)
	assert.PanicsWithValue(t, "edgeauth: Require: empty role", func() { m.Require("admin", "") })

	// Behind Handler, FromContext tells why there is no session.
	var why error
	bad := httptest.NewRequest("GET", "/x", nil)
	bad.AddCookie(&http.Cookie{Name: DefaultCookieName, Value: mwTamper(alice)})
	m.Handler(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		_, why = FromContext(r.Context())
	})).ServeHTTP(httptest.NewRecorder(), bad)
	assert.ErrorIs(t, why, ErrNoSession)
	assert.ErrorIs(t, why, ErrDecrypt)

	// NewContext(ctx, nil) means "checked, no session".
	w = httptest.NewRecorder()
	checked := r.WithContext(NewContext(r.Context(), nil))
	m.Require()(http.NotFoundHandler()).ServeHTTP(w, checked)
	assert.Equal(t, 401, w.Code)
}

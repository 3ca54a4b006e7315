package edgeauth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/internal/testenv"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var mwNow = time.Unix(1_800_000_000, 0)

// mwJWT copies role and team from User.Attributes into the token, as the
// article's jwt callback does.
func mwJWT(_ context.Context, p JWTParams) (*Token, error) {
	if p.User != nil {
		for _, k := range []string{"role", "team"} {
			if v, ok := p.User.Attributes[k]; ok {
				if err := p.Token.SetClaim(k, v); err != nil {
					return nil, err
				}
			}
		}
	}
	return p.Token, nil
}

var mwRules = []Rule{
	{Pattern: "/dashboard/:path*"},
	{Pattern: "/admin/reports/:path*", Roles: []string{"admin", "auditor"}},
	{Pattern: "/admin/:path*", Roles: []string{"admin"}},
	{Pattern: "/settings/:id"},
	{Pattern: "/api/public/:path*", Public: true},
	{Pattern: "/api/:path+"},
	{Pattern: "/profile"},
	{Pattern: "/login/:path*"}, // would guard the login page itself
}

func mwConfig(now time.Time) Config {
	return Config{
		Secrets:      []string{"middleware-test-secret"},
		Now:          func() time.Time { return now },
		Callbacks:    Callbacks{JWT: mwJWT},
		Rules:        mwRules,
		APIPrefixes:  []string{"/api"},
		ClaimHeaders: map[string]string{"X-User-Email": "email", "X-User-Team": "team"},
	}
}

func mwNew(t testing.TB, cfg Config) *Manager {
	t.Helper()
	m, err := New(cfg)
	require.NoError(t, err)
	return m
}

// mwManagers share secret and cookie name, so cookies work across them.
func mwManagers(t testing.TB) map[string]*Manager {
	unauth := mwConfig(mwNow)
	unauth.UnauthorizedURL = "/unauthorized"
	unauth.Rules = append(append([]Rule{}, mwRules...), Rule{Pattern: "/unauthorized", Roles: []string{"admin"}})
	bearer := mwConfig(mwNow)
	bearer.AllowBearer = true
	return map[string]*Manager{
		"":       mwNew(t, mwConfig(mwNow)),
		"unauth": mwNew(t, unauth),
		"bearer": mwNew(t, bearer),
		"late":   mwNew(t, mwConfig(mwNow.Add(40*24*time.Hour))), // past MaxAge: expired
		"aged":   mwNew(t, mwConfig(mwNow.Add(48*time.Hour))),    // past UpdateAge: re-issued
	}
}

var mwUsers = map[string]*User{
	"alice":  {ID: "alice", Email: "alice@example.com", Attributes: map[string]any{"role": "user", "team": "red"}},
	"root":   {ID: "root", Attributes: map[string]any{"role": "admin"}},
	"audrey": {ID: "audrey", Attributes: map[string]any{"role": "auditor"}},
	// Control characters in claims must never reach a header.
	"eve": {ID: "eve", Email: "eve@example.com", Attributes: map[string]any{"role": "user\r\nX-Evil: 1", "team": "a\x00b"}},
}

// mwSignIn returns the session token of user, issued at mwNow.
func mwSignIn(t testing.TB, m *Manager, user string) string {
	t.Helper()
	rec := httptest.NewRecorder()
	_, err := m.SignIn(rec, httptest.NewRequest("GET", "/", nil), mwUsers[user])
	require.NoError(t, err)
	cs := rec.Result().Cookies()
	require.Len(t, cs, 1)
	require.Equal(t, m.CookieName(), cs[0].Name)
	return cs[0].Value
}

func mwTamper(tok string) string {
	b := []byte(tok)
	i := len(b) * 2 / 3
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

var mwIdentity = []string{"x-user-id", "x-user-role", "x-user-email", "x-user-team"}

// mwIdentityValues collects every value of every key that names an identity
// header, however spelled, so that leftovers of spoofed keys are seen.
func mwIdentityValues(h http.Header, name string) []string {
	var out []string
	for k, vs := range h {
		if sameHeader(k, name) {
			out = append(out, vs...)
		}
	}
	return out
}

const (
	htmlAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
	jsonAccept = "application/json"
)

// spoof holds client-sent identity headers: mixed case, several values,
// underscores and a non-canonical raw key, as a hand-built request may carry.
func spoof() http.Header {
	return http.Header{
		"X-User-Id":    {"root", "alice"},
		"x-user-role":  {"admin"},
		"X-USER-ROLE":  {"admin"},
		"X_User_Id":    {"root"},
		"x-User-Email": {"root@example.com"},
		"X-User-Team":  {"blue", "green"},
	}
}

type mwCase struct {
	name     string
	mgr      string
	method   string // "" means GET
	target   string
	accept   string // "" means htmlAccept, "-" none
	header   http.Header
	user     string // session cookie of this user
	cookie   string // "tampered": a corrupted cookie of user
	bearer   string // Authorization: Bearer token of this user
	status   int    // 0: next ran
	location string
	body     string            // exact response body, when set
	ids      map[string]string // identity headers next must see; all others absent
	setCook  bool              // the response sets cookies (refresh or clear)
}

var (
	aliceIDs = map[string]string{"x-user-id": "alice", "x-user-role": "user", "x-user-email": "alice@example.com", "x-user-team": "red"}
	rootIDs  = map[string]string{"x-user-id": "root", "x-user-role": "admin"}
	unauth   = `{"error":"unauthorized"}`
	forbid   = `{"error":"forbidden"}`
)

func login(cb string) string { return "/login?callbackUrl=" + cb }

var mwCases = []mwCase{
	// Pass-through paths, with and without a session.
	{name: "public anonymous", target: "/"},
	{name: "public signed in gets identity", target: "/about", user: "alice", ids: aliceIDs},
	{name: "public spoofed anonymous", target: "/about", header: spoof()},
	{name: "public spoofed signed in", target: "/about", header: spoof(), user: "alice", ids: aliceIDs},
	{name: "public api anonymous", target: "/api/public/x", accept: jsonAccept},
	{name: "api root not covered by :path+", target: "/api", accept: jsonAccept},
	{name: "settings without id", target: "/settings"},
	{name: "profile literal is exact", target: "/profiles"},
	{name: "adminx is not admin", target: "/adminx", header: spoof()},
	{name: "control characters dropped", target: "/about", user: "eve",
		ids: map[string]string{"x-user-id": "eve", "x-user-email": "eve@example.com"}},

	// No session on a guarded path.
	{name: "dashboard redirects", target: "/dashboard", status: 303, location: login("%2Fdashboard")},
	{name: "callback keeps path and query", target: "/dashboard/a/b?x=1&y=%2F", status: 303,
		location: login("%2Fdashboard%2Fa%2Fb%3Fx%3D1%26y%3D%252F")},
	{name: "spoofed protected anonymous", target: "/dashboard", header: spoof(), status: 303, location: login("%2Fdashboard")},
	{name: "HEAD redirects", method: "HEAD", target: "/dashboard", status: 303, location: login("%2Fdashboard")},
	{name: "no Accept is a browser", target: "/profile", accept: "-", status: 303, location: login("%2Fprofile")},
	{name: "HTML and JSON is a browser", target: "/settings/7", accept: "application/json, text/html", status: 303, location: login("%2Fsettings%2F7")},
	{name: "Accept JSON gets 401", target: "/dashboard", accept: jsonAccept, status: 401, body: unauth},
	{name: "HTML q=0 gets 401", target: "/dashboard", accept: "text/html;q=0, application/json", status: 401, body: unauth},
	{name: "POST gets 401", method: "POST", target: "/dashboard", status: 401, body: unauth},
	{name: "API prefix gets 401", target: "/api/orders", status: 401, body: unauth},
	{name: "API prefix spoofed", target: "/api/orders", header: spoof(), status: 401, body: unauth},

	// Path tricks: every reading of the path is checked.
	{name: "upper case", target: "/ADMIN", status: 303, location: login("%2FADMIN")},
	{name: "double slash", target: "//admin", status: 303, location: login("%2F")},
	{name: "dot dot into admin", target: "/public/../admin", status: 303, location: login("%2F")},
	{name: "trailing slash", target: "/admin/", status: 303, location: login("%2Fadmin%2F")},
	{name: "dot segment", target: "/admin/./x", status: 303, location: login("%2F")},
	{name: "encoded slash", target: "/admin%2Fx", status: 303, location: login("%2Fadmin%252Fx")},
	{name: "encoded dots out of x", target: "/x%2F..%2Fadmin", status: 303, location: login("%2F")},
	{name: "dot dot out of admin (chi routes it to admin)", target: "/admin/../public", status: 303, location: login("%2F")},
	{name: "encoded dot dot out of admin", target: "/admin/%2e%2e/public", status: 303, location: login("%2F")},
	{name: "backslash", target: `/admin\x`, status: 303, location: login("%2F")},

	// The login page is never guarded, though /login/:path* matches it.
	{name: "login page", target: "/login?callbackUrl=%2Fdashboard", header: spoof()},
	{name: "login page signed in", target: "/login", user: "alice", ids: aliceIDs},
	{name: "below login is guarded", target: "/login/x", status: 303, location: login("%2Flogin%2Fx")},
	{name: "login case variant is guarded", target: "/LOGIN", status: 303, location: login("%2FLOGIN")},
	{name: "login via dot dot is guarded", target: "/admin/../login", status: 303, location: login("%2F")},

	// Roles.
	{name: "admin passes", target: "/admin/x", user: "root", ids: rootIDs},
	{name: "admin spoofed passes with own identity", target: "/admin", user: "root", header: spoof(), ids: rootIDs},
	{name: "wrong role 403", target: "/admin", user: "alice", status: 403, body: "Forbidden\n"},
	{name: "wrong role upper case 403", target: "/ADMIN/users", user: "alice", status: 403, body: "Forbidden\n"},
	{name: "wrong role JSON 403", target: "/admin", user: "alice", accept: jsonAccept, status: 403, body: forbid},
	{name: "wrong role redirect", mgr: "unauth", target: "/admin", user: "alice", status: 303, location: "/unauthorized"},
	{name: "wrong role POST with redirect configured", mgr: "unauth", method: "POST", target: "/admin", user: "alice", status: 403, body: forbid},
	{name: "unauthorized page never guarded", mgr: "unauth", target: "/unauthorized", user: "alice", ids: aliceIDs},
	{name: "most specific rule wins", target: "/admin/reports/q", user: "audrey",
		ids: map[string]string{"x-user-id": "audrey", "x-user-role": "auditor"}},
	{name: "auditor outside reports", target: "/admin/users", user: "audrey", status: 403, body: "Forbidden\n"},
	{name: "auditor dot dot out of reports", target: "/admin/reports/../users", user: "audrey", status: 403, body: "Forbidden\n"},
	{name: "admin on reports", target: "/admin/reports", user: "root", ids: rootIDs},

	// OPTIONS: preflights pass without a session and without identity.
	{name: "preflight anonymous", method: "OPTIONS", target: "/admin",
		header: http.Header{"Origin": {"https://app.example"}, "Access-Control-Request-Method": {"DELETE"}}},
	{name: "preflight ignores cookie and spoof", method: "OPTIONS", target: "/dashboard", user: "alice",
		header: mergeHeader(spoof(), http.Header{"Origin": {"https://app.example"}, "Access-Control-Request-Method": {"POST"}})},
	{name: "plain OPTIONS is guarded", method: "OPTIONS", target: "/dashboard", status: 401, body: unauth},

	// Bad and old cookies.
	{name: "expired cookie", mgr: "late", target: "/dashboard", user: "alice", status: 303, location: login("%2Fdashboard"), setCook: true},
	{name: "tampered cookie", target: "/dashboard", user: "alice", cookie: "tampered", status: 303, location: login("%2Fdashboard"), setCook: true},
	{name: "tampered cookie on public path", target: "/about", user: "alice", cookie: "tampered", header: spoof(), setCook: true},
	{name: "rolling refresh", mgr: "aged", target: "/dashboard", user: "alice", ids: aliceIDs, setCook: true},

	// Bearer fallback.
	{name: "Bearer on", mgr: "bearer", target: "/admin", bearer: "root", ids: rootIDs},
	{name: "Bearer off", target: "/admin", bearer: "root", status: 303, location: login("%2Fadmin")},
	{name: "Bearer cookie wins", mgr: "bearer", target: "/admin", user: "alice", bearer: "root", status: 403, body: "Forbidden\n"},
	// A bad bearer token is rejected without touching cookies the client never sent.
	{name: "Bearer garbage", mgr: "bearer", target: "/dashboard", accept: jsonAccept,
		header: http.Header{"Authorization": {"Bearer not-a-token"}}, status: 401, body: unauth, setCook: false},
}

func mergeHeader(a, b http.Header) http.Header {
	for k, v := range b {
		a[k] = v
	}
	return a
}

func (c mwCase) request(t *testing.T, tokens map[string]string) *http.Request {
	method := c.method
	if method == "" {
		method = "GET"
	}
	r := httptest.NewRequest(method, c.target, nil)
	switch c.accept {
	case "":
		r.Header.Set("Accept", htmlAccept)
	case "-":
	default:
		r.Header.Set("Accept", c.accept)
	}
	for k, v := range c.header {
		r.Header[k] = append([]string(nil), v...) // raw keys, not canonicalized
	}
	if c.user != "" {
		tok := tokens[c.user]
		if c.cookie == "tampered" {
			tok = mwTamper(tok)
		}
		r.AddCookie(&http.Cookie{Name: "authjs.session-token", Value: tok})
	}
	if c.bearer != "" {
		r.Header.Set("Authorization", "Bearer "+tokens[c.bearer])
	}
	return r
}

func TestMiddlewareSpec(t *testing.T) {
	ms := mwManagers(t)
	tokens := map[string]string{}
	for u := range mwUsers {
		tokens[u] = mwSignIn(t, ms[""], u)
	}
	for _, c := range mwCases {
		t.Run(c.name, func(t *testing.T) {
			m := ms[c.mgr]
			require.NotNil(t, m)
			r := c.request(t, tokens)
			before := r.Header.Clone()

			var ran bool
			var seen *http.Request
			h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				ran, seen = true, r
				_, _ = io.WriteString(w, "next")
			}))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			res := rec.Result()
			body, _ := io.ReadAll(res.Body)

			assert.Equal(t, before, r.Header, "the caller's request headers must not change")
			if c.status == 0 {
				require.True(t, ran, "next should run; got %d %q", res.StatusCode, body)
				assert.Equal(t, 200, res.StatusCode)
				for _, name := range mwIdentity {
					got := mwIdentityValues(seen.Header, name)
					if want, ok := c.ids[name]; ok {
						assert.Equal(t, []string{want}, got, name)
					} else {
						assert.Empty(t, got, name)
					}
				}
				s, err := FromContext(seen.Context())
				if id := c.ids["x-user-id"]; id != "" {
					require.NoError(t, err)
					assert.Equal(t, id, s.UserID)
				} else {
					assert.ErrorIs(t, err, ErrNoSession)
					assert.Nil(t, s)
				}
			} else {
				require.False(t, ran, "next must not run")
				assert.Equal(t, c.status, res.StatusCode)
				assert.Equal(t, c.location, res.Header.Get("Location"))
				assert.Contains(t, res.Header.Get("Cache-Control"), "no-store")
				if c.body != "" && r.Method != "HEAD" {
					assert.Equal(t, c.body, string(body))
				}
				if strings.HasPrefix(c.body, "{") {
					assert.Equal(t, "application/json", res.Header.Get("Content-Type"))
				}
				assert.NotContains(t, string(body), "edgeauth")
			}
			assert.Equal(t, c.setCook, len(res.Header.Values("Set-Cookie")) > 0, "Set-Cookie: %q", res.Header.Values("Set-Cookie"))

			// Check decides the same without writing anything.
			d := m.Check(c.request(t, tokens))
			assert.Equal(t, c.status, d.Status)
			assert.Equal(t, c.location, d.Location)
			assert.Equal(t, d.Status == 0, d.Err == nil)
			switch d.Status {
			case 401:
				assert.ErrorIs(t, d.Err, ErrNoSession)
				assert.True(t, d.API)
			case 403:
				assert.ErrorIs(t, d.Err, ErrForbidden)
				require.NotNil(t, d.Session)
				rule, ok := d.Rule()
				require.True(t, ok)
				assert.NotEmpty(t, rule.Roles)
			case 303:
				if strings.HasPrefix(c.location, "/login") {
					assert.ErrorIs(t, d.Err, ErrNoSession)
				} else {
					assert.ErrorIs(t, d.Err, ErrForbidden)
				}
			}
		})
	}
}

func TestMiddlewareCheckDetails(t *testing.T) {
	ms := mwManagers(t)
	m := ms[""]
	alice := mwSignIn(t, m, "alice")
	req := func(target string) *http.Request {
		r := httptest.NewRequest("GET", target, nil)
		r.AddCookie(&http.Cookie{Name: m.CookieName(), Value: alice})
		return r
	}

	d := m.Check(req("/dashboard/x"))
	assert.Equal(t, 0, d.Status)
	rule, ok := d.Rule()
	require.True(t, ok)
	assert.Equal(t, "/dashboard/:path*", rule.Pattern)
	require.NotNil(t, d.Session)
	assert.Equal(t, "alice", d.Session.UserID)

	d = m.Check(req("/about"))
	rule, ok = d.Rule()
	assert.False(t, ok)
	assert.Zero(t, rule)
	require.NotNil(t, d.Session)

	d = m.Check(req("/admin/reports/../users"))
	assert.Equal(t, 403, d.Status)
	rule, _ = d.Rule()
	assert.Equal(t, "/admin/reports/:path*", rule.Pattern, "the most specific rule decides")

	// The returned rule is a copy: changing it changes neither the Manager
	// nor the same decision read again.
	d = m.Check(req("/admin"))
	rule, _ = d.Rule()
	rule.Roles[0] = "user"
	assert.Equal(t, 403, m.Check(req("/admin")).Status)
	again, _ := d.Rule()
	assert.NotEqual(t, "user", again.Roles[0])

	// Expired token: the cause is kept under ErrNoSession.
	d = ms["late"].Check(req("/dashboard"))
	assert.Equal(t, 303, d.Status)
	assert.ErrorIs(t, d.Err, ErrNoSession)
	assert.ErrorIs(t, d.Err, ErrExpired)

	// Check never re-issues: the aged manager would.
	assert.Equal(t, 0, ms["aged"].Check(req("/dashboard")).Status)

	// No URL: refused, no panic.
	assert.Equal(t, 400, m.Check(&http.Request{Method: "GET"}).Status)
	assert.Equal(t, 400, m.Check(nil).Status)
	rec := httptest.NewRecorder()
	m.Handler(nil).ServeHTTP(rec, &http.Request{Method: "GET", Header: http.Header{}})
	assert.Equal(t, 400, rec.Code)
}

func TestMiddlewareErrorHandler(t *testing.T) {
	type call struct {
		status   int
		err      error
		location string
		ctype    string
	}
	var calls []call
	cfg := mwConfig(mwNow)
	cfg.ErrorHandler = func(w http.ResponseWriter, r *http.Request, status int, err error) {
		calls = append(calls, call{status, err, w.Header().Get("Location"), w.Header().Get("Content-Type")})
		w.WriteHeader(418)
	}
	m := mwNew(t, cfg)
	alice := mwSignIn(t, m, "alice")
	h := m.Handler(http.NotFoundHandler())

	serve := func(method, target, accept string, cookie bool) int {
		r := httptest.NewRequest(method, target, nil)
		r.Header.Set("Accept", accept)
		if cookie {
			r.AddCookie(&http.Cookie{Name: m.CookieName(), Value: alice})
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec.Code
	}
	assert.Equal(t, 418, serve("GET", "/dashboard", htmlAccept, false))
	assert.Equal(t, 418, serve("POST", "/dashboard", htmlAccept, false))
	assert.Equal(t, 418, serve("GET", "/admin", jsonAccept, true))
	require.Len(t, calls, 3)
	assert.Equal(t, 303, calls[0].status)
	assert.ErrorIs(t, calls[0].err, ErrNoSession)
	assert.Equal(t, login("%2Fdashboard"), calls[0].location)
	assert.Equal(t, 401, calls[1].status)
	assert.Equal(t, "application/json", calls[1].ctype)
	assert.ErrorIs(t, calls[1].err, ErrNoSession)
	assert.Equal(t, 403, calls[2].status)
	assert.ErrorIs(t, calls[2].err, ErrForbidden)
}

func TestMiddlewareBearerChallenge(t *testing.T) {
	m := mwManagers(t)["bearer"]
	r := httptest.NewRequest("GET", "/api/x", nil)
	rec := httptest.NewRecorder()
	m.Handler(http.NotFoundHandler()).ServeHTTP(rec, r)
	assert.Equal(t, 401, rec.Code)
	assert.Equal(t, "Bearer", rec.Header().Get("WWW-Authenticate"))
}

func TestMiddlewareConfigErrors(t *testing.T) {
	for name, mod := range map[string]func(*Config){
		"regexp pattern":      func(c *Config) { c.Rules = []Rule{{Pattern: "/((?!api).*)"}} },
		"relative pattern":    func(c *Config) { c.Rules = []Rule{{Pattern: "admin/:path*"}} },
		"public with roles":   func(c *Config) { c.Rules = []Rule{{Pattern: "/a", Public: true, Roles: []string{"x"}}} },
		"empty role":          func(c *Config) { c.Rules = []Rule{{Pattern: "/a", Roles: []string{""}}} },
		"login relative":      func(c *Config) { c.LoginURL = "login" },
		"login off-site":      func(c *Config) { c.LoginURL = "//evil.example/login" },
		"login unclean":       func(c *Config) { c.LoginURL = "/a/../login" },
		"login trailing":      func(c *Config) { c.LoginURL = "/login/" },
		"login scheme":        func(c *Config) { c.LoginURL = "javascript:alert(1)" },
		"unauthorized path":   func(c *Config) { c.UnauthorizedURL = `/\evil.example` },
		"api prefix relative": func(c *Config) { c.APIPrefixes = []string{"api"} },
		"api prefix param":    func(c *Config) { c.APIPrefixes = []string{"/api/:v"} },
		"origin no scheme":    func(c *Config) { c.Origin = "good.example" },
		"origin path":         func(c *Config) { c.Origin = "https://good.example/app" },
		"origin userinfo":     func(c *Config) { c.Origin = "https://u@good.example" },
		"origin ftp":          func(c *Config) { c.Origin = "ftp://good.example" },
		"header space":        func(c *Config) { c.UserIDHeader = "x user" },
		"header cookie":       func(c *Config) { c.RoleHeader = "cookie" },
		"header authz":        func(c *Config) { c.ClaimHeaders = map[string]string{"Authorization": "sub"} },
		"header duplicate":    func(c *Config) { c.ClaimHeaders = map[string]string{"X_User_Id": "sub"} },
		"claim empty":         func(c *Config) { c.ClaimHeaders = map[string]string{"X-Team": ""} },
	} {
		t.Run(name, func(t *testing.T) {
			cfg := mwConfig(mwNow)
			mod(&cfg)
			_, err := New(cfg)
			assert.ErrorIs(t, err, ErrConfig)
		})
	}
	cfg := mwConfig(mwNow)
	cfg.LoginURL = "https://auth.good.example/signin?x=1"
	cfg.Origin = "HTTPS://Good.Example/"
	m := mwNew(t, cfg)
	d := m.Check(httptest.NewRequest("GET", "/dashboard?a=b", nil))
	assert.Equal(t, "https://auth.good.example/signin?callbackUrl=https%3A%2F%2Fgood.example%2Fdashboard%3Fa%3Db&x=1", d.Location)
}

func TestMiddlewareCustomHeaders(t *testing.T) {
	cfg := mwConfig(mwNow)
	cfg.UserIDHeader, cfg.RoleHeader = "X-Auth-Sub", "X-Auth-Role"
	cfg.ClaimHeaders = map[string]string{"X-Auth-Email": "email"}
	m := mwNew(t, cfg)
	r := httptest.NewRequest("GET", "/about", nil)
	r.Header["x-auth-sub"] = []string{"root"}
	r.Header["X-User-Id"] = []string{"kept"} // not an identity header here
	r.AddCookie(&http.Cookie{Name: m.CookieName(), Value: mwSignIn(t, m, "alice")})
	var seen http.Header
	m.Handler(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { seen = r.Header })).ServeHTTP(httptest.NewRecorder(), r)
	assert.Equal(t, []string{"alice"}, mwIdentityValues(seen, "X-Auth-Sub"))
	assert.Equal(t, []string{"user"}, mwIdentityValues(seen, "X-Auth-Role"))
	assert.Equal(t, []string{"alice@example.com"}, mwIdentityValues(seen, "X-Auth-Email"))
	assert.Equal(t, []string{"kept"}, seen["X-User-Id"])
}

// The same request served concurrently: the race detector sees any write
// to the caller's header map.
func TestMiddlewareConcurrentRequestUntouched(t *testing.T) {
	m := mwManagers(t)["aged"]
	r := httptest.NewRequest("GET", "/dashboard", nil)
	for k, v := range spoof() {
		r.Header[k] = v
	}
	r.AddCookie(&http.Cookie{Name: m.CookieName(), Value: mwSignIn(t, mwManagers(t)[""], "alice")})
	before := r.Header.Clone()
	h := m.Handler(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		r.Header.Add("X-Downstream", "1")
		if got := mwIdentityValues(r.Header, "x-user-id"); len(got) != 1 || got[0] != "alice" {
			t.Errorf("x-user-id = %q", got)
		}
	}))
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 20 {
				h.ServeHTTP(httptest.NewRecorder(), r)
			}
		})
	}
	wg.Wait()
	assert.Equal(t, before, r.Header)
}

func TestMiddlewareContext(t *testing.T) {
	s, err := FromContext(context.Background())
	assert.Nil(t, s)
	assert.ErrorIs(t, err, ErrNoSession)
	//lint:ignore SA1012 a nil context must not panic
	s, err = FromContext(nil)
	assert.Nil(t, s)
	assert.ErrorIs(t, err, ErrNoSession)
	_, err = FromContext(NewContext(context.Background(), nil))
	assert.ErrorIs(t, err, ErrNoSession)
	//lint:ignore SA1029 a foreign string key is not ours
	_, err = FromContext(context.WithValue(context.Background(), "edgeauth", &Session{}))
	assert.ErrorIs(t, err, ErrNoSession)
	want := &Session{UserID: "alice"}
	//lint:ignore SA1012 a nil parent is tolerated
	got, err := FromContext(NewContext(nil, want))
	require.NoError(t, err)
	assert.Same(t, want, got)
	assert.False(t, errors.Is(err, ErrNoSession))
}

// Exceptions never grow beyond what they name: a Public rule matches case
// exactly, and a login page on another host exempts nothing here.
func TestMiddlewareExceptionsDoNotWiden(t *testing.T) {
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(200) })
	serve := func(m *Manager, target string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		m.Handler(next).ServeHTTP(rec, httptest.NewRequest("GET", target, nil))
		return rec
	}

	m := mwNew(t, Config{Secrets: []string{"s"}, Rules: []Rule{
		{Pattern: "/api/health", Public: true},
		{Pattern: "/api/:path*"},
	}})
	assert.Equal(t, 200, serve(m, "/api/health").Code)
	for _, target := range []string{"/api/HEALTH", "/api/Health", "/API/health", "/api/health/x"} {
		assert.Equal(t, 303, serve(m, target).Code, target)
	}

	for _, cfg := range []Config{
		{LoginURL: "https://accounts.example.net/", Rules: []Rule{{Pattern: "/:path*"}}},
		{LoginURL: "https://accounts.example.net/admin", Rules: []Rule{{Pattern: "/admin/:path*", Roles: []string{"admin"}}}},
		{UnauthorizedURL: "https://help.example.net/admin", Rules: []Rule{{Pattern: "/admin/:path*"}}},
	} {
		cfg.Secrets = []string{"s"}
		m := mwNew(t, cfg)
		for _, target := range []string{"/", "/admin"} {
			if d := m.Check(httptest.NewRequest("GET", target, nil)); d.rule != nil {
				assert.NotZero(t, d.Status, "%s with %+v", target, cfg.Rules)
			}
		}
	}
	// The same login page on our own origin stays reachable.
	own := mwNew(t, Config{Secrets: []string{"s"}, Origin: "https://app.example", LoginURL: "https://app.example/login",
		Rules: []Rule{{Pattern: "/:path*"}}})
	assert.Equal(t, 200, serve(own, "/login").Code)
	assert.Equal(t, 303, serve(own, "/dashboard").Code)
}

// A client cannot make a reverse proxy behind the middleware drop the
// identity headers by naming them hop-by-hop in Connection.
func TestMiddlewareConnectionCannotDropIdentity(t *testing.T) {
	var got http.Header
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = r.Header.Clone() }))
	defer backend.Close()
	target, err := url.Parse(backend.URL)
	require.NoError(t, err)
	m := mwNew(t, mwConfig(mwNow))
	front := httptest.NewServer(m.Handler(httputil.NewSingleHostReverseProxy(target)))
	defer front.Close()

	req, err := http.NewRequest("GET", front.URL+"/dashboard", nil)
	require.NoError(t, err)
	req.AddCookie(&http.Cookie{Name: m.CookieName(), Value: mwSignIn(t, m, "alice")})
	req.Header.Set("Connection", "X-User-Role, x-user-id, X-Debug")
	req.Header.Set("X-Debug", "1")
	resp, err := front.Client().Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "alice", got.Get("X-User-Id"))
	assert.Equal(t, "user", got.Get("X-User-Role"))
	assert.Empty(t, got.Get("X-Debug"), "other hop-by-hop names still work")
}

// TestMiddlewareWarmAllocations pins what a cached session costs through
// Handler, on benchMiddleware's request: the copy next gets (the request,
// its header map, one array for the header values, the context value
// holding the session) and the session's own User map, 7 allocations;
// reading the cookie, the cache hit, the revocation check on a MemoryStore
// and the rules allocate nothing. A request without a session cookie costs
// no allocation. Run without -race (.ci/run's -run Allocat pass).
func TestMiddlewareWarmAllocations(t *testing.T) {
	m, _ := newTestManager(t, Config{
		Rules: []Rule{{Pattern: "/dashboard/:path*"}, {Pattern: "/admin/:path*", Roles: []string{"admin"}}},
		Store: NewMemoryStore(MemoryStoreConfig{}),
	})
	token := responseCookies(signIn(t, m, &User{ID: "alice", Name: "Alice", Email: "alice@example.com"}))[0].Value
	require.NoError(t, m.RevokeUser(context.Background(), "bob"), "the store holds other revocations")
	var seen string
	h := m.Handler(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		seen = r.Header.Get("X-User-Id")
		if s, err := FromContext(r.Context()); seen != "" && (err != nil || s.UserID != seen) {
			t.Errorf("context session %v, %v", s, err)
		}
	}))
	for name, tc := range map[string]struct {
		path, cookie, want string
		allocs             float64
	}{
		"warm":      {"/dashboard/settings", "theme=dark; " + m.CookieName() + "=" + token + "; _ga=GA1.2.3", "alice", 7},
		"no cookie": {"/", "theme=dark; _ga=GA1.2.3", "", 0},
	} {
		r := httptest.NewRequest("GET", tc.path, nil)
		r.Header.Set("Cookie", tc.cookie)
		if tc.want != "" {
			r.Header.Set("X-User-Id", "spoofed")
		}
		before := r.Header.Clone()
		h.ServeHTTP(httptest.NewRecorder(), r) // fills the cache
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		require.Equal(t, tc.want, seen, name)
		require.Equal(t, before, r.Header, name)
		require.Empty(t, w.Header().Values("Set-Cookie"), name)
		if testenv.Race {
			continue
		}
		dw := &discardWriter{h: make(http.Header)}
		allocs := testing.AllocsPerRun(100, func() { h.ServeHTTP(dw, r) })
		assert.LessOrEqual(t, allocs, tc.allocs, name)
	}
	assert.Positive(t, m.CacheStats().Hits)
}

// The copy next gets keeps every other header and value, however many a
// header has, and next's changes stay in it.
func TestMiddlewareForwardKeepsHeaders(t *testing.T) {
	m := mwManagers(t)[""]
	r := httptest.NewRequest("GET", "/dashboard", nil)
	r.AddCookie(&http.Cookie{Name: m.CookieName(), Value: mwSignIn(t, m, "alice")})
	for i := range 6 {
		for j := range i {
			r.Header.Add(fmt.Sprintf("X-Multi-%d", i), strconv.Itoa(j))
		}
	}
	r.Header["X-Empty"] = []string{}
	r.Header["X-Nil"] = nil
	before := r.Header.Clone()
	var got http.Header
	m.Handler(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		r.Header.Add("X-Multi-5", "next")
		r.Header["X-Multi-4"][0] = "next"
	})).ServeHTTP(httptest.NewRecorder(), r)
	require.NotNil(t, got)
	assert.Equal(t, []string{"alice"}, got["X-User-Id"])
	for _, h := range []string{"X-User-Id", "X-User-Role", "X-User-Email", "X-User-Team"} {
		delete(got, h)
	}
	assert.Equal(t, before, got)
	assert.Equal(t, before, r.Header, "the caller's request is not modified")
}

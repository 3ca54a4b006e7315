package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeauth/edgeauth"
	"github.com/edgeauth/edgeauth/internal/authjstest"
	"github.com/edgeauth/edgeauth/internal/redistest"
	"github.com/edgeauth/edgeauth/internal/serve"
	"github.com/edgeauth/edgeauth/internal/testenv"
	"github.com/edgeauth/edgeauth/redisstore"
)

const (
	testSecret = "basic-example-test-secret-0123456789"
	cookieName = "authjs.session-token"
)

// clock is a settable clock shared by the instances of a test; it only
// moves when told, so whole-second iat comparisons are deterministic.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock {
	return &clock{t: time.Now().Truncate(time.Second).Add(100 * time.Millisecond)}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// startApp serves a new app instance on a free loopback port and returns its
// base URL (which is also its origin).
func startApp(t *testing.T, cfg appConfig) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	base := "http://" + ln.Addr().String()
	if cfg.Secrets == nil {
		cfg.Secrets = []string{testSecret}
	}
	cfg.Origin = base
	h, err := newApp(cfg)
	require.NoError(t, err)
	srv := serve.New(h)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		assert.NoError(t, srv.Shutdown(ctx))
		assert.ErrorIs(t, <-done, http.ErrServerClosed)
	})
	return base
}

// newBrowser is a client with a cookie jar that does not follow redirects,
// so tests see each Location. The timeout bounds every request.
func newBrowser(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	c := &http.Client{
		Jar:     jar,
		Timeout: 5 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

type reqOpts struct {
	form   url.Values
	header map[string]string
	cookie *http.Cookie // sent in addition to the jar's
}

// send makes one request and returns the response with its body read.
func send(t *testing.T, c *http.Client, method, u string, o reqOpts) (*http.Response, string) {
	t.Helper()
	var body io.Reader
	if o.form != nil {
		body = strings.NewReader(o.form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	require.NoError(t, err)
	if o.form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range o.header {
		req.Header.Set(k, v)
	}
	if o.cookie != nil {
		req.AddCookie(o.cookie)
	}
	resp, err := c.Do(req)
	require.NoError(t, err, "%s %s", method, u)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(b)
}

func get(t *testing.T, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	return send(t, c, http.MethodGet, u, reqOpts{})
}

func login(t *testing.T, c *http.Client, base, user, pass, callback string) *http.Response {
	t.Helper()
	form := url.Values{"username": {user}, "password": {pass}}
	if callback != "" {
		form.Set("callbackUrl", callback)
	}
	resp, _ := send(t, c, http.MethodPost, base+"/login", reqOpts{form: form})
	return resp
}

// signIn logs in through the form and checks it worked.
func signIn(t *testing.T, c *http.Client, base, user string) {
	t.Helper()
	resp := login(t, c, base, user, user, "")
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.NotNil(t, findCookie(resp.Cookies()), "sign-in set no session cookie")
}

func findCookie(cs []*http.Cookie) *http.Cookie {
	for _, c := range cs {
		if c.Name == cookieName {
			return c
		}
	}
	return nil
}

// sessionCookie returns the session cookie the browser holds for base.
func sessionCookie(t *testing.T, c *http.Client, base string) *http.Cookie {
	t.Helper()
	u, err := url.Parse(base)
	require.NoError(t, err)
	ck := findCookie(c.Jar.Cookies(u))
	require.NotNil(t, ck, "browser holds no session cookie")
	return &http.Cookie{Name: ck.Name, Value: ck.Value}
}

// identityOf GETs path and decodes the identity JSON (status 200 required).
func identityOf(t *testing.T, c *http.Client, u string, header map[string]string) map[string]string {
	t.Helper()
	resp, body := send(t, c, http.MethodGet, u, reqOpts{header: header})
	require.Equal(t, http.StatusOK, resp.StatusCode, "GET %s: %s", u, body)
	var got map[string]string
	require.NoError(t, json.Unmarshal([]byte(body), &got), body)
	return got
}

func ident(id, role string) map[string]string {
	return map[string]string{"x-user-id": id, "x-user-role": role}
}

// spoof is what a hostile client sends to claim an identity.
var spoof = map[string]string{"X-User-Id": "admin", "x-user-role": "admin"}

// assertRejected checks that a request with cookie gets no session: a
// redirect to the login page for a page, 401 JSON for the API.
func assertRejected(t *testing.T, base string, cookie *http.Cookie) {
	t.Helper()
	c := newBrowser(t)
	resp, _ := send(t, c, http.MethodGet, base+"/dashboard", reqOpts{cookie: cookie})
	assert.Equal(t, http.StatusSeeOther, resp.StatusCode)
	assert.Equal(t, "/login?callbackUrl=%2Fdashboard", resp.Header.Get("Location"))
	resp, body := send(t, c, http.MethodGet, base+"/api/me", reqOpts{cookie: cookie})
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, body)
}

// propagationDeadline bounds how long a test waits for a revocation made on
// one instance to reach another: Redis tells the others' local caches within
// milliseconds, and a loaded machine must not fail the test.
const propagationDeadline = 10 * time.Second

// eventuallyRejected waits until another instance than the one that revoked
// refuses cookie, then checks it as assertRejected does.
func eventuallyRejected(t *testing.T, base string, cookie *http.Cookie) {
	t.Helper()
	eventuallyMe(t, base, cookie, http.StatusUnauthorized, "the revocation did not reach "+base)
	assertRejected(t, base, cookie)
}

// eventuallyMe waits, bounded by propagationDeadline, until GET /api/me with
// cookie answers status on base.
func eventuallyMe(t *testing.T, base string, cookie *http.Cookie, status int, msg string) {
	t.Helper()
	require.Eventually(t, func() bool {
		resp, _ := send(t, newBrowser(t), http.MethodGet, base+"/api/me", reqOpts{cookie: cookie})
		return resp.StatusCode == status
	}, propagationDeadline, 5*time.Millisecond, msg)
}

// signOutAcross signs user in on base, checks that other accepts the
// session, signs out with a POST to path on base, and checks that both
// refuse the session: base at once, other once the revocation reaches it.
func signOutAcross(t *testing.T, base, other, user, role, path string) {
	t.Helper()
	c := newBrowser(t)
	defer c.CloseIdleConnections()
	signIn(t, c, base, user)
	cookie := sessionCookie(t, c, base)
	assertAccepted(t, other, cookie, user, role)
	resp, _ := send(t, c, http.MethodPost, base+path, reqOpts{form: url.Values{}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	assertRejected(t, base, cookie)
	eventuallyRejected(t, other, cookie)
}

// assertAccepted checks that cookie is a live session of user on base.
func assertAccepted(t *testing.T, base string, cookie *http.Cookie, user, role string) {
	t.Helper()
	c := newBrowser(t)
	resp, body := send(t, c, http.MethodGet, base+"/dashboard", reqOpts{cookie: cookie})
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	var got map[string]string
	require.NoError(t, json.Unmarshal([]byte(body), &got))
	assert.Equal(t, ident(user, role), got)
}

func TestEndToEnd(t *testing.T) {
	base := startApp(t, appConfig{Now: newClock().Now})
	anon := newBrowser(t)

	t.Run("public pages", func(t *testing.T) {
		resp, body := get(t, anon, base+"/")
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Contains(t, body, `href="/dashboard"`)
		assert.Contains(t, body, `href="/login"`)
		assert.Contains(t, resp.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'")

		resp, body = get(t, anon, base+"/login?callbackUrl="+url.QueryEscape(`"><script>alert(1)</script>`))
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Contains(t, body, `name="username"`)
		assert.Contains(t, body, `name="password"`)
		assert.NotContains(t, body, "<script>alert(1)", "callbackUrl must be escaped")
		assert.Contains(t, body, "&lt;script&gt;")
	})

	t.Run("signed out", func(t *testing.T) {
		for _, h := range []map[string]string{nil, spoof} {
			assert.Equal(t, ident("", ""), identityOf(t, anon, base+"/whoami", h))

			resp, _ := send(t, anon, http.MethodGet, base+"/dashboard", reqOpts{header: h})
			assert.Equal(t, http.StatusSeeOther, resp.StatusCode)
			assert.Equal(t, "/login?callbackUrl=%2Fdashboard", resp.Header.Get("Location"))

			resp, _ = send(t, anon, http.MethodGet, base+"/admin", reqOpts{header: h})
			assert.Equal(t, http.StatusSeeOther, resp.StatusCode)
			assert.Equal(t, "/login?callbackUrl=%2Fadmin", resp.Header.Get("Location"))

			resp, body := send(t, anon, http.MethodGet, base+"/api/me", reqOpts{header: h})
			assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
			assert.Contains(t, resp.Header.Get("Content-Type"), "application/json")
			assert.True(t, json.Valid([]byte(body)), body)
		}

		resp, body := get(t, anon, base+"/api/auth/session")
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, "null", body)
		assert.Contains(t, resp.Header.Get("Content-Type"), "application/json")

		// Sign-out everywhere needs a session.
		resp, _ = send(t, anon, http.MethodPost, base+"/logout/all", reqOpts{form: url.Values{}})
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		assert.Nil(t, findCookie(resp.Cookies()))
	})

	t.Run("bad credentials", func(t *testing.T) {
		c := newBrowser(t)
		for _, creds := range [][2]string{{"alice", "bob"}, {"alice", ""}, {"mallory", "mallory"}, {"", ""}, {"alice", "alice "}} {
			resp, body := send(t, c, http.MethodPost, base+"/login", reqOpts{form: url.Values{
				"username": {creds[0]}, "password": {creds[1]}, "callbackUrl": {"/admin"},
			}})
			assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, creds)
			assert.Empty(t, resp.Header.Values("Set-Cookie"), creds)
			assert.Contains(t, body, `name="password"`, "the form is shown again")
			assert.Contains(t, body, `value="/admin"`, "callbackUrl is kept")
		}
		resp, _ := get(t, c, base+"/dashboard")
		assert.Equal(t, http.StatusSeeOther, resp.StatusCode)
	})

	t.Run("hostile callbackUrl", func(t *testing.T) {
		for _, cb := range []string{"//evil.com", "https://evil.com", "https://evil.com/dashboard", `/\evil.com`, "javascript:alert(1)", "http://127.0.0.1.evil.com/"} {
			c := newBrowser(t)
			resp := login(t, c, base, "bob", "bob", cb)
			assert.Equal(t, http.StatusSeeOther, resp.StatusCode, cb)
			assert.Equal(t, "/", resp.Header.Get("Location"), cb)
		}
		// Our own paths and origin are kept, as Auth.js clients send them.
		for _, cb := range []string{"/admin?tab=1", base + "/dashboard"} {
			resp := login(t, newBrowser(t), base, "bob", "bob", cb)
			assert.Equal(t, http.StatusSeeOther, resp.StatusCode, cb)
			assert.Equal(t, cb, resp.Header.Get("Location"), cb)
		}
	})

	t.Run("cross-site posts", func(t *testing.T) {
		hostile := []map[string]string{
			{"Sec-Fetch-Site": "cross-site"},
			{"Sec-Fetch-Site": "same-site"},
			{"Origin": "https://evil.example"},
			{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"},
		}
		good := url.Values{"username": {"alice"}, "password": {"alice"}}
		for _, h := range hostile {
			c := newBrowser(t)
			resp, _ := send(t, c, http.MethodPost, base+"/login", reqOpts{form: good, header: h})
			assert.Equal(t, http.StatusForbidden, resp.StatusCode, h)
			assert.Empty(t, resp.Header.Values("Set-Cookie"), h)
		}

		// A signed-in victim: cross-site sign-out, sign-out-everywhere and ban
		// attempts all fail, and the session survives.
		alice, bob := newBrowser(t), newBrowser(t)
		signIn(t, alice, base, "alice")
		signIn(t, bob, base, "bob")
		for _, h := range hostile {
			for _, p := range []struct {
				c    *http.Client
				path string
				form url.Values
			}{
				{alice, "/logout", url.Values{}},
				{alice, "/logout/all", url.Values{}},
				{alice, "/admin/revoke", url.Values{"user": {"bob"}}},
			} {
				resp, _ := send(t, p.c, http.MethodPost, base+p.path, reqOpts{form: p.form, header: h})
				assert.Equal(t, http.StatusForbidden, resp.StatusCode, "%s %v", p.path, h)
				assert.Empty(t, resp.Header.Values("Set-Cookie"), h)
			}
		}
		assert.Equal(t, ident("alice", "admin"), identityOf(t, alice, base+"/dashboard", nil))
		assert.Equal(t, ident("bob", "user"), identityOf(t, bob, base+"/dashboard", nil))

		// Same-origin browser posts are allowed.
		c := newBrowser(t)
		resp, _ := send(t, c, http.MethodPost, base+"/login", reqOpts{form: good, header: map[string]string{
			"Sec-Fetch-Site": "same-origin", "Origin": base,
		}})
		assert.Equal(t, http.StatusSeeOther, resp.StatusCode)
		assert.NotNil(t, findCookie(resp.Cookies()))
	})

	alice, bob := newBrowser(t), newBrowser(t)
	t.Run("sign in", func(t *testing.T) {
		resp := login(t, alice, base, "alice", "alice", "/dashboard")
		require.Equal(t, http.StatusSeeOther, resp.StatusCode)
		assert.Equal(t, "/dashboard", resp.Header.Get("Location"))
		ck := findCookie(resp.Cookies())
		require.NotNil(t, ck)
		assert.True(t, ck.HttpOnly)
		assert.Equal(t, http.SameSiteLaxMode, ck.SameSite)

		resp = login(t, bob, base, "bob", "bob", "")
		require.Equal(t, http.StatusSeeOther, resp.StatusCode)
		assert.Equal(t, "/", resp.Header.Get("Location"))
	})

	t.Run("identity headers", func(t *testing.T) {
		for _, h := range []map[string]string{nil, spoof, {"X-User-Id": "bob", "X-User-Role": "user"}} {
			assert.Equal(t, ident("alice", "admin"), identityOf(t, alice, base+"/dashboard", h))
			assert.Equal(t, ident("alice", "admin"), identityOf(t, alice, base+"/admin", h))
			assert.Equal(t, ident("alice", "admin"), identityOf(t, alice, base+"/whoami", h))
		}
		for _, h := range []map[string]string{nil, spoof} {
			assert.Equal(t, ident("bob", "user"), identityOf(t, bob, base+"/dashboard", h))
			assert.Equal(t, ident("bob", "user"), identityOf(t, bob, base+"/whoami", h))
			resp, _ := send(t, bob, http.MethodGet, base+"/admin", reqOpts{header: h})
			assert.Equal(t, http.StatusForbidden, resp.StatusCode, "bob is no admin, whatever he sends")
			resp, _ = send(t, bob, http.MethodPost, base+"/admin/revoke", reqOpts{header: h, form: url.Values{"user": {"alice"}}})
			assert.Equal(t, http.StatusForbidden, resp.StatusCode)
		}
		assert.Equal(t, ident("alice", "admin"), identityOf(t, alice, base+"/dashboard", nil), "bob's ban attempt had no effect")
	})

	t.Run("session JSON", func(t *testing.T) {
		for _, path := range []string{"/api/me", "/api/auth/session"} {
			resp, body := get(t, alice, base+path)
			require.Equal(t, http.StatusOK, resp.StatusCode, path)
			var s struct {
				User    map[string]any `json:"user"`
				Expires string         `json:"expires"`
			}
			require.NoError(t, json.Unmarshal([]byte(body), &s), body)
			assert.Equal(t, map[string]any{"name": "Alice", "email": "alice@example.com", "id": "alice", "role": "admin"}, s.User, path)
			_, err := time.Parse(time.RFC3339, s.Expires)
			assert.NoError(t, err, path)
		}
	})

	t.Run("sign out", func(t *testing.T) {
		old := sessionCookie(t, alice, base)
		resp, _ := send(t, alice, http.MethodPost, base+"/logout", reqOpts{form: url.Values{}})
		assert.Equal(t, http.StatusSeeOther, resp.StatusCode)
		assert.Equal(t, "/", resp.Header.Get("Location"))
		cleared := findCookie(resp.Cookies())
		require.NotNil(t, cleared, "sign-out must clear the cookie")
		assert.Empty(t, cleared.Value)
		assert.True(t, cleared.MaxAge < 0 || (!cleared.Expires.IsZero() && cleared.Expires.Before(time.Now())), cleared.String())

		resp, _ = get(t, alice, base+"/dashboard")
		assert.Equal(t, http.StatusSeeOther, resp.StatusCode)
		_, body := get(t, alice, base+"/api/auth/session")
		assert.Equal(t, "null", body)
		// A copy of the cookie taken before sign-out was revoked with it.
		assertRejected(t, base, old)
		// bob is unaffected.
		assert.Equal(t, ident("bob", "user"), identityOf(t, bob, base+"/dashboard", nil))
	})
}

func TestAuthJSCookie(t *testing.T) {
	h := authjstest.Start(t)
	clk := newClock()
	base := startApp(t, appConfig{Now: clk.Now})

	mint := func(secret string) *http.Cookie {
		var out struct {
			Token string `json:"token"`
		}
		require.NoError(t, h.Call(map[string]any{
			"op": "encode", "lib": "v5", "secret": secret, "salt": cookieName,
			"token": map[string]any{"sub": "carol", "name": "Carol", "role": "admin"},
			"now":   clk.Now().Unix(),
		}, &out))
		require.NotEmpty(t, out.Token)
		return &http.Cookie{Name: cookieName, Value: out.Token}
	}

	carol := mint(testSecret)
	c := newBrowser(t)
	for _, path := range []string{"/dashboard", "/admin"} {
		resp, body := send(t, c, http.MethodGet, base+path, reqOpts{cookie: carol, header: spoof})
		require.Equal(t, http.StatusOK, resp.StatusCode, path)
		var got map[string]string
		require.NoError(t, json.Unmarshal([]byte(body), &got))
		assert.Equal(t, ident("carol", "admin"), got, path)
	}
	resp, body := send(t, c, http.MethodGet, base+"/api/auth/session", reqOpts{cookie: carol})
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var s struct {
		User map[string]any `json:"user"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &s), body)
	assert.Equal(t, map[string]any{"name": "Carol", "role": "admin"}, s.User)

	// The same token under another secret is no session.
	assertRejected(t, base, mint("some-other-secret-0123456789abcdef"))
}

// redisStoreAt builds the store as the example does for REDIS_URL;
// query is extra go-redis URL options.
func redisStoreAt(t *testing.T, addr, query string) *redisstore.Store {
	t.Helper()
	return redisStoreFromURL(t, "redis://"+addr+"/0?dial_timeout=1s"+query)
}

func redisStoreFromURL(t *testing.T, rawURL string) *redisstore.Store {
	t.Helper()
	client, err := newRedisClient(rawURL)
	require.NoError(t, err)
	t.Cleanup(func() { _ = client.Close() })
	store := newRedisStore(client, slog.New(slog.DiscardHandler))
	t.Cleanup(func() { _ = store.Close() })
	return store
}

// TestRevocationAcrossInstances runs two instances that share one Redis, as
// two replicas behind a load balancer: a revocation on one is enforced by
// itself at once, and by the other as soon as Redis's invalidation reaches
// its local cache.
func TestRevocationAcrossInstances(t *testing.T) {
	addr := redistest.Start(t)
	clk := newClock()
	// Each instance has its own Redis client, as separate processes would.
	a := startApp(t, appConfig{Now: clk.Now, Store: redisStoreAt(t, addr, "")})
	b := startApp(t, appConfig{Now: clk.Now, Store: redisStoreAt(t, addr, "")})

	alice, bob := newBrowser(t), newBrowser(t)
	signIn(t, alice, a, "alice")
	signIn(t, bob, b, "bob")
	aliceCookie := sessionCookie(t, alice, a)
	bobCookie := sessionCookie(t, bob, b)
	for _, base := range []string{a, b} {
		assertAccepted(t, base, aliceCookie, "alice", "admin")
		assertAccepted(t, base, bobCookie, "bob", "user")
	}

	t.Run("sign out everywhere", func(t *testing.T) {
		// alice has a second device, signed in on B.
		phone := newBrowser(t)
		signIn(t, phone, b, "alice")
		phoneCookie := sessionCookie(t, phone, b)

		resp, _ := send(t, alice, http.MethodPost, a+"/logout/all", reqOpts{form: url.Values{}})
		require.Equal(t, http.StatusSeeOther, resp.StatusCode)
		assert.Equal(t, "/", resp.Header.Get("Location"))
		cleared := findCookie(resp.Cookies())
		require.NotNil(t, cleared)
		assert.Empty(t, cleared.Value)

		assertRejected(t, a, aliceCookie)
		assertRejected(t, a, phoneCookie)
		for _, base := range []string{b, a} {
			eventuallyRejected(t, base, aliceCookie)
			eventuallyRejected(t, base, phoneCookie)
			assertAccepted(t, base, bobCookie, "bob", "user")
		}

		// Tokens carry whole-second iat, so signing in again needs a later second.
		clk.Advance(time.Second)
		signIn(t, alice, b, "alice")
		aliceCookie = sessionCookie(t, alice, b)
		assertAccepted(t, a, aliceCookie, "alice", "admin")
	})

	t.Run("admin ban", func(t *testing.T) {
		resp, body := send(t, alice, http.MethodPost, a+"/admin/revoke", reqOpts{form: url.Values{"user": {"bob"}}})
		require.Equal(t, http.StatusOK, resp.StatusCode, body)
		assert.JSONEq(t, `{"revoked":"bob"}`, body)
		assertRejected(t, a, bobCookie)
		eventuallyRejected(t, b, bobCookie)
		for _, base := range []string{a, b} {
			assertAccepted(t, base, aliceCookie, "alice", "admin")
		}
		// bob's own browser is now signed out on both.
		resp, _ = get(t, bob, b+"/dashboard")
		assert.Equal(t, http.StatusSeeOther, resp.StatusCode)

		resp, _ = send(t, alice, http.MethodPost, a+"/admin/revoke", reqOpts{form: url.Values{"user": {""}}})
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	})
}

// nodeHolding returns the index of the cluster node that holds a key under
// prefix, and fails when none or several do.
func nodeHolding(t *testing.T, cluster *redistest.Cluster, prefix string) int {
	t.Helper()
	found := -1
	for i, addr := range cluster.Addrs() {
		keys, err := redistest.Do(addr, "EVAL", "return #redis.call('KEYS', ARGV[1])", "0", prefix+"*")
		require.NoError(t, err)
		if keys != "0" {
			require.Equal(t, -1, found, "keys under %q on two nodes", prefix)
			found = i
		}
	}
	require.NotEqual(t, -1, found, "no key under %q", prefix)
	return found
}

// TestRevocationOnRedisCluster runs two instances on a Redis Cluster of three
// masters, through REDIS_URL's cluster form: sign-outs and bans reach both; a
// master going down fails the sessions it holds closed on both, each request
// within the revocation timeout; when it is back, so is service, with the
// revocations it persisted.
func TestRevocationOnRedisCluster(t *testing.T) {
	const revocationTimeout = 300 * time.Millisecond
	cluster := redistest.StartCluster(t, 3, "--appendonly", "yes", "--appendfsync", "always")
	clk := newClock()
	newInstance := func() string {
		return startApp(t, appConfig{Now: clk.Now, Store: redisStoreFromURL(t, cluster.URL()), RevocationTimeout: revocationTimeout})
	}
	a, b := newInstance(), newInstance()

	laptop, phone, bob := newBrowser(t), newBrowser(t), newBrowser(t)
	signIn(t, laptop, a, "alice")
	signIn(t, phone, b, "alice")
	signIn(t, bob, b, "bob")
	laptopCookie, phoneCookie, bobCookie := sessionCookie(t, laptop, a), sessionCookie(t, phone, b), sessionCookie(t, bob, b)
	for _, base := range []string{a, b} {
		assertAccepted(t, base, laptopCookie, "alice", "admin")
		assertAccepted(t, base, phoneCookie, "alice", "admin")
		assertAccepted(t, base, bobCookie, "bob", "user")
	}

	// Sign-out on A: that session is refused on both, alice's other one is not.
	resp, _ := send(t, laptop, http.MethodPost, a+"/logout", reqOpts{form: url.Values{}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	assertRejected(t, a, laptopCookie)
	eventuallyRejected(t, b, laptopCookie)
	for _, base := range []string{a, b} {
		assertAccepted(t, base, phoneCookie, "alice", "admin")
	}

	// Ban on B: bob is refused on both.
	resp, body := send(t, phone, http.MethodPost, b+"/admin/revoke", reqOpts{form: url.Values{"user": {"bob"}}})
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	assertRejected(t, b, bobCookie)
	eventuallyRejected(t, a, bobCookie)

	// The master holding alice's keys (her sign-out made them) goes down.
	down := cluster.Nodes[nodeHolding(t, cluster, redisstore.DefaultPrefix+"s:")]
	down.Stop(t)
	for _, base := range []string{a, b} {
		eventuallyMe(t, base, phoneCookie, http.StatusUnauthorized, "alice's session still served with her master down on "+base)
		for range 3 {
			start := time.Now()
			assertRejected(t, base, phoneCookie) // two requests
			// Generous slack for a loaded machine; unbounded would be Redis's own timeouts.
			assert.Less(t, time.Since(start), 2*10*revocationTimeout, "fail closed within the revocation timeout")
			resp, _ := get(t, newBrowser(t), base+"/")
			assert.Equal(t, http.StatusOK, resp.StatusCode, "public pages stay up")
		}
	}

	down.Restart(t)
	cluster.WaitOK(t)
	for _, base := range []string{a, b} {
		eventuallyMe(t, base, phoneCookie, http.StatusOK, "service did not resume on "+base)
		assertAccepted(t, base, phoneCookie, "alice", "admin")
		assertRejected(t, base, laptopCookie) // persisted across the restart
		assertRejected(t, base, bobCookie)
	}

	// After recovery, a sign-out everywhere on A reaches B.
	resp, _ = send(t, phone, http.MethodPost, a+"/logout/all", reqOpts{form: url.Values{}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	assertRejected(t, a, phoneCookie)
	eventuallyRejected(t, b, phoneCookie)
}

// startAppOnRedis serves an app on its own redis-server, with a short revocation
// timeout for tests that stop the server.
func startAppOnRedis(t *testing.T) (*redistest.Server, string) {
	t.Helper()
	srv := redistest.StartServer(t)
	return srv, startApp(t, appConfig{
		Now:               newClock().Now,
		Store:             redisStoreAt(t, srv.Addr(), ""),
		RevocationTimeout: 200 * time.Millisecond,
	})
}

// TestRedisOutage stops Redis under a running instance: sessions fail closed
// quickly, public pages keep working, nothing leaks, and service resumes
// when Redis is back without restarting the app.
func TestRedisOutage(t *testing.T) {
	srv, base := startAppOnRedis(t)
	alice := newBrowser(t)
	signIn(t, alice, base, "alice")
	assert.Equal(t, ident("alice", "admin"), identityOf(t, alice, base+"/dashboard", nil))
	cookie := sessionCookie(t, alice, base)

	alice.CloseIdleConnections()
	baseline := runtime.NumGoroutine()

	srv.Stop(t)
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			c := newBrowser(t)
			resp, _ := send(t, c, http.MethodGet, base+"/dashboard", reqOpts{cookie: cookie})
			assert.Equal(t, http.StatusSeeOther, resp.StatusCode)
			assert.Equal(t, "/login?callbackUrl=%2Fdashboard", resp.Header.Get("Location"))
			resp, _ = send(t, c, http.MethodGet, base+"/api/me", reqOpts{cookie: cookie})
			assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
			resp, _ = send(t, c, http.MethodGet, base+"/admin", reqOpts{cookie: cookie})
			assert.Equal(t, http.StatusSeeOther, resp.StatusCode)
			resp, _ = send(t, c, http.MethodGet, base+"/", reqOpts{cookie: cookie})
			assert.Equal(t, http.StatusOK, resp.StatusCode)
			// Fail closed: no identity reaches public handlers either.
			assert.Equal(t, ident("", ""), identityOf(t, c, base+"/whoami", nil))
			c.CloseIdleConnections()
		})
	}
	wg.Wait()
	// The browser's own cookie survives the outage.
	resp, _ := get(t, alice, base+"/dashboard")
	assert.Equal(t, http.StatusSeeOther, resp.StatusCode)
	assert.Equal(t, cookie.Value, sessionCookie(t, alice, base).Value)

	srv.Restart(t)
	require.Eventually(t, func() bool {
		resp, _ := get(t, alice, base+"/dashboard")
		return resp.StatusCode == http.StatusOK
	}, 10*time.Second, 50*time.Millisecond, "service did not resume after Redis came back")
	assert.Equal(t, ident("alice", "admin"), identityOf(t, alice, base+"/dashboard", nil))

	alice.CloseIdleConnections()
	assert.Eventually(t, func() bool {
		return runtime.NumGoroutine() <= baseline+5
	}, 10*time.Second, 50*time.Millisecond, "goroutines: baseline %d, now %d", baseline, runtime.NumGoroutine())
}

// TestRedisHung points the store at a server that accepts connections and
// never answers: the revocation timeout, not Redis's socket timeouts, bounds
// each request (this needs ContextTimeoutEnabled on the client).
func TestRedisHung(t *testing.T) {
	addr := redistest.Unresponsive(t)

	base := startApp(t, appConfig{
		Now: newClock().Now,
		// Socket timeouts far beyond the client timeout below: only the
		// context can end a request in time.
		Store:             redisStoreAt(t, addr, "&read_timeout=1m&write_timeout=1m"),
		RevocationTimeout: 200 * time.Millisecond,
	})
	alice := newBrowser(t) // its 5 s timeout is the bound
	signIn(t, alice, base, "alice")
	cookie := sessionCookie(t, alice, base)
	for range 3 {
		assertRejected(t, base, cookie)
		resp, _ := get(t, alice, base+"/")
		assert.Equal(t, http.StatusOK, resp.StatusCode)
	}
}

// TestSignOutNotRecorded: when the revocation cannot be written, the browser is still
// signed out, and the page says that copies of the session still work, which they do.
func TestSignOutNotRecorded(t *testing.T) {
	assertReported := func(t *testing.T, c *http.Client, base string) {
		t.Helper()
		resp, body := send(t, c, http.MethodPost, base+"/logout", reqOpts{form: url.Values{}})
		assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
		assert.Contains(t, body, "did not reach other copies of this session")
		assert.Contains(t, resp.Header.Get("Content-Type"), "text/html")
		cleared := findCookie(resp.Cookies())
		require.NotNil(t, cleared, "this browser is signed out all the same")
		assert.Empty(t, cleared.Value)
		resp, _ = get(t, c, base+"/dashboard")
		assert.Equal(t, http.StatusSeeOther, resp.StatusCode)
	}

	t.Run("store full", func(t *testing.T) {
		clk := newClock()
		// Room for one revocation: alice's sign-out takes it, and bob, who holds none,
		// cannot take it from her.
		store := edgeauth.NewMemoryStore(edgeauth.MemoryStoreConfig{MaxEntries: 1, Now: clk.Now})
		base := startApp(t, appConfig{Now: clk.Now, Store: store})
		alice, bob := newBrowser(t), newBrowser(t)
		signIn(t, alice, base, "alice")
		resp, _ := send(t, alice, http.MethodPost, base+"/logout", reqOpts{form: url.Values{}})
		require.Equal(t, http.StatusSeeOther, resp.StatusCode, "the first sign-out is recorded")

		signIn(t, bob, base, "bob")
		copied := sessionCookie(t, bob, base)
		assertReported(t, bob, base)
		assertAccepted(t, base, copied, "bob", "user")
	})

	t.Run("redis down", func(t *testing.T) {
		srv, base := startAppOnRedis(t)
		alice := newBrowser(t)
		signIn(t, alice, base, "alice")
		copied := sessionCookie(t, alice, base)
		srv.Stop(t)
		assertReported(t, alice, base)

		srv.Restart(t)
		require.Eventually(t, func() bool {
			resp, _ := send(t, newBrowser(t), http.MethodGet, base+"/dashboard", reqOpts{cookie: copied})
			return resp.StatusCode == http.StatusOK
		}, 10*time.Second, 50*time.Millisecond, "the copy still works: the sign-out was never recorded")
	})
}

// proc is the example binary running as a child process.
type proc struct {
	cmd    *exec.Cmd
	base   string
	mu     sync.Mutex
	logged []string
	exited chan error
}

func (p *proc) lines() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.logged)
}

// wait returns the exit code, failing the test if the process does not end.
func (p *proc) wait(t *testing.T) int {
	t.Helper()
	select {
	case err := <-p.exited:
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return exit.ExitCode()
		}
		require.NoError(t, err)
		return 0
	case <-time.After(15 * time.Second):
		t.Fatalf("process did not exit: %q", p.lines())
		return -1
	}
}

// startBinary runs bin with only PATH, ADDR (a free loopback port) and env,
// so that nothing leaks in from the test's environment. It returns once the
// startup line is logged, or the process exited when wantReady is false.
func startBinary(t *testing.T, bin string, wantReady bool, env ...string) *proc {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())

	p := &proc{cmd: exec.Command(bin), base: "http://" + addr, exited: make(chan error, 1)}
	p.cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "ADDR=" + addr}, env...)
	stderr, err := p.cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, p.cmd.Start())
	t.Cleanup(func() { _ = p.cmd.Process.Kill() })
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			p.mu.Lock()
			p.logged = append(p.logged, sc.Text())
			p.mu.Unlock()
			if strings.Contains(sc.Text(), "listening") {
				close(ready)
			}
		}
		p.exited <- p.cmd.Wait() // after the pipe is drained, as Wait requires
	}()
	if !wantReady {
		return p
	}
	select {
	case <-ready:
	case err := <-p.exited:
		t.Fatalf("exited before serving (%v): %q", err, p.lines())
	case <-time.After(30 * time.Second):
		t.Fatalf("no startup line: %q", p.lines())
	}
	return p
}

// TestBinary runs the README's command as a real process.
func TestBinary(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		testenv.Missing(t, "go not found on PATH")
	}
	bin := filepath.Join(t.TempDir(), "basic")
	out, err := exec.Command(goTool, "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "go build: %s", out)

	t.Run("no AUTH_SECRET", func(t *testing.T) {
		p := startBinary(t, bin, true)
		startup := p.lines()
		require.Len(t, startup, 2, "%q", startup)
		assert.Contains(t, startup[0], "AUTH_SECRET is not set")
		assert.Contains(t, startup[1], "url="+p.base+"/")
		assert.Contains(t, startup[1], "revocations=memory")

		c := newBrowser(t)
		resp, _ := get(t, c, p.base+"/")
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		signIn(t, c, p.base, "alice")
		assert.Equal(t, ident("alice", "admin"), identityOf(t, c, p.base+"/dashboard", nil))
		c.CloseIdleConnections()

		require.NoError(t, p.cmd.Process.Signal(os.Interrupt))
		assert.Equal(t, 0, p.wait(t), "%q", p.lines())
	})

	t.Run("bad REDIS_URL", func(t *testing.T) {
		p := startBinary(t, bin, false, "AUTH_SECRET="+testSecret, "REDIS_URL=notredis://user:hunter2@127.0.0.1:1/")
		assert.Equal(t, 1, p.wait(t))
		logged := strings.Join(p.lines(), "\n")
		assert.Contains(t, logged, "REDIS_URL is not a valid redis URL")
		assert.NotContains(t, logged, "hunter2", "the URL's password must not be logged")
		assert.NotContains(t, logged, testSecret)
	})

	t.Run("REDIS_URL and AUTH_SECRET", func(t *testing.T) {
		addr := redistest.Start(t)
		p := startBinary(t, bin, true, "AUTH_SECRET="+testSecret, "REDIS_URL=redis://"+addr+"/0")
		startup := p.lines()
		require.Len(t, startup, 1, "no warning with AUTH_SECRET set: %q", startup)
		assert.Contains(t, startup[0], "revocations=redis")

		// An in-process instance sharing the secret and the Redis.
		other := startApp(t, appConfig{Store: redisStoreAt(t, addr, "")})
		signOutAcross(t, p.base, other, "bob", "user", "/logout/all")

		require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
		assert.Equal(t, 0, p.wait(t), "%q", p.lines())
		assert.NotContains(t, strings.Join(p.lines(), "\n"), "evict", "this Redis has no memory limit")
	})

	t.Run("REDIS_URL of a cluster", func(t *testing.T) {
		cluster := redistest.StartCluster(t, 3)
		p := startBinary(t, bin, true, "AUTH_SECRET="+testSecret, "REDIS_URL="+cluster.URL())
		assert.Contains(t, strings.Join(p.lines(), "\n"), "revocations=redis")

		other := startApp(t, appConfig{Store: redisStoreFromURL(t, cluster.URL())})
		signOutAcross(t, p.base, other, "alice", "admin", "/logout")

		require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
		assert.Equal(t, 0, p.wait(t), "%q", p.lines())
	})

	t.Run("REDIS_URL of a Redis that can evict", func(t *testing.T) {
		addr := redistest.Start(t, "--maxmemory", "64mb", "--maxmemory-policy", "volatile-lru")
		p := startBinary(t, bin, true, "AUTH_SECRET="+testSecret, "REDIS_URL=redis://"+addr+"/0")
		c := newBrowser(t)
		signIn(t, c, p.base, "bob")
		assert.Equal(t, ident("bob", "user"), identityOf(t, c, p.base+"/dashboard", nil))
		c.CloseIdleConnections()
		require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
		assert.Equal(t, 0, p.wait(t), "%q", p.lines())

		var warnings []string
		for _, line := range p.lines() {
			if strings.Contains(line, "evict") {
				warnings = append(warnings, line)
			}
		}
		require.Len(t, warnings, 1, "one warning, at the first revocation check: %q", p.lines())
		assert.Contains(t, warnings[0], "level=ERROR")
		assert.Contains(t, warnings[0], "maxmemory-policy=volatile-lru")
	})
}

package redisstore_test

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeauth/edgeauth"
	"github.com/edgeauth/edgeauth/internal/authjstest"
	"github.com/edgeauth/edgeauth/internal/redistest"
	"github.com/edgeauth/edgeauth/redisstore"
)

// These tests put edgeauth beside the real Auth.js: sessions are minted by
// either side, revoked in Go, then read by @auth/core's session endpoint,
// which re-encodes every cookie it reads with a fresh jti and iat, as a
// Next.js app does each time its client polls /api/auth/session.

const (
	revokeSecret = "revoke-authjs-secret"
	cookieName   = "authjs.session-token"
	// nodeAhead is how far the Next.js server's clock runs ahead of the Go
	// service's, and instanceAhead how far the second Go instance's does.
	nodeAhead     = 2 * time.Second
	instanceAhead = 1500 * time.Millisecond
)

// testClock is a settable clock with sub-second resolution.
type testClock struct{ ns atomic.Int64 }

func newTestClock(t time.Time) *testClock {
	c := &testClock{}
	c.ns.Store(t.UnixNano())
	return c
}

func (c *testClock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *testClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// ahead returns a clock that runs d ahead of c.
func (c *testClock) ahead(d time.Duration) func() time.Time {
	return func() time.Time { return c.Now().Add(d) }
}

// storeSetup returns the stores of instances a and b: one MemoryStore shared
// by one instance, or two clients of one real redis-server.
type storeSetup func(t *testing.T, clk *testClock) (a, b edgeauth.Store, shared bool)

func revocationStores() map[string]storeSetup {
	return map[string]storeSetup{
		"memory": func(t *testing.T, clk *testClock) (edgeauth.Store, edgeauth.Store, bool) {
			s := edgeauth.NewMemoryStore(edgeauth.MemoryStoreConfig{Now: clk.Now})
			return s, s, false
		},
		"redis, two instances": func(t *testing.T, _ *testClock) (edgeauth.Store, edgeauth.Store, bool) {
			addr := redistest.Start(t)
			var stores [2]edgeauth.Store
			for i := range stores {
				client := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true})
				t.Cleanup(func() { _ = client.Close() })
				stores[i] = redisstore.New(client, redisstore.Options{})
			}
			return stores[0], stores[1], true
		},
	}
}

// fixture is a Go service (instances a and b, b == a on the memory store)
// beside a Next.js app running the real @auth/core.
type fixture struct {
	t    *testing.T
	h    *authjstest.Harness
	clk  *testClock // instance a's clock; the Next.js server runs nodeAhead of it
	a, b *edgeauth.Manager

	mu       sync.Mutex
	versions map[string]int64 // the application's token versions
}

// newFixture builds the instances; with versions they check token versions,
// which sessions minted by Auth.js here do not carry.
func newFixture(t *testing.T, h *authjstest.Harness, stores storeSetup, versions bool) *fixture {
	// Near the real time: Redis expires keys on its own clock.
	clk := newTestClock(time.Now())
	f := &fixture{t: t, h: h, clk: clk, versions: map[string]int64{}}
	storeA, storeB, shared := stores(t, clk)
	f.a = f.manager(storeA, clk.Now, versions)
	f.b = f.a
	if shared {
		f.b = f.manager(storeB, clk.ahead(instanceAhead), versions)
	}
	return f
}

func (f *fixture) manager(store edgeauth.Store, now func() time.Time, versions bool) *edgeauth.Manager {
	cfg := edgeauth.Config{Secrets: []string{revokeSecret}, Store: store, Now: now}
	if versions {
		// The application's own token versions, copied into Go sign-ins.
		cfg.Callbacks.JWT = func(_ context.Context, p edgeauth.JWTParams) (*edgeauth.Token, error) {
			if p.User != nil {
				if err := p.Token.SetClaim("version", f.version(p.User.ID)); err != nil {
					return nil, err
				}
			}
			return p.Token, nil
		}
		cfg.TokenVersion = func(_ context.Context, userID string) (int64, error) { return f.version(userID), nil }
	}
	m, err := edgeauth.New(cfg)
	require.NoError(f.t, err)
	return m
}

func (f *fixture) version(user string) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.versions[user]
}

func (f *fixture) bumpVersion(user string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.versions[user]++
}

func (f *fixture) nodeNow() int64 { return f.clk.Now().Add(nodeAhead).Unix() }

// goSignIn signs user in through m and returns the session cookie's value.
func (f *fixture) goSignIn(m *edgeauth.Manager, user string) string {
	f.t.Helper()
	w := httptest.NewRecorder()
	_, err := m.SignIn(w, httptest.NewRequest("POST", "/login", nil), &edgeauth.User{ID: user, Name: user})
	require.NoError(f.t, err)
	return sessionCookieValue(f.t, w.Header().Values("Set-Cookie"))
}

// nodeSignIn signs user in through @auth/core's Credentials provider, with
// the "sid" callback of testdata/authjs/sid-callback.mjs or with none.
func (f *fixture) nodeSignIn(user, callbacks string) string {
	f.t.Helper()
	var out struct {
		Status     int      `json:"status"`
		SetCookies []string `json:"setCookies"`
	}
	require.NoError(f.t, f.h.Call(map[string]any{"op": "signIn", "secret": revokeSecret, "callbacks": callbacks,
		"user": map[string]any{"id": user, "name": user}, "now": f.nodeNow()}, &out))
	require.Equal(f.t, http.StatusFound, out.Status)
	return sessionCookieValue(f.t, out.SetCookies)
}

// nodeRead has @auth/core's session endpoint read cookie (and, with data,
// update the session as the client's update(data) does), and returns the
// cookie it sets. Auth.js knows nothing of the revocation store.
func (f *fixture) nodeRead(cookie, callbacks string, data any) string {
	f.t.Helper()
	req := map[string]any{"op": "session", "secret": revokeSecret, "callbacks": callbacks,
		"cookieHeader": cookieName + "=" + cookie, "now": f.nodeNow()}
	if data != nil {
		req["data"] = data
	}
	var out struct {
		Status     int      `json:"status"`
		SetCookies []string `json:"setCookies"`
		Body       any      `json:"body"`
	}
	require.NoError(f.t, f.h.Call(req, &out))
	require.Equal(f.t, http.StatusOK, out.Status)
	require.NotNil(f.t, out.Body, "Auth.js answers with the session")
	return sessionCookieValue(f.t, out.SetCookies)
}

func (f *fixture) decode(cookie string) *edgeauth.Token {
	f.t.Helper()
	tok, err := f.a.Codec().Decode(cookie)
	require.NoError(f.t, err)
	return tok
}

func (f *fixture) load(m *edgeauth.Manager, cookie string) error {
	_, err := m.Load(carrying(cookie))
	return err
}

// requireRefused checks that both instances refuse cookie as revoked, and
// that the Go session endpoint answers null and clears it.
func (f *fixture) requireRefused(cookie, msg string) {
	f.t.Helper()
	for _, m := range []*edgeauth.Manager{f.a, f.b} {
		require.ErrorIs(f.t, f.load(m, cookie), edgeauth.ErrRevoked, msg)
	}
	w := httptest.NewRecorder()
	f.b.SessionHandler().ServeHTTP(w, carrying(cookie))
	assert.Equal(f.t, "null", w.Body.String(), msg)
	cleared := false
	for _, c := range (&http.Response{Header: w.Header()}).Cookies() {
		cleared = cleared || (c.Name == cookieName && c.MaxAge < 0)
	}
	assert.True(f.t, cleared, "%s: the session endpoint clears the cookie", msg)
}

func (f *fixture) requireAccepted(cookie, msg string) {
	f.t.Helper()
	for _, m := range []*edgeauth.Manager{f.a, f.b} {
		require.NoError(f.t, f.load(m, cookie), msg)
	}
}

func carrying(cookie string) *http.Request {
	r := httptest.NewRequest("GET", "/", nil)
	r.AddCookie(&http.Cookie{Name: cookieName, Value: cookie})
	return r
}

// sessionCookieValue returns the live session cookie of Set-Cookie lines
// (sessions here are far below the chunk size).
func sessionCookieValue(t *testing.T, lines []string) string {
	t.Helper()
	for _, c := range (&http.Response{Header: http.Header{"Set-Cookie": lines}}).Cookies() {
		if c.Name == cookieName && c.Value != "" {
			return c.Value
		}
	}
	t.Fatalf("no %s cookie in %q", cookieName, lines)
	return ""
}

// TestRevocationSurvivesAuthJSSessionReads revokes sessions in Go with each
// remedy, has the real Auth.js session endpoint re-encode the revoked cookie
// (fresh jti, fresh iat), and checks that every Go instance refuses the
// result, on one instance with the memory store and on two instances sharing
// a redis-server. Sessions are minted by Go, and by Auth.js with the README's
// jwt callback; the Next.js side reads them with its own callbacks (none, or
// that one), as the app would.
func TestRevocationSurvivesAuthJSSessionReads(t *testing.T) {
	h := authjstest.Start(t)
	mints := []struct {
		name      string
		callbacks string // the Next.js app's callbacks
		mint      func(f *fixture, m *edgeauth.Manager, user string) string
	}{
		{"go sign-in", "default", func(f *fixture, m *edgeauth.Manager, user string) string { return f.goSignIn(m, user) }},
		{"auth.js sign-in with the sid callback", "sid", func(f *fixture, _ *edgeauth.Manager, user string) string {
			return f.nodeSignIn(user, "sid")
		}},
	}
	remedies := []struct {
		name     string
		versions bool // token versions need a version claim, which only the Go callback here adds
		// revoke revokes bob's session cookie; afterAll checks what the
		// remedy leaves alone, and that bob can get back in where he should.
		revoke   func(f *fixture, cookie string)
		afterAll func(f *fixture, mint func(*fixture, *edgeauth.Manager, string) string, callbacks, otherBob string)
	}{
		{
			name: "sign-out (denylist)",
			revoke: func(f *fixture, cookie string) {
				require.NoError(f.t, f.a.SignOut(httptest.NewRecorder(), carrying(cookie)))
			},
			afterAll: func(f *fixture, _ func(*fixture, *edgeauth.Manager, string) string, _, otherBob string) {
				f.requireAccepted(otherBob, "bob's other session is not signed out")
			},
		},
		{
			name: "RevokeToken of a copy Auth.js re-encoded",
			revoke: func(f *fixture, cookie string) {
				// Revoking any copy revokes the session: here, one that Auth.js
				// re-encoded before the call, and that only instance b sees.
				copyTok := f.decode(f.nodeRead(cookie, "default", nil))
				require.NoError(f.t, f.b.RevokeToken(context.Background(), copyTok))
			},
			afterAll: func(f *fixture, _ func(*fixture, *edgeauth.Manager, string) string, _, otherBob string) {
				f.requireAccepted(otherBob, "bob's other session is not revoked")
			},
		},
		{
			name: "ban (RevokeUser)",
			revoke: func(f *fixture, _ string) {
				require.NoError(f.t, f.a.RevokeUser(context.Background(), "bob"))
			},
			afterAll: func(f *fixture, mint func(*fixture, *edgeauth.Manager, string) string, callbacks, otherBob string) {
				f.requireRefused(otherBob, "every session of bob is banned")
				// The ban is on sessions, not on bob: he signs in again, on
				// either instance, and Auth.js reads of that session keep working.
				f.clk.Advance(time.Second)
				for _, m := range []*edgeauth.Manager{f.a, f.b} {
					again := mint(f, m, "bob")
					f.requireAccepted(again, "a sign-in after the ban")
					f.requireAccepted(f.nodeRead(again, callbacks, nil), "an Auth.js read of a sign-in after the ban")
				}
			},
		},
		{
			name:     "token version",
			versions: true,
			revoke:   func(f *fixture, _ string) { f.bumpVersion("bob") },
			afterAll: func(f *fixture, mint func(*fixture, *edgeauth.Manager, string) string, callbacks, _ string) {
				again := mint(f, f.b, "bob")
				f.requireAccepted(f.nodeRead(again, callbacks, nil), "a sign-in with the new version")
			},
		},
	}
	for storeName, stores := range revocationStores() {
		for _, mint := range mints {
			for _, remedy := range remedies {
				if remedy.versions && mint.callbacks != "default" {
					continue
				}
				t.Run(storeName+"/"+mint.name+"/"+remedy.name, func(t *testing.T) {
					f := newFixture(t, h, stores, remedy.versions)
					bob := mint.mint(f, f.a, "bob")
					otherBob := mint.mint(f, f.b, "bob")
					carol := mint.mint(f, f.a, "carol")
					original := f.decode(bob)
					require.NotEmpty(t, original.SessionID)
					require.False(t, original.AuthTime.IsZero())
					f.requireAccepted(bob, "before the revocation")

					// Some time later (more than the clocks' skew: a sign-in on a
					// clock running ahead dates itself after a ban issued just after it).
					f.clk.Advance(5 * time.Second)
					revokedAt := f.clk.Now()
					remedy.revoke(f, bob)
					f.requireRefused(bob, "the revoked cookie")

					// The Next.js app reads the revoked cookie: Auth.js does not
					// consult the store, and re-encodes it with a new jti and iat,
					// both of which the old rules trusted.
					f.clk.Advance(3 * time.Second)
					reread := f.nodeRead(bob, mint.callbacks, nil)
					fresh := f.decode(reread)
					require.NotEqual(t, original.ID, fresh.ID, "Auth.js gives a new jti")
					require.True(t, fresh.IssuedAt.After(revokedAt.Add(time.Second)), "Auth.js gives an iat after the cutoff")
					require.Equal(t, original.SessionID, fresh.SessionID, "Auth.js carries sid")
					require.Equal(t, original.AuthTime, fresh.AuthTime, "Auth.js carries auth_time")
					f.requireRefused(reread, "the revoked session re-encoded by Auth.js")

					// A client's update(data) cannot rename the session or move
					// its sign-in time with the README's callback.
					if mint.callbacks == "sid" {
						updated := f.nodeRead(reread, "sid", map[string]any{"sid": "other", "auth_time": 4102444800})
						require.Equal(t, original.SessionID, f.decode(updated).SessionID)
						f.requireRefused(updated, "the revoked session updated through Auth.js")
					}

					// Control: a live session read by Auth.js stays valid, and
					// Go's re-issue of that copy keeps its session id.
					carolCopy := f.nodeRead(carol, mint.callbacks, nil)
					f.requireAccepted(carolCopy, "a live session re-encoded by Auth.js")
					w := httptest.NewRecorder()
					f.b.SessionHandler().ServeHTTP(w, carrying(carolCopy))
					goCopy := sessionCookieValue(t, w.Header().Values("Set-Cookie"))
					assert.Equal(t, f.decode(carol).SessionID, f.decode(goCopy).SessionID)
					f.requireAccepted(goCopy, "a live session re-issued by Go")

					remedy.afterAll(f, mint.mint, mint.callbacks, otherBob)
				})
			}
		}
	}
}

// TestRevocationWithoutSessionClaims covers sessions a Next.js app mints
// without the README's callback: no sid, no auth_time.
func TestRevocationWithoutSessionClaims(t *testing.T) {
	h := authjstest.Start(t)
	for storeName, stores := range revocationStores() {
		t.Run(storeName+"/denylist falls back to the jti", func(t *testing.T) {
			f := newFixture(t, h, stores, false)
			minted := f.nodeSignIn("dave", "default")
			tok := f.decode(minted)
			require.Empty(t, tok.SessionID)
			require.True(t, tok.AuthTime.IsZero())
			f.requireAccepted(minted, "no revocation yet")

			w := httptest.NewRecorder()
			f.b.SessionHandler().ServeHTTP(w, carrying(minted))
			goCopy := sessionCookieValue(t, w.Header().Values("Set-Cookie"))
			nodeCopyBefore := f.nodeRead(minted, "default", nil)

			require.NoError(t, f.a.SignOut(httptest.NewRecorder(), carrying(minted)))
			f.requireRefused(minted, "the signed-out cookie")
			f.requireRefused(goCopy, "a copy Go re-issued: it keeps the jti")

			// What the jti cannot cover, as documented: every copy Auth.js
			// re-encodes, before or after the sign-out, has a jti of its own.
			f.requireAccepted(nodeCopyBefore, "a copy Auth.js re-encoded before the sign-out")
			f.requireAccepted(f.nodeRead(minted, "default", nil), "a copy Auth.js re-encodes after the sign-out")
		})

		t.Run(storeName+"/a ban refuses them while it lasts", func(t *testing.T) {
			f := newFixture(t, h, stores, false)
			minted := f.nodeSignIn("erin", "default")
			f.clk.Advance(5 * time.Second)
			require.NoError(t, f.a.RevokeUser(context.Background(), "erin"))
			f.requireRefused(minted, "a banned session")
			f.requireRefused(f.nodeRead(minted, "default", nil), "a banned session re-encoded by Auth.js")

			// Without a sign-in time, a session minted after the ban cannot be
			// told from one before it: refused until the ban entry expires.
			f.clk.Advance(2 * time.Second)
			f.requireRefused(f.nodeSignIn("erin", "default"), "a Next.js sign-in without auth_time after the ban")
			f.requireAccepted(f.nodeSignIn("erin", "sid"), "a Next.js sign-in with the callback after the ban")
			f.requireAccepted(f.goSignIn(f.b, "erin"), "a Go sign-in after the ban")

			if storeName == "memory" { // Redis expires entries on its own, real clock
				f.clk.Advance(edgeauth.DefaultMaxAge + 16*time.Second)
				f.requireAccepted(f.nodeSignIn("erin", "default"), "once the ban entry has expired")
			}
		})
	}
}

// TestRevocationUnderClockSkew: a session re-issued on an instance whose
// clock runs ahead gets an iat that a ban issued a moment later on another
// instance does not reach. The ban still ends it: it compares auth_time.
func TestRevocationUnderClockSkew(t *testing.T) {
	for storeName, stores := range revocationStores() {
		t.Run(storeName, func(t *testing.T) {
			clk := newTestClock(time.Now().Truncate(time.Second))
			storeA, storeB, shared := stores(t, clk)
			if !shared {
				storeB = storeA // two instances of one process
			}
			newManager := func(store edgeauth.Store, now func() time.Time) *edgeauth.Manager {
				m, err := edgeauth.New(edgeauth.Config{Secrets: []string{revokeSecret}, Store: store, Now: now, UpdateAge: -1})
				require.NoError(t, err)
				return m
			}
			a := newManager(storeA, clk.Now)
			b := newManager(storeB, clk.ahead(instanceAhead))
			w := httptest.NewRecorder()
			_, err := a.SignIn(w, httptest.NewRequest("POST", "/login", nil), &edgeauth.User{ID: "bob"})
			require.NoError(t, err)
			signedIn := sessionCookieValue(t, w.Header().Values("Set-Cookie"))

			// 0.2 s before the ban (a's clock), instance b re-issues the session.
			clk.Advance(9800 * time.Millisecond)
			w = httptest.NewRecorder()
			_, err = b.Refresh(w, carrying(signedIn))
			require.NoError(t, err)
			reissued := sessionCookieValue(t, w.Header().Values("Set-Cookie"))

			clk.Advance(400 * time.Millisecond)
			banAt := clk.Now()
			require.NoError(t, a.RevokeUser(context.Background(), "bob"))

			tok, err := a.Codec().Decode(reissued)
			require.NoError(t, err)
			cutoff := banAt.Truncate(time.Second).Add(time.Second)
			require.False(t, tok.IssuedAt.Before(cutoff), "the re-issued iat is not before the cutoff: iat alone would keep it")
			for _, m := range []*edgeauth.Manager{a, b} {
				for _, cookie := range []string{signedIn, reissued} {
					_, err := m.Load(carrying(cookie))
					require.ErrorIs(t, err, edgeauth.ErrRevoked)
				}
			}
		})
	}
}

// TestReadmeShowsTheSidCallback keeps the README's Next.js jwt callback and
// the one the tests above run through @auth/core identical.
func TestReadmeShowsTheSidCallback(t *testing.T) {
	dir, err := authjstest.Dir()
	require.NoError(t, err)
	src, err := os.ReadFile(filepath.Join(dir, "sid-callback.mjs"))
	require.NoError(t, err)
	var snippet []string
	in := false
	for line := range strings.Lines(string(src)) {
		switch strings.TrimSpace(line) {
		case "// README:begin":
			in = true
		case "// README:end":
			in = false
		default:
			if in {
				snippet = append(snippet, strings.TrimRight(line, "\n"))
			}
		}
	}
	require.NotEmpty(t, snippet, "markers in sid-callback.mjs")
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	require.NoError(t, err)
	assert.True(t, containsIndented(string(readme), snippet),
		"README.md must show these lines of testdata/authjs/sid-callback.mjs (indentation may differ by a constant):\n%s",
		strings.Join(snippet, "\n"))
}

// containsIndented reports whether text has lines equal to want, in order,
// each shifted by the same indentation change.
func containsIndented(text string, want []string) bool {
	var lines []string
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	base := indentOf(want[0])
	for i := 0; i+len(want) <= len(lines); i++ {
		shift := indentOf(lines[i]) - base
		if shift < 0 {
			continue
		}
		pad := strings.Repeat(" ", shift)
		match := true
		for j, w := range want {
			got := lines[i+j]
			if w != "" {
				w = pad + w
			}
			if got != w {
				match = false
				break
			}
		}
		if match {
			return true
		}
	}
	return false
}

func indentOf(s string) int { return len(s) - len(strings.TrimLeft(s, " ")) }

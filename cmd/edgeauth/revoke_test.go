package main

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeauth/edgeauth"
	"github.com/edgeauth/edgeauth/internal/chunk"
	"github.com/edgeauth/edgeauth/internal/redistest"
	"github.com/edgeauth/edgeauth/redisstore"
)

// revokeCheck is a Manager on the same Redis, as every gateway instance
// would be: it says whether a cookie header still holds a session.
func revokeCheck(t *testing.T, redisAddr, prefix, cookieName string) func(cookie string) error {
	t.Helper()
	client := redis.NewClient(&redis.Options{Addr: redisAddr, ContextTimeoutEnabled: true})
	t.Cleanup(func() { client.Close() })
	m, err := edgeauth.New(edgeauth.Config{
		Secrets: []string{gwSecret},
		Cookie:  edgeauth.CookieConfig{Name: cookieName},
		Store:   redisstore.New(client, redisstore.Options{Prefix: prefix}),
	})
	require.NoError(t, err)
	return func(cookie string) error {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Cookie", cookie)
		_, err := m.Load(r)
		return err
	}
}

func TestRevokeCommand(t *testing.T) {
	addr := redistest.Start(t)
	redisURL := "redis://" + addr + "/0"
	check := revokeCheck(t, addr, "", "authjs.session-token")
	env := map[string]string{"AUTH_SECRET": gwSecret}

	// A user: no secret needed; flags after the arguments.
	ann := sessionCookie(mint(t, gwSecret, map[string]any{"sub": "ann"}))
	require.NoError(t, check(ann))
	r := runCLI(t, map[string]string{}, "revoke", "user", "ann", "--redis", redisURL)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Regexp(t, `^revoked every session of user "ann" signed in up to \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\n$`, r.stdout)
	assert.ErrorIs(t, check(ann), edgeauth.ErrRevoked)

	// A session by token, by Cookie header (chunked), and from stdin.
	ben := mint(t, gwSecret, map[string]any{"sub": "ben", "pad": strings.Repeat("b", 5000)})
	pieces := chunk.Split(ben, chunk.SizeAuthJS)
	benCookie := "theme=dark; authjs.session-token.0=" + pieces[0] + "; authjs.session-token.1=" + pieces[1]
	cat := mint(t, gwSecret, map[string]any{"sub": "cat"})
	dan := mint(t, gwSecret, map[string]any{"sub": "dan"})
	danOther := mint(t, gwSecret, map[string]any{"sub": "dan"})
	for _, tc := range []struct {
		name, arg, stdin, cookie string
	}{
		{"token argument", cat, "", sessionCookie(cat)},
		{"cookie header", "Cookie: " + benCookie, "", benCookie},
		{"stdin", "", dan + "\n", sessionCookie(dan)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.NoError(t, check(tc.cookie))
			args := []string{"revoke", "session", "--redis", redisURL}
			if tc.arg != "" {
				args = append(args, tc.arg)
			}
			var out, errb strings.Builder
			code := run(args, strings.NewReader(tc.stdin), &out, &errb, envOf(env))
			require.Equal(t, exitOK, code, errb.String())
			assert.Regexp(t, `^revoked session [0-9a-f-]{36} of user "\w+"\n$`, out.String())
			assert.ErrorIs(t, check(tc.cookie), edgeauth.ErrRevoked)
		})
	}
	assert.NoError(t, check(sessionCookie(danOther)), "revoking a session leaves the user's others")

	// Failures: one line, never the token.
	expired := mintAt(t, gwSecret, map[string]any{"sub": "eve"}, timeAgo(3))
	forged := mint(t, "another-secret-another-secret-0123", map[string]any{"sub": "eve"})
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		code int
		out  string
	}{
		{"expired", []string{"session", expired, "--redis", redisURL}, env, exitOK, "session already expired: nothing to revoke\n"},
		{"forged", []string{"session", forged, "--redis", redisURL}, env, exitFail, "edgeauth: no matching secret (token sealed with another secret or salt)\n"},
		{"cookie without session", []string{"session", "theme=dark", "--redis", redisURL}, env, exitFail, "edgeauth: no session cookie in header\n"},
		{"session needs a secret", []string{"session", cat, "--redis", redisURL}, map[string]string{}, exitFail, "no secret"},
		{"no redis", []string{"user", "ann"}, env, exitUsage, "revoke needs --redis URL"},
		{"no user", []string{"user", "--redis", redisURL}, env, exitUsage, "revoke user takes one user ID"},
		{"two users", []string{"user", "a", "b", "--redis", redisURL}, env, exitUsage, "revoke user takes one user ID"},
		{"what", []string{"token", "x"}, env, exitUsage, "revoke needs user ID or session"},
		{"redis down", []string{"user", "ann", "--redis", "redis://" + redistest.Unresponsive(t) + "/0"}, env, exitFail, "edgeauth: revoking user: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, tc.env, append([]string{"revoke"}, tc.args...)...)
			assert.Equal(t, tc.code, r.code, r.stderr)
			assert.Contains(t, r.stdout+r.stderr, tc.out)
			assert.NotContains(t, r.stderr, forged)
		})
	}

	// --config takes the gateway's redis, prefix and cookie name.
	custom := revokeCheck(t, addr, "app1:", "sid")
	fay := "sid=" + mintWith(t, edgeauth.CodecConfig{Secrets: []string{gwSecret}, Salt: "sid"}, map[string]any{"sub": "fay"})
	require.NoError(t, custom(fay))
	path := writeConfig(t, "redis: "+redisURL+"\nredisPrefix: \"app1:\"\ncookie:\n  name: sid\n")
	r = runCLI(t, env, "revoke", "session", "--config", path, fay)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.ErrorIs(t, custom(fay), edgeauth.ErrRevoked)
	assert.NoError(t, check(sessionCookie(mint(t, gwSecret, map[string]any{"sub": "fay"}))), "another prefix is another store")

}

// The redis key and --redis take go-redis's cluster form too: users revoked
// with the command on a Redis Cluster, whose keys spread over its masters,
// are refused by a gateway on the same cluster, and the others are not.
func TestRevokeOnCluster(t *testing.T) {
	c := redistest.StartCluster(t, 3)
	gw := startGateway(t, gwConfig, nil, proxyFlags{redis: c.URL()})
	auth := func(sub string) int {
		cookie := map[string]string{"X-Original-URI": "/dashboard", "Cookie": sessionCookie(mint(t, gwSecret, map[string]any{"sub": sub}))}
		res, _ := doRaw(t, "GET", gw.url, "/_edgeauth/auth", cookie)
		return res.StatusCode
	}
	users := []string{"ann", "ben", "cat", "dan", "eve", "fay", "gus", "hal"}
	for _, u := range users {
		require.Equal(t, 200, auth(u), u)
	}
	for _, u := range users[:6] {
		r := runCLI(t, map[string]string{}, "revoke", "user", u, "--redis", c.URL())
		require.Equal(t, exitOK, r.code, r.stderr)
	}
	for _, u := range users[:6] {
		cookie := map[string]string{"X-Original-URI": "/dashboard", "Cookie": sessionCookie(mint(t, gwSecret, map[string]any{"sub": u}))}
		requireStatusSoon(t, gw.url, "/_edgeauth/auth", cookie, 401)
	}
	for _, u := range users[6:] {
		assert.Equal(t, 200, auth(u), "%s not revoked", u)
	}
}

// Warm checks on the gateway run no script on Redis: its store answers them
// from the local cache, which Redis keeps current.
func TestGatewayRedisLocalCache(t *testing.T) {
	addr := redistest.Start(t)
	gw := startGateway(t, gwConfig, nil, proxyFlags{redis: "redis://" + addr + "/0"})
	scripts := func() string { return redistest.ScriptCalls(t, addr) }
	cookie := map[string]string{"X-Original-URI": "/dashboard", "Cookie": sessionCookie(mint(t, gwSecret, map[string]any{"sub": "ann"}))}
	res, _ := doRaw(t, "GET", gw.url, "/_edgeauth/auth", cookie)
	require.Equal(t, 200, res.StatusCode)
	require.NotEmpty(t, scripts(), "the first check ran a script")
	// Results are cached once the store's tracking connection is up.
	require.Eventually(t, func() bool {
		s := scripts()
		doRaw(t, "GET", gw.url, "/_edgeauth/auth", cookie)
		return scripts() == s
	}, 10*time.Second, 10*time.Millisecond)
	before := scripts()
	for range 20 {
		res, _ := doRaw(t, "GET", gw.url, "/_edgeauth/auth", cookie)
		require.Equal(t, 200, res.StatusCode)
	}
	assert.Equal(t, before, scripts(), "warm checks ran scripts on redis")

	r := runCLI(t, map[string]string{}, "revoke", "user", "ann", "--redis", "redis://"+addr+"/0")
	require.Equal(t, exitOK, r.code, r.stderr)
	requireStatusSoon(t, gw.url, "/_edgeauth/auth", cookie, 401)
}

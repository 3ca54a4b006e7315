package main

import (
	"cmp"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeauth/edgeauth/betterauth"
	"github.com/edgeauth/edgeauth/internal/betterauthtest"
	"github.com/edgeauth/edgeauth/internal/redistest"
)

// baEnv is the environment of the format: better-auth tests.
var baEnv = map[string]string{"BETTER_AUTH_SECRET": betterauthtest.Secret}

func TestConfigBetterAuth(t *testing.T) {
	path := writeConfig(t, `
format: better-auth
betterAuth:
  strategy: jwe
  version: "2"
  cookiePrefix: app
  secure: true
  roleField: group
  maxCacheSize: 32768
  storeSessionInDatabase: true
  sessionURL: http://127.0.0.1:3000/api/auth/get-session
  lookupTimeout: 1s
  lookupCacheTTL: 2s
  lookupCacheSize: 100
clockTolerance: 5s
redis: redis://127.0.0.1:6379/1
redisPrefix: "app:"
rules:
  - pattern: /admin/:path*
    roles: [admin]
claimHeaders:
  x-user-email: email
`)
	cfg, err := loadGatewayConfig(path, proxyFlags{}, envOf(map[string]string{"BETTER_AUTH_SECRETS": "2:new-secret,1:old-secret"}))
	require.NoError(t, err)
	assert.Equal(t, &betterauth.Config{
		Secrets: []string{"new-secret", "old-secret"}, Strategy: betterauth.StrategyJWE, Version: "2",
		CookiePrefix: "app", Secure: true, RoleField: "group", MaxCacheSize: 32768, ClockTolerance: 5 * time.Second,
		StoreSessionInDatabase: true, SessionURL: "http://127.0.0.1:3000/api/auth/get-session",
		LookupTimeout: time.Second, LookupCacheTTL: 2 * time.Second, LookupCacheSize: 100,
	}, cfg.betterAuth)
	assert.Nil(t, cfg.lib.Secrets)
	assert.Zero(t, cfg.lib.ClockTolerance, "the Verifier's")
	assert.Equal(t, map[string]string{"x-user-email": "email"}, cfg.lib.ClaimHeaders)
	assert.Equal(t, 1, cfg.redis.DB)

	r := runCLI(t, baEnv, "proxy", "--check", "--config", path)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Equal(t, path+": OK (forward-auth only; 1 rules; cookie __Secure-app.session_token; Better Auth sessions: "+
		"cookie cache jwe, secondary storage redis 127.0.0.1:6379, get-session; secrets: 1 from the environment)\n", r.stdout)

	const devSecret = "better-auth-secret-12345678901234567890"
	devSecretFile := filepath.Join(t.TempDir(), "secrets")
	require.NoError(t, os.WriteFile(devSecretFile, []byte(devSecret+"\n"), 0o600))
	assertConfigErrors(t, "format: better-auth\n", baEnv, []configErrorCase{
		{"Auth.js cookie", "cookie:\n  name: x\n", nil, "cookie: applies to Auth.js cookies only, not to format: better-auth"},
		{"Auth.js maxAge", "maxAge: 1h\n", nil, "maxAge: applies to Auth.js cookies only"},
		{"Auth.js allowBearer", "allowBearer: true\n", nil, "allowBearer: applies to Auth.js cookies only"},
		{"Auth.js roleClaim", "roleClaim: group\n", nil, "roleClaim: applies to Auth.js cookies only"},
		{"Auth.js revocationFailOpen", "revocationFailOpen: true\n", nil, "revocationFailOpen: applies to Auth.js cookies only"},
		{"Auth.js cacheSize", "cacheSize: 5\n", nil, "cacheSize: applies to Auth.js cookies only"},
		{"unknown key", "betterAuth:\n  strategy: jwe\n  stratgy: jwt\n", nil, "betterAuth.stratgy (line 4): unknown key"},
		{"strategy", "betterAuth:\n  strategy: cookie\n", nil, `betterAuth.strategy: "cookie": want compact, jwt, jwe or none`},
		{"none without a lookup", "betterAuth:\n  strategy: none\n", nil, "betterAuth.strategy: none needs redis"},
		{"database without storage", "betterAuth:\n  storeSessionInDatabase: true\n", nil, "betterAuth.storeSessionInDatabase: needs redis"},
		{"cache TTL without URL", "betterAuth:\n  lookupCacheTTL: 1s\n", nil, "betterAuth.lookupCacheTTL: needs betterAuth.sessionURL"},
		{"session URL", "betterAuth:\n  sessionURL: ftp://x\n", nil, "betterAuth.sessionURL: SessionURL must be an absolute http(s) URL"},
		{"cookie prefix", "betterAuth:\n  cookiePrefix: a;b\n", nil, "betterAuth.cookiePrefix: CookiePrefix must be an RFC 6265 token"},
		{"lookup timeout", "betterAuth:\n  lookupTimeout: -1s\n", nil, "betterAuth.lookupTimeout: LookupTimeout must not be negative"},
		{"middleware key", "loginURL: login\n", nil, "loginURL: "},
		{"no secret", "", map[string]string{}, "no secret: set BETTER_AUTH_SECRET"},
		{"AUTH_SECRET is Better Auth's fallback", "", map[string]string{"AUTH_SECRET": "s", "AUTH_SECRET_FILE": "/x"}, "both AUTH_SECRET_FILE and BETTER_AUTH_SECRET(S)/AUTH_SECRET"},
		{"bad rotation list", "", map[string]string{"BETTER_AUTH_SECRETS": "new"}, "BETTER_AUTH_SECRETS entry 1 is not <version>:<secret>"},
		// Public, so anyone could sign a cookie cache with any user and role.
		{"development secret", "", map[string]string{"BETTER_AUTH_SECRETS": "2:" + devSecret + ",1:old"}, "betterauth: no secret configured: secret 0 is Better Auth's public development secret"},
		{"development secret in a file", "", map[string]string{"AUTH_SECRET_FILE": devSecretFile}, "secret 0 is Better Auth's public development secret"},
	})
	// And the other way round.
	path = writeConfig(t, "betterAuth:\n  strategy: jwe\n")
	_, err = loadGatewayConfig(path, proxyFlags{}, envOf(map[string]string{"AUTH_SECRET": gwSecret}))
	assert.ErrorContains(t, err, path+": betterAuth: applies to format: better-auth only")

	r = runCLI(t, baEnv, "revoke", "user", "u1", "--config", writeConfig(t, "format: better-auth\nredis: redis://127.0.0.1:1/0\n"))
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "revoke applies to Auth.js sessions")
}

// The gateway in front of an upstream over real HTTP, deciding on sessions
// the real Better Auth keeps in Redis: reverse proxy and forward-auth, and a
// sign-out in the app taking effect at once.
func TestGatewayBetterAuth(t *testing.T) {
	addr := redistest.Start(t)
	app := betterauthtest.New(t, map[string]any{"redis": addr}) // no cookie cache: every session is in Redis
	admin := app.SignUp(0, map[string]any{"role": "admin", "email": "ada@example.com"})
	user := app.SignUp(0, map[string]any{"role": "user", "email": "bob@example.com"})
	up := startUpstream(t)
	gw := startGateway(t, `
format: better-auth
betterAuth:
  strategy: none
redis: redis://`+addr+`/0
loginURL: /login
apiPrefixes: [/api]
rules:
  - pattern: /admin/:path*
    roles: [admin]
  - pattern: /help
    public: true
  - pattern: /:path*
claimHeaders:
  x-user-email: email
`, maps.Clone(baEnv), proxyFlags{upstream: up.URL})
	cookie := func(r *betterauthtest.Response) map[string]string {
		return map[string]string{"Cookie": r.CookieHeader()}
	}
	tampered := map[string]string{"Cookie": strings.Replace(admin.CookieHeader(), "session_token=", "session_token=A", 1)}

	for _, tc := range []struct {
		name     string
		method   string
		path     string
		header   map[string]string
		status   int
		location string
		identity map[string][]string // what the upstream saw (200 only)
	}{
		{name: "admin", path: "/admin/x", header: merge(identitySpoofs, cookie(admin)), status: 200, identity: map[string][]string{
			"x-user-id": {admin.UserID(t)}, "x-user-role": {"admin"}, "x-user-email": {"ada@example.com"}}},
		{name: "user on a guarded path", path: "/dashboard", header: merge(identitySpoofs, cookie(user)), status: 200, identity: map[string][]string{
			"x-user-id": {user.UserID(t)}, "x-user-role": {"user"}, "x-user-email": {"bob@example.com"}}},
		{name: "user POST", path: "/api/x", method: "POST", header: merge(identitySpoofs, cookie(user)), status: 200, identity: map[string][]string{
			"x-user-id": {user.UserID(t)}, "x-user-role": {"user"}, "x-user-email": {"bob@example.com"}}},
		{name: "wrong role", path: "/admin/x", header: merge(cookie(user), map[string]string{"Accept": "application/json"}), status: 403},
		{name: "anonymous browser", path: "/dashboard?a=1", status: 303, location: "/login?callbackUrl=%2Fdashboard%3Fa%3D1"},
		{name: "anonymous API", path: "/api/x", status: 401},
		{name: "tampered", path: "/dashboard", header: tampered, status: 303, location: "/login?callbackUrl=%2Fdashboard"},
		{name: "public, spoofed", path: "/help", header: identitySpoofs, status: 200, identity: map[string][]string{}},
	} {
		t.Run("reverse proxy/"+tc.name, func(t *testing.T) {
			res, body := doRaw(t, cmp.Or(tc.method, "GET"), gw.url, tc.path, tc.header)
			require.Equal(t, tc.status, res.StatusCode, "%s", body)
			assert.Empty(t, res.Header.Values("Set-Cookie"))
			assert.Equal(t, tc.location, res.Header.Get("Location"))
			if tc.status == 200 {
				assert.Equal(t, tc.identity, identityIn(upstreamSaw(t, body).Header))
			}
		})
		t.Run("forward-auth/"+tc.name, func(t *testing.T) {
			if tc.method != "" {
				return
			}
			res, body := doRaw(t, "GET", gw.url, "/_edgeauth/auth", merge(tc.header, map[string]string{"X-Original-URI": tc.path}))
			want := tc.status
			if want == 303 {
				want = 401
			}
			require.Equal(t, want, res.StatusCode, "%s", body)
			assert.Empty(t, res.Header.Values("Set-Cookie"))
			assert.Equal(t, tc.location, res.Header.Get("X-Edgeauth-Location"))
			if want == 200 {
				got := identityIn(res.Header)
				for k, v := range tc.identity {
					assert.Equal(t, v, got[k], k)
				}
			}
		})
	}

	// Sign-out in the real app deletes the session from Redis: the next
	// request through the gateway has none.
	res, _ := doRaw(t, "GET", gw.url, "/dashboard", cookie(user))
	require.Equal(t, http.StatusOK, res.StatusCode)
	out := app.Call("signOut", 0, map[string]any{"cookieHeader": user.CookieHeader()})
	require.Equal(t, 200, out.Status)
	res, _ = doRaw(t, "GET", gw.url, "/dashboard", cookie(user))
	assert.Equal(t, http.StatusSeeOther, res.StatusCode)
	res, _ = doRaw(t, "GET", gw.url, "/_edgeauth/auth", merge(cookie(user), map[string]string{"X-Original-URI": "/dashboard"}))
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
	res, _ = doRaw(t, "GET", gw.url, "/dashboard", cookie(admin))
	assert.Equal(t, http.StatusOK, res.StatusCode, "other sessions stay")

	// The signed-out token, smuggled ahead of a valid one in a form the
	// gateway skips and better-call unquotes (its first occurrence wins),
	// does not reach the app: the app reads the session the gateway verified.
	userToken := strings.SplitN(user.CookieHeader(), "=", 2)[1]
	smuggled := `better-auth.session_token="` + userToken + `\; ` + admin.CookieHeader()
	res, body := doRaw(t, "GET", gw.url, "/dashboard", map[string]string{"Cookie": smuggled})
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, []string{admin.CookieHeader()}, upstreamSaw(t, body).Header["Cookie"])
	revoked := logLines(t, gw.logs.String(), "request rejected")
	require.NotEmpty(t, revoked)
	assert.Equal(t, "revoked", revoked[len(revoked)-1]["reason"])
	assert.NotContains(t, gw.logs.String(), strings.SplitN(strings.SplitN(user.CookieHeader(), "=", 2)[1], ".", 2)[0], "no token in the logs")
}

// The README's format: better-auth configuration loads, and says what the
// example file says.
func TestREADMEBetterAuthGateway(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	require.NoError(t, err)
	_, rest, ok := strings.Cut(string(raw), "```yaml\nformat: better-auth\n")
	require.True(t, ok)
	block, _, ok := strings.Cut(rest, "```")
	require.True(t, ok)
	block = "format: better-auth\n" + block
	_, err = loadGatewayConfig(writeConfig(t, block), proxyFlags{}, envOf(baEnv))
	require.NoError(t, err)
	example, err := os.ReadFile(filepath.Join("..", "..", "examples", "gateway", "better-auth.yaml"))
	require.NoError(t, err)
	for _, line := range strings.Split(strings.TrimSpace(block), "\n") {
		assert.Contains(t, string(example), line+"\n")
	}
}

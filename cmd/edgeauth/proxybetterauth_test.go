package main

import (
	"cmp"
	"encoding/json"
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
	tampered := map[string]string{"Cookie": strings.Replace(admin.CookieHeader(), "session_token=", "session_token=A", 1)}

	assertGatewayCases(t, gw, append(signedInCases(t, admin, user, "/admin/x"), []gatewayCase{
		{name: "user POST", path: "/api/x", method: "POST", header: merge(identitySpoofs, cookieOf(user)), status: 200,
			identity: identityOf(t, user, "user", "bob@example.com")},
		{name: "anonymous browser", path: "/dashboard?a=1", status: 303, location: "/login?callbackUrl=%2Fdashboard%3Fa%3D1"},
		{name: "anonymous API", path: "/api/x", status: 401},
		{name: "tampered", path: "/dashboard", header: tampered, status: 303, location: "/login?callbackUrl=%2Fdashboard"},
		{name: "public, spoofed", path: "/help", header: identitySpoofs, status: 200, identity: map[string][]string{}},
	}...))

	// Sign-out in the real app deletes the session from Redis: the next
	// request through the gateway has none.
	res, _ := doRaw(t, "GET", gw.url, "/dashboard", cookieOf(user))
	require.Equal(t, http.StatusOK, res.StatusCode)
	out := app.Call("signOut", 0, map[string]any{"cookieHeader": user.CookieHeader()})
	require.Equal(t, 200, out.Status)
	res, _ = doRaw(t, "GET", gw.url, "/dashboard", cookieOf(user))
	assert.Equal(t, http.StatusSeeOther, res.StatusCode)
	res, _ = doRaw(t, "GET", gw.url, "/_edgeauth/auth", merge(cookieOf(user), map[string]string{"X-Original-URI": "/dashboard"}))
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
	res, _ = doRaw(t, "GET", gw.url, "/dashboard", cookieOf(admin))
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

// gatewayCase is one request through the gateway and its answer in
// reverse-proxy mode. Forward-auth answers the same, except 401 with
// X-Edgeauth-Location where the proxy redirects (303).
type gatewayCase struct {
	name     string
	method   string // "" is GET; forward-auth is asked about GETs only
	path     string
	header   map[string]string
	status   int
	location string
	identity map[string][]string // what the upstream saw (200 only)
}

// assertGatewayCases sends each case through gw in both modes. A session
// that passes reaches the upstream with its cookies untouched and only the
// gateway's identity headers; nothing sets a cookie.
func assertGatewayCases(t *testing.T, gw *testGateway, cases []gatewayCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run("reverse proxy/"+tc.name, func(t *testing.T) {
			res, body := doRaw(t, cmp.Or(tc.method, "GET"), gw.url, tc.path, tc.header)
			require.Equal(t, tc.status, res.StatusCode, "%s", body)
			assert.Empty(t, res.Header.Values("Set-Cookie"))
			assert.Equal(t, tc.location, res.Header.Get("Location"))
			if tc.status == 200 {
				saw := upstreamSaw(t, body)
				assert.Equal(t, tc.identity, identityIn(saw.Header))
				if c := tc.header["Cookie"]; c != "" {
					assert.Equal(t, []string{c}, saw.Header["Cookie"])
				}
			}
		})
		t.Run("forward-auth/"+tc.name, func(t *testing.T) {
			if tc.method != "" {
				return
			}
			res, body := doRaw(t, "GET", gw.url, authPath, merge(tc.header, map[string]string{"X-Original-URI": tc.path}))
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
}

// baGatewayConfig is a format: better-auth configuration with the given
// betterAuth keys (indented lines) and top-level keys: /admin needs the role
// admin, every other path a session.
func baGatewayConfig(betterAuthKeys, topLevel string) string {
	return "format: better-auth\nbetterAuth:\n" + betterAuthKeys + topLevel + `
loginURL: /login
apiPrefixes: [/api]
rules:
  - pattern: /admin/:path*
    roles: [admin]
  - pattern: /:path*
claimHeaders:
  x-user-email: email
`
}

// cookiesOf is the part of r's Cookie header whose names contain part
// ("session_token", "session_data").
func cookiesOf(r *betterauthtest.Response, part string) string {
	var out []string
	for _, pair := range strings.Split(r.CookieHeader(), "; ") {
		if name, _, _ := strings.Cut(pair, "="); strings.Contains(name, part) {
			out = append(out, pair)
		}
	}
	return strings.Join(out, "; ")
}

// flipped changes one character in the middle of a cookie value.
func flipped(value string) string {
	b := []byte(value)
	i := len(b) / 2
	if b[i] == '.' {
		i++
	}
	b[i] ^= 0x01
	return string(b)
}

// cookieOf is the Cookie header of a browser after r.
func cookieOf(r *betterauthtest.Response) map[string]string {
	return map[string]string{"Cookie": r.CookieHeader()}
}

// signedInCases are the answers to a signed-in admin (ada@example.com)
// and user (bob@example.com), each sending spoofed identity headers.
func signedInCases(t *testing.T, admin, user *betterauthtest.Response, adminPath string) []gatewayCase {
	return []gatewayCase{
		{name: "admin", path: adminPath, header: merge(identitySpoofs, cookieOf(admin)), status: 200,
			identity: identityOf(t, admin, "admin", "ada@example.com")},
		{name: "user", path: "/dashboard", header: merge(identitySpoofs, cookieOf(user)), status: 200,
			identity: identityOf(t, user, "user", "bob@example.com")},
		{name: "wrong role", path: adminPath, header: merge(cookieOf(user), map[string]string{"Accept": "application/json"}), status: 403},
	}
}

// identityOf is the identity the gateway sends for r's user.
func identityOf(t *testing.T, r *betterauthtest.Response, role, email string) map[string][]string {
	return map[string][]string{"x-user-id": {r.UserID(t)}, "x-user-role": {role}, "x-user-email": {email}}
}

// Better Auth's cookie cache through the gateway, for every strategy:
// sessions minted by the real Better Auth's sign-up (at the real clock: the
// gateway has no other) pass on the cache alone; a tampered cache, another
// session's cache, a cache of another version or of a secret the gateway
// does not hold is no session, unless secondary storage or get-session
// proves the session of the token, as that session (never the cache's).
func TestGatewayBetterAuthCookieCache(t *testing.T) {
	const (
		oldSecret   = "old-secret-0123456789abcdef0123456789"
		newSecret   = "new-secret-0123456789abcdef0123456789"
		otherSecret = "another-secret-0123456789abcdef01234567"
		tokenName   = "better-auth.session_token"
		dataName    = "better-auth.session_data"
	)
	addr := redistest.Start(t)
	up := startUpstream(t)
	rotatedEnv := map[string]string{"BETTER_AUTH_SECRETS": "2:" + newSecret + ",1:" + oldSecret, "AUTH_SECRET": ""}
	for _, strategy := range []string{"compact", "jwt", "jwe"} {
		t.Run(strategy, func(t *testing.T) {
			start := func(keys, topLevel string, env map[string]string) *testGateway {
				return startGateway(t, baGatewayConfig("  strategy: "+strategy+"\n"+keys, topLevel),
					maps.Clone(env), proxyFlags{upstream: up.URL})
			}
			cookie := func(header string) map[string]string { return map[string]string{"Cookie": header} }

			// Sessions in Redis and the cache: the storage and get-session
			// gateways below can look the token up.
			app := betterauthtest.New(t, map[string]any{"strategy": strategy, "redis": addr})
			admin := app.SignUp(0, map[string]any{"role": "admin", "email": "ada@example.com"})
			user := app.SignUp(0, map[string]any{"role": "user", "email": "bob@example.com"})
			big := app.SignUp(0, map[string]any{"role": "user", "email": "cy@example.com", "name": strings.Repeat("Cy Lovelace ", 500)})
			require.Contains(t, user.Cookies, dataName)
			require.Contains(t, big.Cookies, dataName+".1", "the cache is chunked")
			require.NotContains(t, big.Cookies, dataName)
			sessionURL := app.Serve() + "/api/auth/get-session"

			tampered := cookiesOf(user, "session_token") + "; " + dataName + "=" + flipped(user.Cookies[dataName])
			substituted := cookiesOf(user, "session_token") + "; " + cookiesOf(admin, "session_data")
			forgedToken := strings.Replace(admin.CookieHeader(), "session_token=", "session_token=A", 1)
			noCache := cookiesOf(user, "session_token")
			refused := func(name, header string) []gatewayCase {
				return []gatewayCase{
					{name: name, path: "/dashboard", header: cookie(header), status: 303, location: "/login?callbackUrl=%2Fdashboard"},
					{name: name + ", API", path: "/api/x", header: cookie(header), status: 401},
					{name: name + ", admin", path: "/admin/x", header: cookie(header), status: 303, location: "/login?callbackUrl=%2Fadmin%2Fx"},
				}
			}

			t.Run("cache alone", func(t *testing.T) {
				gw := start("", "", baEnv)
				cases := []gatewayCase{
					{name: "admin", path: "/admin/x", header: merge(identitySpoofs, cookieOf(admin)), status: 200,
						identity: identityOf(t, admin, "admin", "ada@example.com")},
					{name: "user", path: "/dashboard", header: merge(identitySpoofs, cookieOf(user)), status: 200,
						identity: identityOf(t, user, "user", "bob@example.com")},
					{name: "user POST", method: "POST", path: "/api/x", header: cookieOf(user), status: 200,
						identity: identityOf(t, user, "user", "bob@example.com")},
					{name: "chunked", path: "/dashboard", header: cookieOf(big), status: 200,
						identity: identityOf(t, big, "user", "cy@example.com")},
					{name: "wrong role", path: "/admin/x", header: cookieOf(user), status: 403},
				}
				cases = append(cases, refused("tampered cache", tampered)...)
				cases = append(cases, refused("another session's cache", substituted)...)
				cases = append(cases, refused("forged token", forgedToken)...)
				cases = append(cases, refused("token without a cache", noCache)...)
				cases = append(cases, refused("a chunk missing", cookiesOf(big, "session_token")+"; "+dataName+".1="+big.Cookies[dataName+".1"])...)
				assertGatewayCases(t, gw, cases)
				assert.NotContains(t, gw.logs.String(), strings.SplitN(user.Cookies[tokenName], ".", 2)[0], "no token in the logs")
			})

			// The token's session proves itself where the cache does not: as
			// the token's session, never as the cache's.
			for name, lookup := range map[string]struct{ keys, topLevel string }{
				"storage":     {"", "redis: redis://" + addr + "/0\n"},
				"get-session": {"  sessionURL: " + sessionURL + "\n", ""},
			} {
				t.Run("cache then "+name, func(t *testing.T) {
					gw := start(lookup.keys, lookup.topLevel, baEnv)
					userIdentity := identityOf(t, user, "user", "bob@example.com")
					cases := []gatewayCase{
						{name: "tampered cache", path: "/dashboard", header: cookie(tampered), status: 200, identity: userIdentity},
						{name: "another session's cache", path: "/dashboard", header: cookie(substituted), status: 200, identity: userIdentity},
						{name: "another session's cache, admin", path: "/admin/x", header: merge(cookie(substituted), map[string]string{"Accept": "application/json"}), status: 403},
						{name: "token without a cache", path: "/dashboard", header: cookie(noCache), status: 200, identity: userIdentity},
					}
					assertGatewayCases(t, gw, append(cases, refused("forged token", forgedToken)...))
				})
			}

			t.Run("secure", func(t *testing.T) {
				secure := betterauthtest.New(t, map[string]any{"strategy": strategy, "secure": true}).
					SignUp(0, map[string]any{"role": "admin", "email": "ada@example.com"})
				require.Contains(t, secure.Cookies, "__Secure-"+tokenName)
				require.Contains(t, secure.Cookies, "__Secure-"+dataName)
				gw := start("  secure: true\n", "", baEnv)
				cases := []gatewayCase{{name: "__Secure- names", path: "/admin/x", header: cookieOf(secure), status: 200,
					identity: identityOf(t, secure, "admin", "ada@example.com")}}
				cases = append(cases, refused("plain names", user.CookieHeader())...)
				assertGatewayCases(t, gw, cases)
				assertGatewayCases(t, start("", "", baEnv), refused("__Secure- names without secure", secure.CookieHeader()))
			})

			t.Run("version", func(t *testing.T) {
				v2 := betterauthtest.New(t, map[string]any{"strategy": strategy, "version": "2"}).
					SignUp(0, map[string]any{"role": "user", "email": "bob@example.com"})
				assertGatewayCases(t, start("", "", baEnv), refused("version 2 cache, version 1 configured", v2.CookieHeader()))
				assertGatewayCases(t, start("  version: \"2\"\n", "", baEnv), []gatewayCase{{name: "version 2 configured",
					path: "/dashboard", header: cookieOf(v2), status: 200, identity: identityOf(t, v2, "user", "bob@example.com")}})
			})

			t.Run("rotated secrets", func(t *testing.T) {
				rotated := betterauthtest.New(t, map[string]any{"strategy": strategy, "secrets": rotatedEnv["BETTER_AUTH_SECRETS"]})
				fresh := rotated.SignUp(0, map[string]any{"role": "user", "email": "bob@example.com"})
				// Better Auth signs tokens with the current secret only: a
				// session from before the rotation ends, in the app and here.
				before := betterauthtest.New(t, map[string]any{"strategy": strategy, "secret": oldSecret}).
					SignUp(0, map[string]any{"role": "user", "email": "bob@example.com"})
				gw := start("", "", rotatedEnv)
				cases := []gatewayCase{{name: "after the rotation", path: "/dashboard", header: cookieOf(fresh), status: 200,
					identity: identityOf(t, fresh, "user", "bob@example.com")}}
				cases = append(cases, refused("signed with the old secret", before.CookieHeader())...)
				if strategy != "jwe" {
					assertGatewayCases(t, gw, cases)
					return
				}

				// A jwe cache sealed with the old secret beside a token signed
				// with the new one: opened by its kid with the old secret.
				got := rotated.Call("getSession", 0, map[string]any{"cookieHeader": fresh.CookieHeader(), "query": map[string]string{"disableCookieCache": "true"}})
				require.Equal(t, 200, got.Status, "%s", got.Body)
				var payload map[string]any
				require.NoError(t, json.Unmarshal(got.Body, &payload))
				payload["updatedAt"] = time.Now().UnixMilli()
				payload["version"] = "1"
				sealed := func(sealer map[string]any) string {
					req := map[string]any{"kind": "jwe", "data": payload, "maxAge": 300}
					maps.Copy(req, sealer)
					return cookiesOf(fresh, "session_token") + "; " + dataName + "=" + betterauthtest.Sign(t, time.Now().Unix(), req)
				}
				oldCache := sealed(map[string]any{"secrets": []map[string]any{{"version": 1, "value": oldSecret}}})
				cases = append(cases, gatewayCase{name: "old secret's jwe cache", path: "/dashboard", header: cookie(oldCache), status: 200,
					identity: identityOf(t, fresh, "user", "bob@example.com")})
				cases = append(cases, refused("unknown secret's jwe cache", sealed(map[string]any{"secret": otherSecret}))...)
				assertGatewayCases(t, gw, cases)
				// Without the old secret the same cache is no session: the
				// rotation list is what opened it.
				assertGatewayCases(t, start("", "", map[string]string{"BETTER_AUTH_SECRET": newSecret, "AUTH_SECRET": ""}),
					refused("old secret's jwe cache, new secret only", oldCache))
			})
		})
	}
}

// The get-session fallback through the gateway: no Redis, the real Better
// Auth's handler over HTTP as sessionURL, the cookie cache off or expired.
// A live session passes; a sign-out in the app is seen once the lookup
// cache's TTL has passed (the gateway's clock is the real one, so this
// polls, with a deadline).
func TestGatewayBetterAuthGetSession(t *testing.T) {
	db := t.Name()
	app := betterauthtest.New(t, map[string]any{"db": db}) // no cookie cache
	admin := app.SignUp(0, map[string]any{"role": "admin", "email": "ada@example.com"})
	user := app.SignUp(0, map[string]any{"role": "user", "email": "bob@example.com"})
	// The same database behind an app with a one-minute compact cache,
	// signed up ten minutes ago: its cache has expired, its session has not.
	cached := betterauthtest.New(t, map[string]any{"db": db, "strategy": "compact", "maxAge": 60})
	stale := cached.SignUp(time.Now().Add(-10*time.Minute).Unix(), map[string]any{"role": "user", "email": "cy@example.com"})
	require.Contains(t, stale.Cookies, "better-auth.session_data")
	sessionURL := app.Serve() + "/api/auth/get-session"
	up := startUpstream(t)
	lookup := "  sessionURL: " + sessionURL + "\n  lookupCacheTTL: 1s\n"
	cacheOff := startGateway(t, baGatewayConfig("  strategy: none\n"+lookup, ""), maps.Clone(baEnv), proxyFlags{upstream: up.URL})
	cacheExpired := startGateway(t, baGatewayConfig("  strategy: compact\n"+lookup, ""), maps.Clone(baEnv), proxyFlags{upstream: up.URL})
	cacheOnly := startGateway(t, baGatewayConfig("  strategy: compact\n", ""), maps.Clone(baEnv), proxyFlags{upstream: up.URL})
	forged := map[string]string{"Cookie": strings.Replace(admin.CookieHeader(), "session_token=", "session_token=A", 1)}

	assertGatewayCases(t, cacheOff, append(signedInCases(t, admin, user, "/admin/x"), []gatewayCase{
		{name: "anonymous", path: "/dashboard", status: 303, location: "/login?callbackUrl=%2Fdashboard"},
		{name: "forged token", path: "/dashboard", header: forged, status: 303, location: "/login?callbackUrl=%2Fdashboard"},
	}...))
	assertGatewayCases(t, cacheOnly, []gatewayCase{{name: "expired cache alone", path: "/dashboard", header: cookieOf(stale),
		status: 303, location: "/login?callbackUrl=%2Fdashboard"}})
	assertGatewayCases(t, cacheExpired, []gatewayCase{{name: "expired cache", path: "/dashboard", header: cookieOf(stale),
		status: 200, identity: identityOf(t, stale, "user", "cy@example.com")}})

	// Sign-outs in the real app: refused once the lookup cache's TTL has
	// passed, in both modes; other sessions stay.
	for _, tc := range []struct {
		gw      *testGateway
		session *betterauthtest.Response
	}{{cacheOff, user}, {cacheExpired, stale}} {
		out := app.Call("signOut", 0, map[string]any{"cookieHeader": tc.session.CookieHeader()})
		require.Equal(t, 200, out.Status, "%s", out.Body)
		require.Equal(t, "", app.GetSession(0, tc.session.CookieHeader()), "signed out in the app")
		status := func() int {
			res, _ := doRaw(t, "GET", tc.gw.url, "/dashboard", cookieOf(tc.session))
			return res.StatusCode
		}
		require.Eventually(t, func() bool { return status() == http.StatusSeeOther }, 30*time.Second, 100*time.Millisecond,
			"a signed-out session is refused after lookupCacheTTL")
		res, _ := doRaw(t, "GET", tc.gw.url, authPath, merge(cookieOf(tc.session), map[string]string{"X-Original-URI": "/dashboard"}))
		assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
		res, _ = doRaw(t, "GET", tc.gw.url, "/dashboard", cookieOf(admin))
		assert.Equal(t, http.StatusOK, res.StatusCode, "other sessions stay")
	}
	logs := cacheOff.logs.String() + cacheExpired.logs.String()
	assert.NotContains(t, logs, strings.SplitN(strings.SplitN(user.CookieHeader(), "=", 2)[1], ".", 2)[0], "no token in the logs")
	assert.NotContains(t, logs, sessionURL, "no get-session URL in the logs")
}

// TestBetterAuthExample runs examples/gateway/better-auth.yaml (its upstream
// and Redis replaced by the test's) on sessions the real Better Auth keeps
// in Redis.
func TestBetterAuthExample(t *testing.T) {
	addr := redistest.Start(t)
	app := betterauthtest.New(t, map[string]any{"redis": addr})
	admin := app.SignUp(0, map[string]any{"role": "admin", "email": "ada@example.com"})
	user := app.SignUp(0, map[string]any{"role": "user", "email": "bob@example.com"})
	up := startUpstream(t)
	gw := startGateway(t, readExample(t, "better-auth.yaml"), maps.Clone(baEnv),
		proxyFlags{upstream: up.URL, redis: "redis://" + addr + "/0"})
	assertGatewayCases(t, gw, append(signedInCases(t, admin, user, "/admin/users"),
		gatewayCase{name: "anonymous", path: "/dashboard", status: 303, location: "/sign-in?callbackUrl=%2Fdashboard"},
		gatewayCase{name: "anonymous, no rule", path: "/", header: identitySpoofs, status: 200, identity: map[string][]string{}},
	))
	out := app.Call("signOut", 0, map[string]any{"cookieHeader": user.CookieHeader()})
	require.Equal(t, 200, out.Status)
	res, _ := doRaw(t, "GET", gw.url, "/dashboard", cookieOf(user))
	assert.Equal(t, http.StatusSeeOther, res.StatusCode, "signed out in the app: refused at once")
}

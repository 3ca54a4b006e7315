package main

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeauth/edgeauth/internal/authjstest"
	"github.com/edgeauth/edgeauth/internal/redistest"
)

// authjsCookie mints a session with the real @auth/core and returns the
// Cookie header value a browser would send: chunked as Auth.js chunks it.
func authjsCookie(t *testing.T, h *authjstest.Harness, claims map[string]any) string {
	t.Helper()
	var enc struct{ Token string }
	require.NoError(t, h.Call(map[string]any{
		"op": "encode", "lib": "v5", "secret": gwSecret, "salt": "authjs.session-token", "maxAge": 3600, "token": claims,
	}, &enc))
	var ch struct {
		Cookies []struct{ Name, Value string }
	}
	require.NoError(t, h.Call(map[string]any{
		"op": "chunk", "lib": "v5", "cookieName": "authjs.session-token", "value": enc.Token,
	}, &ch))
	var pairs []string
	for _, c := range ch.Cookies {
		pairs = append(pairs, c.Name+"="+c.Value)
	}
	return "theme=dark; " + strings.Join(pairs, "; ")
}

// proxySetup is nginx or Caddy, configured with its example file, in front
// of the test upstream, asking an auth server at authAddr.
type proxySetup struct {
	name  string
	start func(t *testing.T, authAddr, upstreamAddr string) string
}

var proxySetups = []proxySetup{
	{"nginx", func(t *testing.T, authAddr, upstreamAddr string) string {
		conf := readExample(t, "nginx.conf")
		conf = replaceAll(t, conf, exampleGateway, authAddr)
		conf = replaceAll(t, conf, exampleUpstream, upstreamAddr)
		return startNginx(t, conf)
	}},
	{"caddy", func(t *testing.T, authAddr, upstreamAddr string) string {
		conf := readExample(t, "Caddyfile")
		conf = replaceAll(t, conf, exampleGateway, authAddr)
		conf = replaceAll(t, conf, exampleUpstream, upstreamAddr)
		return startCaddy(t, conf)
	}},
}

// TestBehindProxies runs the examples for real: nginx (auth_request) and
// Caddy (forward_auth) in front of an upstream that echoes what it
// receives, asking edgeauth proxy (examples/gateway/forward-auth.yaml),
// with sessions minted by the real @auth/core and revocations in a real
// Redis written by "edgeauth revoke".
func TestBehindProxies(t *testing.T) {
	h := authjstest.Start(t)
	redisURL := "redis://" + redistest.Start(t) + "/0"
	gw := startGateway(t, readExample(t, "forward-auth.yaml"), nil, proxyFlags{redis: redisURL})
	gwAddr := strings.TrimPrefix(gw.url, "http://")

	cookies := map[string]string{}
	for _, u := range []map[string]any{
		{"sub": "alice", "role": "admin", "email": "alice@example.com"},
		{"sub": "bob", "role": "user", "email": "bob@example.com"},
		{"sub": "carol", "role": "user", "email": "carol@example.com", "pad": strings.Repeat("p", 6000)},
	} {
		cookies[u["sub"].(string)] = authjsCookie(t, h, u)
	}
	require.Contains(t, cookies["carol"], "authjs.session-token.1=", "a chunked session")

	for _, px := range proxySetups {
		t.Run(px.name, func(t *testing.T) {
			up := startUpstream(t)
			addr := px.start(t, gwAddr, up.addr())
			base := "http://" + addr
			browser := map[string]string{"Accept": "text/html,application/xhtml+xml"}
			with := func(extra ...map[string]string) map[string]string {
				out := map[string]string{}
				for _, m := range append([]map[string]string{browser}, extra...) {
					for k, v := range m {
						out[k] = v
					}
				}
				return out
			}
			cookie := func(user string) map[string]string { return map[string]string{"Cookie": cookies[user]} }
			loginFor := func(target string) string { return "/login?callbackUrl=" + target }

			for _, tc := range []struct {
				name     string
				path     string
				header   map[string]string
				status   int
				location string              // suffix of the redirect target
				identity map[string][]string // what the upstream saw (values other than "")
			}{
				{name: "signed in", path: "/dashboard", header: with(cookie("alice")), status: 200,
					identity: map[string][]string{"x-user-id": {"alice"}, "x-user-role": {"admin"}, "x-user-email": {"alice@example.com"}}},
				{name: "chunked session", path: "/dashboard/reports", header: with(cookie("carol")), status: 200,
					identity: map[string][]string{"x-user-id": {"carol"}, "x-user-role": {"user"}, "x-user-email": {"carol@example.com"}}},
				{name: "anonymous", path: "/dashboard?a=1&b=2", header: with(), status: 302,
					location: loginFor("%2Fdashboard%3Fa%3D1%26b%3D2")},
				{name: "wrong role", path: "/admin/users", header: with(cookie("bob")), status: 403},
				{name: "right role", path: "/admin/users", header: with(cookie("alice")), status: 200,
					identity: map[string][]string{"x-user-id": {"alice"}, "x-user-role": {"admin"}, "x-user-email": {"alice@example.com"}}},
				{name: "API without session", path: "/api/orders", header: with(), status: 401},
				{name: "public, anonymous, spoofed", path: "/help", header: with(identitySpoofs), status: 200, identity: map[string][]string{}},
				{name: "unguarded, anonymous, spoofed", path: "/", header: with(identitySpoofs), status: 200, identity: map[string][]string{}},
				{name: "signed in, spoofed", path: "/dashboard", header: with(identitySpoofs, cookie("bob")), status: 200,
					identity: map[string][]string{"x-user-id": {"bob"}, "x-user-role": {"user"}, "x-user-email": {"bob@example.com"}}},
				{name: "//admin", path: "//admin", header: with(cookie("bob")), status: 403},
				{name: "/%61dmin", path: "/%61dmin", header: with(cookie("bob")), status: 403},
				{name: "/ADMIN", path: "/ADMIN", header: with(cookie("bob")), status: 403},
				// "//admin" is no safe callbackUrl (protocol-relative): "/", as the middleware answers.
				{name: "//admin anonymous", path: "//admin", header: with(), status: 302, location: loginFor("%2F")},
				{name: "/%61dmin anonymous", path: "/%61dmin", header: with(), status: 302, location: loginFor("%2F%2561dmin")},
				{name: "/ADMIN anonymous", path: "/ADMIN", header: with(), status: 302, location: loginFor("%2FADMIN")},
			} {
				t.Run(tc.name, func(t *testing.T) {
					before := up.requestCount()
					res, body := doRaw(t, "GET", base, tc.path, tc.header)
					require.Equal(t, tc.status, res.StatusCode, "%s", body)
					if tc.location != "" {
						assert.True(t, strings.HasSuffix(res.Header.Get("Location"), tc.location),
							"Location %q, want …%s", res.Header.Get("Location"), tc.location)
					}
					if tc.identity == nil {
						assert.Equal(t, before, up.requestCount(), "the upstream must not see a rejected request")
						return
					}
					saw := upstreamSaw(t, body)
					assert.Equal(t, tc.identity, nonEmpty(identityIn(saw.Header)))
					assert.Equal(t, tc.path, saw.URI)
				})
			}

			res, body := doRaw(t, "GET", base, "/api/orders", nil)
			assert.Equal(t, 401, res.StatusCode)
			assert.JSONEq(t, `{"error":"unauthorized"}`, string(body), "API clients get 401 JSON, not a redirect")

			// WebSockets pass through, with the identity on the upgrade request.
			res, conn, br := wsDial(t, addr, "/_ws", "Cookie: "+cookies["alice"]+"\r\nX-User-Id: root\r\n")
			wsEcho(t, res, conn, br, "alice")
			res, conn, br = wsDial(t, addr, "/_ws", "X-User-Id: root\r\n")
			wsEcho(t, res, conn, br, "")
		})
	}

	// Revocations from the shell hold on every path, through both proxies.
	dave := authjsCookie(t, h, map[string]any{"sub": "dave", "role": "admin"})
	erin := authjsCookie(t, h, map[string]any{"sub": "erin", "role": "admin"})
	r := runCLI(t, map[string]string{}, "revoke", "user", "dave", "--redis", redisURL)
	require.Equal(t, exitOK, r.code, r.stderr)
	r = runCLI(t, map[string]string{"AUTH_SECRET": gwSecret}, "revoke", "session", "--redis", redisURL, "Cookie: "+erin)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, `of user "erin"`)
	for _, px := range proxySetups {
		t.Run(px.name+"/revoked", func(t *testing.T) {
			up := startUpstream(t)
			base := "http://" + px.start(t, gwAddr, up.addr())
			for _, c := range []string{dave, erin} {
				for path, status := range map[string]int{"/dashboard": 302, "/admin": 302, "/api/orders": 401} {
					res, _ := doRaw(t, "GET", base, path, map[string]string{"Cookie": c, "Accept": "text/html"})
					assert.Equal(t, status, res.StatusCode, path)
				}
				res, body := doRaw(t, "GET", base, "/help", map[string]string{"Cookie": c})
				require.Equal(t, 200, res.StatusCode)
				assert.Empty(t, nonEmpty(identityIn(upstreamSaw(t, body).Header)), "a revoked session has no identity")
			}
		})
	}
}

// nonEmpty drops empty values: nginx sends no header for an empty
// identity, Caddy sends it empty.
func nonEmpty(h map[string][]string) map[string][]string {
	out := map[string][]string{}
	for k, vs := range h {
		for _, v := range vs {
			if v != "" {
				out[k] = append(out[k], v)
			}
		}
	}
	return out
}

// TestProxiesStripSpoofsWithoutAuthHeaders checks the proxies themselves:
// when the auth response carries no identity header at all, no client copy
// in any spelling may reach the app. It also shows the Caddy 2.6 trap that
// edgeauth's always-sent headers avoid: a header missing from the auth
// response is copied as the literal text of its placeholder.
func TestProxiesStripSpoofsWithoutAuthHeaders(t *testing.T) {
	stub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK) // allowed, with no identity headers
	}))
	t.Cleanup(stub.Close)
	gw := startGateway(t, readExample(t, "forward-auth.yaml"), nil, proxyFlags{})
	for _, px := range proxySetups {
		t.Run(px.name, func(t *testing.T) {
			up := startUpstream(t)
			viaStub := "http://" + px.start(t, strings.TrimPrefix(stub.URL, "http://"), up.addr())
			viaEdgeauth := "http://" + px.start(t, strings.TrimPrefix(gw.url, "http://"), up.addr())

			res, body := doRaw(t, "GET", viaStub, "/help", identitySpoofs)
			require.Equal(t, 200, res.StatusCode)
			stubSaw := identityIn(upstreamSaw(t, body).Header)
			for name, values := range stubSaw {
				for _, v := range values {
					assert.NotContains(t, []string{"root", "admin", "root@example.com"}, v, "client's %s reached the app", name)
				}
			}
			trapped := strings.Contains(strings.Join(stubSaw["x-user-id"], ""), "{http.reverse_proxy.header.X-User-Id}")
			t.Logf("%s with an auth response without identity headers: the app saw %v", px.name, stubSaw)
			if px.name == "caddy" && !trapped {
				t.Logf("this Caddy does not copy missing auth headers as placeholder text (fixed after 2.6): %v", stubSaw)
			}

			res, body = doRaw(t, "GET", viaEdgeauth, "/help", identitySpoofs)
			require.Equal(t, 200, res.StatusCode)
			saw := identityIn(upstreamSaw(t, body).Header)
			assert.Empty(t, nonEmpty(saw), "anonymous: no identity, no placeholder text")
			if px.name == "caddy" {
				assert.Equal(t, []string{""}, saw["x-user-id"], "Caddy sends the always-present header, empty")
			}
		})
	}
}

// TestReverseProxyExample runs examples/gateway/reverse-proxy.yaml (its
// upstream and Redis replaced by the test's) with sessions and a rolled
// session cookie made by the real @auth/core.
func TestReverseProxyExample(t *testing.T) {
	h := authjstest.Start(t)
	redisURL := "redis://" + redistest.Start(t) + "/0"
	up := startUpstream(t)
	gw := startGateway(t, readExample(t, "reverse-proxy.yaml"), nil, proxyFlags{upstream: up.URL, redis: redisURL})

	big := authjsCookie(t, h, map[string]any{"sub": "gus", "role": "admin", "pad": strings.Repeat("g", 6000)})
	res, body := doRaw(t, "GET", gw.url, "/admin/users", map[string]string{"Cookie": big})
	require.Equal(t, 200, res.StatusCode)
	saw := upstreamSaw(t, body)
	assert.Equal(t, []string{"gus"}, saw.Header["X-User-Id"])
	assert.Equal(t, []string{big}, saw.Header["Cookie"], "Auth.js's chunked cookies reach the app untouched")

	// What Auth.js's /api/auth/session answers to that cookie, rolling the
	// session, reaches the browser byte for byte.
	var session struct{ SetCookies []string }
	require.NoError(t, h.Call(map[string]any{"op": "session", "secret": gwSecret, "cookieHeader": big}, &session))
	require.NotEmpty(t, session.SetCookies)
	q := make([]string, 0, len(session.SetCookies))
	for _, c := range session.SetCookies {
		q = append(q, "c="+url.QueryEscape(c))
	}
	res, _ = doRaw(t, "GET", gw.url, "/_setcookie?"+strings.Join(q, "&"), map[string]string{"Cookie": big})
	require.Equal(t, 200, res.StatusCode)
	assert.Equal(t, session.SetCookies, res.Header.Values("Set-Cookie"))

	r := runCLI(t, map[string]string{}, "revoke", "user", "gus", "--redis", redisURL)
	require.Equal(t, exitOK, r.code, r.stderr)
	requireStatusSoon(t, gw.url, "/admin/users", map[string]string{"Cookie": big}, 303)
	res, body = doRaw(t, "GET", gw.url, "/", map[string]string{"Cookie": big})
	require.Equal(t, 200, res.StatusCode)
	saw = upstreamSaw(t, body)
	assert.Equal(t, []string{"theme=dark"}, saw.Header["Cookie"], "the revoked session's chunks do not reach the app")
	assert.Empty(t, saw.Header["X-User-Id"])
	assert.NotEmpty(t, expiredNames(res))
}

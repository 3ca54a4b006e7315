package main

import (
	"bufio"
	"cmp"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeauth/edgeauth"
	"github.com/edgeauth/edgeauth/internal/chunk"
)

var (
	alice = map[string]any{"sub": "alice", "role": "admin", "email": "alice@example.com"}
	bob   = map[string]any{"sub": "bob", "role": "user", "email": "bob@example.com"}
)

// identitySpoofs are client-sent identity headers in every spelling a
// server or gateway may fold together.
var identitySpoofs = map[string]string{
	"X-User-Id":    "root",
	"x_user_id":    "root",
	"X-USER_ROLE":  "admin",
	"x-user-role":  "admin",
	"X_User-Email": "root@example.com",
}

// identityIn returns every header of h that reads as an identity header
// (any case, "_" for "-"), by its folded name.
func identityIn(h map[string][]string) map[string][]string {
	out := map[string][]string{}
	for k, v := range h {
		folded := strings.ReplaceAll(strings.ToLower(k), "_", "-")
		switch folded {
		case "x-user-id", "x-user-role", "x-user-email":
			out[folded] = append(out[folded], v...)
		}
	}
	return out
}

func sessionCookie(token string) string { return "authjs.session-token=" + token }

func TestProxyDecisions(t *testing.T) {
	up := startUpstream(t)
	gw := startGateway(t, gwConfig, nil, proxyFlags{upstream: up.URL})
	aliceCookie := "theme=dark; " + sessionCookie(mint(t, gwSecret, alice))
	bobCookie := sessionCookie(mint(t, gwSecret, bob))

	for _, tc := range []struct {
		name     string
		method   string
		path     string
		header   map[string]string
		status   int
		location string
		identity map[string][]string // what the upstream saw, when it was reached
	}{
		{name: "signed in", path: "/dashboard", header: map[string]string{"Cookie": aliceCookie}, status: 200,
			identity: map[string][]string{"x-user-id": {"alice"}, "x-user-role": {"admin"}, "x-user-email": {"alice@example.com"}}},
		{name: "anonymous browser", path: "/dashboard?tab=1", status: 303, location: "/login?callbackUrl=%2Fdashboard%3Ftab%3D1"},
		{name: "anonymous API", path: "/api/orders", header: map[string]string{"Accept": "application/json"}, status: 401},
		{name: "anonymous POST", method: "POST", path: "/dashboard", status: 401},
		{name: "wrong role", path: "/admin/users", header: map[string]string{"Cookie": bobCookie}, status: 403},
		{name: "right role", path: "/admin/users", header: map[string]string{"Cookie": aliceCookie}, status: 200,
			identity: map[string][]string{"x-user-id": {"alice"}, "x-user-role": {"admin"}, "x-user-email": {"alice@example.com"}}},
		{name: "public, anonymous", path: "/help", status: 200, identity: map[string][]string{}},
		{name: "login page", path: "/login", status: 200, identity: map[string][]string{}},
		{name: "spoofed, anonymous", path: "/help", header: identitySpoofs, status: 200, identity: map[string][]string{}},
		{name: "spoofed, signed in", path: "/help", header: merge(identitySpoofs, map[string]string{"Cookie": bobCookie}), status: 200,
			identity: map[string][]string{"x-user-id": {"bob"}, "x-user-role": {"user"}, "x-user-email": {"bob@example.com"}}},
		{name: "//admin", path: "//admin", header: map[string]string{"Cookie": bobCookie}, status: 403},
		{name: "/%61dmin", path: "/%61dmin", header: map[string]string{"Cookie": bobCookie}, status: 403},
		{name: "/ADMIN", path: "/ADMIN", header: map[string]string{"Cookie": bobCookie}, status: 403},
		{name: "/help/../admin", path: "/help/../admin", header: map[string]string{"Cookie": bobCookie}, status: 403},
		{name: "/ADMIN anonymous", path: "/ADMIN", status: 303, location: "/login?callbackUrl=%2FADMIN"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := up.requestCount()
			res, body := doRaw(t, cmp.Or(tc.method, "GET"), gw.url, tc.path, tc.header)
			require.Equal(t, tc.status, res.StatusCode, "%s", body)
			assert.Equal(t, tc.location, res.Header.Get("Location"))
			if tc.identity == nil {
				assert.Equal(t, before, up.requestCount(), "the upstream must not see a rejected request")
				assert.Empty(t, res.Header.Values("Set-Cookie"))
				return
			}
			saw := upstreamSaw(t, body)
			assert.Equal(t, tc.identity, identityIn(saw.Header))
			assert.Equal(t, tc.path, saw.URI, "the path reaches the upstream as sent")
			assert.Equal(t, []string{"127.0.0.1"}, saw.Header["X-Forwarded-For"])
			assert.Equal(t, []string{"http"}, saw.Header["X-Forwarded-Proto"])
			assert.Equal(t, []string{strings.TrimPrefix(gw.url, "http://")}, saw.Header["X-Forwarded-Host"])
			if c := tc.header["Cookie"]; c != "" {
				assert.Equal(t, []string{c}, saw.Header["Cookie"], "a valid session's cookies are forwarded untouched")
			}
		})
	}

	// The API rejection is JSON, as the middleware answers it.
	res, body := doRaw(t, "GET", gw.url, "/api/orders", nil)
	assert.Equal(t, 401, res.StatusCode)
	assert.Equal(t, `{"error":"unauthorized"}`, string(body))
	// One log line per rejection, with the reason and no token.
	lines := logLines(t, gw.logs.String(), "request rejected")
	require.NotEmpty(t, lines)
	for _, l := range lines {
		assert.NotEmpty(t, l["reason"])
	}
	assert.NotContains(t, gw.logs.String(), strings.TrimPrefix(bobCookie, "authjs.session-token="))
}

func merge(a, b map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

func (u *upstream) requestCount() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.requests
}

// doRaw sends one request over a new connection with its request line
// written exactly as given ("//admin", "/%61dmin", dot segments), which
// net/http's client would normalize, and the headers in the given spelling.
func doRaw(t *testing.T, method, base, path string, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	host := strings.TrimPrefix(base, "http://")
	conn, err := net.Dial("tcp", host)
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.SetDeadline(time.Now().Add(30*time.Second)))
	var req strings.Builder
	fmt.Fprintf(&req, "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n", method, path, host)
	for k, v := range header {
		fmt.Fprintf(&req, "%s: %s\r\n", k, v)
	}
	if method == "POST" {
		req.WriteString("Content-Length: 0\r\n")
	}
	req.WriteString("\r\n")
	_, err = io.WriteString(conn, req.String())
	require.NoError(t, err)
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res, body
}

// A session the gateway does not accept never reaches the app: its cookies
// (all chunks, and look-alike names Auth.js would also read) are removed
// from the forwarded request and expired in the response.
func TestProxyDropsDeadSessions(t *testing.T) {
	up := startUpstream(t)
	gw := startGateway(t, gwConfig, nil, proxyFlags{upstream: up.URL})

	expired := mintAt(t, gwSecret, alice, time.Now().Add(-2*time.Hour))
	forged := mint(t, "another-secret-another-secret-0123", alice)
	big := mint(t, gwSecret, map[string]any{"sub": "carol", "role": "user", "pad": strings.Repeat("x", 5000)})
	pieces := chunk.Split(big, chunk.SizeAuthJS)
	require.Len(t, pieces, 2)
	chunked := "authjs.session-token.0=" + pieces[0] + "; authjs.session-token.1=" + pieces[1]

	for _, tc := range []struct {
		name    string
		cookie  string
		expires []string // cookie names the response must expire
	}{
		{"expired", "theme=dark; " + sessionCookie(expired) + "; lang=en", []string{"authjs.session-token"}},
		{"forged", sessionCookie(forged) + "; theme=dark", []string{"authjs.session-token"}},
		{"forged chunks", "theme=dark; authjs.session-token.0=" + forged[:40] + "; authjs.session-token.1=" + forged[40:],
			[]string{"authjs.session-token", "authjs.session-token.0", "authjs.session-token.1"}},
		{"look-alike names", "theme=dark; authjs.session-tokenX=" + mint(t, gwSecret, alice) + "; __Secure-authjs.session-token=" +
			mint(t, gwSecret, alice) + "; AUTHJS.SESSION-TOKEN=" + mint(t, gwSecret, alice) + "; authjs%2Esession-token=x", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, body := doRaw(t, "GET", gw.url, "/help", map[string]string{"Cookie": tc.cookie})
			require.Equal(t, 200, res.StatusCode)
			saw := upstreamSaw(t, body)
			assert.Empty(t, identityIn(saw.Header))
			for _, c := range saw.Header["Cookie"] {
				assert.NotContains(t, strings.ToLower(c), "session-token", "dead session cookies are removed")
			}
			assert.Contains(t, strings.Join(saw.Header["Cookie"], "; "), "theme=dark", "other cookies stay")
			assert.ElementsMatch(t, tc.expires, expiredNames(res))

			// On a guarded path the same request is refused.
			res, _ = doRaw(t, "GET", gw.url, "/dashboard", map[string]string{"Cookie": tc.cookie})
			assert.Equal(t, 303, res.StatusCode)
		})
	}

	t.Run("valid chunks untouched, look-alikes beside them dropped", func(t *testing.T) {
		res, body := doRaw(t, "GET", gw.url, "/dashboard", map[string]string{"Cookie": chunked})
		require.Equal(t, 200, res.StatusCode)
		saw := upstreamSaw(t, body)
		assert.Equal(t, []string{chunked}, saw.Header["Cookie"])
		assert.Equal(t, []string{"carol"}, saw.Header["X-User-Id"])

		res, body = doRaw(t, "GET", gw.url, "/dashboard", map[string]string{"Cookie": chunked + "; authjs.session-token.01=" + forged})
		require.Equal(t, 200, res.StatusCode)
		assert.Equal(t, []string{chunked}, upstreamSaw(t, body).Header["Cookie"])
		assert.Empty(t, res.Header.Values("Set-Cookie"))
	})

	t.Run("revoked", func(t *testing.T) {
		token := mint(t, gwSecret, map[string]any{"sub": "dave", "role": "admin"})
		cookie := "authjs.session-token.0=" + token[:50] + "; authjs.session-token.1=" + token[50:]
		res, _ := doRaw(t, "GET", gw.url, "/admin", map[string]string{"Cookie": cookie})
		require.Equal(t, 200, res.StatusCode)
		require.NoError(t, gw.g.state.Load().m.RevokeUser(context.Background(), "dave"))
		for _, path := range []string{"/admin", "/dashboard", "/anything"} {
			res, _ := doRaw(t, "GET", gw.url, path, map[string]string{"Cookie": cookie})
			assert.Equal(t, 303, res.StatusCode, path)
		}
		res, body := doRaw(t, "GET", gw.url, "/help", map[string]string{"Cookie": cookie})
		require.Equal(t, 200, res.StatusCode)
		assert.Empty(t, upstreamSaw(t, body).Header["Cookie"])
		assert.ElementsMatch(t, []string{"authjs.session-token", "authjs.session-token.0", "authjs.session-token.1"}, expiredNames(res))
	})
}

// expiredNames lists the cookies a response expires.
func expiredNames(res *http.Response) []string {
	var names []string
	for _, c := range res.Cookies() {
		if c.MaxAge < 0 && c.Value == "" {
			names = append(names, c.Name)
		}
	}
	return names
}

func TestProxyBearer(t *testing.T) {
	up := startUpstream(t)
	gw := startGateway(t, gwConfig+"allowBearer: true\n", nil, proxyFlags{upstream: up.URL})
	valid := mint(t, gwSecret, bob)
	forged := mint(t, "another-secret-another-secret-0123", alice)

	res, body := doRaw(t, "GET", gw.url, "/dashboard", map[string]string{"Authorization": "Bearer " + valid,
		"Cookie": "theme=dark; authjs.session-tokenX=" + mint(t, gwSecret, alice)})
	require.Equal(t, 200, res.StatusCode)
	saw := upstreamSaw(t, body)
	assert.Equal(t, []string{"bob"}, saw.Header["X-User-Id"])
	assert.Equal(t, []string{"Bearer " + valid}, saw.Header["Authorization"])
	assert.Equal(t, []string{"theme=dark"}, saw.Header["Cookie"], "cookies that did not make the session go")

	res, body = doRaw(t, "GET", gw.url, "/help", map[string]string{"Authorization": "Bearer " + forged})
	require.Equal(t, 200, res.StatusCode)
	assert.Empty(t, upstreamSaw(t, body).Header["Authorization"], "a bearer token the gateway refused does not reach the app")

	res, _ = doRaw(t, "GET", gw.url, "/api/x", map[string]string{"Authorization": "Bearer " + forged})
	assert.Equal(t, 401, res.StatusCode)
	assert.Equal(t, "Bearer", res.Header.Get("WWW-Authenticate"))
}

// The upstream's Set-Cookie (Auth.js rolling its session, say) reaches the
// client unchanged, and the gateway adds none.
func TestProxyUpstreamSetCookie(t *testing.T) {
	up := startUpstream(t)
	gw := startGateway(t, gwConfig, nil, proxyFlags{upstream: up.URL})
	rolled := "authjs.session-token=" + mint(t, gwSecret, alice) + "; Path=/; Expires=Wed, 30 Dec 2026 08:00:00 GMT; HttpOnly; SameSite=Lax"
	other := "theme=dark; Path=/; Max-Age=60"
	q := url.Values{"c": {rolled, other}}
	res, _ := doRaw(t, "GET", gw.url, "/_setcookie?"+q.Encode(), map[string]string{"Cookie": sessionCookie(mint(t, gwSecret, alice))})
	require.Equal(t, 200, res.StatusCode)
	assert.Equal(t, []string{rolled, other}, res.Header.Values("Set-Cookie"))
}

// wsDial opens a WebSocket to path on addr, with extra header lines
// ("Name: value\r\n"), and returns the handshake's response.
func wsDial(t *testing.T, addr, path, header string) (*http.Response, net.Conn, *bufio.Reader) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	require.NoError(t, conn.SetDeadline(time.Now().Add(30*time.Second)))
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n%s\r\n", path, addr, header)
	br := bufio.NewReader(conn)
	res, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	return res, conn, br
}

// wsEcho checks a WebSocket opened by wsDial: the handshake, the identity
// the upstream saw, and an echo.
func wsEcho(t *testing.T, res *http.Response, conn net.Conn, br *bufio.Reader, user string) {
	t.Helper()
	require.Equal(t, 101, res.StatusCode)
	assert.Equal(t, wsAccept("dGhlIHNhbXBsZSBub25jZQ=="), res.Header.Get("Sec-WebSocket-Accept"))
	assert.Equal(t, user, res.Header.Get("X-Echo-User"), "the upgrade request carries the verified identity")
	for _, msg := range []string{"hello", "again"} {
		require.NoError(t, writeWSFrame(conn, []byte(msg), true))
		got, err := readWSFrame(br)
		require.NoError(t, err)
		assert.Equal(t, msg, string(got))
	}
}

func TestProxyWebSocket(t *testing.T) {
	up := startUpstream(t)
	gw := startGateway(t, gwConfig, nil, proxyFlags{upstream: up.URL})
	addr := strings.TrimPrefix(gw.url, "http://")

	res, conn, br := wsDial(t, addr, "/_ws", "Cookie: "+sessionCookie(mint(t, gwSecret, alice))+"\r\nX_User_Id: root\r\n")
	wsEcho(t, res, conn, br, "alice")

	res, _, _ = wsDial(t, addr, "/_ws", "")
	assert.Equal(t, 303, res.StatusCode, "no session, no upgrade")
}

func TestProxyServerSentEvents(t *testing.T) {
	up := startUpstream(t)
	gw := startGateway(t, gwConfig, nil, proxyFlags{upstream: up.URL})
	req, err := http.NewRequest("GET", gw.url+"/_sse", nil)
	require.NoError(t, err)
	req.Header.Set("Cookie", sessionCookie(mint(t, gwSecret, alice)))
	res, err := noRedirect.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, 200, res.StatusCode)
	br := bufio.NewReader(res.Body)
	line, err := br.ReadString('\n')
	require.NoError(t, err)
	assert.Equal(t, "data: one alice\n", line, "the first event arrives while the upstream still streams")
	up.releaseAll()
	rest, err := readRest(br)
	require.NoError(t, err)
	assert.Equal(t, "\ndata: two\n\n", rest)
}

func readRest(br *bufio.Reader) (string, error) {
	var b strings.Builder
	_, err := br.WriteTo(&b)
	return b.String(), err
}

func TestProxyUpstreamFailures(t *testing.T) {
	up := startUpstream(t)
	gw := startGateway(t, gwConfig+"upstreamTimeout: 200ms\n", nil, proxyFlags{upstream: up.URL})
	cookie := map[string]string{"Cookie": sessionCookie(mint(t, gwSecret, alice))}

	res, body := doRaw(t, "GET", gw.url, "/_slow", cookie)
	assert.Equal(t, http.StatusGatewayTimeout, res.StatusCode)
	assert.Equal(t, "Gateway Timeout\n", string(body))

	up.Close()
	res, body = doRaw(t, "GET", gw.url, "/dashboard", cookie)
	assert.Equal(t, http.StatusBadGateway, res.StatusCode)
	assert.Equal(t, "Bad Gateway\n", string(body), "no detail for the client")

	metrics := scrape(t, gw.metricsURL)
	assert.Equal(t, 1.0, metrics[`edgeauth_upstream_errors_total{kind="timeout"}`])
	assert.Equal(t, 1.0, metrics[`edgeauth_upstream_errors_total{kind="error"}`])
	failed := logLines(t, gw.logs.String(), "upstream request failed")
	require.Len(t, failed, 2)
	assert.Contains(t, failed[1]["error"], "connection refused")
}

func TestWithoutSessionCookies(t *testing.T) {
	const name = "authjs.session-token"
	for _, tc := range []struct {
		lines     []string
		keepExact bool
		want      []string
	}{
		{[]string{"a=1;b=2"}, false, []string{"a=1;b=2"}},
		{[]string{"a=1; authjs.session-token=x; b=2"}, false, []string{"a=1; b=2"}},
		{[]string{"a=1; authjs.session-token=x; b=2"}, true, []string{"a=1; authjs.session-token=x; b=2"}},
		{[]string{"a=1", "authjs.session-token.0=x;authjs.session-token.1=y", "b=2"}, false, []string{"a=1", "b=2"}},
		{[]string{"a=1 ;  authjs.session-token=x ; authjs.session-tokenZ=y"}, true, []string{"a=1; authjs.session-token=x"}},
		{[]string{" Authjs.Session-Token=x", "__Host-authjs.session-token.0=y", "authjs%2esession-token=z; c=3"}, true, []string{"c=3"}},
		{[]string{"authjs.session-token"}, false, nil},
		{[]string{"sid=1; authjs.session=2"}, false, []string{"sid=1; authjs.session=2"}},
		// What the session was read from, and nothing else under its names:
		// a malformed copy the gateway skipped, but better-call (quotes
		// stripped) and Auth.js (first occurrence) take, goes; so does a
		// later copy, which Next.js's cookies() takes.
		{[]string{`authjs.session-token="B\; authjs.session-token=A`}, true, []string{"authjs.session-token=A"}},
		{[]string{"authjs.session-token=\x01B; a=1; authjs.session-token=A"}, true, []string{"a=1; authjs.session-token=A"}},
		{[]string{"authjs.session-token=A; authjs.session-token=B"}, true, []string{"authjs.session-token=A"}},
		{[]string{"authjs.session-token=A", "a=1; authjs.session-token=B"}, true, []string{"authjs.session-token=A", "a=1"}},
		{[]string{"authjs.session-token.0=x; authjs.session-token.1=y; authjs.session-token.0=z"}, true,
			[]string{"authjs.session-token.0=x; authjs.session-token.1=y"}},
		// Names a JavaScript reader trims to the session's: U+FEFF, and the
		// byte 0xA0 of a header Node reads as Latin-1.
		{[]string{"\xa0authjs.session-token=B; authjs.session-token=A"}, true, []string{"authjs.session-token=A"}},
		{[]string{"\ufeffauthjs.session-token=B; authjs.session-token\xa0=C; a=1"}, false, []string{"a=1"}},
	} {
		got, changed := withoutSessionCookies(tc.lines, name, tc.keepExact)
		assert.Equal(t, tc.want, got, "%q keepExact=%v", tc.lines, tc.keepExact)
		assert.Equal(t, !assert.ObjectsAreEqual(tc.lines, tc.want), changed, "%q", tc.lines)
	}
}

func TestProxyForwardedHeaders(t *testing.T) {
	up := startUpstream(t)
	spoof := map[string]string{"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https"}

	gw := startGateway(t, gwConfig, nil, proxyFlags{upstream: up.URL})
	_, body := doRaw(t, "GET", gw.url, "/help", spoof)
	saw := upstreamSaw(t, body)
	assert.Equal(t, []string{"127.0.0.1"}, saw.Header["X-Forwarded-For"], "a client's X-Forwarded-* are not trusted")
	assert.Equal(t, []string{strings.TrimPrefix(gw.url, "http://")}, saw.Header["X-Forwarded-Host"])
	assert.Equal(t, []string{"http"}, saw.Header["X-Forwarded-Proto"])
	assert.Equal(t, up.addr(), saw.Host, "the upstream's own Host by default")

	gw = startGateway(t, gwConfig+"trustForwardedHeaders: true\npreserveHost: true\n", nil, proxyFlags{upstream: up.URL})
	_, body = doRaw(t, "GET", gw.url, "/help", spoof)
	saw = upstreamSaw(t, body)
	assert.Equal(t, []string{"203.0.113.7, 127.0.0.1"}, saw.Header["X-Forwarded-For"])
	assert.Equal(t, []string{"evil.example"}, saw.Header["X-Forwarded-Host"])
	assert.Equal(t, []string{"https"}, saw.Header["X-Forwarded-Proto"])
	assert.Equal(t, strings.TrimPrefix(gw.url, "http://"), saw.Host, "preserveHost")
}

func TestTextLogs(t *testing.T) {
	gw := startGateway(t, gwConfig+"logFormat: text\n", nil, proxyFlags{})
	res, _ := doRaw(t, "GET", gw.url, "/_edgeauth/auth", map[string]string{"X-Original-URI": "/dashboard"})
	require.Equal(t, 401, res.StatusCode)
	gw.stop(t)
	assert.Contains(t, gw.logs.String(), `msg="request rejected" endpoint=forward_auth status=401 reason=no_session method=GET path=/dashboard`)
	assert.Contains(t, gw.logs.String(), `msg="edgeauth proxy started"`)
}

// FuzzWithoutSessionCookies: with no session, no cookie that looks like the
// session cookie survives, whatever the header; other cookies do.
func FuzzWithoutSessionCookies(f *testing.F) {
	f.Add("a=1; authjs.session-token=x", "b=2", true)
	f.Add(" AUTHJS.session-token.0=x;;authjs%2Esession-token=y", "__Secure-authjs.session-token=z; c", false)
	f.Add(`authjs.session-token="B\; authjs.session-token.0=x`, "authjs.session-token=A; \xa0authjs.session-token=C", true)
	f.Fuzz(func(t *testing.T, line1, line2 string, keepExact bool) {
		const name = "authjs.session-token"
		out, changed := withoutSessionCookies([]string{line1, line2}, name, keepExact)
		if !changed {
			require.Equal(t, []string{line1, line2}, out)
		}
		base := cookieBase(name)
		kept := map[string]bool{}
		for _, line := range out {
			for pair := range strings.SplitSeq(line, ";") {
				n, _, _ := strings.Cut(pair, "=")
				if n = trimName(n); !sessionLike(n, base) {
					continue
				}
				if !keepExact {
					t.Fatalf("%q kept in %q", n, out)
				}
				// Kept only as the session was read: once, well-formed.
				c := chunk.FromHeader([]string{pair}, name)
				if len(c) != 1 || c[0].Name != n {
					t.Fatalf("%q kept in %q", pair, out)
				}
				if _, exact := chunk.Index(name, n); !exact || kept[n] {
					t.Fatalf("%q kept in %q", n, out)
				}
				kept[n] = true
			}
		}
		again, changedAgain := withoutSessionCookies(out, name, keepExact)
		require.False(t, changedAgain, "idempotent")
		require.Equal(t, out, again)
	})
}

// A Better Auth session the gateway refused loses its cookie cache too, not
// only its session token; an accepted one keeps both.
func TestDropDeadCredentialsBetterAuthCache(t *testing.T) {
	st := &state{cfg: &gatewayConfig{}, cookieName: "better-auth.session_token", cacheName: "better-auth.session_data"}
	line := "a=1; better-auth.session_token=t.sig; better-auth.session_data.0=x; better-auth.session_data.1=y; b=2"

	refused := httptest.NewRequest("GET", "/", nil)
	out := http.Header{"Cookie": {line}}
	st.dropDeadCredentials(refused, out)
	assert.Equal(t, []string{"a=1; b=2"}, out["Cookie"])

	accepted := refused.WithContext(edgeauth.NewContext(refused.Context(), &edgeauth.Session{UserID: "u"}))
	out = http.Header{"Cookie": {line + "; better-auth.session_dataX=z"}}
	st.dropDeadCredentials(accepted, out)
	assert.Equal(t, []string{line}, out["Cookie"])
}

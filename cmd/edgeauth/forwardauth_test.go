package main

import (
	"cmp"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestForwardAuth(t *testing.T) {
	gw := startGateway(t, gwConfig, nil, proxyFlags{})
	aliceCookie := sessionCookie(mint(t, gwSecret, alice))
	bobCookie := sessionCookie(mint(t, gwSecret, bob))
	expired := sessionCookie(mintAt(t, gwSecret, alice, timeAgo(2)))
	empty := map[string]string{"X-User-Id": "", "X-User-Role": "", "X-User-Email": ""}
	aliceID := map[string]string{"X-User-Id": "alice", "X-User-Role": "admin", "X-User-Email": "alice@example.com"}

	for _, tc := range []struct {
		name     string
		path     string // the forward-auth request's own path
		header   map[string]string
		status   int
		identity map[string]string // the 200's identity headers
		location string            // X-Edgeauth-Location of a 401/403
	}{
		{name: "nginx, signed in", header: map[string]string{"X-Original-URI": "/dashboard", "Cookie": aliceCookie}, status: 200, identity: aliceID},
		{name: "nginx, anonymous browser", header: map[string]string{"X-Original-URI": "/dashboard?a=1&b=2"}, status: 401,
			location: "/login?callbackUrl=%2Fdashboard%3Fa%3D1%26b%3D2"},
		{name: "nginx, anonymous API", header: map[string]string{"X-Original-URI": "/api/x"}, status: 401},
		{name: "nginx, anonymous POST", header: map[string]string{"X-Original-URI": "/dashboard", "X-Original-Method": "POST"}, status: 401},
		{name: "nginx, wrong role", header: map[string]string{"X-Original-URI": "/admin", "Cookie": bobCookie}, status: 403},
		{name: "nginx, public", header: map[string]string{"X-Original-URI": "/help"}, status: 200, identity: empty},
		{name: "nginx, public, spoofed", header: merge(identitySpoofs, map[string]string{"X-Original-URI": "/help"}), status: 200, identity: empty},
		{name: "nginx, expired", header: map[string]string{"X-Original-URI": "/dashboard", "Cookie": expired}, status: 401,
			location: "/login?callbackUrl=%2Fdashboard"},
		{name: "nginx, expired on a public path", header: map[string]string{"X-Original-URI": "/help", "Cookie": expired}, status: 200, identity: empty},
		{name: "ingress-nginx", header: map[string]string{"X-Original-URL": "https://app.example.com/admin/x", "Cookie": aliceCookie}, status: 200, identity: aliceID},
		{name: "Caddy", header: map[string]string{"X-Forwarded-Uri": "/admin", "X-Forwarded-Method": "GET", "X-Forwarded-Host": "app", "Cookie": bobCookie}, status: 403},
		{name: "Envoy path prefix", path: "/_edgeauth/auth/admin?x=1", header: map[string]string{"Cookie": aliceCookie}, status: 200, identity: aliceID},
		{name: "Envoy path prefix, anonymous", path: "/_edgeauth/auth/dashboard", status: 401, location: "/login?callbackUrl=%2Fdashboard"},
		{name: "//admin", header: map[string]string{"X-Original-URI": "//admin", "Cookie": bobCookie}, status: 403},
		{name: "/%61dmin", header: map[string]string{"X-Original-URI": "/%61dmin", "Cookie": bobCookie}, status: 403},
		{name: "/ADMIN", header: map[string]string{"X-Original-URI": "/ADMIN", "Cookie": bobCookie}, status: 403},
		{name: "preflight", header: map[string]string{"X-Original-URI": "/dashboard", "X-Original-Method": "OPTIONS",
			"Origin": "https://app.example.com", "Access-Control-Request-Method": "POST"}, status: 200, identity: empty},
		// A proxy sets one family of headers and passes the client's copies
		// of the other: they must agree, or the client chose its own path.
		{name: "client X-Original-URI beside Caddy's", header: map[string]string{"X-Forwarded-Uri": "/admin", "X-Original-URI": "/help"}, status: 400},
		{name: "client method beside nginx's", header: map[string]string{"X-Original-URI": "/dashboard", "X-Original-Method": "POST",
			"X-Forwarded-Method": "OPTIONS", "Origin": "https://x", "Access-Control-Request-Method": "POST"}, status: 400},
		{name: "no original request", status: 400},
		{name: "absolute X-Original-URI", header: map[string]string{"X-Original-URI": "http://evil/help"}, status: 400},
		{name: "bad method", header: map[string]string{"X-Original-URI": "/help", "X-Original-Method": "GE T"}, status: 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, body := doRaw(t, "GET", gw.url, cmp.Or(tc.path, "/_edgeauth/auth"), tc.header)
			require.Equal(t, tc.status, res.StatusCode, "%s", body)
			assert.Empty(t, res.Header.Values("Set-Cookie"), "forward-auth never sets cookies")
			assert.Empty(t, res.Header.Get("Location"), "forward-auth never redirects")
			assert.Contains(t, res.Header.Get("Cache-Control"), "no-store")
			assert.Equal(t, tc.location, res.Header.Get("X-Edgeauth-Location"))
			if tc.status != 200 {
				return
			}
			for name, want := range tc.identity {
				got, present := res.Header[name]
				require.True(t, present, "%s must always be sent", name)
				assert.Equal(t, []string{want}, got, name)
			}
			assert.Len(t, identityIn(res.Header), len(tc.identity))
		})
	}

	// Every decision above is counted once, by outcome, and timed.
	m := scrape(t, gw.metricsURL)
	for outcome, n := range map[string]float64{"allowed": 3, "anonymous": 4, "unauthenticated": 5, "forbidden": 5, "bad_request": 5} {
		assert.Equal(t, n, m[`edgeauth_decisions_total{endpoint="forward_auth",outcome="`+outcome+`"}`], outcome)
	}
	assert.Equal(t, 22.0, m[`edgeauth_decision_duration_seconds_count{endpoint="forward_auth"}`])
	assert.Equal(t, 22.0, m[`edgeauth_decision_duration_seconds_bucket{endpoint="forward_auth",le="+Inf"}`])
	assert.Positive(t, m[`edgeauth_session_cache_hits_total`], "repeated cookies are served from the cache")
	assert.Positive(t, m[`edgeauth_session_cache_misses_total`])
	assert.Equal(t, 22, len(logLines(t, gw.logs.String(), "request rejected"))+7, "one log line per rejection")
}

func timeAgo(hours int) time.Time { return time.Now().Add(-time.Duration(hours) * time.Hour) }

func TestForwardAuthHealthz(t *testing.T) {
	gw := startGateway(t, gwConfig, nil, proxyFlags{})
	res, body := do(t, "GET", gw.url+"/_edgeauth/healthz", nil)
	assert.Equal(t, 200, res.StatusCode)
	assert.Equal(t, "ok\n", string(body))
	res, _ = do(t, "GET", gw.url+"/dashboard", nil)
	assert.Equal(t, http.StatusNotFound, res.StatusCode, "without upstream, only the gateway's own paths exist")
}

// FuzzOriginalRequest: whatever the forward-auth headers hold, the
// original request is refused or names an absolute path, never a panic.
func FuzzOriginalRequest(f *testing.F) {
	f.Add("/dashboard?a=1", "", "", "GET", "", "/_edgeauth/auth")
	f.Add("", "https://app.example.com//admin", "", "", "POST", "/_edgeauth/auth")
	f.Add("", "", "/%61dmin", "", "OPTIONS", "/_edgeauth/auth/x")
	f.Add("/help", "", "/admin", "GE T", "", "/_edgeauth/auth")
	f.Add("", "", "", "", "", "/_edgeauth/auth/%2e%2e/admin")
	f.Fuzz(func(t *testing.T, uri, fullURL, fwdURI, method, fwdMethod, requestURI string) {
		r := httptest.NewRequest("GET", "/_edgeauth/auth", nil)
		r.RequestURI = requestURI
		for k, v := range map[string]string{"X-Original-URI": uri, "X-Original-URL": fullURL, "X-Forwarded-Uri": fwdURI,
			"X-Original-Method": method, "X-Forwarded-Method": fwdMethod} {
			if v != "" {
				r.Header.Set(k, v)
			}
		}
		orig, err := originalRequest(context.Background(), r)
		if err != nil {
			return
		}
		require.True(t, strings.HasPrefix(orig.RequestURI, "/"), orig.RequestURI)
		require.NotNil(t, orig.URL)
		require.Empty(t, orig.URL.Host)
		require.True(t, validMethod(orig.Method))
	})
}

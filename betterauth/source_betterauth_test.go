package betterauth_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeauth/edgeauth"
	"github.com/edgeauth/edgeauth/betterauth"
)

// Sessions minted by the real Better Auth, judged by an edgeauth.Manager
// whose Source is a Verifier: the same rules, roles, identity headers,
// Require and FromContext as for Auth.js, and never a Set-Cookie.
func TestManagerWithBetterAuthSource(t *testing.T) {
	for _, strategy := range strategies {
		t.Run(strategy.String(), func(t *testing.T) {
			app := newBA(t, map[string]any{"strategy": strategy.String()})
			admin := app.SignUp(mintNow, map[string]any{"role": "admin", "email": "ada@example.com"})
			user := app.SignUp(mintNow, map[string]any{"role": "user", "email": "bob@example.com"})
			// The admin plugin's form of several roles; " admin" is not
			// "admin" to Better Auth, which does not trim.
			both := app.SignUp(mintNow, map[string]any{"role": "user,admin", "email": "cy@example.com"})
			spaced := app.SignUp(mintNow, map[string]any{"role": "user, admin", "email": "di@example.com"})
			v := verifier(t, mintNow+60, betterauth.Config{Strategy: strategy})
			m, err := edgeauth.New(edgeauth.Config{
				Source: v,
				Rules: []edgeauth.Rule{
					{Pattern: "/admin/:path*", Roles: []string{"admin"}},
					{Pattern: "/app/:path*"},
				},
				APIPrefixes:     []string{"/api"},
				UnauthorizedURL: "/denied",
				ClaimHeaders:    map[string]string{"x-user-email": "email"},
			})
			require.NoError(t, err)
			var next struct {
				called bool
				header http.Header
				s      *edgeauth.Session
			}
			h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				next.called, next.header = true, r.Header
				next.s, _ = edgeauth.FromContext(r.Context())
			}))
			serve := func(method, target, cookies string, header map[string]string) *httptest.ResponseRecorder {
				t.Helper()
				next.called, next.header, next.s = false, nil, nil
				r := httptest.NewRequest(method, target, nil)
				if cookies != "" {
					r.Header.Set("Cookie", cookies)
				}
				for k, v := range header {
					r.Header[k] = []string{v}
				}
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				assert.Empty(t, w.Header().Values("Set-Cookie"), "never a cookie")
				return w
			}
			spoof := map[string]string{"X-User-Id": "root", "X-User-Role": "admin", "X-User-Email": "root@example.com"}

			w := serve("GET", "/admin/users", admin.CookieHeader(), spoof)
			require.Equal(t, http.StatusOK, w.Code)
			require.True(t, next.called)
			assert.Equal(t, []string{admin.UserID(t)}, next.header["X-User-Id"], "client copies stripped, the session's set")
			assert.Equal(t, []string{"admin"}, next.header["X-User-Role"])
			assert.Equal(t, []string{"ada@example.com"}, next.header["X-User-Email"])
			require.NotNil(t, next.s)
			assert.Equal(t, admin.UserID(t), next.s.UserID)
			assert.Nil(t, next.s.Token)
			raw, ok := next.s.Raw.(*betterauth.Session)
			require.True(t, ok)
			assert.Equal(t, betterauth.SourceCookieCache, raw.Source)

			// The wrong role: 403 for APIs, the unauthorized page for browsers.
			w = serve("GET", "/admin/users", user.CookieHeader(), spoof)
			assert.Equal(t, http.StatusSeeOther, w.Code)
			assert.Equal(t, "/denied", w.Header().Get("Location"))
			w = serve("POST", "/admin/users", user.CookieHeader(), nil)
			assert.Equal(t, http.StatusForbidden, w.Code)
			assert.False(t, next.called)

			// Several roles: any of them admits; x-user-role carries them as stored.
			w = serve("GET", "/admin/users", both.CookieHeader(), spoof)
			require.Equal(t, http.StatusOK, w.Code)
			assert.Equal(t, []string{"user,admin"}, next.header["X-User-Role"])
			assert.Equal(t, []string{"user", "admin"}, next.s.Roles)
			w = serve("GET", "/admin/users", spaced.CookieHeader(), spoof)
			assert.Equal(t, http.StatusSeeOther, w.Code)
			assert.Equal(t, "/denied", w.Header().Get("Location"))

			// A user passes a guarded path without a role rule.
			w = serve("GET", "/app", user.CookieHeader(), spoof)
			assert.Equal(t, http.StatusOK, w.Code)
			assert.Equal(t, []string{user.UserID(t)}, next.header["X-User-Id"])
			assert.Equal(t, []string{"user"}, next.header["X-User-Role"])

			// No cookie: 303 to the login page with callbackUrl, 401 for APIs.
			w = serve("GET", "/app/x?y=1", "", spoof)
			assert.Equal(t, http.StatusSeeOther, w.Code)
			loc, err := url.Parse(w.Header().Get("Location"))
			require.NoError(t, err)
			assert.Equal(t, "/login", loc.Path)
			assert.Equal(t, "/app/x?y=1", loc.Query().Get("callbackUrl"))
			w = serve("GET", "/api/app", "", nil)
			assert.Equal(t, http.StatusOK, w.Code, "no rule guards /api/app")
			w = serve("DELETE", "/app/x", "", nil)
			assert.Equal(t, http.StatusUnauthorized, w.Code)

			// Signed out on a public path: identity headers stripped, none set.
			w = serve("GET", "/", "", spoof)
			assert.Equal(t, http.StatusOK, w.Code)
			for _, k := range []string{"X-User-Id", "X-User-Role", "X-User-Email"} {
				assert.Empty(t, next.header.Values(k), k)
			}

			// Tampered: another session's cache, or a forged role, is no
			// session; Load says why.
			tampered := swapCache(admin.CookieHeader(), user.CookieHeader())
			w = serve("GET", "/app", tampered, nil)
			assert.Equal(t, http.StatusSeeOther, w.Code)
			r := httptest.NewRequest("GET", "/app", nil)
			r.Header.Set("Cookie", tampered)
			_, err = m.Load(r)
			assert.ErrorIs(t, err, edgeauth.ErrNoSession)
			assert.ErrorIs(t, err, betterauth.ErrNoSession, "the Verifier's cause is kept")
			assert.False(t, errors.Is(err, betterauth.ErrNoCookie))
			forged := strings.Replace(admin.CookieHeader(), "session_token=", "session_token=x", 1)
			w = serve("GET", "/app", forged, nil)
			assert.Equal(t, http.StatusSeeOther, w.Code)

			// Require, alone or behind Handler.
			var guarded *edgeauth.Session
			guard := m.Require("admin")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				guarded, _ = edgeauth.FromContext(r.Context())
			}))
			for _, tc := range []struct {
				cookies string
				status  int
			}{{admin.CookieHeader(), 200}, {user.CookieHeader(), 303}, {"", 303}, {tampered, 303}} {
				for _, chain := range []http.Handler{guard, m.Handler(guard)} {
					guarded = nil
					r := httptest.NewRequest("GET", "/reports", nil)
					if tc.cookies != "" {
						r.Header.Set("Cookie", tc.cookies)
					}
					w := httptest.NewRecorder()
					chain.ServeHTTP(w, r)
					assert.Equal(t, tc.status, w.Code)
					assert.Empty(t, w.Header().Values("Set-Cookie"))
					if tc.status == 200 {
						require.NotNil(t, guarded)
						assert.Equal(t, admin.UserID(t), guarded.UserID)
					}
				}
			}
		})
	}
}

// swapCache returns the token cookie of a with the cache cookies of b.
func swapCache(a, b string) string {
	var out []string
	for _, pair := range strings.Split(a, "; ") {
		if strings.Contains(pair, "session_token") {
			out = append(out, pair)
		}
	}
	for _, pair := range strings.Split(b, "; ") {
		if strings.Contains(pair, "session_data") {
			out = append(out, pair)
		}
	}
	return strings.Join(out, "; ")
}

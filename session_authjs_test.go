package edgeauth

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeauth/edgeauth/internal/authjstest"
)

// articleCallbacks is the common Auth.js pattern in Go: copy id and role
// from the user into the token at sign-in, and from the token into session.user.
var articleCallbacks = Callbacks{
	JWT: func(_ context.Context, p JWTParams) (*Token, error) {
		if p.User != nil {
			_ = p.Token.SetClaim("id", p.User.ID)
			_ = p.Token.SetClaim("role", p.User.Attributes["role"])
		}
		return p.Token, nil
	},
	Session: func(_ context.Context, p SessionParams) (*Session, error) {
		if v, ok := p.Token.Claims["id"]; ok {
			p.Session.User["id"] = v
		}
		if v, ok := p.Token.Claims["role"]; ok {
			p.Session.User["role"] = v
		}
		return p.Session, nil
	},
}

type authjsSession struct {
	Status     int               `json:"status"`
	Headers    map[string]string `json:"headers"`
	SetCookies []string          `json:"setCookies"`
	Body       any               `json:"body"`
}

// TestSessionEndpointMatchesAuthJS serves the same cookies to @auth/core's
// real session action and to SessionHandler at the same instant and compares
// status, body field by field, headers and the cookies each sets.
func TestSessionEndpointMatchesAuthJS(t *testing.T) {
	h := authjstest.Start(t)
	const secret = "session-endpoint-secret"
	const now = testNow

	nodeToken := func(salt string, claims map[string]any) string {
		var out struct{ Token string }
		require.NoError(t, h.Call(map[string]any{"op": "encode", "lib": "v5", "secret": secret, "salt": salt,
			"token": claims, "now": now - 3600}, &out))
		return out.Token
	}
	cookieHeader := func(name, token string) string {
		size := 3936
		if len(token) <= size {
			return "theme=dark; " + name + "=" + token + "; other=1"
		}
		var parts []string
		for i := 0; len(token) > 0; i++ {
			n := min(size, len(token))
			parts = append(parts, name+"."+string(rune('0'+i))+"="+token[:n])
			token = token[n:]
		}
		// Mixed order among unrelated cookies.
		for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
			parts[i], parts[j] = parts[j], parts[i]
		}
		return "a=1; " + strings.Join(parts, "; ") + "; z=2"
	}

	cases := []struct {
		name      string
		secure    bool
		callbacks bool
		cookie    func(cookieName string) string
	}{
		{"no cookie", false, false, func(string) string { return "theme=dark" }},
		{"full user", false, false, func(n string) string {
			return cookieHeader(n, nodeToken(n, map[string]any{"sub": "u1", "name": "Ada", "email": "ada@example.com", "picture": "https://img/x.png"}))
		}},
		{"only sub", false, false, func(n string) string { return cookieHeader(n, nodeToken(n, map[string]any{"sub": "u2"})) }},
		{"null name", false, false, func(n string) string {
			return cookieHeader(n, nodeToken(n, map[string]any{"sub": "u3", "name": nil, "email": "e@x"}))
		}},
		{"article callbacks", false, true, func(n string) string {
			return cookieHeader(n, nodeToken(n, map[string]any{"sub": "u4", "name": "Bo", "id": "u4", "role": "admin"}))
		}},
		{"secure cookie", true, false, func(n string) string {
			return cookieHeader(n, nodeToken(n, map[string]any{"sub": "u5", "name": "Cy"}))
		}},
		{"chunked", false, true, func(n string) string {
			return cookieHeader(n, nodeToken(n, map[string]any{"sub": "u6", "name": "Di", "role": "user", "blob": strings.Repeat("ü", 4000)}))
		}},
		{"garbage", false, false, func(n string) string { return n + "=eyJhbGciOiJkaXIifQ.x.y.z.w" }},
		{"wrong secret", false, false, func(n string) string {
			var out struct{ Token string }
			require.NoError(t, h.Call(map[string]any{"op": "encode", "lib": "v5", "secret": "other", "salt": n,
				"token": map[string]any{"sub": "x"}, "now": now}, &out))
			return cookieHeader(n, out.Token)
		}},
		{"expired", false, false, func(n string) string {
			var out struct{ Token string }
			require.NoError(t, h.Call(map[string]any{"op": "encode", "lib": "v5", "secret": secret, "salt": n, "maxAge": 60,
				"token": map[string]any{"sub": "x"}, "now": now - 100}, &out))
			return cookieHeader(n, out.Token)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Config{Secrets: []string{secret}, Cookie: CookieConfig{Secure: tc.secure}, Now: fixedClock(now)}
			if tc.callbacks {
				cfg.Callbacks = articleCallbacks
			}
			m, err := New(cfg)
			require.NoError(t, err)
			header := tc.cookie(m.CookieName())

			req := map[string]any{"op": "session", "secret": secret, "cookieHeader": header, "now": now, "secureCookie": tc.secure}
			if tc.callbacks {
				req["callbacks"] = "article"
			}
			var node authjsSession
			require.NoError(t, h.Call(req, &node))

			r := httptest.NewRequest("GET", "/api/auth/session", nil)
			r.Header.Set("Cookie", header)
			rec := httptest.NewRecorder()
			m.SessionHandler().ServeHTTP(rec, r)

			assert.Equal(t, node.Status, rec.Code)
			nodeBody := mustJSON(t, node.Body)
			assert.JSONEq(t, nodeBody, rec.Body.String())
			for _, name := range []string{"content-type", "cache-control", "expires", "pragma"} {
				assert.Equal(t, node.Headers[name], rec.Header().Get(name), name)
			}

			// The session cookies each side sets: same names, same live/expired
			// state, same expiry; the csrf and callback-url cookies are Auth.js's own.
			nodeCookies := sessionCookiesOf(node.SetCookies, m.CookieName())
			goCookies := sessionCookiesOf(rec.Header().Values("Set-Cookie"), m.CookieName())
			require.Equal(t, len(nodeCookies), len(goCookies), "node %v go %v", node.SetCookies, rec.Header().Values("Set-Cookie"))
			for name, nc := range nodeCookies {
				gc, ok := goCookies[name]
				require.True(t, ok, "go did not set %s", name)
				assert.Equal(t, nc.Value == "", gc.Value == "", "%s live/expired", name)
				if nc.Value != "" {
					assert.Equal(t, nc.Expires.Unix(), gc.Expires.Unix(), "%s expiry", name)
					assert.Equal(t, nc.Secure, gc.Secure)
					assert.Equal(t, nc.HttpOnly, gc.HttpOnly)
					assert.Equal(t, nc.SameSite, gc.SameSite)
					assert.Equal(t, nc.Path, gc.Path)
				}
			}

			// And the cookie Go re-issued is one @auth/core reads back to the same session.
			if nodeBody != "null" {
				var again authjsSession
				req["cookieHeader"] = cookieLine(rec.Header().Values("Set-Cookie"))
				require.NoError(t, h.Call(req, &again))
				assert.JSONEq(t, nodeBody, mustJSON(t, again.Body))
			}
		})
	}
}

// sessionCookiesOf parses Set-Cookie lines, keeping the session cookie and its chunks.
func sessionCookiesOf(lines []string, name string) map[string]*http.Cookie {
	out := map[string]*http.Cookie{}
	for _, c := range (&http.Response{Header: http.Header{"Set-Cookie": lines}}).Cookies() {
		if c.Name == name || strings.HasPrefix(c.Name, name+".") {
			out[c.Name] = c
		}
	}
	return out
}

// cookieLine turns Set-Cookie lines into the Cookie header a browser sends next.
func cookieLine(lines []string) string {
	var parts []string
	for _, c := range (&http.Response{Header: http.Header{"Set-Cookie": lines}}).Cookies() {
		if c.Value != "" && c.MaxAge >= 0 {
			parts = append(parts, c.Name+"="+c.Value)
		}
	}
	return strings.Join(parts, "; ")
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

// TestManagerNextAuthV4 reads a cookie next-auth v4 issued and issues one
// next-auth v4 reads: v4 derives its key with no salt, whatever the cookie name.
func TestManagerNextAuthV4(t *testing.T) {
	h := authjstest.Start(t)
	const secret = "v4-manager-secret"
	for _, secure := range []bool{false, true} {
		m, err := New(Config{Secrets: []string{secret}, Format: FormatNextAuthV4, Cookie: CookieConfig{Secure: secure}, Now: fixedClock(testNow)})
		require.NoError(t, err)
		want := "next-auth.session-token"
		if secure {
			want = "__Secure-" + want
		}
		require.Equal(t, want, m.CookieName())

		var enc struct{ Token string }
		require.NoError(t, h.Call(map[string]any{"op": "encode", "lib": "v4", "secret": secret,
			"token": map[string]any{"sub": "v4user", "name": "Old App", "role": "admin"}, "now": testNow}, &enc))
		r := httptest.NewRequest("GET", "/", nil)
		r.AddCookie(&http.Cookie{Name: m.CookieName(), Value: enc.Token})
		s, err := m.Load(r)
		require.NoError(t, err)
		assert.Equal(t, "v4user", s.UserID)
		assert.Equal(t, "admin", s.Role)

		w := httptest.NewRecorder()
		_, err = m.SignIn(w, httptest.NewRequest("POST", "/", nil), &User{ID: "gouser", Name: "Go"})
		require.NoError(t, err)
		cookies := sessionCookiesOf(w.Header().Values("Set-Cookie"), m.CookieName())
		require.Len(t, cookies, 1)
		var dec struct{ Payload map[string]any }
		require.NoError(t, h.Call(map[string]any{"op": "decode", "lib": "v4", "secret": secret,
			"token": cookies[m.CookieName()].Value, "now": testNow}, &dec))
		assert.Equal(t, "gouser", dec.Payload["sub"])
		assert.Equal(t, "Go", dec.Payload["name"])
	}
}

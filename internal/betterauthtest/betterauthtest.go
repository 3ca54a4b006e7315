// Package betterauthtest drives the real Better Auth in
// testdata/betterauth/harness.mjs (through authjstest's process runner):
// instances, sign-up, get-session and cookie values made with Better Auth's
// own primitives. The ops are documented in testdata/betterauth/README.md.
package betterauthtest

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/edgeauth/edgeauth/internal/authjstest"
)

// Secret is the harness's default BETTER_AUTH_SECRET.
const Secret = "harness-secret-0123456789abcdef0123456789"

var instanceSeq atomic.Int64

// App is one Better Auth instance of the harness, with its own memory
// database unless Config names a shared "db".
type App struct {
	t      testing.TB
	H      *authjstest.Harness
	Name   string
	Config map[string]any
}

// New returns a new instance configured by config (see the harness README).
func New(t testing.TB, config map[string]any) *App {
	t.Helper()
	return &App{t: t, H: authjstest.StartIn(t, "betterauth"),
		Name: fmt.Sprintf("%s-%d", t.Name(), instanceSeq.Add(1)), Config: config}
}

// Response is an op's answer: the HTTP response of a Better Auth endpoint.
type Response struct {
	Status     int               `json:"status"`
	Body       json.RawMessage   `json:"body"`
	SetCookies []string          `json:"setCookies"`
	Cookies    map[string]string `json:"cookies"`
}

// CookieHeader is the Cookie header a browser would send after the
// response: every cookie it set, in order, without the expired ones.
func (r *Response) CookieHeader() string {
	var parts []string
	for _, sc := range r.SetCookies {
		name, _, _ := strings.Cut(strings.SplitN(sc, ";", 2)[0], "=")
		if v := r.Cookies[name]; v != "" {
			parts = append(parts, name+"="+v)
		}
	}
	return strings.Join(parts, "; ")
}

// UserID is body.user.id of a sign-up, sign-in or get-session.
func (r *Response) UserID(t testing.TB) string {
	t.Helper()
	var b struct {
		User struct {
			ID string `json:"id"`
		} `json:"user"`
	}
	require.NoError(t, json.Unmarshal(r.Body, &b))
	return b.User.ID
}

// Call runs op on the instance at the clock now (Unix seconds; 0: the real
// clock), with extra request members.
func (a *App) Call(op string, now int64, extra map[string]any) *Response {
	a.t.Helper()
	req := map[string]any{"op": op, "instance": a.Name, "config": a.Config}
	if now != 0 {
		req["now"] = now
	}
	for k, v := range extra {
		req[k] = v
	}
	var r Response
	require.NoError(a.t, a.H.Call(req, &r), op)
	return &r
}

// SignUp creates a user (fields override the harness's defaults) and its
// session at now.
func (a *App) SignUp(now int64, user map[string]any) *Response {
	a.t.Helper()
	r := a.Call("signUp", now, user)
	require.Equal(a.t, 200, r.Status, "sign-up: %s", r.Body)
	return r
}

// GetSession asks get-session with cookieHeader; it returns the session's
// user id, or "" for null.
func (a *App) GetSession(now int64, cookieHeader string) string {
	a.t.Helper()
	r := a.Call("getSession", now, map[string]any{"cookieHeader": cookieHeader})
	require.Equal(a.t, 200, r.Status, "get-session: %s", r.Body)
	if string(r.Body) == "null" {
		return ""
	}
	return r.UserID(a.t)
}

// Serve serves the instance's handler over HTTP and returns its base URL.
func (a *App) Serve() string {
	a.t.Helper()
	var out struct {
		URL string `json:"url"`
	}
	require.NoError(a.t, a.H.Call(map[string]any{"op": "serve", "instance": a.Name, "config": a.Config}, &out))
	return out.URL
}

// Sign makes a cookie value with Better Auth's own primitives at now.
func Sign(t testing.TB, now int64, req map[string]any) string {
	t.Helper()
	req["op"] = "sign"
	req["now"] = now
	var out struct {
		Value string `json:"value"`
	}
	require.NoError(t, authjstest.StartIn(t, "betterauth").Call(req, &out))
	return out.Value
}

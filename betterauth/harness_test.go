package betterauth_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/edgeauth/edgeauth/betterauth"
	"github.com/edgeauth/edgeauth/internal/authjstest"
)

// harnessSecret is the harness's default BETTER_AUTH_SECRET.
const harnessSecret = "harness-secret-0123456789abcdef0123456789"

// mintNow is the clock of minted sessions, Unix seconds.
const mintNow = 1_700_000_000

var instanceSeq atomic.Int64

// ba is one Better Auth instance of the harness (its own memory database
// unless config names a shared "db").
type ba struct {
	t      *testing.T
	h      *authjstest.Harness
	name   string
	config map[string]any
}

func newBA(t *testing.T, config map[string]any) *ba {
	t.Helper()
	return &ba{t: t, h: authjstest.StartIn(t, "betterauth"),
		name: fmt.Sprintf("%s-%d", t.Name(), instanceSeq.Add(1)), config: config}
}

// response is an op's answer: the HTTP response of a Better Auth endpoint.
type response struct {
	Status     int               `json:"status"`
	Body       json.RawMessage   `json:"body"`
	SetCookies []string          `json:"setCookies"`
	Cookies    map[string]string `json:"cookies"`
}

// cookieHeader is the Cookie header a browser would send after the
// response: every cookie it set, in order, without the expired ones.
func (r *response) cookieHeader() string {
	var parts []string
	for _, sc := range r.SetCookies {
		name, _, _ := strings.Cut(strings.SplitN(sc, ";", 2)[0], "=")
		if v := r.Cookies[name]; v != "" {
			parts = append(parts, name+"="+v)
		}
	}
	return strings.Join(parts, "; ")
}

// userID is body.user.id of a sign-up or sign-in.
func (r *response) userID(t *testing.T) string {
	var b struct {
		User struct {
			ID string `json:"id"`
		} `json:"user"`
	}
	require.NoError(t, json.Unmarshal(r.Body, &b))
	return b.User.ID
}

func (b *ba) call(op string, now int64, extra map[string]any) *response {
	b.t.Helper()
	req := map[string]any{"op": op, "instance": b.name, "config": b.config}
	if now != 0 {
		req["now"] = now
	}
	for k, v := range extra {
		req[k] = v
	}
	var r response
	require.NoError(b.t, b.h.Call(req, &r), op)
	return &r
}

// signUp creates a user and its session at now (0: the real clock).
func (b *ba) signUp(now int64, user map[string]any) *response {
	b.t.Helper()
	r := b.call("signUp", now, user)
	require.Equal(b.t, 200, r.Status, "sign-up: %s", r.Body)
	return r
}

// getSession asks get-session with cookieHeader; it returns the session's
// user id, or "" for null.
func (b *ba) getSession(now int64, cookieHeader string) string {
	b.t.Helper()
	r := b.call("getSession", now, map[string]any{"cookieHeader": cookieHeader})
	require.Equal(b.t, 200, r.Status, "get-session: %s", r.Body)
	if string(r.Body) == "null" {
		return ""
	}
	return r.userID(b.t)
}

// sign makes a cookie value with Better Auth's own primitives.
func sign(t *testing.T, now int64, req map[string]any) string {
	t.Helper()
	req["op"] = "sign"
	req["now"] = now
	var out struct {
		Value string `json:"value"`
	}
	require.NoError(t, authjstest.StartIn(t, "betterauth").Call(req, &out))
	return out.Value
}

// request is a GET carrying cookieHeader.
func request(cookieHeader string) *http.Request {
	r, _ := http.NewRequest(http.MethodGet, "http://localhost/", nil)
	if cookieHeader != "" {
		r.Header.Set("Cookie", cookieHeader)
	}
	return r
}

// verifier builds a Verifier at the clock now (Unix seconds).
func verifier(t *testing.T, now int64, cfg betterauth.Config) *betterauth.Verifier {
	t.Helper()
	if cfg.Secrets == nil {
		cfg.Secrets = []string{harnessSecret}
	}
	if now != 0 {
		cfg.Now = func() time.Time { return time.Unix(now, 0) }
	}
	v, err := betterauth.New(cfg)
	require.NoError(t, err)
	return v
}

func verify(t *testing.T, v *betterauth.Verifier, cookieHeader string) (*betterauth.Session, error) {
	t.Helper()
	return v.Verify(request(cookieHeader))
}

package edgeauth_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/edgeauth/edgeauth"
)

// clock pins examples to one instant so that their output is stable.
func clock() time.Time { return time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC) }

func ExampleManager_SignIn() {
	m, err := edgeauth.New(edgeauth.Config{Secrets: []string{"a-32-byte-random-secret-from-env"}, Now: clock})
	if err != nil {
		panic(err)
	}
	w := httptest.NewRecorder()
	r := httptest.NewRequest("POST", "/login", nil)
	s, err := m.SignIn(w, r, &edgeauth.User{ID: "alice", Name: "Alice", Email: "alice@example.com"})
	if err != nil {
		panic(err)
	}
	c := w.Result().Cookies()[0]
	fmt.Println(c.Name, c.HttpOnly, c.Expires.Format(time.DateOnly))
	fmt.Println(s.UserID)
	// Output:
	// authjs.session-token true 2026-12-29
	// alice
}

// The common Auth.js callbacks: copy id and role from the user into the
// token at sign-in, then from the token into session.user.
func Example_callbacks() {
	m, err := edgeauth.New(edgeauth.Config{
		Secrets: []string{"a-32-byte-random-secret-from-env"},
		Now:     clock,
		Callbacks: edgeauth.Callbacks{
			JWT: func(_ context.Context, p edgeauth.JWTParams) (*edgeauth.Token, error) {
				if p.User != nil { // sign-in
					_ = p.Token.SetClaim("id", p.User.ID)
					_ = p.Token.SetClaim("role", p.User.Attributes["role"])
				}
				return p.Token, nil
			},
			Session: func(_ context.Context, p edgeauth.SessionParams) (*edgeauth.Session, error) {
				p.Session.User["id"] = p.Token.StringClaim("id")
				p.Session.User["role"] = p.Token.StringClaim("role")
				return p.Session, nil
			},
		},
	})
	if err != nil {
		panic(err)
	}
	w := httptest.NewRecorder()
	_, err = m.SignIn(w, httptest.NewRequest("POST", "/login", nil),
		&edgeauth.User{ID: "alice", Name: "Alice", Attributes: map[string]any{"role": "admin"}})
	if err != nil {
		panic(err)
	}

	// The session endpoint, as /api/auth/session in Auth.js.
	r := httptest.NewRequest("GET", "/api/auth/session", nil)
	for _, c := range w.Result().Cookies() {
		r.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	m.SessionHandler().ServeHTTP(rec, r)
	fmt.Println(rec.Body.String())
	// Output:
	// {"user":{"id":"alice","name":"Alice","role":"admin"},"expires":"2026-12-29T12:00:00.000Z"}
}

func ExampleManager_Load() {
	m, err := edgeauth.New(edgeauth.Config{Secrets: []string{"a-32-byte-random-secret-from-env"}, Now: clock})
	if err != nil {
		panic(err)
	}
	profile := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := m.Load(r)
		if err != nil { // errors.Is(err, edgeauth.ErrNoSession)
			http.Error(w, "sign in first", http.StatusUnauthorized)
			return
		}
		fmt.Fprintf(w, "hello %s\n", s.UserID)
	})

	signedIn := httptest.NewRecorder()
	if _, err := m.SignIn(signedIn, httptest.NewRequest("POST", "/login", nil), &edgeauth.User{ID: "bob"}); err != nil {
		panic(err)
	}
	r := httptest.NewRequest("GET", "/profile", nil)
	r.AddCookie(signedIn.Result().Cookies()[0])
	w := httptest.NewRecorder()
	profile.ServeHTTP(w, r)
	fmt.Print(w.Body.String())

	w = httptest.NewRecorder()
	profile.ServeHTTP(w, httptest.NewRequest("GET", "/profile", nil))
	fmt.Print(w.Code, " ", w.Body.String())
	// Output:
	// hello bob
	// 401 sign in first
}

func ExampleCodec() {
	codec, err := edgeauth.NewCodec(edgeauth.CodecConfig{
		Secrets: []string{"new-secret", "old-secret"}, // rotation: the first encodes, all decode
		Now:     clock,
	})
	if err != nil {
		panic(err)
	}
	token, err := codec.Encode(&edgeauth.Token{Subject: "user-1", Name: "Ada"})
	if err != nil {
		panic(err)
	}
	tok, err := codec.Decode(token)
	if err != nil {
		panic(err)
	}
	fmt.Println(tok.Subject, tok.Name, tok.Expires.Format(time.DateOnly))
	_, err = codec.Decode(token[:len(token)-8] + "AAAAAAAA") // a tampered tag
	fmt.Println(err)
	// Output:
	// user-1 Ada 2026-12-29
	// edgeauth: invalid token: token decryption failed
}

// sessionCookie seals a session for id and role as the Next.js app's
// Auth.js would (with its jwt callback copying the role into the token).
func sessionCookie(m *edgeauth.Manager, id, role string) *http.Cookie {
	tok := &edgeauth.Token{Subject: id}
	if err := tok.SetClaim("role", role); err != nil {
		panic(err)
	}
	value, err := m.Codec().Encode(tok)
	if err != nil {
		panic(err)
	}
	return &http.Cookie{Name: m.CookieName(), Value: value}
}

// serve prints what h answers: the status, then the body or the redirect.
func serve(h http.Handler, method, target string, cookie *http.Cookie) {
	r := httptest.NewRequest(method, target, nil)
	who := ""
	if cookie != nil {
		r.AddCookie(cookie)
		who = " (signed in)"
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	out := strings.TrimSpace(w.Body.String())
	if loc := w.Header().Get("Location"); loc != "" {
		out = "-> " + loc
	}
	fmt.Printf("%s %s%s: %d %s\n", method, target, who, w.Code, out)
}

// hello answers with the identity headers Handler set.
var hello = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	fmt.Fprintf(w, "hello %s (%s)", r.Header.Get("x-user-id"), r.Header.Get("x-user-role"))
})

// Rules protect paths for the whole mux; the most specific rule decides,
// whatever the order.
func ExampleManager_Handler() {
	m, err := edgeauth.New(edgeauth.Config{
		Secrets: []string{"a-32-byte-random-secret-from-env"},
		Now:     clock,
		Rules: []edgeauth.Rule{
			{Pattern: "/api/:path*"},
			{Pattern: "/api/admin/:path*", Roles: []string{"admin"}},
			{Pattern: "/api/health", Public: true},
			{Pattern: "/account/:path*"},
		},
		APIPrefixes: []string{"/api"},
	})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/", hello)
	h := m.Handler(mux)

	bob := sessionCookie(m, "bob", "user")
	serve(h, "GET", "/api/health", nil)
	serve(h, "GET", "/api/orders", nil)
	serve(h, "GET", "/account", nil)
	serve(h, "GET", "/api/orders", bob)
	serve(h, "GET", "/api/admin/stats", bob)
	serve(h, "GET", "/api/admin/stats", sessionCookie(m, "alice", "admin"))
	// Output:
	// GET /api/health: 200 hello  ()
	// GET /api/orders: 401 {"error":"unauthorized"}
	// GET /account: 303 -> /login?callbackUrl=%2Faccount
	// GET /api/orders (signed in): 200 hello bob (user)
	// GET /api/admin/stats (signed in): 403 {"error":"forbidden"}
	// GET /api/admin/stats (signed in): 200 hello alice (admin)
}

// A Go API beside a Next.js app: read-only (the Next.js app owns the
// cookie), with each route guarded where it is declared.
func ExampleManager_Require() {
	m, err := edgeauth.New(edgeauth.Config{
		Secrets:     []string{"a-32-byte-random-secret-from-env"}, // the app's AUTH_SECRET
		ReadOnly:    true,
		APIPrefixes: []string{"/api"},
		Now:         clock,
	})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /api/health", hello)
	mux.Handle("GET /api/me", m.Require()(hello))
	mux.Handle("GET /api/admin/stats", m.Require("admin")(hello))
	mux.Handle("GET /account", m.Require()(hello)) // a page: browsers go to the login page
	// Handler verifies the session once and sets x-user-id and x-user-role.
	h := m.Handler(mux)

	bob := sessionCookie(m, "bob", "user")
	serve(h, "GET", "/api/health", nil)
	serve(h, "GET", "/api/me", nil)
	serve(h, "GET", "/account", nil)
	serve(h, "GET", "/api/me", bob)
	serve(h, "GET", "/api/admin/stats", bob)
	serve(h, "GET", "/api/admin/stats", sessionCookie(m, "alice", "admin"))
	// Output:
	// GET /api/health: 200 hello  ()
	// GET /api/me: 401 {"error":"unauthorized"}
	// GET /account: 303 -> /login?callbackUrl=%2Faccount
	// GET /api/me (signed in): 200 hello bob (user)
	// GET /api/admin/stats (signed in): 403 {"error":"forbidden"}
	// GET /api/admin/stats (signed in): 200 hello alice (admin)
}

// apiKeys is a Source of its own: sessions of API keys held in memory.
type apiKeys map[string]edgeauth.Session

func (k apiKeys) Session(r *http.Request) (*edgeauth.Session, error) {
	s, ok := k[r.Header.Get("X-Api-Key")]
	if !ok {
		return nil, fmt.Errorf("unknown API key")
	}
	return &s, nil
}

// With a Source (here a map of API keys; the betterauth package's Verifier
// reads Better Auth's sessions), the same rules, roles and identity headers
// decide, and the Manager never writes a cookie.
func ExampleSource() {
	m, err := edgeauth.New(edgeauth.Config{
		Source: apiKeys{"k-1": {UserID: "svc-billing", Role: "service"}},
		Rules:  []edgeauth.Rule{{Pattern: "/internal/:path*", Roles: []string{"service"}}},
	})
	if err != nil {
		panic(err)
	}
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Println("next sees", r.Header.Get("X-User-Id"), r.Header.Get("X-User-Role"))
	}))
	for _, key := range []string{"k-1", "k-2"} {
		r := httptest.NewRequest("POST", "/internal/jobs", nil)
		r.Header.Set("X-Api-Key", key)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		fmt.Println(key, w.Code, len(w.Result().Cookies()))
	}
	// Output:
	// next sees svc-billing service
	// k-1 200 0
	// k-2 401 0
}

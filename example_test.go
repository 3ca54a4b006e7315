package edgeauth_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
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

// The seed article's callbacks: copy id and role from the user into the
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

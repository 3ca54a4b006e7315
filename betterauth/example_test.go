package betterauth_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/edgeauth/edgeauth"
	"github.com/edgeauth/edgeauth/betterauth"
)

// exampleCookie was minted by better-auth 1.7.25 at Unix 1700000000 with the
// compact cookie cache (maxAge 300) and BETTER_AUTH_SECRET=harnessSecret.
const exampleCookie = "better-auth.session_token=t5RFUa8L9XYtwNoclGr4cevHwEq6PLlQ.2l0507MSVwrRhz8wyvTGuzrAVPFZQx%2F3Ir9W%2Fc1ktj4%3D; better-auth.session_data=eyJzZXNzaW9uIjp7InNlc3Npb24iOnsiZXhwaXJlc0F0IjoiMjAyMy0xMS0yMVQyMjoxMzoyMC4wMDBaIiwidG9rZW4iOiJ0NVJGVWE4TDlYWXR3Tm9jbEdyNGNldkh3RXE2UExsUSIsImNyZWF0ZWRBdCI6IjIwMjMtMTEtMTRUMjI6MTM6MjAuMDAwWiIsInVwZGF0ZWRBdCI6IjIwMjMtMTEtMTRUMjI6MTM6MjAuMDAwWiIsImlwQWRkcmVzcyI6IiIsInVzZXJBZ2VudCI6IiIsInVzZXJJZCI6IjY2c2VYZ0lmekNlSWJhN3pOWnJUaldPV0ozTjFpZkJkIiwiaWQiOiJLMTd3V0s2dmJKM2tIUmhUQ281YkpNVHhVbU9BczVFcCJ9LCJ1c2VyIjp7Im5hbWUiOiJBZGEiLCJlbWFpbCI6ImFkYUBleGFtcGxlLmNvbSIsImVtYWlsVmVyaWZpZWQiOmZhbHNlLCJjcmVhdGVkQXQiOiIyMDIzLTExLTE0VDIyOjEzOjIwLjAwMFoiLCJ1cGRhdGVkQXQiOiIyMDIzLTExLTE0VDIyOjEzOjIwLjAwMFoiLCJyb2xlIjoiYWRtaW4iLCJpZCI6IjY2c2VYZ0lmekNlSWJhN3pOWnJUaldPV0ozTjFpZkJkIn0sInVwZGF0ZWRBdCI6MTcwMDAwMDAwMDAwMCwidmVyc2lvbiI6IjEifSwiZXhwaXJlc0F0IjoxNzAwMDAwMzAwMDAwLCJzaWduYXR1cmUiOiJ0RkdjSW9QLWNpc3RWbzJERXhFQndLWXE0X2ctYWlSenhwd285Wi1CQTFZIn0"

func Example() {
	v, err := betterauth.New(betterauth.Config{
		Secrets:  []string{harnessSecret}, // nil: BETTER_AUTH_SECRETS, BETTER_AUTH_SECRET, AUTH_SECRET
		Strategy: betterauth.StrategyCompact,
		Now:      func() time.Time { return time.Unix(1700000060, 0) },
	})
	if err != nil {
		panic(err)
	}
	r, _ := http.NewRequest(http.MethodGet, "https://app.example/dashboard", nil)
	r.Header.Set("Cookie", exampleCookie)

	s, err := v.Verify(r)
	if err != nil {
		fmt.Println("no session:", errors.Is(err, betterauth.ErrNoSession))
		return
	}
	fmt.Println(s.UserID, s.Role, s.Source, s.ExpiresAt.UTC().Format(time.RFC3339))
	// Output: 66seXgIfzCeIba7zNZrTjWOWJ3N1ifBd admin cookie-cache 2023-11-21T22:13:20Z
}

// Without a lookup source, a cache past its maxAge leaves the cookies unable
// to prove the session.
func ExampleVerifier_Verify_expired() {
	v, _ := betterauth.New(betterauth.Config{
		Secrets: []string{harnessSecret},
		Now:     func() time.Time { return time.Unix(1700000000+300+60, 0) },
	})
	r, _ := http.NewRequest(http.MethodGet, "https://app.example/", nil)
	r.Header.Set("Cookie", exampleCookie)
	_, err := v.Verify(r)
	fmt.Println(errors.Is(err, betterauth.ErrNeedsLookup), errors.Is(err, betterauth.ErrExpired))
	fmt.Println(err)
	// Output:
	// true true
	// betterauth: the cookies alone cannot prove the session: betterauth: session or cookie cache expired
}

// A sign-out takes effect at once when every session is looked up: here in
// a secondary storage (the redisstore package reads Better Auth's on Redis).
func ExampleConfig_storage() {
	storage := mapStorage{} // the user signed out: their session is gone
	v, _ := betterauth.New(betterauth.Config{
		Secrets:  []string{harnessSecret},
		Strategy: betterauth.StrategyNone,
		Storage:  storage,
		Now:      func() time.Time { return time.Unix(1700000060, 0) },
	})
	r, _ := http.NewRequest(http.MethodGet, "https://app.example/", nil)
	r.Header.Set("Cookie", exampleCookie)
	_, err := v.Verify(r)
	fmt.Println(errors.Is(err, betterauth.ErrRevoked))
	// Output: true
}

// A Verifier is an edgeauth.Source: one Manager's rules, roles and identity
// headers decide on Better Auth sessions.
func ExampleVerifier_Session() {
	v, err := betterauth.New(betterauth.Config{
		Secrets:  []string{harnessSecret},
		Strategy: betterauth.StrategyCompact,
		Now:      func() time.Time { return time.Unix(1700000060, 0) },
	})
	if err != nil {
		panic(err)
	}
	m, err := edgeauth.New(edgeauth.Config{
		Source:       v,
		Rules:        []edgeauth.Rule{{Pattern: "/admin/:path*", Roles: []string{"admin"}}},
		ClaimHeaders: map[string]string{"x-user-email": "email"},
	})
	if err != nil {
		panic(err)
	}
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := edgeauth.FromContext(r.Context())
		fmt.Println(r.Header.Get("X-User-Id"), r.Header.Get("X-User-Role"), r.Header.Get("X-User-Email"))
		fmt.Println(s.User["name"], s.Raw.(*betterauth.Session).Source)
	}))
	r, _ := http.NewRequest(http.MethodGet, "https://app.example/admin/users", nil)
	r.Header.Set("Cookie", exampleCookie)
	r.Header.Set("X-User-Role", "root") // a client's copy: stripped
	h.ServeHTTP(httptest.NewRecorder(), r)

	r, _ = http.NewRequest(http.MethodGet, "https://app.example/admin/users", nil)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	fmt.Println(w.Code, w.Header().Get("Location"))
	// Output:
	// 66seXgIfzCeIba7zNZrTjWOWJ3N1ifBd admin ada@example.com
	// Ada cookie-cache
	// 303 /login?callbackUrl=%2Fadmin%2Fusers
}

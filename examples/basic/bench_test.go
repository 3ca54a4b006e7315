package main

import (
	"encoding/json"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth"
	"github.com/edgeauth/edgeauth/internal/redistest"
)

type nopWriter struct{ h http.Header }

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *nopWriter) WriteHeader(int)             {}

// benchApp serves one route of the whole example app in-process; with a
// session for /dashboard, without one for /whoami: the two routes
// scripts/loadtest.sh compares under wrk. It first checks that the route
// answers 200 with the identity want, so that it never times an error page
// or a login redirect.
func benchApp(b *testing.B, target string, signedIn bool, want map[string]string) {
	benchAppOn(b, nil, nil, target, signedIn, want)
}

// benchAppOn is benchApp with the app on store (nil: the memory store); warm,
// if set, gets a function that serves one request, and returns when the
// timing may start.
func benchAppOn(b *testing.B, store edgeauth.Store, warm func(serve func()), target string, signedIn bool, want map[string]string) {
	app, err := newApp(appConfig{Secrets: []string{"bench-secret-0123456789abcdefghij"}, Store: store})
	if err != nil {
		b.Fatal(err)
	}
	r := httptest.NewRequest("GET", target, nil)
	r.Header.Set("User-Agent", "wrk")
	if signedIn {
		form := url.Values{"username": {"alice"}, "password": {"alice"}}
		login := httptest.NewRequest("POST", "/login", strings.NewReader(form.Encode()))
		login.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		app.ServeHTTP(rec, login)
		if rec.Code != http.StatusSeeOther {
			b.Fatalf("sign-in: status %d, want %d", rec.Code, http.StatusSeeOther)
		}
		session := false
		for _, c := range rec.Result().Cookies() {
			if (c.Name == edgeauth.DefaultCookieName || strings.HasPrefix(c.Name, edgeauth.DefaultCookieName+".")) && c.Value != "" {
				session = true
			}
			r.AddCookie(c)
		}
		if !session {
			b.Fatalf("sign-in set no %s cookie", edgeauth.DefaultCookieName)
		}
	}

	rec := httptest.NewRecorder()
	app.ServeHTTP(rec, r)
	if rec.Code != http.StatusOK {
		b.Fatalf("GET %s: status %d, want 200", target, rec.Code)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		b.Fatalf("GET %s: Content-Type %q, want application/json", target, ct)
	}
	var got map[string]string
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		b.Fatalf("GET %s: body is not a JSON object of strings: %v", target, err)
	}
	if !maps.Equal(got, want) {
		b.Fatalf("GET %s: body %v, want %v", target, got, want)
	}

	w := &nopWriter{h: make(http.Header)}
	if warm != nil {
		warm(func() { app.ServeHTTP(w, r) })
	}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		app.ServeHTTP(w, r)
	}
}

func BenchmarkAppProtected(b *testing.B) {
	benchApp(b, "/dashboard", true, map[string]string{"x-user-id": "alice", "x-user-role": "admin"})
}

// BenchmarkAppProtectedRedis is BenchmarkAppProtected on the Redis store as
// the example configures it for REDIS_URL: warm checks come from its local
// cache.
func BenchmarkAppProtectedRedis(b *testing.B) {
	client, err := newRedisClient("redis://" + redistest.Start(b) + "/0")
	if err != nil {
		b.Fatal(err)
	}
	defer client.Close()
	commands := &commandCounter{}
	client.AddHook(commands)
	store := newRedisStore(client, slog.New(slog.DiscardHandler))
	defer store.Close()
	// Timing starts once a hundred requests in a row send Redis nothing: the
	// store's tracking is established and its cache warm.
	warm := func(serve func()) {
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
			before := commands.Total()
			for range 100 {
				serve()
			}
			if commands.Total() == before {
				return
			}
			time.Sleep(time.Millisecond)
		}
		b.Fatal("the Redis store never served a request from its cache")
	}
	benchAppOn(b, store, warm, "/dashboard", true, map[string]string{"x-user-id": "alice", "x-user-role": "admin"})
}

func BenchmarkAppPublic(b *testing.B) {
	benchApp(b, "/whoami", false, map[string]string{"x-user-id": "", "x-user-role": ""})
}

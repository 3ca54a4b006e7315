package main

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

type nopWriter struct{ h http.Header }

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *nopWriter) WriteHeader(int)             {}

// benchApp serves one route of the whole example app in-process; with a
// session for /dashboard, without one for /whoami: the two routes
// scripts/loadtest.sh compares under wrk.
func benchApp(b *testing.B, target string, signedIn bool) {
	app, err := newApp(appConfig{Secrets: []string{"bench-secret-0123456789abcdefghij"}})
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
		for _, c := range rec.Result().Cookies() {
			r.AddCookie(c)
		}
	}
	w := &nopWriter{h: make(http.Header)}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		app.ServeHTTP(w, r)
	}
}

func BenchmarkAppProtected(b *testing.B) { benchApp(b, "/dashboard", true) }
func BenchmarkAppPublic(b *testing.B)    { benchApp(b, "/whoami", false) }

package main

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/edgeauth/edgeauth"
)

// apiConfig is everything the API depends on, so that tests can run it in
// process with their own clock and logger.
type apiConfig struct {
	// Secrets are the Next.js app's AUTH_SECRET values, newest first.
	Secrets []string
	// AuthURL is the Next.js app's URL, as its AUTH_URL: its scheme decides
	// the cookie name, its origin the sign-in page.
	AuthURL string
	// Logger receives why requests were refused; nil means discard.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// newAPI builds the API: a read-only session manager (the Next.js app owns
// the cookie) in front of a chi router whose routes carry their own guards.
// It also returns the name of the cookie the API reads.
func newAPI(cfg apiConfig) (http.Handler, string, error) {
	app, err := url.Parse(cfg.AuthURL)
	if err != nil || (app.Scheme != "http" && app.Scheme != "https") || app.Host == "" {
		return nil, "", fmt.Errorf("AUTH_URL %q: want the Next.js app's URL, such as http://localhost:3000", cfg.AuthURL)
	}
	origin := app.Scheme + "://" + app.Host
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	m, err := edgeauth.New(edgeauth.Config{
		Secrets: cfg.Secrets,
		// Auth.js names the cookie __Secure-authjs.session-token on https,
		// authjs.session-token on http; the name is also its key's salt.
		Cookie: edgeauth.CookieConfig{Secure: app.Scheme == "https"},
		// The Next.js app issues, refreshes and clears the cookie.
		ReadOnly: true,
		// Browsers without a session go to Auth.js's sign-in page, and
		// back here (on the app's origin) afterwards.
		LoginURL:      origin + "/api/auth/signin",
		Origin:        origin,
		APIPrefixes:   []string{"/api"},
		Logger:        logger,
		LogRejections: true,
		Now:           cfg.Now,
	})
	if err != nil {
		return nil, "", err
	}

	r := chi.NewRouter()
	r.Use(m.Handler) // verifies the session once per request; sets x-user-id, x-user-role
	r.Get("/api/health", health)
	r.Group(func(r chi.Router) {
		r.Use(m.Require()) // signed in
		r.Get("/api/me", me)
		r.Get("/export.csv", export)
	})
	r.With(m.Require("admin")).Get("/api/admin/stats", stats)
	return r, m.CookieName(), nil
}

func health(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, map[string]any{"ok": true})
}

// me answers with the session as Handler verified it.
func me(w http.ResponseWriter, r *http.Request) {
	s, err := edgeauth.FromContext(r.Context())
	if err != nil { // unreachable behind Require
		http.Error(w, "no session", http.StatusUnauthorized)
		return
	}
	writeJSON(w, map[string]any{"id": s.UserID, "role": s.Role, "name": s.User["name"]})
}

func stats(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, map[string]any{"admin": r.Header.Get("x-user-id"), "orders": 42})
}

// export is a download a browser navigates to: signed-out users are sent
// to the sign-in page instead of getting a 401.
func export(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/csv")
	fmt.Fprintf(w, "user,orders\n%s,42\n", r.Header.Get("x-user-id"))
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

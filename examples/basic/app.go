package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"time"

	"github.com/edgeauth/edgeauth"
)

// appConfig is everything the app depends on, so that tests can run several
// instances in one process with their own clock and store.
type appConfig struct {
	// Secrets are the AUTH_SECRET values, newest first; at least one.
	Secrets []string
	// Store holds revocations; nil means an in-memory store (one instance only).
	Store edgeauth.Store
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives the app's log lines; nil means discard.
	Logger *slog.Logger
	// Origin is the site's own origin, e.g. "http://127.0.0.1:8080".
	Origin string
	// RevocationTimeout bounds each revocation check; zero means the library default.
	RevocationTimeout time.Duration
}

// demoUser is a built-in account. A real app keeps password hashes
// (bcrypt, argon2id), never plaintext.
type demoUser struct {
	ID, Name, Email, Role, Password string
}

var demoUsers = map[string]demoUser{
	"alice": {ID: "alice", Name: "Alice", Email: "alice@example.com", Role: "admin", Password: "alice"},
	"bob":   {ID: "bob", Name: "Bob", Email: "bob@example.com", Role: "user", Password: "bob"},
}

// authenticate compares digests in constant time, so neither the password's
// content nor its length leaks through timing; unknown users cost the same.
func authenticate(username, password string) (demoUser, bool) {
	u, found := demoUsers[username]
	got := sha256.Sum256([]byte(password))
	want := sha256.Sum256([]byte(u.Password))
	match := subtle.ConstantTimeCompare(got[:], want[:]) == 1
	return u, found && match
}

// app holds the handlers' dependencies.
type app struct {
	m      *edgeauth.Manager
	origin string
	log    *slog.Logger
}

// newApp builds the whole site: routes, session manager, route protection
// and cross-origin protection.
func newApp(cfg appConfig) (http.Handler, error) {
	if len(cfg.Secrets) == 0 {
		return nil, errors.New("no secret configured")
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	store := cfg.Store
	if store == nil {
		store = edgeauth.NewMemoryStore(edgeauth.MemoryStoreConfig{Now: cfg.Now})
	}
	m, err := edgeauth.New(edgeauth.Config{
		Secrets:   cfg.Secrets,
		Callbacks: edgeauth.Callbacks{JWT: jwtCallback, Session: sessionCallback},
		// The most specific matching rule decides, whatever the order;
		// paths no rule matches are public.
		Rules: []edgeauth.Rule{
			{Pattern: "/dashboard/:path*"},
			{Pattern: "/admin/:path*", Roles: []string{"admin"}},
			// Auth.js's endpoints are public: the session endpoint answers
			// null when signed out.
			{Pattern: "/api/auth/:path*", Public: true},
			{Pattern: "/api/:path*"},
			{Pattern: "/logout/all"},
		},
		LoginURL:    "/login",
		APIPrefixes: []string{"/api"},
		// Origin stays unset so that login redirects carry a relative
		// callbackUrl (/login?callbackUrl=%2Fdashboard); POST /login still
		// accepts absolute ones on a.origin.
		Store:             store,
		RevocationTimeout: cfg.RevocationTimeout,
		Now:               cfg.Now,
		Logger:            logger,
	})
	if err != nil {
		return nil, err
	}
	a := &app{m: m, origin: cfg.Origin, log: logger}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", a.index)
	mux.HandleFunc("GET /login", a.loginForm)
	mux.HandleFunc("POST /login", a.login)
	mux.HandleFunc("POST /logout", a.logout)
	mux.HandleFunc("POST /logout/all", a.logoutAll)
	mux.HandleFunc("GET /dashboard", identity)
	mux.HandleFunc("GET /whoami", identity)
	mux.HandleFunc("GET /admin", identity)
	mux.HandleFunc("POST /admin/revoke", a.adminRevoke)
	mux.HandleFunc("GET /api/me", a.me)
	mux.Handle("/api/auth/session", m.SessionHandler())

	// Unsafe methods from another site get 403 before anything runs, so forms
	// need no CSRF token.
	return securityHeaders(http.NewCrossOriginProtection().Handler(m.Handler(mux))), nil
}

// jwtCallback copies the user's id and role into the token at sign-in, as
// the Auth.js jwt callback { token.id = user.id; token.role = user.role }.
func jwtCallback(_ context.Context, p edgeauth.JWTParams) (*edgeauth.Token, error) {
	if p.User != nil {
		role, _ := p.User.Attributes["role"].(string)
		if err := p.Token.SetClaim("id", p.User.ID); err != nil {
			return nil, err
		}
		if err := p.Token.SetClaim("role", role); err != nil {
			return nil, err
		}
	}
	return p.Token, nil
}

// sessionCallback exposes id and role in the session JSON, as the Auth.js
// session callback { session.user.id = token.id; session.user.role = token.role }.
func sessionCallback(_ context.Context, p edgeauth.SessionParams) (*edgeauth.Session, error) {
	s := p.Session
	if id := p.Token.StringClaim("id"); id != "" {
		s.User["id"] = id
	}
	if role := p.Token.StringClaim("role"); role != "" {
		s.User["role"] = role
	}
	return s, nil
}

var pages = template.Must(template.New("index").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>edgeauth example</title></head><body>
<h1>edgeauth example</h1>
{{if .UserID}}<p>Signed in as <b>{{.UserID}}</b> (role {{.Role}}).</p>
<form method="post" action="/logout"><button>Sign out</button></form>
<form method="post" action="/logout/all"><button>Sign out everywhere</button></form>
{{if eq .Role "admin"}}<form method="post" action="/admin/revoke"><input name="user" placeholder="user id, e.g. bob" required> <button>Revoke all their sessions</button></form>{{end}}
{{else}}<p><a href="/login">Sign in</a> as alice / alice (admin) or bob / bob (user).</p>{{end}}
<ul>
<li><a href="/dashboard">/dashboard</a>: signed-in users</li>
<li><a href="/admin">/admin</a>: admins</li>
<li><a href="/whoami">/whoami</a>: public</li>
<li><a href="/api/me">/api/me</a>: API, 401 JSON without a session</li>
<li><a href="/api/auth/session">/api/auth/session</a>: the Auth.js session endpoint</li>
</ul>
</body></html>
`))

var loginPage = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in</title></head><body>
<h1>Sign in</h1>
{{if .Error}}<p role="alert">{{.Error}}</p>{{end}}
<form method="post" action="/login">
<input type="hidden" name="callbackUrl" value="{{.CallbackURL}}">
<label>Username <input name="username" autocomplete="username" required></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<button>Sign in</button>
</form>
<p>Demo users: alice / alice (admin), bob / bob (user).</p>
</body></html>
`))

func (a *app) index(w http.ResponseWriter, r *http.Request) {
	a.render(w, http.StatusOK, pages, struct{ UserID, Role string }{
		r.Header.Get("x-user-id"), r.Header.Get("x-user-role"),
	})
}

type loginData struct{ CallbackURL, Error string }

func (a *app) loginForm(w http.ResponseWriter, r *http.Request) {
	a.render(w, http.StatusOK, loginPage, loginData{CallbackURL: r.URL.Query().Get("callbackUrl")})
}

func (a *app) login(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		return
	}
	callback := r.PostForm.Get("callbackUrl")
	u, ok := authenticate(r.PostForm.Get("username"), r.PostForm.Get("password"))
	if !ok {
		a.render(w, http.StatusUnauthorized, loginPage, loginData{CallbackURL: callback, Error: "Wrong username or password."})
		return
	}
	_, err := a.m.SignIn(w, r, &edgeauth.User{
		ID: u.ID, Name: u.Name, Email: u.Email,
		Attributes: map[string]any{"role": u.Role},
	})
	if err != nil {
		a.log.ErrorContext(r.Context(), "sign-in failed", "error", err)
		http.Error(w, "sign-in failed", http.StatusInternalServerError)
		return
	}
	http.Redirect(w, r, edgeauth.SafeCallbackURL(callback, a.origin), http.StatusSeeOther)
}

var signOutFailedPage = template.Must(template.New("signout").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign-out incomplete</title></head><body>
<h1>Signed out in this browser only</h1>
<p role="alert">Your sign-out could not be recorded, so it did not reach other copies of this session:
another tab, or a copy of the cookie taken from this browser, stays signed in until the session expires.</p>
<p>Try again in a moment: <a href="/login">sign in</a>, then use <b>Sign out everywhere</b>.</p>
</body></html>
`))

func (a *app) logout(w http.ResponseWriter, r *http.Request) {
	// The cookie is cleared even when revoking the token fails; the user must
	// then learn that copies of it still work.
	if err := a.m.SignOut(w, r); err != nil {
		a.log.ErrorContext(r.Context(), "sign-out: session not revoked", "error", err)
		a.render(w, http.StatusServiceUnavailable, signOutFailedPage, nil)
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// logoutAll revokes every session of the current user, on every instance
// that shares the store, then clears this browser's cookie.
func (a *app) logoutAll(w http.ResponseWriter, r *http.Request) {
	s, err := edgeauth.FromContext(r.Context())
	if err != nil {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "unauthorized"})
		return
	}
	if err := a.m.RevokeUser(r.Context(), s.UserID); err != nil {
		a.log.ErrorContext(r.Context(), "sign-out everywhere failed", "error", err)
		http.Error(w, "could not sign out everywhere; try again", http.StatusServiceUnavailable)
		return
	}
	if err := a.m.SignOut(w, r); err != nil {
		a.log.WarnContext(r.Context(), "sign-out: token not revoked", "error", err)
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// adminRevoke bans a user: every session they hold stops working.
func (a *app) adminRevoke(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		return
	}
	user := r.PostForm.Get("user")
	if user == "" || len(user) > 256 {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "form field user is required"})
		return
	}
	if err := a.m.RevokeUser(r.Context(), user); err != nil {
		a.log.ErrorContext(r.Context(), "revoking a user failed", "error", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "revocation failed; try again"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"revoked": user})
}

// identity shows the identity headers as this handler received them: the
// middleware strips client-sent copies and sets them from the session.
func identity(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{
		"x-user-id":   r.Header.Get("x-user-id"),
		"x-user-role": r.Header.Get("x-user-role"),
	})
}

func (a *app) me(w http.ResponseWriter, r *http.Request) {
	s, err := edgeauth.FromContext(r.Context())
	if err != nil {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "unauthorized"})
		return
	}
	writeJSON(w, http.StatusOK, s)
}

// parseForm reads a small urlencoded body, answering 400 when it cannot.
func parseForm(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return false
	}
	return true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "private, no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

func (a *app) render(w http.ResponseWriter, status int, t *template.Template, data any) {
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		a.log.Error("rendering a page failed", "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "private, no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// securityHeaders forbids framing, sniffing and everything but same-origin
// form posts: the pages have no scripts or styles.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

package edgeauth

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/edgeauth/edgeauth/internal/match"
	"github.com/edgeauth/edgeauth/internal/nostore"
)

// Decision is what the middleware decides for a request, without writing
// anything; see [Manager.Check].
type Decision struct {
	// Status is 0 when the request passes, otherwise the response status:
	// 303 (redirect to Location), 401, 403, or 400 for a request without URL.
	Status int
	// Location is the redirect target of a 303: the login URL with a
	// callbackUrl, or Config.UnauthorizedURL.
	Location string
	// Session is the verified session, or nil. A 403 keeps it.
	Session *Session
	// API reports an API-style request, answered with JSON instead of redirects.
	API bool
	// Err says why the request was rejected (nil when it passes): it
	// satisfies errors.Is with ErrNoSession (401, login redirect) or
	// ErrForbidden (403, unauthorized redirect). It is never shown to clients.
	Err error

	rule *compiledRule // the rule that decided; nil when none matched
}

// Rule returns a copy of the rule that decided, and false when no rule
// matched the path. It is a method rather than a field so that deciding
// costs no allocation while the caller still gets a Rule of its own: the
// copy's Roles is made on each call, so changing it changes neither the
// Manager nor any other request's decision.
func (d Decision) Rule() (Rule, bool) {
	if d.rule == nil {
		return Rule{}, false
	}
	r := d.rule.Rule
	r.Roles = slices.Clone(r.Roles)
	return r, true
}

// middleware is the resolved middleware part of a Config.
type middleware struct {
	rules        []compiledRule
	login        *url.URL
	unauth       *url.URL   // nil: answer 403
	exempt       [][]string // segments of the LoginURL and UnauthorizedURL paths
	apiPrefixes  []*match.Pattern
	origin       string // normalized, "" for none
	userIDHeader string
	roleHeader   string
	claimHeaders []claimHeader
	identity     []string // every identity header name, for stripping
	errorHandler func(w http.ResponseWriter, r *http.Request, status int, err error)
}

func (m *Manager) initMiddleware(cfg Config) error {
	mw := middleware{errorHandler: cfg.ErrorHandler}
	if mw.errorHandler == nil {
		mw.errorHandler = DefaultErrorHandler
	}
	var err error
	if mw.rules, err = compileRules(cfg.Rules); err != nil {
		return err
	}
	if cfg.Origin != "" {
		var ok bool
		if mw.origin, ok = normalizeOrigin(cfg.Origin); !ok {
			return fmt.Errorf("%w: Origin %q: want scheme://host[:port]", ErrConfig, cfg.Origin)
		}
	}
	login := cfg.LoginURL
	if login == "" {
		login = "/login"
	}
	if mw.login, err = parsePageURL(login, "LoginURL"); err != nil {
		return err
	}
	if mw.isOwnPage(mw.login) {
		mw.exempt = append(mw.exempt, match.Split(mw.login.Path))
	}
	if cfg.UnauthorizedURL != "" {
		if mw.unauth, err = parsePageURL(cfg.UnauthorizedURL, "UnauthorizedURL"); err != nil {
			return err
		}
		if mw.isOwnPage(mw.unauth) {
			mw.exempt = append(mw.exempt, match.Split(mw.unauth.Path))
		}
	}
	for i, p := range cfg.APIPrefixes {
		pat, err := match.Compile(strings.TrimSuffix(p, "/") + "/:rest*")
		if err != nil || !strings.HasPrefix(p, "/") || strings.Contains(p, ":") {
			return fmt.Errorf("%w: APIPrefixes[%d] %q: must be a literal path", ErrConfig, i, p)
		}
		mw.apiPrefixes = append(mw.apiPrefixes, pat)
	}
	mw.userIDHeader = orDefault(cfg.UserIDHeader, "x-user-id")
	mw.roleHeader = orDefault(cfg.RoleHeader, "x-user-role")
	names := make([]string, 0, len(cfg.ClaimHeaders))
	for h := range cfg.ClaimHeaders {
		names = append(names, h)
	}
	sort.Strings(names)
	for _, h := range names {
		if cfg.ClaimHeaders[h] == "" {
			return fmt.Errorf("%w: ClaimHeaders[%q]: empty claim name", ErrConfig, h)
		}
		mw.claimHeaders = append(mw.claimHeaders, claimHeader{h, cfg.ClaimHeaders[h]})
	}
	for _, h := range append([]string{mw.userIDHeader, mw.roleHeader}, names...) {
		if err := checkIdentityHeader(h); err != nil {
			return err
		}
		for _, prev := range mw.identity {
			if sameHeader(prev, h) {
				return fmt.Errorf("%w: identity header %q configured twice", ErrConfig, h)
			}
		}
		mw.identity = append(mw.identity, h)
	}
	// Canonical names let setIdentity assign without re-canonicalizing per request.
	mw.userIDHeader = http.CanonicalHeaderKey(mw.userIDHeader)
	mw.roleHeader = http.CanonicalHeaderKey(mw.roleHeader)
	for i := range mw.claimHeaders {
		mw.claimHeaders[i].header = http.CanonicalHeaderKey(mw.claimHeaders[i].header)
	}
	m.mw = mw
	return nil
}

// isOwnPage reports a login or unauthorized page served by this app: a
// relative URL, or one of Config.Origin. Only those are exempt from the
// rules; a page on another host must not unguard the same path here.
func (mw *middleware) isOwnPage(u *url.URL) bool {
	if u.Host == "" {
		return true
	}
	o, ok := normalizeOrigin(u.Scheme + "://" + u.Host)
	return ok && mw.origin != "" && o == mw.origin
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// parsePageURL checks a LoginURL or UnauthorizedURL: a clean absolute path
// or an absolute http(s) URL. Its path must be clean so that the exemption
// from the rules compares equal to what requests carry.
func parsePageURL(raw, field string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %s %q: %v", ErrConfig, field, raw, err)
	}
	if u.IsAbs() {
		if _, ok := normalizeOrigin(u.Scheme + "://" + u.Host); !ok || u.User != nil {
			return nil, fmt.Errorf("%w: %s %q: want an http(s) URL or a path", ErrConfig, field, raw)
		}
		if u.Path == "" {
			u.Path = "/"
		}
	} else if !strings.HasPrefix(raw, "/") || strings.HasPrefix(raw, "//") || u.Host != "" {
		return nil, fmt.Errorf("%w: %s %q: want a path starting with one /", ErrConfig, field, raw)
	}
	if strings.ContainsRune(raw, '\\') || path.Clean(u.Path) != u.Path {
		return nil, fmt.Errorf("%w: %s %q: path is not clean", ErrConfig, field, raw)
	}
	return u, nil
}

// Check decides for r as [Manager.Handler] would, without writing anything:
// it verifies the session with [Manager.Load]. One difference follows: Check
// never re-issues, so a jwt callback that would end or fail the session on
// its rolling refresh (TriggerRefresh, for tokens older than UpdateAge) is
// not consulted, and Handler may reject what Check passes.
func (m *Manager) Check(r *http.Request) Decision {
	var s *Session
	var err error
	pre := isPreflight(r)
	if r != nil && r.URL != nil && !pre {
		s, err = m.Load(r)
	}
	return m.decide(r, s, err, pre)
}

// Handler protects next with Config.Rules, as an Auth.js middleware.ts does.
// It fits chi's Use, alice and plain http.ServeMux wrapping.
//
// For every request it verifies the session with [Manager.Refresh] (rolling
// expiry: renewed cookies are set on w before next runs; cookies of a bad
// session are cleared; neither with Config.ReadOnly), then decides by the
// most specific rule matching the path (see [Rule]):
//
//   - A path no rule guards passes, with the session if there is one.
//   - No session on a guarded path: a browser navigation (GET or HEAD outside
//     APIPrefixes whose Accept header does not ask for JSON alone; no Accept
//     header counts as a browser) gets 303 to LoginURL with a
//     callbackUrl of the original path and query (see [SafeCallbackURL]);
//     any other request gets 401 with {"error":"unauthorized"}.
//   - A session whose role a guarding rule does not admit gets 403 (JSON for
//     API-style requests), or for browser navigations 303 to UnauthorizedURL
//     when it is set.
//   - The LoginURL and UnauthorizedURL paths are never guarded, whatever the
//     rules say, so that redirects cannot loop.
//   - CORS preflights (OPTIONS with Origin and Access-Control-Request-Method)
//     pass without a session, since browsers never send credentials on them;
//     they reach next with no session and no identity headers, so next (or a
//     CORS middleware inside this one) must answer them without acting.
//     Other OPTIONS requests are treated like any other method.
//
// Paths are matched in every way a router behind this middleware may read
// them: cleaned (dot segments, duplicate slashes, backslashes, as Next.js
// sees them), as sent (for routers that do not clean, such as chi), and, when
// the request escapes a slash as %2F, split only on literal slashes (for
// routers that route on RawPath, such as http.ServeMux). A request must
// satisfy the most specific rule of each reading. So "/admin%2Fx",
// "/admin/../public" and "/public/../admin" are all guarded by
// "/admin/:path*", whichever way next routes them.
//
// Identity headers: on every request, guarded or not, signed in or not, all
// client-sent copies of UserIDHeader, RoleHeader and the ClaimHeaders names
// are removed (any case, and with "_" for "-"); then, from a verified
// session only, x-user-id (Session.UserID), x-user-role (Session.Role) and
// the ClaimHeaders string claims are set. A value holding a control
// character is dropped, never forwarded. The caller's request is not
// modified: next gets a copy, whose context also carries the session (or
// that there is none) for [FromContext] and [Manager.Require]. Headers are
// trustworthy only between this middleware and
// next. A reverse proxy placed behind it must forward them only from it;
// the edge must strip them from client requests; a service that trusts
// them must not be reachable except through this middleware.
//
// Rejections go to Config.ErrorHandler with Location (303), Content-Type
// application/json (API-style) and Cache-Control: private, no-cache, no-store
// already set on w.
func (m *Manager) Handler(next http.Handler) http.Handler {
	if next == nil {
		next = http.NotFoundHandler()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var s *Session
		var err error
		var rc *requestContext
		pre := isPreflight(r)
		if r != nil && r.URL != nil && !pre {
			s, err = m.refresh(w, r, &rc)
		}
		d := m.decide(r, s, err, pre)
		if d.Status != 0 {
			m.reject(w, r, d, "")
			return
		}
		next.ServeHTTP(w, m.forward(r, d.Session, err, rc))
	})
}

func isPreflight(r *http.Request) bool {
	return r != nil && r.Method == http.MethodOptions && r.Header.Get("Origin") != "" &&
		r.Header.Get("Access-Control-Request-Method") != ""
}

func (m *Manager) decide(r *http.Request, s *Session, loadErr error, preflight bool) Decision {
	if r == nil || r.URL == nil {
		return Decision{Status: http.StatusBadRequest, Err: errBadRequest}
	}
	mw := &m.mw
	// Most paths are clean and read one way: their segments stay on the stack.
	var segs [16]string
	var one [1][]string
	views := one[:]
	if segments, ok := onlyView(r.URL, segs[:0]); ok {
		one[0] = segments
	} else {
		views = pathViews(r.URL)
	}
	d := Decision{Session: s, API: mw.isAPI(r, views[0])}
	if mw.isExempt(views) {
		return d
	}
	var guards []*compiledRule
	var first *compiledRule
	var buf [1]*compiledRule
	for _, cr := range mw.matchRules(views, &buf) {
		if first == nil {
			first = cr
		}
		if !cr.Public {
			guards = append(guards, cr)
		}
	}
	if len(guards) == 0 || preflight {
		d.rule = first
		return d
	}
	if s == nil {
		d.rule = guards[0]
		mw.refuseNoSession(&d, r.URL, loadErr)
		return d
	}
	for _, cr := range guards {
		if !s.admittedBy(cr.Roles) {
			d.rule = cr
			mw.refuseRole(&d, fmt.Errorf("%w by rule %q", ErrForbidden, cr.Pattern))
			return d
		}
	}
	d.rule = guards[0]
	return d
}

// refuseNoSession answers a guarded request without a session: 401 for
// API-style requests, a redirect to the login page for browsers. The cause
// of loadErr is kept.
func (mw *middleware) refuseNoSession(d *Decision, u *url.URL, loadErr error) {
	d.Err = loadErr
	if !errors.Is(d.Err, ErrNoSession) {
		d.Err = ErrNoSession
	}
	if d.API {
		d.Status = http.StatusUnauthorized
	} else {
		d.Status, d.Location = http.StatusSeeOther, mw.loginLocation(u)
	}
}

// refuseRole answers a session without a required role: 403, or for
// browsers a redirect to UnauthorizedURL when it is set. err is ErrForbidden
// with what required the role.
func (mw *middleware) refuseRole(d *Decision, err error) {
	d.Err = err
	if !d.API && mw.unauth != nil {
		d.Status, d.Location = http.StatusSeeOther, mw.unauth.String()
	} else {
		d.Status = http.StatusForbidden
	}
}

// isExempt reports the LoginURL or UnauthorizedURL path, read the same way
// by every view (exactly: "/admin/../login" is not the login page to chi).
func (mw *middleware) isExempt(views [][]string) bool {
	for _, page := range mw.exempt {
		all := true
		for _, v := range views {
			if !slices.Equal(v, page) {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}

// isAPI reports a request answered with 401/403 JSON rather than redirects:
// not GET/HEAD, under an API prefix, or asking for JSON and not HTML.
func (mw *middleware) isAPI(r *http.Request, cleaned []string) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead && r.Method != "" {
		return true
	}
	for _, p := range mw.apiPrefixes {
		if p.MatchSegments(cleaned) {
			return true
		}
	}
	html, json := false, false
	for _, v := range r.Header["Accept"] { // Values("Accept"), without canonicalizing
		for _, part := range strings.Split(v, ",") {
			mt, params, _ := strings.Cut(part, ";")
			if zeroQuality(params) {
				continue // q=0 means "not acceptable"
			}
			switch mt = strings.ToLower(strings.TrimSpace(mt)); {
			case mt == "text/html" || mt == "application/xhtml+xml":
				html = true
			case mt == "application/json" || strings.HasSuffix(mt, "+json"):
				json = true
			}
		}
	}
	return json && !html
}

func zeroQuality(params string) bool {
	for _, p := range strings.Split(params, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		if strings.EqualFold(strings.TrimSpace(k), "q") {
			q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return err == nil && q == 0
		}
	}
	return false
}

// loginLocation is LoginURL with callbackUrl set to the request's own path
// and query, made safe, and absolute when Origin is set.
func (mw *middleware) loginLocation(u *url.URL) string {
	target := u.EscapedPath()
	if u.RawQuery != "" {
		target += "?" + u.RawQuery
	}
	cb := SafeCallbackURL(target, "")
	if mw.origin != "" {
		cb = mw.origin + cb
	}
	loc := *mw.login
	q := loc.Query()
	q.Set("callbackUrl", cb)
	loc.RawQuery = q.Encode()
	return loc.String()
}

// reject answers a refused request; by names what refused it (a Require
// guard), "" for the rule that decided.
func (m *Manager) reject(w http.ResponseWriter, r *http.Request, d Decision, by string) {
	m.logRejection(r, d, by)
	h := w.Header()
	nostore.Set(h)
	if d.Location != "" {
		h.Set("Location", d.Location)
	}
	if d.API {
		h.Set("Content-Type", "application/json")
	}
	if d.Status == http.StatusUnauthorized && m.allowBearer {
		h.Set("WWW-Authenticate", "Bearer")
	}
	m.mw.errorHandler(w, r, d.Status, d.Err)
}

// DefaultErrorHandler is the ErrorHandler used when Config.ErrorHandler is
// nil: it writes a fixed body per status, JSON when Content-Type is already
// application/json, nothing for redirects and HEAD requests, and never
// err's text. A custom ErrorHandler can log and then call it.
func DefaultErrorHandler(w http.ResponseWriter, r *http.Request, status int, _ error) {
	h := w.Header()
	if status >= 300 && status < 400 {
		w.WriteHeader(status)
		return
	}
	h.Set("X-Content-Type-Options", "nosniff")
	var body string
	if strings.HasPrefix(h.Get("Content-Type"), "application/json") {
		code := "error"
		switch status {
		case http.StatusBadRequest:
			code = "bad_request"
		case http.StatusUnauthorized:
			code = "unauthorized"
		case http.StatusForbidden:
			code = "forbidden"
		}
		body = `{"error":"` + code + `"}`
	} else {
		h.Set("Content-Type", "text/plain; charset=utf-8")
		body = http.StatusText(status) + "\n"
	}
	w.WriteHeader(status)
	if r == nil || r.Method != http.MethodHead {
		_, _ = io.WriteString(w, body)
	}
}

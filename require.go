package edgeauth

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/edgeauth/edgeauth/internal/match"
)

// Require returns middleware that admits only requests with a session and,
// when roles are given, a session whose role is one of them (exact
// comparison; for a session with [Session.Roles], any of its roles). It keeps route protection beside the routes, instead of in
// Config.Rules: chi's r.With(m.Require("admin")).Get(…) and r.Group with
// r.Use(m.Require()), or plain wrapping, mux.Handle("GET /admin",
// m.Require("admin")(h)).
//
// Put it behind [Manager.Handler], which verifies the session once per
// request (with rolling refresh), strips and sets the identity headers and
// hands its verdict on in the request's context. Require then answers as
// Handler answers on a guarded path: without a session, 401 with
// {"error":"unauthorized"} for API-style requests (APIPrefixes, methods other
// than GET and HEAD, JSON-only Accept) and otherwise a 303 to LoginURL with a
// callbackUrl; with a session whose role is not among roles, 403, or for
// browser navigations a 303 to UnauthorizedURL when it is set. Rejections go
// to Config.ErrorHandler, and CORS preflights pass without a session, as
// through Handler.
//
// A session already in the request's context, from Handler or
// [NewContext], is used as it is. Without Handler in front, Require still
// fails closed: it verifies the
// session itself with [Manager.Load] (which never writes cookies) and passes
// it on in the context for [FromContext]. It does not strip or set identity
// headers, so handlers behind a lone Require must read the session from the
// context, never from x-user-id. A request Handler found without a session
// is refused without a second verification.
//
// Require panics if a role is empty, as http.ServeMux.Handle panics on an
// invalid pattern: it is a mistake in the program, and an empty role would
// admit sessions that have none.
func (m *Manager) Require(roles ...string) func(http.Handler) http.Handler {
	if slices.Contains(roles, "") {
		panic("edgeauth: Require: empty role")
	}
	roles = slices.Clone(roles)
	quoted := make([]string, len(roles))
	for i, r := range roles {
		quoted[i] = strconv.Quote(r)
	}
	forbidden := fmt.Errorf("%w by Require(%s)", ErrForbidden, strings.Join(quoted, ", "))
	by := "Require(" + strings.Join(roles, ",") + ")" // for logs, which quote values themselves
	return func(next http.Handler) http.Handler {
		if next == nil {
			next = http.NotFoundHandler()
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			d, loaded := m.require(r, roles, forbidden)
			if d.Status != 0 {
				m.reject(w, r, d, by)
				return
			}
			if loaded {
				r = r.WithContext(NewContext(r.Context(), d.Session))
			}
			next.ServeHTTP(w, r)
		})
	}
}

// require decides for Require; loaded reports a session it verified itself.
func (m *Manager) require(r *http.Request, roles []string, forbidden error) (d Decision, loaded bool) {
	if r == nil || r.URL == nil {
		return Decision{Status: http.StatusBadRequest, Err: errBadRequest}, false
	}
	mw := &m.mw
	d.API = mw.isAPI(r, match.Split(match.Clean(r.URL.Path)))
	if isPreflight(r) {
		return d, false
	}
	var s *Session
	var loadErr error
	switch v := r.Context().Value(ctxKey{}).(type) {
	case *Session: // Handler's session, or NewContext(ctx, nil)
		s = v
	case *sessionAbsent: // Handler found none
		loadErr = v.err
	default:
		s, loadErr = m.Load(r)
		loaded = s != nil
	}
	d.Session = s
	switch {
	case s == nil:
		mw.refuseNoSession(&d, r.URL, loadErr)
	case !s.admittedBy(roles):
		mw.refuseRole(&d, forbidden)
	}
	return d, loaded
}

package main

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/edgeauth/edgeauth"
	"github.com/edgeauth/edgeauth/internal/nostore"
)

// Errors of a forward-auth request that names no usable original request.
var (
	errNoOriginal = errors.New("forward-auth request without X-Original-URI, X-Original-URL or X-Forwarded-Uri")
	// errConflictingOriginal: two headers (or two copies of one) name
	// different requests. A proxy sets one family and passes the client's
	// copies of the other through, so a mismatch is a client's attempt to
	// be judged for another path or method.
	errConflictingOriginal = errors.New("forward-auth request names different original requests")
	errBadOriginal         = errors.New("forward-auth request names an unusable original request")
)

// serveForwardAuth answers nginx auth_request, Caddy forward_auth, Traefik
// ForwardAuth and Envoy ext_authz (HTTP) for the original request: 200 with
// the identity headers (always all of them, empty without a session), 401
// without a session, 403 for the wrong role; never a redirect, never a
// cookie.
func (st *state) serveForwardAuth(w http.ResponseWriter, r *http.Request) {
	info := &requestInfo{start: time.Now(), endpoint: endpointForwardAuth}
	nostore.Set(w.Header())
	ctx := context.WithValue(r.Context(), requestInfoKey{}, info)
	orig, err := originalRequest(ctx, r)
	if err != nil {
		st.g.metrics.decided(endpointForwardAuth, outcomeBadRequest, info.start)
		st.g.logRejected(r.Context(), endpointForwardAuth, r, http.StatusBadRequest, rejectReason(err), err)
		edgeauth.DefaultErrorHandler(w, r, http.StatusBadRequest, err)
		return
	}
	st.auth.ServeHTTP(w, orig)
}

// authAllowed answers 200 for a request the middleware let through. r is
// the middleware's copy of the original request, whose identity headers it
// stripped of client copies and set from the session: they become the
// response's. Every name is sent, empty when there is no value, because
// Caddy 2.6's copy_headers turns a missing one into the literal text of its
// placeholder ("{http.reverse_proxy.header.X-User-Id}").
func (st *state) authAllowed(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Del("Set-Cookie") // a cleared bad cookie, on a path that needs no session
	nostore.Set(h)
	for _, name := range st.identity {
		h[name] = []string{r.Header.Get(name)}
	}
	o := outcomeAnonymous
	if _, err := edgeauth.FromContext(r.Context()); err == nil {
		o = outcomeAllowed
	}
	st.g.metrics.decided(endpointForwardAuth, o, infoFrom(r.Context()).start)
	w.WriteHeader(http.StatusOK)
}

// originalRequest rebuilds the request to decide for from the forward-auth
// headers: the URI from X-Original-URI (nginx), X-Original-URL
// (ingress-nginx) or X-Forwarded-Uri (Caddy, Traefik), or from the path
// after /_edgeauth/auth (Envoy's path_prefix); the method from
// X-Original-Method or X-Forwarded-Method, or the request's own. Every
// source present must agree. The copy shares r's headers (Cookie,
// Authorization, Accept), which the middleware reads and never changes,
// and carries ctx.
func originalRequest(ctx context.Context, r *http.Request) (*http.Request, error) {
	var uris []string
	uris = append(uris, r.Header.Values("X-Original-URI")...)
	host := ""
	for _, raw := range r.Header.Values("X-Original-URL") {
		u, err := url.ParseRequestURI(raw)
		if err != nil || !u.IsAbs() || u.Opaque != "" {
			return nil, errBadOriginal
		}
		uris = append(uris, u.RequestURI())
		host = u.Host
	}
	uris = append(uris, r.Header.Values("X-Forwarded-Uri")...)
	if rest, ok := strings.CutPrefix(r.RequestURI, authPath); ok && strings.HasPrefix(rest, "/") {
		uris = append(uris, rest)
	}
	if len(uris) == 0 {
		return nil, errNoOriginal
	}
	for _, u := range uris[1:] {
		if u != uris[0] {
			return nil, errConflictingOriginal
		}
	}
	// As net/http reads a request line: "//admin" is a path, not a host.
	target, err := url.ParseRequestURI(uris[0])
	if err != nil || !strings.HasPrefix(uris[0], "/") {
		return nil, errBadOriginal
	}

	method := r.Method
	methods := append(r.Header.Values("X-Original-Method"), r.Header.Values("X-Forwarded-Method")...)
	for i, m := range methods {
		if !validMethod(m) {
			return nil, errBadOriginal
		}
		if i > 0 && m != methods[0] {
			return nil, errConflictingOriginal
		}
	}
	if len(methods) > 0 {
		method = methods[0]
	}
	if fh := r.Header.Get("X-Forwarded-Host"); fh != "" {
		host = fh
	} else if host == "" {
		host = r.Host
	}

	orig := r.WithContext(ctx)
	orig.Method = method
	orig.URL = target
	orig.RequestURI = uris[0]
	orig.Host = host
	return orig, nil
}

// validMethod reports an RFC 9110 method token.
func validMethod(m string) bool {
	if m == "" || len(m) > 32 {
		return false
	}
	for i := 0; i < len(m); i++ {
		c := m[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`()<>@,;:\"/[]?={}`, c) >= 0 {
			return false
		}
	}
	return true
}

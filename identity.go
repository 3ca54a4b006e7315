package edgeauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

type claimHeader struct{ header, claim string }

// checkIdentityHeader refuses names that are not HTTP tokens and names whose
// stripping would break the request.
func checkIdentityHeader(h string) error {
	if h == "" {
		return fmt.Errorf("%w: empty identity header name", ErrConfig)
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`()<>@,;:\"/[]?={}`, c) >= 0 {
			return fmt.Errorf("%w: identity header %q is not a valid header name", ErrConfig, h)
		}
	}
	for _, reserved := range [...]string{"Authorization", "Cookie", "Host", "Content-Length", "Content-Type", "Transfer-Encoding", "Connection"} {
		if sameHeader(h, reserved) {
			return fmt.Errorf("%w: %q cannot be an identity header", ErrConfig, h)
		}
	}
	return nil
}

// sameHeader compares header names case-insensitively with "_" equal to
// "-", because CGI-style gateways (and nginx with underscores_in_headers)
// map both to the same variable, HTTP_X_USER_ID.
func sameHeader(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if headerFold(a[i]) != headerFold(b[i]) {
			return false
		}
	}
	return true
}

func headerFold(c byte) byte {
	switch {
	case c == '_':
		return '-'
	case c >= 'A' && c <= 'Z':
		return c + 'a' - 'A'
	}
	return c
}

// forward returns the request next sees: identity headers stripped, then
// set from s, on a copy whose context carries s, or without a session the
// reason, loadErr. rc, when not nil, is the context s was copied into.
func (m *Manager) forward(r *http.Request, s *Session, loadErr error, rc *requestContext) *http.Request {
	mw := &m.mw
	// With a session the headers change whatever the client sent.
	spoofed := false
	if s == nil {
		for k := range r.Header {
			if mw.isIdentity(k) {
				spoofed = true
				break
			}
		}
	}
	// Without a session too, Require behind Handler must take "no session"
	// from it, not verify again: a jwt callback may have ended the session.
	// A request that carries no session cookie at all is the exception:
	// anyone reading it again finds the same, and most requests are these.
	if s == nil && !spoofed && errors.Is(loadErr, errNoCookie) {
		return r
	}
	ctx := rc.init(r.Context(), s, loadErr)
	out := r.WithContext(ctx)
	if !spoofed && s == nil {
		return out
	}
	// A copy of the headers without the identity ones, sized for those set
	// below: one map, and one array for the values, theirs included (room
	// for one value a header: a header with more may take another).
	h := make(http.Header, len(r.Header)+2+len(mw.claimHeaders))
	all := make([]string, 0, len(r.Header)+2+len(mw.claimHeaders))
	for k, vv := range r.Header {
		if mw.isIdentity(k) {
			continue
		}
		if vv == nil {
			h[k] = nil
			continue
		}
		all = append(all, vv...)
		h[k] = all[len(all)-len(vv) : len(all) : len(all)]
	}
	// "Connection: X-User-Id" would make a proxy downstream drop the
	// headers set below (hop-by-hop); the client may not name them.
	if conn := h["Connection"]; len(conn) > 0 { // Values("Connection"), without canonicalizing
		var keep []string
		for _, v := range conn {
			for _, opt := range strings.Split(v, ",") {
				if opt = strings.TrimSpace(opt); opt != "" && !mw.isIdentity(opt) {
					keep = append(keep, opt)
				}
			}
		}
		h.Del("Connection")
		if len(keep) > 0 {
			h.Set("Connection", strings.Join(keep, ", "))
		}
	}
	if s != nil {
		set := func(name, value string) {
			all = append(all, value)
			m.setIdentity(ctx, h, name, all[len(all)-1:len(all):len(all)])
		}
		set(mw.userIDHeader, s.UserID)
		set(mw.roleHeader, s.Role)
		for _, c := range mw.claimHeaders {
			set(c.header, s.claim(c.claim))
		}
	}
	out.Header = h
	return out
}

func (mw *middleware) isIdentity(name string) bool {
	for _, h := range mw.identity {
		if sameHeader(h, name) {
			return true
		}
	}
	return false
}

func (m *Manager) setIdentity(ctx context.Context, h http.Header, name string, value []string) {
	if value[0] == "" {
		return
	}
	if hasCTL(value[0]) {
		m.log(ctx, "identity header dropped: control character in value", "header", name)
		return
	}
	h[name] = value // name is canonical (initMiddleware)
}

func hasCTL(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return true
		}
	}
	return false
}

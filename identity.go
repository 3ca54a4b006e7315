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
// reason, loadErr.
func (m *Manager) forward(r *http.Request, s *Session, loadErr error) *http.Request {
	mw := &m.mw
	spoofed := false
	for k := range r.Header {
		if mw.isIdentity(k) {
			spoofed = true
			break
		}
	}
	// Without a session too, Require behind Handler must take "no session"
	// from it, not verify again: a jwt callback may have ended the session.
	// A request that carries no session cookie at all is the exception:
	// anyone reading it again finds the same, and most requests are these.
	if s == nil && !spoofed && errors.Is(loadErr, errNoCookie) {
		return r
	}
	var ctx context.Context
	if s != nil {
		ctx = NewContext(r.Context(), s)
	} else {
		ctx = context.WithValue(r.Context(), ctxKey{}, &sessionAbsent{loadErr})
	}
	out := r.WithContext(ctx)
	if !spoofed && s == nil {
		return out
	}
	h := r.Header.Clone()
	if h == nil {
		h = make(http.Header)
	}
	for k := range h {
		if mw.isIdentity(k) {
			delete(h, k)
		}
	}
	// "Connection: X-User-Id" would make a proxy downstream drop the
	// headers set below (hop-by-hop); the client may not name them.
	if conn := h.Values("Connection"); len(conn) > 0 {
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
		// One backing array for both values: one allocation, not two.
		ids := [...]string{s.UserID, s.Role}
		m.setIdentity(ctx, h, mw.userIDHeader, ids[0:1:1])
		m.setIdentity(ctx, h, mw.roleHeader, ids[1:2:2])
		for _, c := range mw.claimHeaders {
			m.setIdentity(ctx, h, c.header, []string{s.claim(c.claim)})
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

package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/edgeauth/edgeauth"
	"github.com/edgeauth/edgeauth/internal/chunk"
	"github.com/edgeauth/edgeauth/internal/nostore"
)

// newUpstreamTransport is the upstream's connection pool. timeout bounds
// the wait for the response headers, not the body, so that streams (SSE,
// downloads) and WebSockets may last.
func newUpstreamTransport(timeout time.Duration) *http.Transport {
	return &http.Transport{
		// Never an HTTP_PROXY from the environment between the gateway and its app.
		Proxy: nil,
		DialContext: (&net.Dialer{
			Timeout:   min(timeout, 10*time.Second),
			KeepAlive: 30 * time.Second,
		}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          1024,
		MaxIdleConnsPerHost:   1024,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   min(timeout, 10*time.Second),
		ResponseHeaderTimeout: timeout,
		ExpectContinueTimeout: time.Second,
	}
}

// proxyAllowed runs after the middleware let a request through: r carries
// the verified identity headers (client copies stripped) and, in its
// context, the session if there is one.
func (st *state) proxyAllowed(w http.ResponseWriter, r *http.Request) {
	info := infoFrom(r.Context())
	o := outcomeAnonymous
	if _, err := edgeauth.FromContext(r.Context()); err == nil {
		o = outcomeAllowed
		// The app behind owns its sessions: whatever the middleware would
		// re-issue (only a token without iat, given updateAge) is not ours
		// to send.
		w.Header().Del("Set-Cookie")
		w.Header().Del("Cache-Control")
	}
	st.g.metrics.decided(endpointProxy, o, info.start)
	if st.g.logger.Enabled(r.Context(), slog.LevelDebug) {
		st.g.logger.LogAttrs(r.Context(), slog.LevelDebug, "request allowed",
			slog.String("endpoint", endpointProxy.String()), slog.String("outcome", outcomeNames[o]),
			slog.String("method", r.Method), slog.String("path", truncate(r.URL.Path)))
	}
	st.rp.ServeHTTP(w, r)
}

func truncate(p string) string {
	if len(p) > maxLoggedPath {
		return p[:maxLoggedPath] + "…"
	}
	return p
}

// rewrite makes the upstream request: the target URL, X-Forwarded-* from
// this hop, and no session credentials that did not make the session.
func (st *state) rewrite(pr *httputil.ProxyRequest) {
	file := &st.cfg.file
	if file.TrustForwardedHeaders {
		// ReverseProxy drops these before Rewrite; a trusted hop in front
		// (a load balancer) set them.
		if prior := pr.In.Header["X-Forwarded-For"]; len(prior) > 0 {
			pr.Out.Header["X-Forwarded-For"] = prior
		}
	}
	pr.SetURL(st.cfg.upstream)
	pr.SetXForwarded()
	if file.TrustForwardedHeaders {
		for _, k := range []string{"X-Forwarded-Host", "X-Forwarded-Proto"} {
			if v := pr.In.Header.Get(k); v != "" {
				pr.Out.Header.Set(k, v)
			}
		}
	}
	if file.PreserveHost {
		pr.Out.Host = pr.In.Host
	}
	st.dropDeadCredentials(pr.In, pr.Out.Header)
}

// dropDeadCredentials keeps a session the gateway did not accept from
// reaching the app. Auth.js reads its session from every cookie whose name
// starts with the cookie name, so a revoked, expired or forged session
// cookie, under its own name or a look-alike, must go from the forwarded
// request: the app then sees a signed-out user and cannot refresh the
// session. A session that verified from its cookies keeps them untouched;
// only look-alikes beside them go. Better Auth's cookie cache goes with
// its session token: the two prove one session.
func (st *state) dropDeadCredentials(in *http.Request, out http.Header) {
	_, err := edgeauth.FromContext(in.Context())
	valid := err == nil
	if valid && st.cfg.lib.AllowBearer && st.sessionFromBearer(in) {
		valid = false // the cookies, if any, are not what verified
	} else if !valid && st.cfg.lib.AllowBearer {
		if v := out.Get("Authorization"); len(v) > 7 && strings.EqualFold(v[:7], "bearer ") {
			out.Del("Authorization")
		}
	}
	for _, name := range [...]string{st.cookieName, st.cacheName} {
		lines := out["Cookie"]
		if name == "" || len(lines) == 0 {
			continue
		}
		if kept, changed := withoutSessionCookies(lines, name, valid); changed {
			if len(kept) == 0 {
				delete(out, "Cookie")
			} else {
				out["Cookie"] = kept
			}
		}
	}
}

// sessionFromBearer reports a request whose session came from its
// Authorization header: the library reads the bearer token only when no
// session cookie carries a value.
func (st *state) sessionFromBearer(r *http.Request) bool {
	_, _, err := chunk.Read(chunk.FromHeader(r.Header["Cookie"], st.cookieName), st.cookieName, chunk.Limits{})
	return errors.Is(err, chunk.ErrMissing)
}

// withoutSessionCookies removes session cookies from Cookie header lines:
// every cookie whose name looks like the session cookie's (see
// sessionLike), except, when keepExact, the cookies the session was read
// from: the first well-formed occurrence of the exact name and of each
// canonical chunk NAME.<i>. Readers differ on the others (better-call and
// Auth.js take a name's first occurrence however malformed, Next.js's
// cookies() its last), so a copy the gateway skipped could be the one the
// app reads. It reports whether anything was removed; lines it does not
// change are kept byte for byte.
func withoutSessionCookies(lines []string, name string, keepExact bool) ([]string, bool) {
	base := cookieBase(name)
	var readBuf [4]string
	read := readBuf[:0] // exact names kept so far
	drop := func(part string) bool {
		n, _, _ := strings.Cut(part, "=")
		if !sessionLike(trimName(n), base) {
			return false
		}
		if !keepExact {
			return true
		}
		// Parsed as the session was: a pair it skipped, or a later copy
		// of a name it read, is not what verified.
		c := chunk.FromHeader([]string{part}, name)
		if len(c) != 1 || slices.Contains(read, c[0].Name) {
			return true
		}
		if _, exact := chunk.Index(name, c[0].Name); !exact {
			return true
		}
		read = append(read, c[0].Name)
		return false
	}
	var out []string
	changed := false
	for i, line := range lines {
		// Most requests drop nothing: find out before allocating.
		if !changed {
			found := false
			mark := len(read)
			for part := range strings.SplitSeq(line, ";") {
				if drop(part) {
					found = true
					break
				}
			}
			if !found {
				continue
			}
			read = read[:mark] // the line is read again below
			changed = true
			out = append(out, lines[:i]...)
		}
		var kept []string
		removed := false
		for part := range strings.SplitSeq(line, ";") {
			pair := strings.TrimSpace(part)
			if pair == "" {
				continue
			}
			if drop(part) {
				removed = true
				continue
			}
			kept = append(kept, pair)
		}
		switch {
		case !removed:
			out = append(out, line)
		case len(kept) > 0:
			out = append(out, strings.Join(kept, "; "))
		}
	}
	if !changed {
		return lines, false
	}
	return out, true
}

// cookieBase is the cookie name in lower case without the __Secure- or
// __Host- prefix.
func cookieBase(name string) string {
	lower := strings.ToLower(name)
	for _, p := range []string{"__secure-", "__host-"} {
		lower = strings.TrimPrefix(lower, p)
	}
	return lower
}

// trimName trims a cookie name as some reader does: Unicode spaces, U+FEFF,
// and the byte 0xA0, which JavaScript's trim() removes once Node has read
// the header as Latin-1.
func trimName(n string) string {
	for {
		t := strings.TrimSpace(n)
		t = strings.TrimSuffix(strings.TrimPrefix(t, "\ufeff"), "\ufeff")
		t = strings.TrimSuffix(strings.TrimPrefix(t, "\xa0"), "\xa0")
		if t == n {
			return t
		}
		n = t
	}
}

// sessionLike reports a cookie name that some reader could take for the
// session cookie: one that starts with the name, as Auth.js and next-auth
// match, in any letter case, percent-decoded, with or without the
// __Secure-/__Host- prefix (an app configured with the other one).
func sessionLike(cookieName, base string) bool {
	if d, err := url.PathUnescape(cookieName); err == nil {
		cookieName = d
	}
	return strings.HasPrefix(cookieBase(cookieName), base)
}

// upstreamFailed answers a request the upstream did not: 504 when it was too
// slow, 502 otherwise, never with detail.
func (st *state) upstreamFailed(w http.ResponseWriter, r *http.Request, err error) {
	if r.Context().Err() != nil && errors.Is(err, context.Canceled) {
		return // the client went away; nobody to answer
	}
	kind, status := "error", http.StatusBadGateway
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		kind, status = "timeout", http.StatusGatewayTimeout
	}
	st.g.metrics.upstreamErrors[kind].Inc()
	// url.Error quotes the upstream URL with the request's query.
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	st.g.logger.LogAttrs(r.Context(), slog.LevelWarn, "upstream request failed",
		slog.String("kind", kind), slog.String("error", err.Error()),
		slog.String("method", r.Method), slog.String("path", truncate(r.URL.Path)))
	nostore.Set(w.Header())
	edgeauth.DefaultErrorHandler(w, r, status, nil)
}

package edgeauth

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/edgeauth/edgeauth/internal/chunk"
)

// knownSessionCookies are the session cookie names Auth.js and next-auth v4
// use by default, on http and on https.
var knownSessionCookies = [...]string{
	DefaultCookieName, "__Secure-" + DefaultCookieName,
	DefaultCookieNameV4, "__Secure-" + DefaultCookieNameV4,
}

// cookieNameWarnEvery is how often, at most, one misnamed cookie is reported.
const cookieNameWarnEvery = time.Minute

// nameWarnings rate-limits the cookie-name warning, per name found (the
// expected name is the Manager's own), on the Manager's clock.
type nameWarnings struct {
	mu   sync.Mutex
	last map[string]time.Time // at most len(knownSessionCookies) entries
}

func (n *nameWarnings) allow(name string, now time.Time) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if last, ok := n.last[name]; ok && now.Sub(last) < cookieNameWarnEvery && !now.Before(last) {
		return false
	}
	if n.last == nil {
		n.last = make(map[string]time.Time, len(knownSessionCookies))
	}
	n.last[name] = now
	return true
}

// diagnoseCookieName warns when r has no session cookie under the configured
// name but has one under another name Auth.js or next-auth uses: the most
// common integration mistake (http vs https prefix, v4 vs v5 name). Both
// names are logged, never a value.
func (m *Manager) diagnoseCookieName(r *http.Request) {
	if m.logger == nil || !m.logger.Enabled(r.Context(), slog.LevelWarn) {
		return
	}
	lines := r.Header["Cookie"]
	if len(lines) == 0 {
		return
	}
	for _, name := range knownSessionCookies {
		if name == m.jar.name {
			continue
		}
		for _, c := range chunk.FromHeader(lines, name) {
			if _, ok := chunk.Index(name, c.Name); !ok {
				continue // "name.x", not one of its chunks
			}
			if m.warnings.allow(name, m.now()) {
				m.warn(r.Context(), "no session cookie under the configured name, but one under another Auth.js name: set Config.Cookie (Name or Secure) and Format to match the app that sets it",
					"expected", m.jar.name, "found", c.Name)
			}
			return
		}
	}
}

// logRejection records a request that Handler or Require refused: at Info
// with Config.LogRejections, otherwise at Debug. The reason is the text of a
// sentinel error, never of an error chain that could carry a callback's
// or store's message.
func (m *Manager) logRejection(r *http.Request, d Decision, by string) {
	if m.logger == nil {
		return
	}
	level := slog.LevelDebug
	if m.logRejections {
		level = slog.LevelInfo
	}
	ctx := context.Background()
	if r != nil {
		ctx = r.Context()
	}
	if !m.logger.Enabled(ctx, level) {
		return
	}
	attrs := make([]slog.Attr, 0, 5)
	if r != nil && r.URL != nil {
		p := r.URL.Path
		if len(p) > maxLoggedPath {
			p = p[:maxLoggedPath] + "…"
		}
		attrs = append(attrs, slog.String("method", r.Method), slog.String("path", p))
	}
	attrs = append(attrs, slog.Int("status", d.Status), slog.String("reason", rejectionReason(d.Err)))
	if by == "" && d.rule != nil {
		by = "rule " + d.rule.Pattern
	}
	if by != "" {
		attrs = append(attrs, slog.String("by", by))
	}
	m.logger.LogAttrs(ctx, level, "edgeauth: request rejected", attrs...)
}

// maxLoggedPath keeps one hostile URL from filling a log line.
const maxLoggedPath = 256

// rejectionReasons are the causes a rejection is logged with, most specific
// first.
var rejectionReasons = [...]error{
	ErrExpired, ErrNotYetValid, ErrNoMatchingSecret, ErrDecrypt, ErrMalformed, ErrTooLarge, ErrInvalidClaims,
	ErrInvalidToken, ErrRevoked, ErrRevocationUnavailable, ErrSessionEnded, ErrCallback, ErrSource, ErrSessionTooLarge,
	ErrInvalidSession, errNoCookie, ErrForbidden, errBadRequest, ErrNoSession,
}

func rejectionReason(err error) string {
	for _, reason := range rejectionReasons {
		if errors.Is(err, reason) {
			return reason.Error()
		}
	}
	return "edgeauth: rejected"
}

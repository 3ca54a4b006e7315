package betterauth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/edgeauth/edgeauth/internal/chunk"
)

// Verifier verifies Better Auth sessions from a request's cookies. Build it
// with [New]; it is immutable and safe for concurrent use.
type Verifier struct {
	current      []byte // the current secret: session token, compact and jwt caches
	jweKeys      []jweKey
	strategy     Strategy
	version      string
	tokenName    string
	dataName     string
	tolerance    time.Duration
	now          func() time.Time
	roleField    string
	maxCacheSize int
	storage      Storage
	storeInDB    bool
	timeout      time.Duration
	endpoint     *endpoint
	logger       *slog.Logger
}

// Source says what proved a [Session].
type Source int

const (
	// SourceCookieCache: the session_data cookie, without a round trip.
	SourceCookieCache Source = iota + 1
	// SourceStorage: Better Auth's secondary storage.
	SourceStorage
	// SourceEndpoint: the app's get-session endpoint.
	SourceEndpoint
)

// String returns "cookie-cache", "storage" or "endpoint".
func (s Source) String() string {
	switch s {
	case SourceCookieCache:
		return "cookie-cache"
	case SourceStorage:
		return "storage"
	case SourceEndpoint:
		return "endpoint"
	}
	return fmt.Sprintf("Source(%d)", int(s))
}

// Session is a verified Better Auth session. It may be shared between
// requests (lookups are cached briefly): treat it as read-only.
type Session struct {
	// UserID is user.id.
	UserID string
	// Role is the user field named by Config.RoleField when it is a string.
	Role string
	// ExpiresAt is session.expiresAt.
	ExpiresAt time.Time
	// Source is what proved the session.
	Source Source
	// SessionJSON and UserJSON are the session and user objects as Better
	// Auth wrote them. SessionJSON holds the session token (its "token"
	// field), a bearer credential: never log it.
	SessionJSON json.RawMessage
	UserJSON    json.RawMessage
}

// MarshalJSON returns {"session":…,"user":…}, the shape of Better Auth's
// get-session answer.
func (s *Session) MarshalJSON() ([]byte, error) {
	out := make([]byte, 0, len(s.SessionJSON)+len(s.UserJSON)+21)
	out = append(out, `{"session":`...)
	out = append(out, s.SessionJSON...)
	out = append(out, `,"user":`...)
	out = append(out, s.UserJSON...)
	return append(out, '}'), nil
}

// CookieNames returns the session token and cookie cache names the Verifier
// reads, for example "better-auth.session_token" and
// "better-auth.session_data".
func (v *Verifier) CookieNames() (token, cache string) { return v.tokenName, v.dataName }

// Verify returns the session of r's cookies. It checks the session token's
// signature first, so nothing unsigned reaches a lookup; then uses the
// cookie cache when it is valid, bound to the token, of the configured
// version and unexpired; otherwise it looks the session up in Storage, then
// at SessionURL. Every error satisfies errors.Is(err, [ErrNoSession]).
func (v *Verifier) Verify(r *http.Request) (*Session, error) {
	lines := r.Header["Cookie"]
	token, raw, err := v.sessionToken(lines)
	if err != nil {
		return nil, err
	}
	ctx := r.Context()
	var cacheErr error
	if v.strategy != StrategyNone {
		s, err := v.fromCache(lines, token)
		if err == nil {
			return s, nil
		}
		cacheErr = err
		v.debug(ctx, "betterauth: cookie cache not used", "reason", err)
	}
	return v.lookup(ctx, token, raw, cacheErr)
}

// maxTokenCookie bounds the session token cookie: browsers keep at most
// 4096 bytes of a cookie's name and value.
const maxTokenCookie = 4096

// signatureLen is the length of a base64 HMAC-SHA256 with padding, the only
// signature length better-call accepts.
const signatureLen = 44

// sessionToken returns the token of the signed session token cookie and the
// cookie's value as sent. The cookie is encodeURIComponent(token + "." +
// base64(HMAC-SHA256(current secret, token))), as better-call signs it.
func (v *Verifier) sessionToken(lines []string) (token, raw string, err error) {
	for _, c := range chunk.FromHeader(lines, v.tokenName) {
		if c.Name == v.tokenName {
			raw = c.Value // the first one, as better-call's parser keeps
			break
		}
	}
	if raw == "" {
		return "", "", ErrNoCookie
	}
	if len(raw) > maxTokenCookie {
		return "", "", ErrTooLarge
	}
	value := decodeURIComponent(raw)
	dot := strings.LastIndexByte(value, '.')
	if dot < 1 {
		return "", "", fmt.Errorf("%w: session token is not signed", ErrInvalidCookie)
	}
	token, sig := value[:dot], value[dot+1:]
	if len(sig) != signatureLen || sig[signatureLen-1] != '=' {
		return "", "", fmt.Errorf("%w: session token signature malformed", ErrInvalidCookie)
	}
	got, err := base64.StdEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, v.mac(token)) {
		return "", "", fmt.Errorf("%w: session token signature does not verify", ErrInvalidCookie)
	}
	return token, raw, nil
}

func (v *Verifier) mac(msg string) []byte {
	m := hmac.New(sha256.New, v.current)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// decodeURIComponent decodes percent escapes as better-auth's cookie parser
// does: a value that does not decode to UTF-8 is kept as it is.
func decodeURIComponent(s string) string {
	if strings.IndexByte(s, '%') < 0 {
		return s
	}
	d, err := url.PathUnescape(s)
	if err != nil || !utf8.ValidString(d) {
		return s
	}
	return d
}

// expired reports whether t lies more than the clock tolerance in the past.
func (v *Verifier) expired(t time.Time) bool {
	return t.Before(v.now().Add(-v.tolerance))
}

// lookup settles a session the cookie cache could not: Storage first, then
// SessionURL. cacheErr is why the cache was not used, if there was one.
func (v *Verifier) lookup(ctx context.Context, token, raw string, cacheErr error) (*Session, error) {
	if v.storage == nil && v.endpoint == nil {
		if cacheErr == nil || errors.Is(cacheErr, errNoCache) {
			return nil, ErrNeedsLookup
		}
		return nil, fmt.Errorf("%w: %w", ErrNeedsLookup, cacheErr)
	}
	if v.storage != nil {
		s, err := v.fromStorage(ctx, token)
		switch {
		case err == nil:
			return s, nil
		case errors.Is(err, errStorageMiss) && !v.storeInDB:
			return nil, ErrRevoked
		case errors.Is(err, errStorageMiss) || errors.Is(err, ErrUnavailable):
			if v.endpoint == nil {
				if errors.Is(err, errStorageMiss) {
					return nil, fmt.Errorf("%w: not in secondary storage, and no SessionURL to ask the database", ErrNeedsLookup)
				}
				return nil, err
			}
			v.warn(ctx, "betterauth: asking get-session after storage", "reason", err)
		default:
			return nil, err
		}
	}
	return v.endpoint.lookup(ctx, v, token, raw)
}

func (v *Verifier) debug(ctx context.Context, msg string, args ...any) {
	if v.logger != nil {
		v.logger.DebugContext(ctx, msg, args...)
	}
}

func (v *Verifier) warn(ctx context.Context, msg string, args ...any) {
	if v.logger != nil {
		v.logger.WarnContext(ctx, msg, args...)
	}
}

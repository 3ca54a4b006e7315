package betterauth

import "errors"

// Errors of [Verifier.Verify]. Every one satisfies errors.Is(err,
// [ErrNoSession]); the narrower classes say why, and a lookup's failure keeps
// the reason the cookie cache could not be used wrapped beside it.
var (
	// ErrNoSession is the class of every failure of [Verifier.Verify].
	ErrNoSession = errors.New("betterauth: no session")

	// ErrNoCookie reports a request without a session token cookie.
	ErrNoCookie error = &classError{"betterauth: no session cookie", ErrNoSession}
	// ErrInvalidCookie is the class of every failure caused by the cookies'
	// content: a session token whose signature does not verify, a cookie
	// cache that is malformed, tampered, oversized, sealed with an unknown
	// secret or of a disallowed algorithm.
	ErrInvalidCookie error = &classError{"betterauth: invalid session cookie", ErrNoSession}
	// ErrTooLarge reports cookies over the size limits, refused before parsing.
	ErrTooLarge error = &classError{"betterauth: session cookie too large", ErrInvalidCookie}
	// ErrCacheMismatch reports a cookie cache that belongs to another session
	// than the session token (its session.token differs): a cache copied
	// from someone else's cookies.
	ErrCacheMismatch error = &classError{"betterauth: cookie cache belongs to another session", ErrInvalidCookie}
	// ErrExpired reports a cookie cache or a session past its expiry.
	ErrExpired error = &classError{"betterauth: session or cookie cache expired", ErrNoSession}
	// ErrVersionMismatch reports a cookie cache of another version than
	// Config.Version (session.cookieCache.version).
	ErrVersionMismatch error = &classError{"betterauth: cookie cache version mismatch", ErrNoSession}
	// ErrNeedsLookup reports a valid session token without a usable cookie
	// cache on a Verifier with no Storage and no SessionURL: the cookies alone
	// cannot prove the session. The cache's own problem, if it had one (for
	// example ErrExpired), is wrapped too.
	ErrNeedsLookup error = &classError{"betterauth: the cookies alone cannot prove the session", ErrNoSession}
	// ErrRevoked reports a session that the lookup says has ended: gone from
	// the secondary storage (signed out, revoked, expired), created before
	// its user's revoked-sessions-before mark, or answered as null by
	// get-session.
	ErrRevoked error = &classError{"betterauth: session ended", ErrNoSession}
	// ErrUnavailable reports a lookup that failed or timed out, or answered
	// something unusable. The request has no session (fail closed).
	ErrUnavailable error = &classError{"betterauth: session lookup failed", ErrNoSession}

	// ErrNotFound is what a [Storage] returns for a key it does not hold.
	ErrNotFound = errors.New("betterauth: key not found")

	// ErrNoSecret is returned by [New] when no usable secret is configured.
	ErrNoSecret = errors.New("betterauth: no secret configured")
	// ErrConfig is the class of every other configuration error of [New]
	// and [SecretsFromEnv].
	ErrConfig = errors.New("betterauth: invalid configuration")
)

// classError is a sentinel that also belongs to a broader class, so that
// errors.Is(ErrTooLarge, ErrNoSession) holds without string matching.
type classError struct {
	msg   string
	class error
}

func (e *classError) Error() string { return e.msg }
func (e *classError) Unwrap() error { return e.class }

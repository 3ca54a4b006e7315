package edgeauth

import (
	"errors"
	"fmt"

	"github.com/edgeauth/edgeauth/internal/revocation"
)

// Sentinel errors. Every error caused by an untrusted token satisfies
// errors.Is(err, ErrInvalidToken); the more specific ones below say why.
// Each of those wraps ErrInvalidToken with its reason, so its text reads
// "edgeauth: invalid token: <reason>".
var (
	// ErrInvalidToken is the class of every failure caused by the token itself.
	ErrInvalidToken = errors.New("edgeauth: invalid token")

	// ErrExpired reports a token whose exp lies in the past (beyond the clock tolerance).
	ErrExpired = fmt.Errorf("%w: token expired", ErrInvalidToken)
	// ErrNotYetValid reports a token whose nbf lies in the future (beyond the clock tolerance).
	ErrNotYetValid = fmt.Errorf("%w: token not yet valid", ErrInvalidToken)
	// ErrNoMatchingSecret reports a token whose "kid" header names none of the
	// configured secrets (wrong secret or wrong salt). A token without kid
	// that no secret opens is ErrDecrypt.
	ErrNoMatchingSecret = fmt.Errorf("%w: no matching secret", ErrInvalidToken)
	// ErrDecrypt reports a token that fails decryption or its integrity check
	// with every candidate key: tampered, or sealed with an unknown secret.
	ErrDecrypt = fmt.Errorf("%w: token decryption failed", ErrInvalidToken)
	// ErrMalformed reports a token that is not a well-formed compact JWE of an allowed kind.
	ErrMalformed = fmt.Errorf("%w: malformed token", ErrInvalidToken)
	// ErrTooLarge reports a token or cookie set over the size limits, rejected before parsing.
	ErrTooLarge = fmt.Errorf("%w: token too large", ErrInvalidToken)
	// ErrInvalidClaims reports a payload that decrypts but is not an acceptable claim set.
	ErrInvalidClaims = fmt.Errorf("%w: invalid claims", ErrInvalidToken)

	// ErrNoSession reports a request without a valid session. Every error of
	// [Manager.Load] satisfies errors.Is(err, ErrNoSession); the cause (for
	// example ErrExpired) is wrapped too.
	ErrNoSession = errors.New("edgeauth: no session")
	// ErrCallback reports a jwt or session callback that failed or panicked;
	// the request ends as "no session".
	ErrCallback = errors.New("edgeauth: callback failed")
	// ErrSessionEnded reports a jwt callback that returned nil, ending the session.
	ErrSessionEnded = errors.New("edgeauth: session ended by callback")
	// ErrSource reports a [Source] that panicked or returned neither a
	// session nor an error; the request ends as "no session".
	ErrSource = errors.New("edgeauth: session source failed")

	// ErrRevoked reports a verified token that was revoked: denylisted,
	// issued before its user's sign-out-everywhere, or of an old version.
	ErrRevoked = errors.New("edgeauth: session revoked")
	// ErrRevocationUnavailable reports a revocation check that failed or
	// timed out; by default the request has no session (fail closed).
	ErrRevocationUnavailable = errors.New("edgeauth: revocation check failed")
	// ErrNoStore reports a revocation call on a Manager without a Store.
	ErrNoStore = errors.New("edgeauth: no revocation store configured")

	// ErrInvalidSession is the class of every failure caused by a session
	// the application asked to issue ([Manager.SignIn], [Manager.Update], a
	// rolling refresh, [Codec.Encode]): its claims, as the application and
	// its jwt callback left them, cannot become a token and its cookies. It
	// is never an ErrInvalidToken, which means that a client's token was
	// rejected.
	ErrInvalidSession = errors.New("edgeauth: invalid session")
	// ErrSessionTooLarge reports a session that would need more cookies than
	// CookieConfig.MaxChunks, at issue time. It wraps ErrInvalidSession.
	ErrSessionTooLarge = fmt.Errorf("%w: too large for its cookies", ErrInvalidSession)

	// ErrBearerSession reports [Manager.Update] on a session that came from
	// an "Authorization: Bearer" header: a bearer token belongs to an API
	// client and is never turned into a cookie. It is not an ErrNoSession:
	// the session is valid and stays as it was.
	ErrBearerSession = errors.New("edgeauth: a bearer session cannot be updated")

	// ErrReadOnly reports a call that would write the session cookie on a
	// Manager with Config.ReadOnly set: SignIn, Update and SignOut. The app
	// that owns the cookie (the Next.js app) signs in and out; the Manager
	// can still revoke sessions with a Store.
	ErrReadOnly = errors.New("edgeauth: read-only manager does not write session cookies")

	// ErrNoSecret is returned by constructors when no usable secret is configured.
	ErrNoSecret = errors.New("edgeauth: no secret configured")
	// ErrConfig is the class of every other configuration error reported by constructors.
	ErrConfig = errors.New("edgeauth: invalid configuration")
)

// Store errors. They are the values redisstore returns too, so that
// errors.Is answers the same for every store.
var (
	// ErrStoreFull is returned by a bounded store that cannot record a revocation without
	// forgetting a live one. Callers must treat it as a failed revocation.
	ErrStoreFull = revocation.ErrFull
	// ErrInvalidRevocation is returned for a revocation with an empty ID or a zero time.
	ErrInvalidRevocation = revocation.ErrInvalid
)

// ErrForbidden reports a session whose role a matching [Rule] does not admit.
var ErrForbidden = errors.New("edgeauth: forbidden")

// errBadRequest reports a request the middleware cannot read (no URL).
var errBadRequest = errors.New("edgeauth: malformed request")

// errNoCookie reports a request without a session cookie.
var errNoCookie = errors.New("edgeauth: no session cookie")

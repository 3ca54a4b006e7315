package edgeauth

import (
	"context"
	"log/slog"
	"net/http"
	"time"
)

// Config is the whole setup of a [Manager]. The zero value of every field
// means Auth.js's default; only a secret is required, or a Source.
type Config struct {
	// Source, when set, proves every session instead of the Auth.js cookie
	// (see [Source]; the betterauth package's Verifier is one), and the
	// Manager is read-only, as with ReadOnly: it never writes Set-Cookie, and
	// SignIn, Update and SignOut fail with ErrReadOnly. No secret is needed
	// then. Setting a field that only the Auth.js cookie uses beside it is
	// an ErrConfig naming the field: Secrets, Format, Cookie, MaxAge,
	// UpdateAge, ClockTolerance, UserIDClaim, RoleClaim, Callbacks,
	// Events.SignIn, Events.SignOut, AllowBearer, Store, TokenVersion,
	// VersionClaim, RevocationTimeout, RevocationFailOpen, CacheSize and
	// CacheBytes (the Source verifies, caches and revokes on its own terms).
	Source Source

	// Secrets are the AUTH_SECRET values, newest first (see [CodecConfig]).
	// Nil means [SecretsFromEnv].
	Secrets []string
	// Format is the issuing library's token format.
	Format Format
	// Cookie describes the session cookie; its name is also the HKDF salt.
	Cookie CookieConfig
	// MaxAge is the session lifetime; zero means 30 days.
	MaxAge time.Duration
	// UpdateAge is how old a token gets before it is re-issued with a new
	// expiry; zero means 24 hours, a negative value means on every request.
	UpdateAge time.Duration
	// ClockTolerance is the leeway for exp and nbf; zero means 15 s, negative none.
	ClockTolerance time.Duration
	// UserIDClaim names the claim that holds the user id; "" means "sub".
	UserIDClaim string
	// RoleClaim names the claim that holds the role; "" means "role".
	RoleClaim string
	// Callbacks are the jwt and session callbacks; zero keeps Auth.js's behaviour.
	Callbacks Callbacks
	// Events report sign-in, sign-out and session reads, for audit logs.
	Events Events
	// Rules protect routes for [Manager.Handler], in Next.js matcher syntax
	// (see [Rule]), matched ASCII case-insensitively; the most specific
	// matching rule decides, whatever their order. Paths no rule matches pass
	// through. [Manager.Require] guards routes where they are declared instead.
	Rules []Rule
	// LoginURL is where browsers without a session are redirected, with a
	// callbackUrl; "" means "/login". A clean path or an http(s) URL; its
	// path is never protected.
	LoginURL string
	// UnauthorizedURL is where browsers with the wrong role are redirected;
	// "" means a 403 response.
	UnauthorizedURL string
	// APIPrefixes are path prefixes ("/api", segment-bounded) answered with
	// 401/403 JSON instead of redirects.
	APIPrefixes []string
	// Origin is the site's own origin (scheme://host[:port]); absolute
	// callbackUrl values are accepted only for it, and the login redirect's
	// callbackUrl is absolute on it. "" means relative paths only.
	Origin string
	// UserIDHeader and RoleHeader name the identity headers set on requests
	// passed downstream; "" means "x-user-id" and "x-user-role".
	UserIDHeader string
	RoleHeader   string
	// ClaimHeaders maps more request header names to token claims to
	// forward; only string claims are forwarded. For a Source's session,
	// which has no token, a claim is a top-level string field of its user
	// object (Session.User).
	ClaimHeaders map[string]string
	// AllowBearer accepts "Authorization: Bearer <token>" when no session
	// cookie is present, as Auth.js's getToken does. The cookie wins. A
	// bearer token longer than the session cookies may be (Cookie.MaxChunks
	// × 4096 bytes, at most MaxTokenSize) is ErrTooLarge before any
	// decoding. A bearer token is never turned into a cookie: it is not
	// re-issued, and [Manager.Update] refuses it with ErrBearerSession.
	AllowBearer bool
	// ErrorHandler writes every rejection: status 303 (Location already set
	// on w), 401 or 403 (Content-Type application/json already set for
	// API-style requests), where err satisfies errors.Is with ErrNoSession or
	// ErrForbidden; or 400 for a request without a URL. Nil means
	// [DefaultErrorHandler], which never writes error text.
	ErrorHandler func(w http.ResponseWriter, r *http.Request, status int, err error)

	// Store, when set, holds revocations (see [Store]); it is checked on
	// every request after the token verifies, and SignOut revokes the token.
	Store Store
	// TokenVersion, when set, returns the user's current token version. A
	// token whose VersionClaim is lower, or missing, is rejected.
	TokenVersion func(ctx context.Context, userID string) (int64, error)
	// VersionClaim names the token-version claim; "" means "version".
	VersionClaim string
	// RevocationTimeout bounds each revocation check (store and
	// TokenVersion together); zero means 500 ms. A store's answer from
	// memory ([CachedChecker]) does no I/O and needs no bound.
	RevocationTimeout time.Duration
	// RevocationFailOpen accepts a verified token when the revocation check
	// fails or times out. The default, false, fails closed: no session (a
	// protected route's ErrorHandler sees ErrRevocationUnavailable; every
	// failure is logged at warning level either way).
	RevocationFailOpen bool

	// CacheSize and CacheBytes bound the cache of verified tokens that lets
	// a repeated cookie skip decryption (exp and revocation are still checked
	// on every request): in entries, and in the bytes the entries keep alive
	// (token, claims, session). Zero means 10 000 entries and 32 MiB. A
	// negative CacheSize turns the cache off; a negative CacheBytes is an
	// error. Tokens seen once do not displace those seen repeatedly.
	CacheSize  int
	CacheBytes int64

	// ReadOnly makes the Manager a reader of a session cookie another app
	// owns, such as a Next.js app whose jwt callback refreshes OAuth tokens
	// on every re-issue: the Manager never writes Set-Cookie. Refresh and
	// Handler do not re-issue (no rolling expiry) and do not clear bad
	// cookies, SessionHandler answers without re-issuing, the jwt callback
	// never runs, and SignIn, Update and SignOut fail with ErrReadOnly.
	ReadOnly bool

	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives diagnostics; nil means silent. Tokens, cookie values
	// and secrets are never logged, nor the text of errors from callbacks.
	// Messages start with "edgeauth: ". At level
	//
	//   - Warn: a failing or panicking jwt or session callback or event
	//     handler; a failed revocation check (with RevocationFailOpen or
	//     not); a request with no session cookie under the configured name
	//     but one under another name Auth.js or next-auth uses (for example
	//     __Secure-authjs.session-token when authjs.session-token is
	//     expected), naming both, at most once a minute per name.
	//   - Info: with LogRejections, every request Handler or Require refuses.
	//   - Debug: why a token gave no session ("token rejected" with the
	//     reason, revoked, issued before the user's cutoff, outdated
	//     version); an identity header dropped for a control character; and
	//     every refused request when LogRejections is off.
	Logger *slog.Logger
	// LogRejections logs every request that Handler or Require refuses at
	// Info instead of Debug, as "edgeauth: request rejected" with method,
	// path (without the query), status, the reason (the text of the
	// sentinel error, such as "edgeauth: invalid token: token expired" or
	// "edgeauth: forbidden") and what refused it (by="rule /admin/:path*"
	// or by=Require(admin)).
	LogRejections bool
}

// Every default of the package, in one place: the zero value of a
// configuration field means the default named after it. Those of Auth.js
// are Auth.js's own.
const (
	// DefaultMaxAge is Auth.js's session.maxAge: 30 days.
	DefaultMaxAge = 30 * 24 * time.Hour
	// DefaultUpdateAge is how old a token gets before [Manager.Refresh] re-issues
	// it, as Auth.js's session.updateAge.
	DefaultUpdateAge = 24 * time.Hour
	// DefaultClockTolerance is the leeway @auth/core gives exp and nbf.
	DefaultClockTolerance = 15 * time.Second
	// DefaultCookieName is Auth.js's session cookie name, also the HKDF salt.
	DefaultCookieName = "authjs.session-token"
	// DefaultCookieNameV4 is next-auth v4's session cookie name.
	DefaultCookieNameV4 = "next-auth.session-token"

	// DefaultCacheSize is how many verified tokens a Manager keeps when
	// Config.CacheSize is zero.
	DefaultCacheSize = 10_000
	// DefaultCacheBytes is how much memory the cache of verified tokens may keep
	// alive when Config.CacheBytes is zero: 3.2 KiB for each of the default
	// 10 000 entries, about twice what a session with a name and an email takes.
	DefaultCacheBytes = 32 << 20

	// DefaultRevocationTimeout bounds a revocation check when
	// Config.RevocationTimeout is zero.
	DefaultRevocationTimeout = 500 * time.Millisecond
	// DefaultMemoryStoreMaxEntries is the MemoryStore cap used when MemoryStoreConfig.MaxEntries <= 0.
	DefaultMemoryStoreMaxEntries = 100_000
	// DefaultMaxSessionsPerUser is the per-user quota of denylisted sessions used when
	// MemoryStoreConfig.MaxSessionsPerUser <= 0, as in redisstore: a user who signs out
	// three times a day stays under it for a 30-day MaxAge.
	DefaultMaxSessionsPerUser = 100
)

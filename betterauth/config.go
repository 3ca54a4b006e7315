package betterauth

import (
	"cmp"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/edgeauth/edgeauth/internal/expiry"
	"github.com/edgeauth/edgeauth/internal/keys"
)

// Strategy is the cookie cache's encoding, Better Auth's
// session.cookieCache.strategy.
type Strategy int

const (
	// StrategyCompact is base64url JSON with an HMAC-SHA256 signature,
	// Better Auth's default strategy.
	StrategyCompact Strategy = iota
	// StrategyJWT is a JWT signed with HS256 over the secret.
	StrategyJWT
	// StrategyJWE is a JWE, "dir" with A256CBC-HS512 under a key derived from
	// the secret; the strategy of stateless (database-less) deployments.
	StrategyJWE
	// StrategyNone ignores session_data cookies: every session is looked up.
	// Use it when the app's cookie cache is off, or to see sign-outs at once.
	StrategyNone
)

var strategyNames = [...]string{"compact", "jwt", "jwe", "none"}

// String returns "compact", "jwt", "jwe" or "none".
func (s Strategy) String() string {
	if s >= 0 && int(s) < len(strategyNames) {
		return strategyNames[s]
	}
	return fmt.Sprintf("Strategy(%d)", int(s))
}

// ParseStrategy returns the Strategy named "compact", "jwt", "jwe" or "none".
func ParseStrategy(name string) (Strategy, error) {
	if i := slices.Index(strategyNames[:], name); i >= 0 {
		return Strategy(i), nil
	}
	return 0, fmt.Errorf("%w: unknown cookie cache strategy %q", ErrConfig, name)
}

// Defaults, as in Better Auth where Better Auth has one.
const (
	// DefaultCookiePrefix is advanced.cookiePrefix's default.
	DefaultCookiePrefix = "better-auth"
	// DefaultVersion is session.cookieCache.version's default.
	DefaultVersion = "1"
	// DefaultClockTolerance is the leeway given to every expiry.
	DefaultClockTolerance = 15 * time.Second
	// DefaultRoleField is the user field holding the role (the admin plugin's).
	DefaultRoleField = "role"
	// DefaultMaxCacheSize bounds the joined session_data cookies, in bytes.
	DefaultMaxCacheSize = 64 << 10
	// DefaultLookupTimeout bounds one secondary-storage read or get-session call.
	DefaultLookupTimeout = 2 * time.Second
	// DefaultLookupCacheTTL is how long a get-session answer is reused.
	DefaultLookupCacheTTL = 5 * time.Second
	// DefaultLookupCacheSize is how many get-session answers are kept.
	DefaultLookupCacheSize = 10_000
)

// Config is the whole setup of a [Verifier]. Only a secret is required; the
// zero value of every other field means Better Auth's default.
type Config struct {
	// Secrets are Better Auth's secrets, current first. The current secret
	// checks the session token and the compact and jwt caches (Better Auth
	// uses no other for them); every secret opens jwe caches, picked by the
	// cache's kid. Nil means [SecretsFromEnv] over the process environment.
	// Better Auth's built-in development secret is refused: it is public,
	// so anyone could sign sessions and cookie caches with it.
	Secrets []string
	// Strategy is the app's session.cookieCache.strategy; StrategyNone when
	// its cookie cache is off.
	Strategy Strategy
	// Version is session.cookieCache.version; "" means "1". A cache of
	// another version is not used.
	Version string
	// CookiePrefix is advanced.cookiePrefix; "" means "better-auth".
	CookiePrefix string
	// Secure selects the "__Secure-" cookie names, which Better Auth uses when
	// its baseURL is https (or, without one, in production).
	Secure bool
	// ClockTolerance is the leeway given to every expiry; zero means 15 s,
	// negative none.
	ClockTolerance time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// RoleField names the user field that holds the role; "" means "role".
	RoleField string
	// MaxCacheSize bounds the joined session_data cookies in bytes, checked
	// before parsing; zero means 64 KiB.
	MaxCacheSize int

	// Storage reads Better Auth's secondary storage (for Redis, see the
	// redisstore package). With it, sessions without a usable cookie cache
	// are looked up there, and a sign-out or revocation takes effect at once.
	Storage Storage
	// StoreSessionInDatabase mirrors Better Auth's
	// session.storeSessionInDatabase (without preserveSessionInDatabase): a
	// session missing from Storage may still be in the database, so the miss
	// is asked of SessionURL instead of ending the session.
	StoreSessionInDatabase bool
	// SessionURL is the app's get-session endpoint, for example
	// "https://app.example/api/auth/get-session", asked when neither the
	// cookie cache nor Storage settles a session.
	SessionURL string
	// HTTPClient calls SessionURL; nil means a client of its own. Redirects
	// are never followed.
	HTTPClient *http.Client
	// LookupTimeout bounds each Storage read and SessionURL call; zero means
	// 2 s.
	LookupTimeout time.Duration
	// LookupCacheTTL is how long a get-session answer (a session or "no
	// session") is reused for the same session token; zero means 5 s,
	// negative no reuse.
	LookupCacheTTL time.Duration
	// LookupCacheSize bounds the reused answers; zero means 10000.
	LookupCacheSize int

	// Logger receives diagnostics (why a cookie cache was not used, lookup
	// failures); nil means none. Tokens and secrets are never logged.
	Logger *slog.Logger
}

// defaultSecret is Better Auth's built-in development secret.
const defaultSecret = "better-auth-secret-12345678901234567890"

// SecretsFromEnv returns the secrets as Better Auth reads them from the
// environment: the entries of BETTER_AUTH_SECRETS ("2:new,1:old", current
// first), then BETTER_AUTH_SECRET, or else AUTH_SECRET, when set and not
// already listed. getenv nil means os.Getenv. Better Auth's built-in
// development secret is never returned.
func SecretsFromEnv(getenv func(string) string) ([]string, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	secrets, err := ParseSecrets(getenv("BETTER_AUTH_SECRETS"))
	if err != nil {
		return nil, err
	}
	legacy := getenv("BETTER_AUTH_SECRET")
	if legacy == "" {
		legacy = getenv("AUTH_SECRET")
	}
	if legacy != "" && legacy != defaultSecret && !slices.Contains(secrets, legacy) {
		secrets = append(secrets, legacy)
	}
	return secrets, nil
}

// ParseSecrets reads a BETTER_AUTH_SECRETS value, "<version>:<secret>" pairs
// separated by commas with the current secret first, and returns the
// secrets in that order ("" gives none). Versions must be distinct
// non-negative integers, as Better Auth requires.
func ParseSecrets(value string) ([]string, error) {
	if value == "" {
		return nil, nil
	}
	var secrets []string
	var versions []uint64
	for i, entry := range strings.Split(value, ",") {
		version, secret, ok := strings.Cut(strings.TrimSpace(entry), ":")
		if !ok {
			return nil, fmt.Errorf("%w: BETTER_AUTH_SECRETS entry %d is not <version>:<secret>", ErrConfig, i+1)
		}
		n, err := strconv.ParseUint(version, 10, 31)
		if err != nil {
			return nil, fmt.Errorf("%w: BETTER_AUTH_SECRETS entry %d has no valid version", ErrConfig, i+1)
		}
		if slices.Contains(versions, n) {
			return nil, fmt.Errorf("%w: BETTER_AUTH_SECRETS repeats version %d", ErrConfig, n)
		}
		secret = strings.TrimSpace(secret)
		if secret == "" {
			return nil, fmt.Errorf("%w: BETTER_AUTH_SECRETS version %d has an empty secret", ErrConfig, n)
		}
		versions = append(versions, n)
		secrets = append(secrets, secret)
	}
	return secrets, nil
}

// New checks cfg, derives every key once, and returns a Verifier that is
// immutable and safe for concurrent use.
func New(cfg Config) (*Verifier, error) {
	secrets := cfg.Secrets
	if secrets == nil {
		var err error
		if secrets, err = SecretsFromEnv(nil); err != nil {
			return nil, err
		}
	}
	if len(secrets) == 0 {
		return nil, ErrNoSecret
	}
	v := &Verifier{
		current:      []byte(secrets[0]),
		strategy:     cfg.Strategy,
		version:      cmp.Or(cfg.Version, DefaultVersion),
		tolerance:    cfg.ClockTolerance,
		now:          cfg.Now,
		roleField:    cmp.Or(cfg.RoleField, DefaultRoleField),
		maxCacheSize: cfg.MaxCacheSize,
		storage:      cfg.Storage,
		storeInDB:    cfg.StoreSessionInDatabase,
		timeout:      cfg.LookupTimeout,
		logger:       cfg.Logger,
	}
	for i, secret := range secrets {
		if secret == "" {
			return nil, fmt.Errorf("%w: secret %d is empty", ErrNoSecret, i)
		}
		if secret == defaultSecret {
			return nil, fmt.Errorf("%w: secret %d is Better Auth's public development secret", ErrNoSecret, i)
		}
		key, err := keys.BetterAuth(secret, jweSalt)
		if err != nil {
			return nil, fmt.Errorf("%w: deriving key %d", ErrConfig, i)
		}
		v.jweKeys = append(v.jweKeys, jweKey{key: key, kid: keys.ThumbprintSHA256(key)})
	}
	if cfg.Strategy < StrategyCompact || cfg.Strategy > StrategyNone {
		return nil, fmt.Errorf("%w: unknown strategy %d", ErrConfig, int(cfg.Strategy))
	}
	prefix := cmp.Or(cfg.CookiePrefix, DefaultCookiePrefix)
	if !isToken(prefix) {
		return nil, fmt.Errorf("%w: CookiePrefix must be an RFC 6265 token", ErrConfig)
	}
	if cfg.Secure {
		prefix = "__Secure-" + prefix
	}
	v.tokenName, v.dataName = prefix+".session_token", prefix+".session_data"
	v.tolerance = expiry.Tolerance(v.tolerance, DefaultClockTolerance)
	if v.now == nil {
		v.now = time.Now
	}
	if v.maxCacheSize == 0 {
		v.maxCacheSize = DefaultMaxCacheSize
	} else if v.maxCacheSize < 0 {
		return nil, fmt.Errorf("%w: MaxCacheSize must not be negative", ErrConfig)
	}
	if v.timeout == 0 {
		v.timeout = DefaultLookupTimeout
	} else if v.timeout < 0 {
		return nil, fmt.Errorf("%w: LookupTimeout must not be negative", ErrConfig)
	}
	if cfg.StoreSessionInDatabase && cfg.Storage == nil {
		return nil, fmt.Errorf("%w: StoreSessionInDatabase needs Storage", ErrConfig)
	}
	if cfg.SessionURL != "" {
		e, err := newEndpoint(cfg, v.timeout, v.tokenName)
		if err != nil {
			return nil, err
		}
		v.endpoint = e
	} else if cfg.HTTPClient != nil || cfg.LookupCacheTTL != 0 || cfg.LookupCacheSize != 0 {
		return nil, fmt.Errorf("%w: HTTPClient and LookupCache* need SessionURL", ErrConfig)
	}
	return v, nil
}

// sessionURL checks raw and adds the query that makes get-session read the
// stored session without refreshing it: disableCookieCache so a sign-out is
// seen, disableRefresh so that a check never writes.
func sessionURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.Fragment != "" {
		return "", fmt.Errorf("%w: SessionURL must be an absolute http(s) URL without credentials or fragment", ErrConfig)
	}
	q := u.Query()
	q.Set("disableCookieCache", "true")
	q.Set("disableRefresh", "true")
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// isToken reports an RFC 7230 token, the characters of a cookie name.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

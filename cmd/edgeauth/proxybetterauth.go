package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/edgeauth/edgeauth"
	"github.com/edgeauth/edgeauth/betterauth"
	"github.com/edgeauth/edgeauth/redisstore"
)

// formatBetterAuth is the format key's value for Better Auth sessions.
const formatBetterAuth = "better-auth"

// betterAuthKeys are the betterAuth keys of format: better-auth:
// betterauth.Config's fields in lower camel case, with the same meaning and
// defaults. Secrets come from the environment, never from the file; redis
// and redisPrefix name Better Auth's secondary storage.
type betterAuthKeys struct {
	Strategy               string        `yaml:"strategy"`
	Version                string        `yaml:"version"`
	CookiePrefix           string        `yaml:"cookiePrefix"`
	Secure                 bool          `yaml:"secure"`
	RoleField              string        `yaml:"roleField"`
	MaxCacheSize           int           `yaml:"maxCacheSize"`
	StoreSessionInDatabase bool          `yaml:"storeSessionInDatabase"`
	SessionURL             string        `yaml:"sessionURL"`
	LookupTimeout          time.Duration `yaml:"lookupTimeout"`
	LookupCacheTTL         time.Duration `yaml:"lookupCacheTTL"`
	LookupCacheSize        int           `yaml:"lookupCacheSize"`
}

// authJSOnlyKey returns the first key of file that only Auth.js cookies
// use, or "": with format: better-auth it would be silently ignored.
func authJSOnlyKey(file proxyConfig) string {
	for _, k := range []struct {
		key string
		set bool
	}{
		{"cookie", file.Cookie != cookieKeys{}},
		{"maxAge", file.MaxAge != 0},
		{"userIDClaim", file.UserIDClaim != ""},
		{"roleClaim", file.RoleClaim != ""},
		{"allowBearer", file.AllowBearer},
		{"revocationTimeout", file.RevocationTimeout != 0},
		{"revocationFailOpen", file.RevocationFailOpen},
		{"cacheSize", file.CacheSize != 0},
	} {
		if k.set {
			return k.key
		}
	}
	return ""
}

// betterAuthConfig checks the keys of format: better-auth and returns the
// Verifier's configuration, without Storage and Logger (the gateway adds
// them), or the key at fault.
func betterAuthConfig(file proxyConfig, secrets []string, withStorage bool) (*betterauth.Config, string, error) {
	if key := authJSOnlyKey(file); key != "" {
		return nil, key, errors.New("applies to Auth.js cookies only, not to format: better-auth")
	}
	k := file.BetterAuth
	cfg := &betterauth.Config{
		Secrets:                secrets,
		Version:                k.Version,
		CookiePrefix:           k.CookiePrefix,
		Secure:                 k.Secure,
		ClockTolerance:         file.ClockTolerance,
		RoleField:              k.RoleField,
		MaxCacheSize:           k.MaxCacheSize,
		StoreSessionInDatabase: k.StoreSessionInDatabase,
		SessionURL:             k.SessionURL,
		LookupTimeout:          k.LookupTimeout,
		LookupCacheTTL:         k.LookupCacheTTL,
		LookupCacheSize:        k.LookupCacheSize,
	}
	if k.Strategy != "" {
		s, err := betterauth.ParseStrategy(k.Strategy)
		if err != nil {
			return nil, "betterAuth.strategy", fmt.Errorf("%q: want compact, jwt, jwe or none", k.Strategy)
		}
		cfg.Strategy = s
	}
	switch {
	case cfg.Strategy == betterauth.StrategyNone && !withStorage && k.SessionURL == "":
		return nil, "betterAuth.strategy", errors.New("none needs redis (Better Auth's secondary storage) or betterAuth.sessionURL")
	case k.StoreSessionInDatabase && !withStorage:
		return nil, "betterAuth.storeSessionInDatabase", errors.New("needs redis (Better Auth's secondary storage)")
	case k.SessionURL == "" && k.LookupCacheTTL != 0:
		return nil, "betterAuth.lookupCacheTTL", errors.New("needs betterAuth.sessionURL")
	case k.SessionURL == "" && k.LookupCacheSize != 0:
		return nil, "betterAuth.lookupCacheSize", errors.New("needs betterAuth.sessionURL")
	}
	check := *cfg
	if withStorage {
		check.Storage = noStorage{}
	}
	if _, err := betterauth.New(check); err != nil {
		key, err := explainBetterAuthError(check, err)
		return nil, key, err
	}
	return cfg, "", nil
}

// explainBetterAuthError finds the key behind an error of betterauth.New by
// checking each key on its own, as explainLibraryError does for the
// library's.
func explainBetterAuthError(cfg betterauth.Config, err error) (string, error) {
	if errors.Is(err, betterauth.ErrNoSecret) {
		return "", betterAuthConfigReason(err) // every probe below would fail with it
	}
	for _, p := range []struct {
		key string
		set func(*betterauth.Config)
	}{
		{"betterAuth.cookiePrefix", func(c *betterauth.Config) { c.CookiePrefix = cfg.CookiePrefix }},
		{"betterAuth.maxCacheSize", func(c *betterauth.Config) { c.MaxCacheSize = cfg.MaxCacheSize }},
		{"betterAuth.lookupTimeout", func(c *betterauth.Config) { c.LookupTimeout = cfg.LookupTimeout }},
		{"betterAuth.sessionURL", func(c *betterauth.Config) { c.SessionURL = cfg.SessionURL }},
		{"betterAuth.lookupCacheSize", func(c *betterauth.Config) { c.SessionURL, c.LookupCacheSize = cfg.SessionURL, cfg.LookupCacheSize }},
	} {
		c := betterauth.Config{Secrets: cfg.Secrets}
		p.set(&c)
		if _, perr := betterauth.New(c); perr != nil {
			return p.key, betterAuthConfigReason(perr)
		}
	}
	return "", betterAuthConfigReason(err)
}

// betterAuthConfigReason drops the package's "betterauth: invalid configuration: "
// prefix, which the file's error already implies.
func betterAuthConfigReason(err error) error {
	return &reasonError{msg: strings.TrimPrefix(err.Error(), betterauth.ErrConfig.Error()+": "), err: err}
}

// noStorage stands in for the Redis storage while a configuration is
// checked, before any client exists.
type noStorage struct{}

func (noStorage) Get(context.Context, string) (string, error) { return "", betterauth.ErrNotFound }

// noSource stands in for the Verifier while the library's keys are checked.
type noSource struct{}

func (noSource) Session(*http.Request) (*edgeauth.Session, error) { return nil, edgeauth.ErrNoSession }

// errNoBetterAuthSecret reports that neither the environment nor a secrets
// file holds a Better Auth secret.
var errNoBetterAuthSecret = errors.New("no secret: set BETTER_AUTH_SECRET (or BETTER_AUTH_SECRETS when rotating), AUTH_SECRET, or AUTH_SECRET_FILE")

// betterAuthSecrets returns the secrets of format: better-auth, current
// first: from AUTH_SECRET_FILE (one per line, current first), or else as
// Better Auth reads the environment (BETTER_AUTH_SECRETS, then
// BETTER_AUTH_SECRET or AUTH_SECRET). Setting both is an error, so that a
// stale variable cannot silently add a key.
func betterAuthSecrets(env func(string) string) ([]string, string, error) {
	fromEnv, err := betterauth.SecretsFromEnv(env)
	if err != nil {
		return nil, "", betterAuthConfigReason(err)
	}
	path := env("AUTH_SECRET_FILE")
	if path == "" {
		if len(fromEnv) == 0 {
			return nil, "", errNoBetterAuthSecret
		}
		return fromEnv, fmt.Sprintf("%d from the environment", len(fromEnv)), nil
	}
	if len(fromEnv) > 0 {
		return nil, "", errors.New("both AUTH_SECRET_FILE and BETTER_AUTH_SECRET(S)/AUTH_SECRET are set; use one")
	}
	secrets, err := readSecretFile(path)
	if err != nil {
		return nil, "", fmt.Errorf("AUTH_SECRET_FILE: %w", err)
	}
	return secrets, fmt.Sprintf("%d from AUTH_SECRET_FILE", len(secrets)), nil
}

// keyError is an error of the configuration and the key at fault.
type keyError struct {
	key string
	err error
}

// resolveBetterAuth finishes c for format: better-auth: the Verifier's
// configuration, its secrets, and the library's with a Source.
func resolveBetterAuth(c *gatewayConfig, file proxyConfig, lib edgeauth.Config, env func(string) string) *keyError {
	secrets, from, err := betterAuthSecrets(env)
	if err != nil {
		return &keyError{"", err}
	}
	ba, key, err := betterAuthConfig(file, secrets, c.hasRedis())
	if err != nil {
		return &keyError{key, err}
	}
	// The middleware's keys are checked with a Source standing in for the
	// Verifier, which betterAuthConfig checked.
	lib.Source = noSource{}
	if _, err := edgeauth.New(lib); err != nil {
		key, err := explainLibraryError(lib, err)
		return &keyError{key, err}
	}
	lib.Source = nil
	c.file, c.lib, c.betterAuth, c.secretsFrom = file, lib, ba, from
	return nil
}

// betterAuthVerifier builds the Verifier of st's format: better-auth, on
// st's Redis client for Better Auth's secondary storage when redis is set.
func (st *state) betterAuthVerifier() (*betterauth.Verifier, error) {
	cfg := *st.cfg.betterAuth
	cfg.Logger = st.g.logger
	if st.redis != nil {
		cfg.Storage = redisstore.NewBetterAuthStorage(st.redis, cmp.Or(st.cfg.file.RedisPrefix, redisstore.BetterAuthPrefix))
	}
	return betterauth.New(cfg)
}

// betterAuthSources says where format: better-auth finds sessions, for the
// startup log and --check.
func betterAuthSources(cfg *betterauth.Config, gc *gatewayConfig) string {
	var from []string
	if cfg.Strategy != betterauth.StrategyNone {
		from = append(from, "cookie cache "+cfg.Strategy.String())
	}
	if gc.hasRedis() {
		from = append(from, "secondary storage redis "+gc.redisAddr())
	}
	if cfg.SessionURL != "" {
		from = append(from, "get-session")
	}
	if len(from) == 0 {
		return "none"
	}
	return strings.Join(from, ", ")
}

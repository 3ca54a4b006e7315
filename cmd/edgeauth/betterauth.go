package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/edgeauth/edgeauth/betterauth"
	"github.com/edgeauth/edgeauth/internal/chunk"
)

// betterAuthOptions finishes the flags of decode --format better-auth, which
// verifies a Cookie header and takes no salt, cookie name or --v4.
func betterAuthOptions(o *options, authjsFlags bool, stderr io.Writer, env func(string) string) (*options, int) {
	switch {
	case authjsFlags:
		return nil, usageError(stderr, "--v4, --salt and --cookie-name do not apply to --format better-auth")
	case !o.hasCookie:
		return nil, usageError(stderr, "--format better-auth needs --cookie HEADER")
	}
	if len(o.secrets) == 0 {
		secrets, err := betterauth.SecretsFromEnv(env)
		if err != nil {
			return nil, usageError(stderr, "BETTER_AUTH_SECRETS is not a list of <version>:<secret>")
		}
		o.secrets = secrets
	}
	return o, exitOK
}

// runDecodeBetterAuth verifies the Better Auth session token and cookie
// cache in o.cookie and prints {"session":…,"user":…} on one line. The
// cache's strategy is read off its shape (compact, or a JWT's three or a
// JWE's five parts); the names off the header (__Secure- when present).
func runDecodeBetterAuth(o *options, stdout, stderr io.Writer) int {
	r := &http.Request{Header: http.Header{"Cookie": {o.cookie}}}
	prefix := betterauth.DefaultCookiePrefix
	secure := len(chunk.FromHeader(r.Header["Cookie"], "__Secure-"+prefix+".session_token")) > 0
	if secure {
		prefix = "__Secure-" + prefix
	}
	dataName := prefix + ".session_data"
	cfg := betterauth.Config{Secrets: o.secrets, Secure: secure, Now: o.now, Strategy: betterauth.StrategyNone}
	if cfg.Secrets == nil {
		cfg.Secrets = []string{} // the CLI read the environment itself
	}
	if cache, _, err := chunk.Read(chunk.FromHeader(r.Header["Cookie"], dataName), dataName, chunk.Limits{MaxChunks: chunk.MaxIndex + 1, MaxLen: betterauth.DefaultMaxCacheSize}); err == nil {
		switch strings.Count(cache, ".") {
		case 0:
			cfg.Strategy = betterauth.StrategyCompact
		case 2:
			cfg.Strategy = betterauth.StrategyJWT
		default:
			cfg.Strategy = betterauth.StrategyJWE
		}
	}
	v, err := betterauth.New(cfg)
	if err != nil {
		return fail(stderr, betterAuthReason(err))
	}
	s, err := v.Verify(r)
	if err != nil {
		return fail(stderr, betterAuthReason(err))
	}
	out, _ := s.MarshalJSON()
	var buf bytes.Buffer
	if err := json.Compact(&buf, out); err != nil {
		return fail(stderr, "invalid session JSON")
	}
	buf.WriteByte('\n')
	stdout.Write(buf.Bytes())
	return exitOK
}

// betterAuthReason names why verification failed, from the sentinel errors
// only: their details may quote parts of the cookies.
func betterAuthReason(err error) string {
	const alone = "the cookie alone cannot prove the session"
	if errors.Is(err, betterauth.ErrNeedsLookup) {
		switch {
		case errors.Is(err, betterauth.ErrExpired):
			return "cookie cache expired: " + alone
		case errors.Is(err, betterauth.ErrVersionMismatch):
			return "cookie cache of another version: " + alone
		case errors.Is(err, betterauth.ErrCacheMismatch):
			return "cookie cache belongs to another session: " + alone
		case errors.Is(err, betterauth.ErrTooLarge):
			return "cookie cache too large: " + alone
		case errors.Is(err, betterauth.ErrInvalidCookie):
			return "invalid cookie cache (wrong secret or tampered): " + alone
		}
		return "no cookie cache: " + alone
	}
	switch {
	case errors.Is(err, betterauth.ErrNoCookie):
		return "no Better Auth session token cookie in header"
	case errors.Is(err, betterauth.ErrTooLarge):
		return "session token cookie too large"
	case errors.Is(err, betterauth.ErrInvalidCookie):
		return "invalid session token signature (wrong secret or tampered)"
	case errors.Is(err, betterauth.ErrNoSecret):
		return "no secret configured (use --secret or set BETTER_AUTH_SECRET)"
	case errors.Is(err, betterauth.ErrConfig):
		return "invalid configuration"
	}
	return "failed"
}

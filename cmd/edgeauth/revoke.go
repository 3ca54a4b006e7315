package main

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/edgeauth/edgeauth"
	"github.com/edgeauth/edgeauth/redisstore"
)

// revokeTimeout bounds the whole revocation, Redis included.
const revokeTimeout = 10 * time.Second

// runRevoke is "edgeauth revoke user ID" and "edgeauth revoke session
// [COOKIE-OR-TOKEN]": the gateway's (and any edgeauth service's) shared
// revocation store, written from a shell.
func runRevoke(args []string, stdin io.Reader, stdout, stderr io.Writer, env func(string) string) int {
	if len(args) == 0 || (args[0] != "user" && args[0] != "session") {
		return usageError(stderr, "revoke needs user ID or session [COOKIE-OR-TOKEN]")
	}
	kind := args[0]
	fs := flag.NewFlagSet("edgeauth revoke", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	var redisURL, configPath, cookieName string
	var v4 bool
	var maxAge time.Duration
	fs.StringVar(&redisURL, "redis", "", "")
	fs.StringVar(&configPath, "config", "", "")
	fs.StringVar(&cookieName, "cookie-name", "", "")
	fs.BoolVar(&v4, "v4", false, "")
	fs.Func("max-age", "", func(s string) error {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 || n > maxAgeSecs {
			return fmt.Errorf("must be a positive integer number of seconds, at most %d", maxAgeSecs)
		}
		maxAge = time.Duration(n) * time.Second
		return nil
	})
	positional, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return usageError(stderr, redactFlagError(err, nil))
	}
	switch {
	case kind == "user" && len(positional) != 1:
		return usageError(stderr, "revoke user takes one user ID")
	case kind == "user" && positional[0] == "":
		return usageError(stderr, "empty user ID")
	case kind == "session" && len(positional) > 1:
		return usageError(stderr, "revoke session takes at most one COOKIE-OR-TOKEN (none: read it from stdin)")
	}

	var file proxyConfig
	if configPath != "" {
		data, err := readConfigFile(configPath)
		if err == nil {
			err = decodeYAML(data, &file)
		}
		if err != nil {
			return fail(stderr, (&configError{file: configPath, err: err}).Error())
		}
	}
	if redisURL != "" {
		file.Redis = redisURL
	}
	if cookieName != "" {
		file.Cookie.Name = cookieName
	}
	if v4 {
		file.Format = "nextauth-v4"
	}
	if maxAge > 0 {
		file.MaxAge = maxAge
	}
	if file.Redis == "" {
		return usageError(stderr, "revoke needs --redis URL (or redis in --config)")
	}
	if kind == "user" {
		env = withThrowawaySecret(env)
	}
	cfg, key, err := resolveConfig(file, env)
	if err != nil {
		return fail(stderr, (&configError{file: configPath, key: key, err: err}).Error())
	}
	if cfg.betterAuth != nil {
		return usageError(stderr, "revoke applies to Auth.js sessions; Better Auth sessions end in the Better Auth app (sign-out, revoke-sessions)")
	}
	client := cfg.newRedisClient()
	defer client.Close()
	lib := cfg.lib
	lib.Store = redisstore.New(client, redisstore.Options{Prefix: cfg.file.RedisPrefix})
	m, err := edgeauth.New(lib)
	if err != nil {
		return fail(stderr, reason(err))
	}
	ctx, cancel := context.WithTimeout(context.Background(), revokeTimeout)
	defer cancel()

	if kind == "user" {
		id := positional[0]
		before := time.Now()
		if err := m.RevokeUser(ctx, id); err != nil {
			return fail(stderr, "revoking user: "+err.Error())
		}
		fmt.Fprintf(stdout, "revoked every session of user %s signed in up to %s\n",
			strconv.Quote(id), before.UTC().Format(time.RFC3339))
		return exitOK
	}

	var value string
	if len(positional) == 1 && positional[0] != "-" {
		value = positional[0]
	} else {
		in, err := readBounded(stdin)
		if err != nil {
			return fail(stderr, err.Error())
		}
		value = string(in)
	}
	token, err := sessionToken(value, m.CookieName())
	if err != nil {
		return fail(stderr, reason(err))
	}
	tok, err := m.Codec().Decode(token)
	if errors.Is(err, edgeauth.ErrExpired) {
		fmt.Fprintln(stdout, "session already expired: nothing to revoke")
		return exitOK
	}
	if err != nil {
		return fail(stderr, reason(err))
	}
	if err := m.RevokeToken(ctx, tok); err != nil {
		return fail(stderr, "revoking session: "+err.Error())
	}
	// The library keys the revocation by the session id, or the jti without one.
	fmt.Fprintf(stdout, "revoked session %s of user %s\n", cmp.Or(tok.SessionID, tok.ID), strconv.Quote(tok.StringClaim(cmp.Or(lib.UserIDClaim, "sub"))))
	return exitOK
}

// sessionToken takes a token, or a Cookie header value (with or without
// "Cookie:") holding the session cookie or its chunks. Tokens are base64url
// and dots, so '=' or ';' means cookies.
func sessionToken(value, cookieName string) (string, error) {
	v := strings.TrimSpace(value)
	if len(v) >= 7 && strings.EqualFold(v[:7], "cookie:") {
		v = strings.TrimSpace(v[7:])
	}
	if v == "" {
		return "", errors.New("no token given")
	}
	if strings.ContainsAny(v, "=;") {
		return fromCookieHeader(v, cookieName)
	}
	return v, nil
}

// withThrowawaySecret lets "revoke user" run without AUTH_SECRET: a ban
// reads no token, but a Manager needs a key to exist. The throwaway key
// never encodes or decodes anything.
func withThrowawaySecret(env func(string) string) func(string) string {
	if _, err := gatewaySecrets(env); !errors.Is(err, errNoGatewaySecret) {
		return env
	}
	var b [32]byte
	_, _ = rand.Read(b[:])
	secret := base64.StdEncoding.EncodeToString(b[:])
	return func(k string) string {
		if k == "AUTH_SECRET" {
			return secret
		}
		return env(k)
	}
}

// parseInterspersed parses flags placed before, between or after the
// positional arguments ("revoke user alice --redis URL"), which the flag
// package alone stops at.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return positional, nil
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}

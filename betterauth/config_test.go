package betterauth_test

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeauth/edgeauth/betterauth"
)

func TestNewErrors(t *testing.T) {
	s := []string{harnessSecret}
	for name, tc := range map[string]struct {
		cfg  betterauth.Config
		want error
	}{
		"no secret":                  {betterauth.Config{Secrets: []string{}}, betterauth.ErrNoSecret},
		"empty secret":               {betterauth.Config{Secrets: []string{harnessSecret, ""}}, betterauth.ErrNoSecret},
		"development secret":         {betterauth.Config{Secrets: []string{harnessSecret, "better-auth-secret-12345678901234567890"}}, betterauth.ErrNoSecret},
		"unknown strategy":           {betterauth.Config{Secrets: s, Strategy: 9}, betterauth.ErrConfig},
		"bad prefix":                 {betterauth.Config{Secrets: s, CookiePrefix: "a;b"}, betterauth.ErrConfig},
		"negative cache size":        {betterauth.Config{Secrets: s, MaxCacheSize: -1}, betterauth.ErrConfig},
		"negative timeout":           {betterauth.Config{Secrets: s, LookupTimeout: -time.Second}, betterauth.ErrConfig},
		"database without storage":   {betterauth.Config{Secrets: s, StoreSessionInDatabase: true}, betterauth.ErrConfig},
		"relative URL":               {betterauth.Config{Secrets: s, SessionURL: "/api/auth/get-session"}, betterauth.ErrConfig},
		"URL with credentials":       {betterauth.Config{Secrets: s, SessionURL: "http://u:p@app/api/auth/get-session"}, betterauth.ErrConfig},
		"client without URL":         {betterauth.Config{Secrets: s, HTTPClient: http.DefaultClient}, betterauth.ErrConfig},
		"cache TTL without URL":      {betterauth.Config{Secrets: s, LookupCacheTTL: time.Second}, betterauth.ErrConfig},
		"negative lookup cache size": {betterauth.Config{Secrets: s, SessionURL: "http://app/x", LookupCacheSize: -1}, betterauth.ErrConfig},
	} {
		_, err := betterauth.New(tc.cfg)
		assert.ErrorIs(t, err, tc.want, name)
	}
}

func TestCookieNames(t *testing.T) {
	for _, tc := range []struct {
		cfg          betterauth.Config
		token, cache string
	}{
		{betterauth.Config{}, "better-auth.session_token", "better-auth.session_data"},
		{betterauth.Config{Secure: true}, "__Secure-better-auth.session_token", "__Secure-better-auth.session_data"},
		{betterauth.Config{CookiePrefix: "app"}, "app.session_token", "app.session_data"},
	} {
		tc.cfg.Secrets = []string{harnessSecret}
		v, err := betterauth.New(tc.cfg)
		require.NoError(t, err)
		token, cache := v.CookieNames()
		assert.Equal(t, tc.token, token)
		assert.Equal(t, tc.cache, cache)
	}
}

func TestSecretsFromEnv(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want []string
		err  bool
	}{
		{map[string]string{}, nil, false},
		{map[string]string{"AUTH_SECRET": "a"}, []string{"a"}, false},
		{map[string]string{"BETTER_AUTH_SECRET": "b", "AUTH_SECRET": "a"}, []string{"b"}, false},
		{map[string]string{"BETTER_AUTH_SECRETS": "2:new, 1:old", "BETTER_AUTH_SECRET": "b"}, []string{"new", "old", "b"}, false},
		{map[string]string{"BETTER_AUTH_SECRETS": "2:new,1:old", "BETTER_AUTH_SECRET": "old"}, []string{"new", "old"}, false},
		{map[string]string{"BETTER_AUTH_SECRETS": "1:a", "BETTER_AUTH_SECRET": "better-auth-secret-12345678901234567890"}, []string{"a"}, false},
		{map[string]string{"BETTER_AUTH_SECRETS": "1:a:b"}, []string{"a:b"}, false},
		{map[string]string{"BETTER_AUTH_SECRETS": "new"}, nil, true},
		{map[string]string{"BETTER_AUTH_SECRETS": "x:new"}, nil, true},
		{map[string]string{"BETTER_AUTH_SECRETS": "-1:new"}, nil, true},
		{map[string]string{"BETTER_AUTH_SECRETS": "1:a,1:b"}, nil, true},
		{map[string]string{"BETTER_AUTH_SECRETS": "1: "}, nil, true},
		{map[string]string{"BETTER_AUTH_SECRETS": "1:a,"}, nil, true},
	} {
		got, err := betterauth.SecretsFromEnv(envOf(tc.env))
		if tc.err {
			assert.ErrorIs(t, err, betterauth.ErrConfig, tc.env)
			continue
		}
		require.NoError(t, err, tc.env)
		assert.Equal(t, tc.want, got, tc.env)
	}
}

func TestStrategyNames(t *testing.T) {
	for _, s := range []betterauth.Strategy{betterauth.StrategyCompact, betterauth.StrategyJWT, betterauth.StrategyJWE, betterauth.StrategyNone} {
		got, err := betterauth.ParseStrategy(s.String())
		require.NoError(t, err)
		assert.Equal(t, s, got)
	}
	_, err := betterauth.ParseStrategy("JWE")
	assert.ErrorIs(t, err, betterauth.ErrConfig)
}

// Every error class belongs to ErrNoSession, and the narrow ones to their class.
func TestErrorClasses(t *testing.T) {
	for _, err := range []error{betterauth.ErrNoCookie, betterauth.ErrInvalidCookie, betterauth.ErrTooLarge,
		betterauth.ErrCacheMismatch, betterauth.ErrExpired, betterauth.ErrVersionMismatch, betterauth.ErrNeedsLookup,
		betterauth.ErrRevoked, betterauth.ErrUnavailable} {
		assert.ErrorIs(t, err, betterauth.ErrNoSession, err.Error())
	}
	assert.ErrorIs(t, betterauth.ErrTooLarge, betterauth.ErrInvalidCookie)
	assert.ErrorIs(t, betterauth.ErrCacheMismatch, betterauth.ErrInvalidCookie)
	assert.False(t, errors.Is(betterauth.ErrExpired, betterauth.ErrInvalidCookie))
}

package betterauth_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/edgeauth/edgeauth/betterauth"
)

// Cookies minted by better-auth 1.7.25 at Unix 1700000000 (jwt and jwe
// caches); exampleCookie has the compact one.
const (
	jwtCookie = "better-auth.session_token=5U53vzUmUb1oHVHYiTJtgQXKJh8Rw1Bp.ONg%2B7s6YwoMmx%2BhkEcTeyEyCG%2FO%2BWaAt02Li0TsRHoE%3D; better-auth.session_data=eyJhbGciOiJIUzI1NiJ9.eyJzZXNzaW9uIjp7ImV4cGlyZXNBdCI6IjIwMjMtMTEtMjFUMjI6MTM6MjAuMDAwWiIsInRva2VuIjoiNVU1M3Z6VW1VYjFvSFZIWWlUSnRnUVhLSmg4UncxQnAiLCJjcmVhdGVkQXQiOiIyMDIzLTExLTE0VDIyOjEzOjIwLjAwMFoiLCJ1cGRhdGVkQXQiOiIyMDIzLTExLTE0VDIyOjEzOjIwLjAwMFoiLCJpcEFkZHJlc3MiOiIiLCJ1c2VyQWdlbnQiOiIiLCJ1c2VySWQiOiJQUGVXbzNhRjBpTEZGWFlRdjJQSnVuQzkwWGxrekZOayIsImlkIjoiU1ZzcmRqRG9lQ28xYU05c09YSlVWMm05S1FpYTNpRDQifSwidXNlciI6eyJuYW1lIjoiQWRhIiwiZW1haWwiOiJhZGFAZXhhbXBsZS5jb20iLCJlbWFpbFZlcmlmaWVkIjpmYWxzZSwiY3JlYXRlZEF0IjoiMjAyMy0xMS0xNFQyMjoxMzoyMC4wMDBaIiwidXBkYXRlZEF0IjoiMjAyMy0xMS0xNFQyMjoxMzoyMC4wMDBaIiwicm9sZSI6ImFkbWluIiwiaWQiOiJQUGVXbzNhRjBpTEZGWFlRdjJQSnVuQzkwWGxrekZOayJ9LCJ1cGRhdGVkQXQiOjE3MDAwMDAwMDAwMDAsInZlcnNpb24iOiIxIiwiaWF0IjoxNzAwMDAwMDAwLCJleHAiOjE3MDAwMDAzMDB9.bwV4Vkv0TN6yDoDwIaobUKYdZ08TgGDVs8cy8Mvqj_o"
	jweCookie = "better-auth.session_token=iXPHkbvaXBwqz7GwNgY3SvzTsoR9k1R9.inyR835VfuQCjrEaQ7eXRa8lNI8niDYJiVjwI4oMPZ4%3D; better-auth.session_data=eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2Q0JDLUhTNTEyIiwia2lkIjoiV2FUZl92a1A4eXJXY0lHemNvWVJMYTJDQTVtYXpnSG0xbDhzUHBhMTZiayJ9..A2Nl4bwIiT7S9-17CFulHA.7Lsg-JxPyJIwQMZ7fotd0mfKUGpRuLWzq3v6IPKTNhq1CK9kVMY-I70egLMSnIX4Z64iXrM8mRYp2vHnB7UVHYwU6j-THQlYhyig8adog4roU1M4_Vk5iz44tp3uII9lHnOpRmdRZUxroAz1U69sdHDQw3EW5QzXQl5iQsaAyOGDWPtBlu77PEZ-zuB6-e-ncrD70ZaTA5YltxwbkVbOte03uT-tlw_IyR4N3elgQJ-4zCsqy1iud5Bo0iH9hXUqur1gjcgrF4npxjyRvhdR6EbyVDlG71He3szinQvLA-RNhcSA0N5InUKSKBQQ7nXau3FE8_3u1l8W5NSb333mRny0TwPrRW5PmYliPjmkr9klEOu-1A285toDfAFI2JeZZHDT9xw_L19O82zGyIxjXrUGw8V4pI8et5dav3Cqf5pqKn0BUyzgOcKdqwZlCmKL-tNFWxRHCmk5KqAkJ5TRk-ft5YUKdqGJbFvjyQZnbpIkzrZLXf8oKEywlN8kdOmVco3HoYHClTYTzND1mJjM4g_Eda_ECFptIjuOu5pa2d89-LbzWY5o_1g_j57P6GmxHAJ5oKfU8X03LVCxQT7EF0lDzT0QwqV9rWxROfChgA-P2m5EhxySB-GTvrMqK5OEOR9LbrYgMmiqk4Yibjq7mpM_ePCLyd96IrBERbXWIVH4nARdK0ev8QvSW73AAWfkbo_Z_uA2x0T0HXjT9MnpxqYc3SXN6Fu8Zot9tgpkilZX_Nr-Yeuj0qTG3pXneEkV5G0rqKjD2Ch_BygE4eej-4072C-K9zADsjE6oahYAWhXP4ixg6KAoI8ruz-4Jmpi.Jb36QqmNl9bByRdIO2LgbOww7-3wnR71QvR52WaDoyk"
)

// FuzzVerify feeds arbitrary Cookie headers to Verifiers of every strategy:
// no panic, and a session only with a cache bound to a verified token.
func FuzzVerify(f *testing.F) {
	for _, seed := range []string{exampleCookie, jwtCookie, jweCookie, "", "better-auth.session_token=a.b",
		strings.Replace(exampleCookie, "session_data=", "session_data.0=", 1)} {
		f.Add(seed)
	}
	var verifiers []*betterauth.Verifier
	for _, s := range []betterauth.Strategy{betterauth.StrategyCompact, betterauth.StrategyJWT, betterauth.StrategyJWE} {
		v, err := betterauth.New(betterauth.Config{Secrets: []string{harnessSecret}, Strategy: s,
			Now: func() time.Time { return time.Unix(1700000060, 0) }})
		require.NoError(f, err)
		verifiers = append(verifiers, v)
	}
	f.Fuzz(func(t *testing.T, header string) {
		r := &http.Request{Header: http.Header{"Cookie": {header}}}
		for _, v := range verifiers {
			s, err := v.Verify(r)
			if err != nil {
				require.ErrorIs(t, err, betterauth.ErrNoSession)
				continue
			}
			out, _ := s.MarshalJSON()
			require.True(t, json.Valid(out))
			require.NotEmpty(t, s.UserID)
		}
	})
}

// FuzzStoredSession feeds arbitrary stored values to the storage lookup.
func FuzzStoredSession(f *testing.F) {
	f.Add(storedSession, "1700000000000")
	f.Add("{}", "")
	f.Add(`{"session":{"token":"`+exampleToken+`","expiresAt":"2023-11-21T22:13:20Z"},"user":{"id":1}}`, "x")
	r := &http.Request{Header: http.Header{"Cookie": {exampleCookie}}}
	f.Fuzz(func(t *testing.T, value, mark string) {
		v, err := betterauth.New(betterauth.Config{Secrets: []string{harnessSecret}, Strategy: betterauth.StrategyNone,
			Storage: mapStorage{exampleToken: value, "revoked-sessions-before-" + exampleUser: mark},
			Now:     func() time.Time { return time.Unix(1700000060, 0) }})
		require.NoError(t, err)
		s, err := v.Verify(r.WithContext(context.Background()))
		if err != nil {
			require.ErrorIs(t, err, betterauth.ErrNoSession)
			return
		}
		require.Equal(t, betterauth.SourceStorage, s.Source)
		var got map[string]any
		require.NoError(t, json.Unmarshal(s.SessionJSON, &got))
		require.Equal(t, exampleToken, got["token"])
	})
}

// FuzzParseSecrets: no panic, and never an empty secret.
func FuzzParseSecrets(f *testing.F) {
	for _, seed := range []string{"2:new,1:old", "", "1:", "x:y", "1:a,1:b", " 3 : a b ,2:c"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, value string) {
		secrets, err := betterauth.ParseSecrets(value)
		if err != nil {
			require.ErrorIs(t, err, betterauth.ErrConfig)
			return
		}
		for _, s := range secrets {
			require.NotEmpty(t, s)
		}
	})
}

package betterauth_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeauth/edgeauth/betterauth"
)

var strategies = []betterauth.Strategy{betterauth.StrategyCompact, betterauth.StrategyJWT, betterauth.StrategyJWE}

// Sessions minted by the real Better Auth, in every strategy, plain and
// __Secure- names, one cookie and chunked: the cookie cache alone proves
// them, with the user and session Better Auth wrote.
func TestCookieCacheFromBetterAuth(t *testing.T) {
	for _, strategy := range strategies {
		for _, secure := range []bool{false, true} {
			for _, big := range []bool{false, true} {
				name := strategy.String()
				if secure {
					name += "/secure"
				}
				if big {
					name += "/chunked"
				}
				t.Run(name, func(t *testing.T) {
					app := newBA(t, map[string]any{"strategy": strategy.String(), "secure": secure})
					user := map[string]any{"role": "admin"}
					if big {
						user["name"] = strings.Repeat("Ada Lovelace ", 500)
					}
					r := app.SignUp(mintNow, user)
					v := verifier(t, mintNow+60, betterauth.Config{Strategy: strategy, Secure: secure})
					tokenName, dataName := v.CookieNames()
					assert.Contains(t, r.Cookies, tokenName)
					if big {
						assert.Contains(t, r.Cookies, dataName+".1", "the cache is chunked")
						assert.NotContains(t, r.Cookies, dataName)
					} else {
						assert.Contains(t, r.Cookies, dataName)
					}

					s, err := verify(t, v, r.CookieHeader())
					require.NoError(t, err)
					assert.Equal(t, r.UserID(t), s.UserID)
					assert.Equal(t, "admin", s.Role)
					assert.Equal(t, betterauth.SourceCookieCache, s.Source)
					assert.Equal(t, time.Unix(mintNow, 0).Add(7*24*time.Hour).UTC(), s.ExpiresAt.UTC())
					var got struct {
						Session struct{ Token string }
						User    struct{ Name string }
					}
					out, _ := s.MarshalJSON()
					require.NoError(t, json.Unmarshal(out, &got))
					assert.True(t, strings.HasPrefix(r.Cookies[tokenName], got.Session.Token+"."))
					if big {
						assert.Len(t, got.User.Name, 500*13)
					}

					// Better Auth itself, with an empty database, accepts the
					// same cookies only through the cache.
					judge := newBA(t, app.Config)
					assert.Equal(t, s.UserID, judge.GetSession(mintNow+60, r.CookieHeader()))
				})
			}
		}
	}
}

// Stateless mode (no database): the jwe cache is the session, for 7 days.
func TestStatelessSession(t *testing.T) {
	app := newBA(t, map[string]any{"stateless": true})
	r := app.SignUp(mintNow, nil)
	week := int64(7 * 24 * 3600)
	v := verifier(t, mintNow+week-3600, betterauth.Config{Strategy: betterauth.StrategyJWE})
	s, err := verify(t, v, r.CookieHeader())
	require.NoError(t, err)
	assert.Equal(t, r.UserID(t), s.UserID)

	v = verifier(t, mintNow+week+60, betterauth.Config{Strategy: betterauth.StrategyJWE})
	_, err = verify(t, v, r.CookieHeader())
	assert.ErrorIs(t, err, betterauth.ErrExpired)
	assert.Equal(t, "", app.GetSession(mintNow+week+60, r.CookieHeader()))
}

// envOf is an environment of the given variables only.
func envOf(vars map[string]string) func(string) string {
	return func(name string) string { return vars[name] }
}

// Rotation as Better Auth does it: BETTER_AUTH_SECRETS lists the current
// secret first; the session token and the compact and jwt caches are signed
// and checked with it alone, so sessions signed with the old secret end;
// jwe caches open with every listed secret (and the legacy
// BETTER_AUTH_SECRET), picked by kid.
func TestSecretRotation(t *testing.T) {
	const oldSecret, newSecret, legacy = "old-secret-0123456789abcdef0123456789", "new-secret-0123456789abcdef0123456789", "legacy-secret-0123456789abcdef012345678"
	env := envOf(map[string]string{"BETTER_AUTH_SECRETS": "2:" + newSecret + ", 1:" + oldSecret, "BETTER_AUTH_SECRET": legacy})
	secrets, err := betterauth.SecretsFromEnv(env)
	require.NoError(t, err)
	require.Equal(t, []string{newSecret, oldSecret, legacy}, secrets)
	rotated := map[string]any{"secrets": "2:" + newSecret + ",1:" + oldSecret, "secret": legacy}

	for _, strategy := range strategies {
		t.Run(strategy.String(), func(t *testing.T) {
			v := verifier(t, mintNow+60, betterauth.Config{Strategy: strategy, Secrets: secrets})

			// Minted after the rotation: verified.
			cfg := map[string]any{"strategy": strategy.String()}
			for k, val := range rotated {
				cfg[k] = val
			}
			fresh := newBA(t, cfg).SignUp(mintNow, nil)
			_, err := verify(t, v, fresh.CookieHeader())
			require.NoError(t, err)

			// Minted before it: Better Auth ends the session, and so do we.
			db := t.Name()
			before := newBA(t, map[string]any{"strategy": strategy.String(), "secret": oldSecret, "db": db}).SignUp(mintNow, nil)
			cfg["db"] = db
			after := newBA(t, cfg)
			assert.Equal(t, "", after.GetSession(mintNow+60, before.CookieHeader()), "Better Auth ends old-secret sessions")
			_, err = verify(t, v, before.CookieHeader())
			assert.ErrorIs(t, err, betterauth.ErrInvalidCookie)
		})
	}

	// A jwe cache sealed with an older or the legacy secret, beside a token
	// signed with the current one: both Better Auth and the Verifier open it.
	v := verifier(t, mintNow+60, betterauth.Config{Strategy: betterauth.StrategyJWE, Secrets: secrets})
	judge := newBA(t, map[string]any{"strategy": "jwe", "secrets": rotated["secrets"], "secret": legacy})
	for name, sealer := range map[string]map[string]any{
		"old":    {"secrets": []map[string]any{{"version": 1, "value": oldSecret}}},
		"legacy": {"secret": legacy},
		"other":  {"secret": "another-secret-0123456789abcdef01234567"},
	} {
		t.Run("jwe-"+name, func(t *testing.T) {
			header := cachePair(t, newSecret, "jwe", sealer, payload("tok-"+name, "u-"+name, nil))
			s, err := verify(t, v, header)
			if name == "other" {
				assert.ErrorIs(t, err, betterauth.ErrInvalidCookie)
				assert.Equal(t, "", judge.GetSession(mintNow+60, header))
				return
			}
			require.NoError(t, err)
			assert.Equal(t, "u-"+name, s.UserID)
			assert.Equal(t, "u-"+name, judge.GetSession(mintNow+60, header))
		})
	}
}

// payload is a cookie cache payload as Better Auth writes it, for session
// token token and user id; edit changes it before it is signed.
func payload(token, userID string, edit func(p map[string]any)) map[string]any {
	p := map[string]any{
		"session": map[string]any{
			"id": "s-" + userID, "token": token, "userId": userID,
			"expiresAt": "2023-11-21T22:13:20.000Z", "createdAt": "2023-11-14T22:13:20.000Z",
			"updatedAt": "2023-11-14T22:13:20.000Z", "ipAddress": "", "userAgent": "",
		},
		"user": map[string]any{
			"id": userID, "name": "Ada", "email": "ada@example.com", "emailVerified": false,
			"createdAt": "2023-11-14T22:13:20.000Z", "updatedAt": "2023-11-14T22:13:20.000Z", "role": "user",
		},
		"updatedAt": int64(mintNow) * 1000,
		"version":   "1",
	}
	if edit != nil {
		edit(p)
	}
	return p
}

// cachePair returns a Cookie header with the session token of the payload,
// signed with tokenSecret, and the cache of kind made by Better Auth's
// primitives with the sealer's secret(s), both at mintNow, cache for 300 s.
func cachePair(t *testing.T, tokenSecret, kind string, sealer map[string]any, p map[string]any) string {
	t.Helper()
	token := p["session"].(map[string]any)["token"].(string)
	tok := sign(t, mintNow, map[string]any{"kind": "token", "token": token, "secret": tokenSecret})
	req := map[string]any{"kind": kind, "data": p, "maxAge": 300, "expiresAt": (mintNow + 300) * 1000}
	for k, v := range sealer {
		req[k] = v
	}
	cache := sign(t, mintNow, req)
	return "better-auth.session_token=" + tok + "; better-auth.session_data=" + cache
}

// The binding, version and expiry rules, judged by the real get-session of
// an instance whose database is empty (so only a cache it accepts gives a
// session) and by the Verifier without a lookup source.
func TestCacheRules(t *testing.T) {
	for _, strategy := range strategies {
		t.Run(strategy.String(), func(t *testing.T) {
			cfg := map[string]any{"strategy": strategy.String(), "maxAge": 300}
			app := newBA(t, cfg)
			a := app.SignUp(mintNow, map[string]any{"email": "a@example.com"})
			b := app.SignUp(mintNow, map[string]any{"email": "b@example.com"})
			judge := newBA(t, cfg)
			v := verifier(t, mintNow+60, betterauth.Config{Strategy: strategy})
			tokenName, dataName := v.CookieNames()

			check := func(name, header string, now int64, want error) {
				t.Run(name, func(t *testing.T) {
					v := verifier(t, now, betterauth.Config{Strategy: strategy})
					s, err := verify(t, v, header)
					baUser := judge.GetSession(now, header)
					if want == nil {
						require.NoError(t, err)
						assert.Equal(t, baUser, s.UserID, "Better Auth agrees")
						return
					}
					assert.ErrorIs(t, err, want)
					assert.ErrorIs(t, err, betterauth.ErrNeedsLookup)
					assert.Equal(t, "", baUser, "Better Auth refuses it too")
				})
			}
			check("valid", a.CookieHeader(), mintNow+60, nil)
			check("cache expired", a.CookieHeader(), mintNow+300+16, betterauth.ErrExpired)
			// DIFF: the Verifier gives expiries its clock tolerance (15 s);
			// get-session gives the cache none.
			_, err := verify(t, verifier(t, mintNow+305, betterauth.Config{Strategy: strategy}), a.CookieHeader())
			assert.NoError(t, err)
			assert.Equal(t, "", judge.GetSession(mintNow+305, a.CookieHeader()))
			check("substituted cache", tokenName+"="+a.Cookies[tokenName]+"; "+dataName+"="+b.Cookies[dataName],
				mintNow+60, betterauth.ErrCacheMismatch)

			cache := a.Cookies[dataName]
			for i, pos := range []int{0, len(cache) / 2, len(cache) - 2} {
				tampered := []byte(cache)
				tampered[pos] ^= 0x01
				if tampered[pos] == '.' || tampered[pos] == '/' {
					tampered[pos] ^= 0x03
				}
				check(fmt.Sprintf("tampered cache %d", i), tokenName+"="+a.Cookies[tokenName]+"; "+dataName+"="+string(tampered),
					mintNow+60, betterauth.ErrInvalidCookie)
			}

			// DIFF: a cache respelled with spare bits set in its last base64url
			// character decodes to the same bytes; Better Auth's decoders
			// ignore those bits, the Verifier wants one spelling per cache.
			if respelled, ok := respell(cache); ok {
				header := tokenName + "=" + a.Cookies[tokenName] + "; " + dataName + "=" + respelled
				_, err := verify(t, v, header)
				assert.ErrorIs(t, err, betterauth.ErrInvalidCookie)
				assert.Equal(t, a.UserID(t), judge.GetSession(mintNow+60, header))
			}
		})
	}
}

// respell sets a spare bit in the last base64url character of s, if it has one.
func respell(s string) (string, bool) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	last := s[strings.LastIndexByte(s, '.')+1:]
	if len(last)%4 < 2 {
		return "", false
	}
	i := strings.IndexByte(alphabet, s[len(s)-1])
	return s[:len(s)-1] + string(alphabet[i|1]), i&1 == 0
}

// A tampered or foreign session token is refused before anything else,
// even with a valid cache.
func TestTamperedSessionToken(t *testing.T) {
	app := newBA(t, map[string]any{"strategy": "compact"})
	r := app.SignUp(mintNow, nil)
	v := verifier(t, mintNow+60, betterauth.Config{})
	tokenName, dataName := v.CookieNames()
	token := r.Cookies[tokenName]
	for name, value := range map[string]string{
		"flipped token":     "X" + token[1:],
		"flipped signature": token[:len(token)-5] + "A" + token[len(token)-4:],
		"unsigned":          token[:strings.IndexByte(token, '.')],
		"other secret":      sign(t, mintNow, map[string]any{"kind": "token", "token": token[:strings.IndexByte(token, '.')], "secret": "x-secret-0123456789abcdef0123456789abc"}),
	} {
		t.Run(name, func(t *testing.T) {
			header := tokenName + "=" + value + "; " + dataName + "=" + r.Cookies[dataName]
			_, err := verify(t, v, header)
			assert.ErrorIs(t, err, betterauth.ErrInvalidCookie)
			assert.NotErrorIs(t, err, betterauth.ErrNeedsLookup)
			assert.Equal(t, "", app.GetSession(mintNow+60, header))
		})
	}
	_, err := verify(t, v, dataName+"="+r.Cookies[dataName])
	assert.ErrorIs(t, err, betterauth.ErrNoCookie, "a cache without a token is no session")
}

// session.cookieCache.version: a cache of another version is not used.
func TestCacheVersion(t *testing.T) {
	for _, strategy := range strategies {
		t.Run(strategy.String(), func(t *testing.T) {
			r := newBA(t, map[string]any{"strategy": strategy.String(), "version": "2"}).SignUp(mintNow, nil)
			_, err := verify(t, verifier(t, mintNow+60, betterauth.Config{Strategy: strategy}), r.CookieHeader())
			assert.ErrorIs(t, err, betterauth.ErrVersionMismatch)
			assert.Equal(t, "", newBA(t, map[string]any{"strategy": strategy.String()}).GetSession(mintNow+60, r.CookieHeader()))

			s, err := verify(t, verifier(t, mintNow+60, betterauth.Config{Strategy: strategy, Version: "2"}), r.CookieHeader())
			require.NoError(t, err)
			assert.Equal(t, r.UserID(t), s.UserID)
		})
	}
}

// Payloads no endpoint writes, signed with Better Auth's own primitives:
// the Verifier accepts exactly what get-session accepts from the cache
// (its schema in cookies/cache.ts and the JSON date reviver).
func TestCachePayloadSchema(t *testing.T) {
	set := func(part, field string, value any) func(map[string]any) {
		return func(p map[string]any) {
			if part == "" {
				p[field] = value
				return
			}
			p[part].(map[string]any)[field] = value
		}
	}
	del := func(part, field string) func(map[string]any) {
		return func(p map[string]any) { delete(p[part].(map[string]any), field) }
	}
	cases := []struct {
		name   string
		edit   func(map[string]any)
		accept bool
		// respelled: the compact strategy refuses it, as Better Auth checks
		// the compact signature over the re-serialized dates.
		respelled bool
	}{
		{"as written", nil, true, false},
		{"no user.email", del("user", "email"), false, false},
		{"user.emailVerified null", set("user", "emailVerified", nil), false, false},
		{"no user.emailVerified", del("user", "emailVerified"), true, false},
		{"user.image number", set("user", "image", 5), false, false},
		{"user.image null", set("user", "image", nil), true, false},
		{"user.id number", set("user", "id", 7), false, false},
		{"user.role number", set("user", "role", 7), true, false},
		{"session.expiresAt in ms", set("session", "expiresAt", (mintNow+3600)*1000), false, false},
		{"session.expiresAt without ms", set("session", "expiresAt", "2023-11-21T22:13:20Z"), true, true},
		{"session.expiresAt with µs", set("session", "expiresAt", "2023-11-21T22:13:20.123456Z"), true, true},
		{"session.expiresAt 31 November", set("session", "expiresAt", "2023-11-31T22:13:20.000Z"), true, true},
		{"session.expiresAt month 13", set("session", "expiresAt", "2023-13-01T22:13:20.000Z"), false, false},
		{"session.expiresAt with offset", set("session", "expiresAt", "2023-11-21T22:13:20.000+00:00"), false, false},
		{"session.expiresAt passed", set("session", "expiresAt", "2023-11-14T22:13:00.000Z"), false, false},
		{"session.createdAt not a date", set("session", "createdAt", "yesterday"), false, false},
		{"session.createdAt null", set("session", "createdAt", nil), false, false},
		{"no session.createdAt", del("session", "createdAt"), true, false},
		{"session.ipAddress null", set("session", "ipAddress", nil), true, false},
		{"session.userAgent number", set("session", "userAgent", 1), false, false},
		{"session.userId number", set("session", "userId", 42), true, false},
		{"no session.id", del("session", "id"), false, false},
		{"version null", set("", "version", nil), false, false},
		{"version empty", set("", "version", ""), true, false},
		{"version 2", set("", "version", "2"), false, false},
		{"no version", func(p map[string]any) { delete(p, "version") }, true, false},
		{"updatedAt string", set("", "updatedAt", "now"), false, false},
		{"extra member", set("", "extra", []int{1}), true, false},
	}
	for _, strategy := range strategies {
		t.Run(strategy.String(), func(t *testing.T) {
			judge := newBA(t, map[string]any{"strategy": strategy.String()})
			v := verifier(t, mintNow+60, betterauth.Config{Strategy: strategy})
			for i, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					user := fmt.Sprintf("u%d", i)
					header := cachePair(t, harnessSecret, strategy.String(), map[string]any{"secret": harnessSecret},
						payload(fmt.Sprintf("tok%d", i), user, c.edit))
					s, err := verify(t, v, header)
					baUser := judge.GetSession(mintNow+60, header)
					if c.accept && !(c.respelled && strategy == betterauth.StrategyCompact) {
						require.NoError(t, err)
						assert.Equal(t, user, s.UserID)
						assert.Equal(t, user, baUser, "Better Auth accepts it")
					} else {
						assert.Error(t, err)
						assert.Equal(t, "", baUser, "Better Auth refuses it")
					}
				})
			}
		})
	}
}

package betterauth_test

import (
	"encoding/json"
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
					r := app.signUp(mintNow, user)
					v := verifier(t, mintNow+60, betterauth.Config{Strategy: strategy, Secure: secure})
					tokenName, dataName := v.CookieNames()
					assert.Contains(t, r.Cookies, tokenName)
					if big {
						assert.Contains(t, r.Cookies, dataName+".1", "the cache is chunked")
						assert.NotContains(t, r.Cookies, dataName)
					} else {
						assert.Contains(t, r.Cookies, dataName)
					}

					s, err := verify(t, v, r.cookieHeader())
					require.NoError(t, err)
					assert.Equal(t, r.userID(t), s.UserID)
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
					judge := newBA(t, app.config)
					assert.Equal(t, s.UserID, judge.getSession(mintNow+60, r.cookieHeader()))
				})
			}
		}
	}
}

// Stateless mode (no database): the jwe cache is the session, for 7 days.
func TestStatelessSession(t *testing.T) {
	app := newBA(t, map[string]any{"stateless": true})
	r := app.signUp(mintNow, nil)
	week := int64(7 * 24 * 3600)
	v := verifier(t, mintNow+week-3600, betterauth.Config{Strategy: betterauth.StrategyJWE})
	s, err := verify(t, v, r.cookieHeader())
	require.NoError(t, err)
	assert.Equal(t, r.userID(t), s.UserID)

	v = verifier(t, mintNow+week+60, betterauth.Config{Strategy: betterauth.StrategyJWE})
	_, err = verify(t, v, r.cookieHeader())
	assert.ErrorIs(t, err, betterauth.ErrExpired)
	assert.Equal(t, "", app.getSession(mintNow+week+60, r.cookieHeader()))
}

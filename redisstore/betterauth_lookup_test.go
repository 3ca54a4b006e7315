package redisstore_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeauth/edgeauth/betterauth"
	"github.com/edgeauth/edgeauth/internal/betterauthtest"
	"github.com/edgeauth/edgeauth/internal/redistest"
	"github.com/edgeauth/edgeauth/redisstore"
)

// Sessions in Redis as @better-auth/redis-storage writes them, read by the
// Verifier; a sign-out and a revoke-all take effect at once.
func TestSecondaryStorageOnRedis(t *testing.T) {
	addr := redistest.Start(t)
	client := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = client.Close() })
	ctx := context.Background()

	for _, prefix := range []string{"", "app1:"} {
		name := "default prefix"
		if prefix != "" {
			name = "prefix " + prefix
		}
		t.Run(name, func(t *testing.T) {
			cfg := map[string]any{"redis": addr}
			storagePrefix := redisstore.BetterAuthPrefix
			if prefix != "" {
				cfg["keyPrefix"], storagePrefix = prefix, prefix
			}
			app := betterauthtest.New(t, cfg)
			v := betterauthtest.Verifier(t, 0, betterauth.Config{
				Strategy: betterauth.StrategyNone,
				Storage:  redisstore.NewBetterAuthStorage(client, storagePrefix),
			})

			first := app.SignUp(0, map[string]any{"role": "admin"})
			s, err := betterauthtest.Verify(t, v, first.CookieHeader())
			require.NoError(t, err)
			assert.Equal(t, first.UserID(t), s.UserID)
			assert.Equal(t, "admin", s.Role)
			assert.Equal(t, betterauth.SourceStorage, s.Source)
			token := string(s.SessionJSON)
			assert.Contains(t, token, `"token"`)

			// Sign-out deletes the session: refused at once.
			out := app.Call("signOut", 0, map[string]any{"cookieHeader": first.CookieHeader()})
			require.Equal(t, 200, out.Status)
			_, err = betterauthtest.Verify(t, v, first.CookieHeader())
			assert.ErrorIs(t, err, betterauth.ErrRevoked)

			// Revoke-all (revoke-sessions) ends every session of the user.
			a := app.Call("signIn", 0, nil)
			b := app.Call("signIn", 0, nil)
			for _, r := range []*betterauthtest.Response{a, b} {
				_, err := betterauthtest.Verify(t, v, r.CookieHeader())
				require.NoError(t, err)
			}
			key := storagePrefix + sessionToken(t, v, b)
			stored, err := client.Get(ctx, key).Result()
			require.NoError(t, err)
			time.Sleep(5 * time.Millisecond) // revokedAt must follow createdAt, in ms
			rev := app.Call("revokeSessions", 0, map[string]any{"cookieHeader": a.CookieHeader()})
			require.Equal(t, 200, rev.Status, "%s", rev.Body)
			for _, r := range []*betterauthtest.Response{a, b} {
				_, err := betterauthtest.Verify(t, v, r.CookieHeader())
				assert.ErrorIs(t, err, betterauth.ErrRevoked)
			}
			mark, err := client.Get(ctx, storagePrefix+"revoked-sessions-before-"+a.UserID(t)).Result()
			require.NoError(t, err, "Better Auth marks the revocation")
			assert.NotEmpty(t, mark)

			// Were a session written back (a racing write), the mark still
			// refuses it, in Better Auth and here.
			require.NoError(t, client.Set(ctx, key, stored, time.Hour).Err())
			_, err = betterauthtest.Verify(t, v, b.CookieHeader())
			assert.ErrorIs(t, err, betterauth.ErrRevoked)
			assert.Equal(t, "", app.GetSession(0, b.CookieHeader()))

			// A session created after the mark is fine.
			time.Sleep(5 * time.Millisecond)
			c := app.Call("signIn", 0, nil)
			_, err = betterauthtest.Verify(t, v, c.CookieHeader())
			assert.NoError(t, err)
		})
	}
}

// sessionToken returns the token of a betterauthtest.Response's session, as the Verifier
// reads it.
func sessionToken(t *testing.T, v *betterauth.Verifier, r *betterauthtest.Response) string {
	t.Helper()
	s, err := betterauthtest.Verify(t, v, r.CookieHeader())
	require.NoError(t, err)
	var body struct {
		Token string `json:"token"`
	}
	require.NoError(t, json.Unmarshal(s.SessionJSON, &body))
	return body.Token
}

// Redis down: no session (fail closed), and the error says the lookup failed.
func TestSecondaryStorageUnavailable(t *testing.T) {
	app := betterauthtest.New(t, map[string]any{"strategy": "compact"})
	r := app.SignUp(betterauthtest.MintNow, nil)
	for name, addr := range map[string]string{"unresponsive": redistest.Unresponsive(t), "closed": "127.0.0.1:1"} {
		t.Run(name, func(t *testing.T) {
			client := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true, MaxRetries: -1})
			t.Cleanup(func() { _ = client.Close() })
			v := betterauthtest.Verifier(t, betterauthtest.MintNow+60, betterauth.Config{
				Strategy:      betterauth.StrategyNone,
				Storage:       redisstore.NewBetterAuthStorage(client, redisstore.BetterAuthPrefix),
				LookupTimeout: 200 * time.Millisecond,
			})
			_, err := betterauthtest.Verify(t, v, r.CookieHeader())
			assert.ErrorIs(t, err, betterauth.ErrUnavailable)
		})
	}
}

// The get-session fallback against the real handler served over HTTP.
func TestSessionEndpoint(t *testing.T) {
	app := betterauthtest.New(t, map[string]any{"strategy": "compact"})
	url := app.Serve() + "/api/auth/get-session"

	r := app.SignUp(0, map[string]any{"role": "editor"})
	noReuse := betterauthtest.Verifier(t, 0, betterauth.Config{Strategy: betterauth.StrategyNone, SessionURL: url, LookupCacheTTL: -1})
	reuse := betterauthtest.Verifier(t, 0, betterauth.Config{Strategy: betterauth.StrategyNone, SessionURL: url, LookupCacheTTL: time.Hour})
	for _, v := range []*betterauth.Verifier{noReuse, reuse} {
		s, err := betterauthtest.Verify(t, v, r.CookieHeader())
		require.NoError(t, err)
		assert.Equal(t, r.UserID(t), s.UserID)
		assert.Equal(t, "editor", s.Role)
		assert.Equal(t, betterauth.SourceEndpoint, s.Source)
	}

	// With a cookie cache, a valid cache needs no call; without one the
	// endpoint answers.
	cached := betterauthtest.Verifier(t, 0, betterauth.Config{SessionURL: url})
	s, err := betterauthtest.Verify(t, cached, r.CookieHeader())
	require.NoError(t, err)
	assert.Equal(t, betterauth.SourceCookieCache, s.Source)
	tokenName, _ := cached.CookieNames()
	s, err = betterauthtest.Verify(t, cached, tokenName+"="+r.Cookies[tokenName])
	require.NoError(t, err)
	assert.Equal(t, betterauth.SourceEndpoint, s.Source)

	out := app.Call("signOut", 0, map[string]any{"cookieHeader": r.CookieHeader()})
	require.Equal(t, 200, out.Status)
	_, err = betterauthtest.Verify(t, noReuse, r.CookieHeader())
	assert.ErrorIs(t, err, betterauth.ErrRevoked, "get-session answers null after the sign-out")
	s, err = betterauthtest.Verify(t, reuse, r.CookieHeader())
	require.NoError(t, err, "a reused answer outlives the sign-out until LookupCacheTTL")
	assert.Equal(t, r.UserID(t), s.UserID)
}

package edgeauth

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCacheHoldsOnlyVerifiedTokens(t *testing.T) {
	m, _ := newTestManager(t, Config{})
	bad := httptest.NewRequest("GET", "/", nil)
	bad.AddCookie(&http.Cookie{Name: "authjs.session-token", Value: "eyJhbGciOiJkaXIifQ..x.y.z"})
	for range 3 {
		_, err := m.Load(bad)
		require.ErrorIs(t, err, ErrInvalidToken)
	}
	assert.Zero(t, m.cache.len(), "failures are never cached")
	assert.Equal(t, CacheStats{Misses: 3}, m.CacheStats())

	h := signIn(t, m, &User{ID: "a"})
	s1, err := m.Load(requestCarrying("GET", "/", h))
	require.NoError(t, err)
	s2, err := m.Load(requestCarrying("GET", "/", h))
	require.NoError(t, err)
	assert.Equal(t, 1, m.cache.len())
	assert.Same(t, s1.Token, s2.Token, "the second request is served from the cache")
	assert.Equal(t, CacheStats{Hits: 1, Misses: 4}, m.CacheStats())
}

func TestCacheHitStillChecksExpiryAndRevocation(t *testing.T) {
	clk := newClock(testNow)
	m, _ := newTestManagerAt(t, clk, Config{Store: memStore(clk), MaxAge: time.Hour})
	h := signIn(t, m, &User{ID: "a"})
	_, err := m.Load(requestCarrying("GET", "/", h))
	require.NoError(t, err)
	require.Equal(t, 1, m.cache.len())

	require.NoError(t, m.RevokeUser(context.Background(), "a"))
	_, err = m.Load(requestCarrying("GET", "/", h))
	require.ErrorIs(t, err, ErrRevoked, "a cached token is still checked for revocation")

	other := signIn(t, m, &User{ID: "b"})
	_, err = m.Load(requestCarrying("GET", "/", other))
	require.NoError(t, err)
	clk.Advance(time.Hour + 14*time.Second)
	_, err = m.Load(requestCarrying("GET", "/", other))
	require.NoError(t, err, "inside the clock tolerance")
	before := m.CacheStats()
	clk.Advance(time.Second)
	_, err = m.Load(requestCarrying("GET", "/", other))
	require.ErrorIs(t, err, ErrExpired, "a cached token expires exactly like a decoded one")
	assert.Equal(t, before.Misses+1, m.CacheStats().Misses, "an expired entry is a miss")
}

func TestCacheBoundedAndOptional(t *testing.T) {
	m, _ := newTestManager(t, Config{CacheSize: 5})
	for i := range 20 {
		_, err := m.Load(requestCarrying("GET", "/", signIn(t, m, &User{ID: fmt.Sprint(i)})))
		require.NoError(t, err)
	}
	assert.Equal(t, 5, m.cache.len())

	off, _ := newTestManager(t, Config{CacheSize: -1})
	h := signIn(t, off, &User{ID: "a"})
	s1, err := off.Load(requestCarrying("GET", "/", h))
	require.NoError(t, err)
	s2, err := off.Load(requestCarrying("GET", "/", h))
	require.NoError(t, err)
	assert.NotSame(t, s1.Token, s2.Token)
	assert.Zero(t, off.cache.len())
	assert.Zero(t, off.CacheStats())
}

// What handlers and session callbacks get is theirs to change: the cached
// token and default session never see it, even under -race.
func TestCachedStateIsNotShared(t *testing.T) {
	clk := newClock(testNow)
	m, _ := newTestManagerAt(t, clk, Config{Store: memStore(clk), Callbacks: Callbacks{
		Session: func(_ context.Context, p SessionParams) (*Session, error) {
			p.Token.DeleteClaim("jti")
			_ = p.Token.SetClaim("seen", true)
			p.Session.User["id"] = p.Token.Subject
			return p.Session, nil
		},
	}})
	h := signIn(t, m, &User{ID: "a"})
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				s, err := m.Load(requestCarrying("GET", "/", h))
				if !assert.NoError(t, err) {
					return
				}
				s.User["scribble"] = 1
			}
		}()
	}
	wg.Wait()
	tok, err := m.Codec().Decode(responseCookies(h)[0].Value)
	require.NoError(t, err)
	require.NoError(t, m.RevokeToken(context.Background(), tok))
	_, err = m.Load(requestCarrying("GET", "/", h))
	require.ErrorIs(t, err, ErrRevoked, "the cached token kept its jti")

	plain, _ := newTestManager(t, Config{})
	h2 := signIn(t, plain, &User{ID: "b", Name: "B"})
	s1, err := plain.Load(requestCarrying("GET", "/", h2))
	require.NoError(t, err)
	s1.User["name"] = "changed"
	s2, err := plain.Load(requestCarrying("GET", "/", h2))
	require.NoError(t, err)
	assert.Equal(t, "B", s2.User["name"])
}

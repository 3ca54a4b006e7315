package edgeauth

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
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

	h := signIn(t, m, &User{ID: "a"})
	s1, err := m.Load(requestCarrying("GET", "/", h))
	require.NoError(t, err)
	s2, err := m.Load(requestCarrying("GET", "/", h))
	require.NoError(t, err)
	assert.Equal(t, 1, m.cache.len())
	assert.Same(t, s1.Token, s2.Token, "the second request is served from the cache")
}

func TestCacheHitStillChecksExpiryAndRevocation(t *testing.T) {
	store := NewMemoryStore(MemoryStoreConfig{})
	m, clk := newTestManager(t, Config{Store: store, MaxAge: time.Hour})
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
	clk.Advance(time.Second)
	_, err = m.Load(requestCarrying("GET", "/", other))
	require.ErrorIs(t, err, ErrExpired, "a cached token expires exactly like a decoded one")
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
}

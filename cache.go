package edgeauth

import (
	"sync"
	"sync/atomic"
	"time"
)

// DefaultCacheSize is how many verified tokens a Manager keeps when
// Config.CacheSize is zero.
const DefaultCacheSize = 10_000

// tokenCache remembers tokens that passed full verification, keyed by the
// exact token string, so that a repeated cookie skips decryption. A hit
// still checks exp against the clock, and the caller still checks
// revocation: the cache saves cryptography, never a decision that can change.
//
// Only verified tokens go in, so a client cannot fill it with garbage; when
// full, an arbitrary entry makes room (map iteration order), which needs no
// bookkeeping on the hit path.
type tokenCache struct {
	mu      sync.RWMutex
	entries map[string]*cacheEntry
	max     int

	hits, misses atomic.Uint64
}

// CacheStats counts lookups in a Manager's verified-token cache (see
// Config.CacheSize), for metrics. Both stay zero when the cache is off.
type CacheStats struct {
	// Hits are lookups that skipped decryption.
	Hits uint64
	// Misses are lookups that found nothing usable (a new, evicted or
	// expired token), whether or not the token then verified.
	Misses uint64
}

// CacheStats returns the cache's counts since [New].
func (m *Manager) CacheStats() CacheStats {
	if m.cache == nil {
		return CacheStats{}
	}
	return CacheStats{Hits: m.cache.hits.Load(), Misses: m.cache.misses.Load()}
}

// cacheEntry is a verified token and, when no session callback is
// configured, the default session built from it (both read-only).
type cacheEntry struct {
	token   *Token
	session *Session
}

func newTokenCache(size int) *tokenCache {
	if size < 0 {
		return nil
	}
	if size == 0 {
		size = DefaultCacheSize
	}
	return &tokenCache{entries: make(map[string]*cacheEntry, min(size, 1024)), max: size}
}

// get returns the cached token for raw if it is still unexpired at now,
// with the same rule as Codec.Decode.
func (c *tokenCache) get(raw string, now time.Time, tolerance time.Duration) (*cacheEntry, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.RLock()
	e, ok := c.entries[raw]
	c.mu.RUnlock()
	if !ok {
		c.misses.Add(1)
		return nil, false
	}
	if !e.token.Expires.After(time.Unix(now.Unix(), 0).Add(-tolerance)) {
		c.mu.Lock()
		delete(c.entries, raw)
		c.mu.Unlock()
		c.misses.Add(1)
		return nil, false
	}
	c.hits.Add(1)
	return e, true
}

func (c *tokenCache) put(raw string, e *cacheEntry) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[raw]; !ok && len(c.entries) >= c.max {
		for k := range c.entries {
			delete(c.entries, k)
			break
		}
	}
	c.entries[raw] = e
}

func (c *tokenCache) len() int {
	if c == nil {
		return 0
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.entries)
}

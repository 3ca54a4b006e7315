package edgeauth

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"sync/atomic"
	"time"

	"github.com/maypok86/otter/v2"

	"github.com/edgeauth/edgeauth/internal/expiry"
)

// entryOverhead and claimOverhead are what an entry keeps alive beyond the
// bytes of its token and claims: the Token, the default Session and its User
// map, the claims map, and the cache's own node. Measured on 64-bit Go and
// rounded up, so that the estimate stays above the heap an entry really
// takes (TestCacheEntryWeightCoversHeap).
const (
	entryOverhead = 512
	claimOverhead = 96
)

// maxEntryFloor caps the weight charged to the smallest entry, which
// turns the byte bound into an entry bound too. No entry comes near it:
// tokens are at most MaxTokenSize long.
const maxEntryFloor = 1 << 30

// tokenCache remembers tokens that passed full verification, keyed by the
// exact token string, so that a repeated cookie skips decryption. A hit
// still checks exp against the clock, and the caller still checks
// revocation: the cache saves cryptography, never a decision that can change.
//
// Only verified tokens go in, so a client cannot fill it with garbage. A
// client with credentials can still mint tokens, so what stays is decided by
// W-TinyLFU (otter): a new token enters a small window and then has to be
// used more often than the entry it would replace, so a flood of tokens seen
// once does not displace the users who come back. Entries expire with their
// tokens and are reclaimed by the cache's maintenance, which runs on every
// insert and every few hits: an expired token need not be looked up again
// to go. The cache has no goroutine of its own (nothing for users to stop),
// so an idle Manager keeps expired entries, within the bounds, until its
// next requests.
//
// The cache is bounded in bytes, counting what each entry keeps alive, and in
// entries, by charging each entry at least bytes/size. Keys are copies: the
// token is a substring of the request's Cookie header, which can be tens of
// kilobytes of other cookies, and a key must not keep it alive.
type tokenCache struct {
	entries   *otter.Cache[string, *cacheEntry]
	clock     cacheClock
	tolerance time.Duration
	floor     uint32 // the least weight of an entry: bytes / size

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
// configured, the default session built from it (both read-only). Both are
// built from the decrypted plaintext, never from request memory.
type cacheEntry struct {
	token   *Token
	session *Session
}

// newTokenCache builds the cache for Config.CacheSize and Config.CacheBytes;
// nil when size is negative. now and tolerance are the codec's, so that an
// entry lives exactly as long as its token would decode.
func newTokenCache(size int, bytes int64, now func() time.Time, tolerance time.Duration, logger *slog.Logger) (*tokenCache, error) {
	if bytes < 0 {
		return nil, fmt.Errorf("%w: negative CacheBytes", ErrConfig)
	}
	if size < 0 {
		return nil, nil
	}
	if size == 0 {
		size = DefaultCacheSize
	}
	if bytes == 0 {
		bytes = DefaultCacheBytes
	}
	floor := max(bytes/int64(size), 1)
	if floor > maxEntryFloor {
		floor = maxEntryFloor
		bytes = floor * int64(size)
	}
	c := &tokenCache{clock: cacheClock{now: now, start: now().Round(0)}, tolerance: tolerance, floor: uint32(floor)}
	var log otter.Logger = &otter.NoopLogger{}
	if logger != nil {
		log = cacheLogger{logger}
	}
	var err error
	c.entries, err = otter.New(&otter.Options[string, *cacheEntry]{
		MaximumWeight:    uint64(bytes),
		Weigher:          c.weigh,
		ExpiryCalculator: otter.ExpiryCreatingFunc(c.lifetime),
		Clock:            c.clock,
		// Maintenance runs on the goroutine that reads or writes, in small
		// batches: no goroutine per write, and a write returns with the
		// bounds already enforced.
		Executor: func(fn func()) { fn() },
		Logger:   log,
	})
	if err != nil {
		return nil, fmt.Errorf("%w: cache: %w", ErrConfig, err)
	}
	return c, nil
}

// get returns the cached token for raw if it is still unexpired, with the
// same rule as Codec.Decode, and the time it checked that at.
func (c *tokenCache) get(raw string) (*cacheEntry, time.Time, bool) {
	if c == nil {
		return nil, time.Time{}, false
	}
	e, ok := c.entries.GetEntry(raw)
	if !ok {
		c.misses.Add(1)
		return nil, time.Time{}, false
	}
	// The codec's check, exact where the cache's own expiry is not (it keeps
	// entries a second longer), at the time the lookup read: a clock read
	// costs as much as the rest of a hit.
	now, ok := c.clock.at(e.SnapshotAtNano)
	if !ok {
		now = c.clock.now()
	}
	if expiry.Expired(e.Value.token.Expires, now, c.tolerance) {
		c.misses.Add(1)
		return nil, time.Time{}, false
	}
	c.hits.Add(1)
	return e.Value, now, true
}

func (c *tokenCache) put(raw string, e *cacheEntry) {
	if c == nil {
		return
	}
	c.entries.Set(strings.Clone(raw), e)
}

// lifetime keeps an entry until its token expires, plus the tolerance and a
// second, since Decode compares whole seconds; get's check is the exact one.
func (c *tokenCache) lifetime(e otter.Entry[string, *cacheEntry]) time.Duration {
	now, ok := c.clock.at(e.SnapshotAtNano)
	if !ok {
		now = c.clock.now()
	}
	return e.Value.token.Expires.Add(c.tolerance + time.Second).Sub(now)
}

// weigh charges an entry what it keeps alive, and at least floor.
func (c *tokenCache) weigh(key string, e *cacheEntry) uint32 {
	return uint32(min(max(entryBytes(key, e.token), int(c.floor)), math.MaxUint32))
}

// entryBytes estimates, from above, the memory an entry keeps alive: its
// copy of the token; the plaintext the claims alias, which is shorter than
// the token; the standard string claims, which are copies; and fixed costs.
func entryBytes(raw string, t *Token) int {
	n := 2*len(raw) + entryOverhead
	n += len(t.Subject) + len(t.Name) + len(t.Email) + len(t.Picture) + len(t.ID)
	for name := range t.Claims {
		n += len(name) + claimOverhead
	}
	return n
}

func (c *tokenCache) len() int {
	if c == nil {
		return 0
	}
	c.entries.CleanUp()
	return c.entries.EstimatedSize()
}

// cacheClock runs the cache on Config.Now's wall clock, so that entries
// expire on the same clock as tokens. It counts from the cache's creation,
// not from 1970, so that any date works (UnixNano ends in 2262).
type cacheClock struct {
	now   func() time.Time
	start time.Time // without a monotonic reading
}

// NowNano saturates 292 years away from start.
func (c cacheClock) NowNano() int64 { return int64(c.now().Round(0).Sub(c.start)) }

// at turns a NowNano reading back into the time it read; false when the
// reading saturated.
func (c cacheClock) at(nanos int64) (time.Time, bool) {
	if nanos == math.MaxInt64 || nanos == math.MinInt64 {
		return time.Time{}, false
	}
	return c.start.Add(time.Duration(nanos)), true
}

// Tick returns no ticks: the cache then starts no clean-up goroutine, which
// would outlive every Manager until a garbage collection noticed it gone.
func (cacheClock) Tick(time.Duration) <-chan time.Time { return nil }

// cacheLogger passes the cache's reports (a panicking clock) to Config.Logger.
type cacheLogger struct{ logger *slog.Logger }

func (l cacheLogger) Warn(ctx context.Context, msg string, err error) {
	l.logger.LogAttrs(ctx, slog.LevelWarn, "edgeauth: cache: "+msg, slog.Any("err", err))
}

func (l cacheLogger) Error(ctx context.Context, msg string, err error) {
	l.logger.LogAttrs(ctx, slog.LevelError, "edgeauth: cache: "+msg, slog.Any("err", err))
}

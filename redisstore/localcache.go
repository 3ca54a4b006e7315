package redisstore

import (
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// checkKey names a cached check by the ids Check received (cloned, so that an entry
// never holds request memory).
type checkKey struct{ userID, sessionID string }

// maxCachedIDBytes bounds the ids of a cached check; longer ones always ask Redis, so that
// the cache's memory is bounded by its entry count.
const maxCachedIDBytes = 256

func cacheable(userID, sessionID string) bool {
	return len(userID)+len(sessionID) <= maxCachedIDBytes
}

// checkResult is what a check read from Redis, kept so that later checks of the same ids
// can be answered by the local clock: the entries' expiries are times, not durations.
type checkResult struct {
	memberExpiry int64 // Unix ms until which the session is denylisted; 0: not denylisted
	hasCutoff    bool
	cutoff       int64 // the user's cutoff, Unix s
	cutoffExpiry int64 // Unix ms when the cutoff's entry expires; 0: not recorded
}

// at answers a check from r at nowMilli (Unix ms), as the check script would.
func (r checkResult) at(nowMilli int64) (bool, time.Time) {
	revoked := r.memberExpiry > nowMilli
	if !r.hasCutoff || (r.cutoffExpiry != 0 && r.cutoffExpiry <= nowMilli) {
		return revoked, time.Time{}
	}
	return revoked, time.Unix(r.cutoff, 0)
}

// localCache holds check results while Redis tracks their keys for the store (see
// tracking): an entry lives until Redis reports a write to its user's keys, its TTL
// passes, or tracking is lost. It is bounded in entries, and each entry in bytes.
//
// A result read from Redis is only kept if nothing could have changed it unseen: the
// fetch registers its group (the user's keys) before asking Redis, and an invalidation
// of the group, or a flush, during the fetch marks the registration dead, so the result
// is dropped. Fetches that start while tracking is down are not kept at all.
type localCache struct {
	maxEntries int
	ttl        time.Duration
	start      time.Time // base of the monotonic times below

	// validUntil is when hits stop being served (ns since start) unless tracking shows
	// it is alive again; 0 while tracking is down.
	validUntil atomic.Int64

	mu      sync.RWMutex
	live    bool   // tracking is established on every node
	epoch   uint64 // bumped by every flush and every return of tracking
	entries map[checkKey]*cacheEntry
	groups  map[string]*cacheGroup
	// oldest and newest link the entries in insertion order, which with one TTL is
	// also expiry order: sweeping and eviction take the oldest.
	oldest, newest *cacheEntry
}

type cacheEntry struct {
	key     checkKey
	result  checkResult
	expires int64 // ns since start
	group   *cacheGroup

	older, newer         *cacheEntry // insertion order
	groupPrev, groupNext *cacheEntry // the group's entries
}

// cacheGroup is the set of entries that one user's keys (or the shared pool's key)
// answer; an invalidation of any of those keys drops them all.
type cacheGroup struct {
	name    string
	first   *cacheEntry
	pending int  // fetches in flight
	dead    bool // invalidated or flushed: in-flight fetches must drop their results
}

// cacheFetch is a fetch registered with begin; pass it to finish.
type cacheFetch struct {
	group *cacheGroup
	epoch uint64
}

func newLocalCache(maxEntries int, ttl time.Duration) *localCache {
	return &localCache{
		maxEntries: maxEntries,
		ttl:        ttl,
		start:      time.Now(),
		entries:    make(map[checkKey]*cacheEntry),
		groups:     make(map[string]*cacheGroup),
	}
}

// since is now on the cache's monotonic scale.
func (c *localCache) since(now time.Time) int64 { return int64(now.Sub(c.start)) }

// get returns the cached result for key, if tracking is alive and the entry fresh.
func (c *localCache) get(key checkKey, now time.Time) (checkResult, bool) {
	mono := c.since(now)
	if mono >= c.validUntil.Load() {
		return checkResult{}, false
	}
	c.mu.RLock()
	e := c.entries[key]
	var r checkResult
	fresh := e != nil && e.expires > mono
	if fresh {
		r = e.result
	}
	c.mu.RUnlock()
	return r, fresh
}

// begin registers a fetch of a check answered by group's keys. ok is false when tracking
// is down: the result could not be kept.
func (c *localCache) begin(group string) (f cacheFetch, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.live {
		return cacheFetch{}, false
	}
	g := c.groups[group]
	if g == nil {
		g = &cacheGroup{name: group}
		c.groups[group] = g
	}
	g.pending++
	return cacheFetch{group: g, epoch: c.epoch}, true
}

// finish ends a fetch; with keep, its result is stored unless the group was invalidated,
// the cache flushed, or tracking lost meanwhile.
func (c *localCache) finish(f cacheFetch, key checkKey, r checkResult, keep bool, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	g := f.group
	g.pending--
	if keep && !g.dead && c.live && f.epoch == c.epoch {
		mono := c.since(now)
		if old := c.entries[key]; old != nil {
			c.removeLocked(old)
		}
		c.sweepLocked(mono, 1)
		for len(c.entries) >= c.maxEntries && c.oldest != nil {
			c.removeLocked(c.oldest)
		}
		key = checkKey{userID: strings.Clone(key.userID), sessionID: strings.Clone(key.sessionID)}
		e := &cacheEntry{key: key, result: r, expires: mono + int64(c.ttl), group: g}
		c.entries[key] = e
		e.older = c.newest
		if c.newest != nil {
			c.newest.newer = e
		} else {
			c.oldest = e
		}
		c.newest = e
		e.groupNext = g.first
		if g.first != nil {
			g.first.groupPrev = e
		}
		g.first = e
	}
	c.releaseLocked(g)
}

// releaseLocked forgets a live group that has no entries and no fetch in flight.
func (c *localCache) releaseLocked(g *cacheGroup) {
	if !g.dead && g.pending == 0 && g.first == nil {
		delete(c.groups, g.name)
	}
}

func (c *localCache) removeLocked(e *cacheEntry) {
	delete(c.entries, e.key)
	if e.older != nil {
		e.older.newer = e.newer
	} else {
		c.oldest = e.newer
	}
	if e.newer != nil {
		e.newer.older = e.older
	} else {
		c.newest = e.older
	}
	g := e.group
	if e.groupPrev != nil {
		e.groupPrev.groupNext = e.groupNext
	} else {
		g.first = e.groupNext
	}
	if e.groupNext != nil {
		e.groupNext.groupPrev = e.groupPrev
	}
	*e = cacheEntry{}
	c.releaseLocked(g)
}

// invalidate drops every result that group's keys answered, and the results of fetches
// of the group in flight.
func (c *localCache) invalidate(group string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	g := c.groups[group]
	if g == nil {
		return
	}
	g.dead = true
	delete(c.groups, group)
	for g.first != nil {
		c.removeLocked(g.first)
	}
}

// flush drops everything, and the results of every fetch in flight.
func (c *localCache) flush() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.flushLocked()
}

func (c *localCache) flushLocked() {
	c.epoch++
	for _, g := range c.groups {
		g.dead = true
	}
	clear(c.groups)
	clear(c.entries)
	c.oldest, c.newest = nil, nil
}

// setLive records whether tracking is established on every node. Losing it flushes the
// cache; regaining it starts a new epoch, so that no fetch begun before counts.
func (c *localCache) setLive(live bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !live {
		c.validUntil.Store(0)
		c.flushLocked()
	} else if !c.live {
		c.epoch++
	}
	c.live = live
}

// extend lets hits be served until the given time (ns since start), while live.
func (c *localCache) extend(until int64) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.live {
		c.validUntil.Store(until)
	}
}

// sweepBatch bounds the entries one sweep removes while holding the lock.
const sweepBatch = 1024

// sweep removes expired entries, a batch at a time, so that memory is reclaimed without
// lookups.
func (c *localCache) sweep(now time.Time) {
	mono := c.since(now)
	for {
		c.mu.Lock()
		more := c.sweepLocked(mono, sweepBatch)
		c.mu.Unlock()
		if !more {
			return
		}
	}
}

// sweepLocked removes up to limit expired entries and reports whether more may remain.
func (c *localCache) sweepLocked(mono int64, limit int) bool {
	for range limit {
		if c.oldest == nil || c.oldest.expires > mono {
			return false
		}
		c.removeLocked(c.oldest)
	}
	return true
}

func (c *localCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.entries)
}

// parseMillis reads a Unix ms value written by the scripts ("" for none). Sorted-set
// scores come back formatted as doubles.
func parseMillis(v any) (int64, error) {
	s, _ := v.(string)
	if s == "" {
		return 0, nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, err
	}
	return int64(f), nil
}

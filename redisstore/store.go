// Package redisstore is a Redis-backed revocation store for edgeauth (it implements
// edgeauth.Store), so that revocations are shared by every instance of a service. It
// works with a single Redis and with Redis Cluster; NewClientFromURL makes a client for
// either from a URL.
// [BetterAuthStorage] reads Better Auth's secondary storage on Redis for the
// betterauth package.
//
// # Key layout
//
// With H(id) the unpadded base64url SHA-256 of an id (fixed-size keys for ids of any
// length or content, ':' '{' '*' and NUL included) and M(id) the same of its first 16
// bytes:
//
//   - Prefix+"s:{"+H(userID)+"}" is a sorted set of the user's denylisted sessions:
//     members M(sessionID), scores their expiry in Unix ms. It holds at most
//     Options.MaxSessionsPerUser members; revoking one more replaces the set with a
//     cutoff at the next whole second (Redis server time, or the caller's if later), which
//     rejects every session of the user that signed in up to now: stricter than the
//     denylist, never weaker, kept as long as the longest entry it replaces.
//   - Prefix+"u:{"+H(userID)+"}" is a hash with c = the user's cutoff in Unix seconds and
//     e = its expiry in Unix ms.
//   - Prefix+"n" is a sorted set, like the per-user ones, that the sessions of tokens
//     without a user id share; it holds at most Options.MaxSessionsWithoutUser members.
//
// The two keys of a user share the hash tag {H(userID)}, so a user's revocation is one
// atomic script on one Redis Cluster slot, and a check is one round trip. Each key expires
// (PEXPIREAT) with its latest entry; expired members are removed when the key is written.
// Expiry follows the Redis server's clock, the cutoff of a collapse the later of the
// server's and the caller's.
//
// Memory is bounded per user: under 4 KB for a user at the default quota of 100
// denylisted sessions (a compact listpack-encoded set), whatever the number of sign-outs.
// Total memory grows with the number of users who sign out, not with how often they do;
// the shared pool takes about 1.2 MB when full.
//
// # Local cache
//
// Without Options.LocalCache every Check is a round trip to Redis. With it, a warm check
// is answered from memory, and Redis tells the store about every write to its keys
// (server-assisted client-side caching, CLIENT TRACKING):
//
//   - For each node that takes writes (the server of a *redis.Client; every master of a
//     *redis.ClusterClient, with or without slots, as CLUSTER NODES lists them every
//     second) the store keeps one more connection, made from the client's options, that
//     runs CLIENT TRACKING ON REDIRECT <its own id> BCAST PREFIX <Prefix> and subscribes to
//     __redis__:invalidate (RESP2). Redis then names on it every key under Prefix that is
//     written, expires or is evicted, whoever wrote it. Broadcast mode costs Redis no
//     memory per key read.
//   - A check result is cached for its pair of session and user ids, "not revoked" as well
//     as "revoked", and dropped when Redis names one of the user's keys (or the shared
//     pool's key), after LocalCache.TTL, or when LocalCache.MaxEntries are cached (the
//     oldest goes). Ids longer than 256 bytes together are not cached. Entries hold the
//     expiries Redis returned, so a cached denylist entry or cutoff lapses when Redis's
//     would, by the local clock. A result read from Redis while an invalidation of its
//     keys arrived is not kept: the fetch is registered before the read, and the
//     invalidation cancels it.
//   - The store's own revocations drop its cached results for the user as soon as the
//     write returns, so it reads its own writes. Other instances drop theirs when the
//     invalidation arrives: within milliseconds (BenchmarkPropagation).
//   - Losing a tracking connection (an error, or a ping left unanswered for 0.5 s after
//     0.5 s of silence) flushes the cache, and until tracking is established again on
//     every node, each check asks Redis, and fails when Redis does not answer: the Manager
//     fails closed as without a cache. Hits also stop by themselves after 1.5 s without
//     word from a tracking connection, whether or not its loss was noticed. On Cluster,
//     any change of the set of masters flushes the cache too.
//   - A client that cannot be tracked (a Ring) gets no cache, with a warning; so does a
//     Redis that refuses tracking (before 6.0, or an ACL user without the permissions for
//     CLIENT ID, CLIENT TRACKING, PING and SUBSCRIBE __redis__:invalidate), with a warning
//     and retries.
//
// Close stops the background work. The caches of two instances may differ for the
// milliseconds an invalidation takes; a revocation is enforced by the instance that made
// it at once, by the others as soon as their invalidation arrives.
//
// go-redis v9.22 has a client-side cache of its own (Options.ClientSideCacheConfig,
// experimental). The store does not use it: it caches an allow-list of read commands,
// not the scripts a check runs; it exists for *redis.Client only, not for
// *redis.ClusterClient; it must be enabled on the caller's client, where it refuses
// SELECT, AUTH, RESET and HELLO with arguments; and it tracks in default mode, so that
// Redis remembers every key each connection read.
//
// # Redis Cluster
//
// Every operation touches one hash slot. A master that stops takes the revocations of its
// slots out of reach until it comes back (with persistence, with them) or a replica takes
// over (with what it had replicated). Meanwhile checks of its users fail, and the Manager
// refuses their sessions (fail closed); the users of the other masters are checked as
// usual, each check a round trip until every master is tracked again. Masters that own
// no slot yet are tracked too: during a slot migration, the importing master takes
// writes (ASK redirects) before it owns the slot.
//
// # Operational notes
//
//   - Create the client with ContextTimeoutEnabled: true (NewClientFromURL does),
//     otherwise go-redis ignores the context deadline for socket I/O and a hung Redis
//     blocks requests for ReadTimeout.
//   - Eviction loses revocations, and a lost revocation re-admits a revoked session. Run
//     the Redis that holds them with maxmemory-policy noeviction (then a full Redis fails
//     revocations, which the caller reports, rather than forgetting them). Every key has a
//     TTL, so the volatile-* policies evict these keys as readily as the allkeys-* ones.
//     On its first call that reaches Redis, the store reads maxmemory-policy and maxmemory
//     with CONFIG GET and logs (Options.Logger) an error when Redis can evict, or a warning
//     when CONFIG GET is refused, as on some managed services: check the setting there by
//     hand.
//   - Revocations live only as long as Redis keeps its data: run Redis with persistence
//     (or accept that a Redis restart forgets revocations).
package redisstore

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/edgeauth/edgeauth/internal/revocation"
)

const (
	// DefaultPrefix is the key prefix used when Options.Prefix is empty.
	DefaultPrefix = "edgeauth:"
	// DefaultMaxSessionsPerUser is the per-user quota used when Options.MaxSessionsPerUser
	// <= 0, as in the memory store. It keeps a user's sorted set in Redis's compact
	// encoding (zset-max-listpack-entries is 128 by default).
	DefaultMaxSessionsPerUser = 100
	// DefaultMaxSessionsWithoutUser is the shared pool's size used when
	// Options.MaxSessionsWithoutUser <= 0.
	DefaultMaxSessionsWithoutUser = 10_000
	// DefaultLocalCacheEntries is LocalCache.MaxEntries when it is <= 0.
	DefaultLocalCacheEntries = 50_000
	// DefaultLocalCacheTTL is LocalCache.TTL when it is <= 0.
	DefaultLocalCacheTTL = time.Minute
)

var (
	// ErrInvalidRevocation is returned for a revocation with an empty ID or a zero time.
	ErrInvalidRevocation = revocation.ErrInvalid
	// ErrStoreFull is returned when the pool of sessions without a user id is full of live
	// entries. It is the value of edgeauth.ErrStoreFull.
	ErrStoreFull = revocation.ErrFull
	// ErrNoClient is returned by a Store created with a nil client.
	ErrNoClient = errors.New("edgeauth: redis store has no client")
	// ErrCorruptEntry is returned when a stored cutoff or session expiry is not a number
	// (the key was written by something else).
	ErrCorruptEntry = errors.New("edgeauth: corrupt revocation entry in redis")
)

// Options configures New.
type Options struct {
	// Prefix is prepended to every key; empty means DefaultPrefix. Stores sharing a Redis
	// database must use prefixes where neither is a prefix of the other. On Redis Cluster
	// it must not contain braces, which would change the keys' hash tags.
	Prefix string
	// MaxSessionsPerUser caps the denylisted sessions of one user; revoking one more
	// replaces them with a cutoff. <= 0 means DefaultMaxSessionsPerUser.
	MaxSessionsPerUser int
	// MaxSessionsWithoutUser caps the denylisted sessions of tokens without a user id,
	// which share one key; past it such a revocation fails with ErrStoreFull.
	// <= 0 means DefaultMaxSessionsWithoutUser.
	MaxSessionsWithoutUser int
	// Logger receives the warnings about Redis's eviction policy and the local cache's
	// tracking; nil means slog.Default().
	Logger *slog.Logger
	// LocalCache, when not nil, keeps check results in the process while Redis reports
	// writes to their keys (see the package documentation): a warm check makes no network
	// call, and a revocation made elsewhere reaches this store within milliseconds. It
	// runs background work until Close. Nil means every check is a round trip.
	LocalCache *LocalCache
}

// LocalCache configures the local cache of check results (see Options.LocalCache). The
// zero value is the recommended setting.
type LocalCache struct {
	// MaxEntries bounds the cached results, one per pair of session and user ids; when
	// full, the oldest goes. <= 0 means DefaultLocalCacheEntries.
	MaxEntries int
	// TTL bounds how long a result is reused; invalidations end it sooner. <= 0 means
	// DefaultLocalCacheTTL.
	TTL time.Duration
}

// Store is a Redis-backed revocation store, safe for concurrent use. See the package
// documentation for its keys and bounds.
type Store struct {
	client         redis.UniversalClient
	prefix         string
	maxPerUser     int
	maxWithoutUser int
	logger         *slog.Logger // nil: slog.Default() at the time of logging

	evictionChecked atomic.Bool
	evictionMu      sync.Mutex // held by the one call that checks

	cache    *localCache // nil without Options.LocalCache
	tracking *tracking
}

// New returns a Store using client. It does not contact Redis itself; with
// Options.LocalCache it starts the background work that does (see Close).
func New(client redis.UniversalClient, opts Options) *Store {
	if opts.Prefix == "" {
		opts.Prefix = DefaultPrefix
	}
	if opts.MaxSessionsPerUser <= 0 {
		opts.MaxSessionsPerUser = DefaultMaxSessionsPerUser
	}
	if opts.MaxSessionsWithoutUser <= 0 {
		opts.MaxSessionsWithoutUser = DefaultMaxSessionsWithoutUser
	}
	s := &Store{
		client:         client,
		prefix:         opts.Prefix,
		maxPerUser:     opts.MaxSessionsPerUser,
		maxWithoutUser: opts.MaxSessionsWithoutUser,
		logger:         opts.Logger,
	}
	if lc := opts.LocalCache; lc != nil && client != nil {
		entries, ttl := lc.MaxEntries, lc.TTL
		if entries <= 0 {
			entries = DefaultLocalCacheEntries
		}
		if ttl <= 0 {
			ttl = DefaultLocalCacheTTL
		}
		cache := newLocalCache(entries, ttl)
		if t := startTracking(client, s.prefix, cache, s.log); t != nil {
			s.cache, s.tracking = cache, t
		} else {
			s.log().Warn("edgeauth: the redis store's local cache needs a *redis.Client or *redis.ClusterClient; every check asks redis")
		}
	}
	return s
}

// Close stops the local cache's background work and closes its connections; the client
// given to New stays open. Checks after Close ask Redis every time. Without a local cache
// Close does nothing. It is safe to call more than once.
func (s *Store) Close() error {
	if s != nil && s.tracking != nil {
		s.tracking.close()
	}
	return nil
}

func (s *Store) log() *slog.Logger {
	if s.logger != nil {
		return s.logger
	}
	return slog.Default()
}

// luaHelpers are shared by the scripts: int formats a number without an exponent,
// serverMillis is the Redis clock, raise merges a cutoff into a user's hash (the cutoff
// never decreases, the expiry never shortens), and expireWithLatest makes a sorted set
// expire with its latest member.
const luaHelpers = `
local function int(x) return string.format('%d', x) end
local function serverMillis()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function raise(key, cutoff, keep)
  local cur = redis.call('HMGET', key, 'c', 'e')
  local c = tonumber(cur[1] or '')
  local e = tonumber(cur[2] or '')
  if c == nil or cutoff > c then
    redis.call('HSET', key, 'c', int(cutoff))
  end
  if e == nil or keep > e then
    redis.call('HSET', key, 'e', int(keep))
    redis.call('PEXPIREAT', key, int(keep))
  end
end
local function expireWithLatest(key)
  local last = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
  redis.call('PEXPIREAT', key, last[2])
end
`

// sessionPoolFull is revokeSessionScript's reply when the shared pool is full; it
// replies 0 for an entry already expired, 1 for an entry recorded, 2 for a collapse.
const sessionPoolFull = -1

// revokeSessionScript denylists a session in a sorted set, or, when the set already holds
// its quota of live members, replaces the set with a cutoff in the user's hash (the cutoff
// rule of revocation.CollapseCutoff, on the later of the server's and the caller's clock).
// The shared pool (no KEYS[2]) fails instead.
// KEYS[1] sessions; KEYS[2] user hash, if any. ARGV[1] member; ARGV[2] expiry, Unix ms;
// ARGV[3] quota; ARGV[4] the caller's clock, Unix ms.
var revokeSessionScript = redis.NewScript(luaHelpers + `
local now = serverMillis()
local exp = tonumber(ARGV[2])
if exp <= now then return 0 end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', int(now))
local cur = redis.call('ZSCORE', KEYS[1], ARGV[1])
if cur then
  if exp > tonumber(cur) then
    redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
    expireWithLatest(KEYS[1])
  end
  return 1
end
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[3]) then
  redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
  expireWithLatest(KEYS[1])
  return 1
end
if #KEYS < 2 then return -1 end
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
local keep = math.max(exp, tonumber(last[2]))
local cutoff = math.floor(math.max(now, tonumber(ARGV[4])) / 1000) + 1
raise(KEYS[2], cutoff, keep)
redis.call('DEL', KEYS[1])
return 2
`)

// revokeUserScript raises the user's cutoff. KEYS[1] user hash; ARGV[1] cutoff, Unix s;
// ARGV[2] expiry, Unix ms.
var revokeUserScript = redis.NewScript(luaHelpers + `
raise(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]))
return 1
`)

// checkScript reads what a check needs: the session's expiry in the user's sorted set,
// the user's cutoff and its entry's expiry ("" for each one absent), and the server's
// clock, Unix ms. KEYS[1] sessions; KEYS[2] user hash, if any. ARGV[1] member, "" for none.
var checkScript = redis.NewScript(luaHelpers + `
local exp = ''
if ARGV[1] ~= '' then exp = redis.call('ZSCORE', KEYS[1], ARGV[1]) or '' end
local cutoff, keep = '', ''
if KEYS[2] then
  local v = redis.call('HMGET', KEYS[2], 'c', 'e')
  cutoff, keep = v[1] or '', v[2] or ''
end
return {exp, cutoff, keep, int(serverMillis())}
`)

// RevokeSession denylists sessionID of userID until exp, or raises the user's cutoff when
// the user already has MaxSessionsPerUser live entries (see the package documentation).
// An exp in the past leaves no entry. A session without a user id goes to the shared pool,
// which fails with ErrStoreFull when full.
func (s *Store) RevokeSession(ctx context.Context, userID, sessionID string, exp time.Time) error {
	if err := s.precheck(ctx); err != nil {
		return err
	}
	if sessionID == "" || exp.IsZero() {
		return ErrInvalidRevocation
	}
	keys, quota := []string{s.sharedKey()}, s.maxWithoutUser
	if userID != "" {
		keys, quota = s.userKeys(userID), s.maxPerUser
	}
	res, err := revokeSessionScript.Run(ctx, s.client, keys,
		memberID(sessionID), ceilMilli(exp), quota, time.Now().UnixMilli()).Int()
	s.written(userID)
	if err != nil {
		return wrap(ctx, "revoke session", err)
	}
	s.checkEviction(ctx)
	if res == sessionPoolFull {
		return ErrStoreFull
	}
	return nil
}

// RevokeUser rejects sessions of userID that signed in before `before`, recorded rounded
// up to the next whole second. The entry is kept until the latest keepUntil ever given;
// the cutoff never decreases.
func (s *Store) RevokeUser(ctx context.Context, userID string, before, keepUntil time.Time) error {
	if err := s.precheck(ctx); err != nil {
		return err
	}
	if userID == "" || before.IsZero() || keepUntil.IsZero() {
		return ErrInvalidRevocation
	}
	err := revokeUserScript.Run(ctx, s.client, s.userKeys(userID)[1:],
		revocation.CutoffSecond(before), ceilMilli(keepUntil)).Err()
	s.written(userID)
	if err != nil {
		return wrap(ctx, "revoke user", err)
	}
	s.checkEviction(ctx)
	return nil
}

// Check reports whether sessionID is denylisted and the user's cutoff (zero when none), in
// at most one round trip: none when the local cache holds the answer. An empty sessionID
// or userID is "not revoked" for that part; a session without a user id is looked up in
// the shared pool.
func (s *Store) Check(ctx context.Context, sessionID, userID string) (bool, time.Time, error) {
	if err := s.precheck(ctx); err != nil {
		return false, time.Time{}, err
	}
	if sessionID == "" && userID == "" {
		return false, time.Time{}, nil
	}
	if s.cache == nil || !cacheable(userID, sessionID) {
		return s.fetch(ctx, sessionID, userID, nil)
	}
	if revoked, cutoff, ok := s.CheckCached(sessionID, userID); ok {
		return revoked, cutoff, nil
	}
	key := checkKey{userID: userID, sessionID: sessionID}
	f, ok := s.cache.begin(groupOf(userID))
	if !ok {
		return s.fetch(ctx, sessionID, userID, nil)
	}
	var r checkResult
	revoked, cutoff, err := s.fetch(ctx, sessionID, userID, &r)
	s.cache.finish(f, key, r, err == nil, time.Now())
	return revoked, cutoff, err
}

// CheckCached answers Check from the local cache, without I/O (edgeauth.CachedChecker):
// ok is false, and Check must be called, without Options.LocalCache, for ids too long to
// cache, and while the answer is not cached (not yet, expired, invalidated, or dropped with
// the connection).
func (s *Store) CheckCached(sessionID, userID string) (revoked bool, cutoff time.Time, ok bool) {
	if s == nil || s.client == nil || s.cache == nil || !cacheable(userID, sessionID) {
		return false, time.Time{}, false
	}
	if sessionID == "" && userID == "" {
		return false, time.Time{}, true
	}
	now := time.Now()
	r, ok := s.cache.get(checkKey{userID: userID, sessionID: sessionID}, now)
	if !ok {
		return false, time.Time{}, false
	}
	revoked, cutoff = r.at(now.UnixMilli())
	return revoked, cutoff, true
}

// fetch runs the check script; with r, it also returns the result to cache.
func (s *Store) fetch(ctx context.Context, sessionID, userID string, r *checkResult) (bool, time.Time, error) {
	keys := []string{s.sharedKey()}
	if userID != "" {
		keys = s.userKeys(userID)
	}
	var member string
	if sessionID != "" {
		member = memberID(sessionID)
	}
	res, err := checkScript.Run(ctx, s.client, keys, member).Slice()
	if err != nil {
		return false, time.Time{}, wrap(ctx, "check", err)
	}
	s.checkEviction(ctx)
	if len(res) != 4 {
		return false, time.Time{}, fmt.Errorf("edgeauth: redis check: unexpected reply of %d values", len(res))
	}
	memberExpiry, err := parseMillis(res[0])
	if err != nil {
		return false, time.Time{}, ErrCorruptEntry
	}
	var cutoffSec int64
	v, _ := res[1].(string)
	hasCutoff := v != ""
	if hasCutoff {
		if cutoffSec, err = strconv.ParseInt(v, 10, 64); err != nil {
			return false, time.Time{}, ErrCorruptEntry
		}
	}
	// An unreadable expiry keeps the cutoff: stricter, never weaker.
	cutoffExpiry, _ := parseMillis(res[2])
	serverNow, err := parseMillis(res[3])
	if err != nil {
		return false, time.Time{}, fmt.Errorf("edgeauth: redis check: unexpected server time")
	}
	if r != nil {
		*r = checkResult{memberExpiry: memberExpiry, hasCutoff: hasCutoff, cutoff: cutoffSec, cutoffExpiry: cutoffExpiry}
	}
	var cutoff time.Time
	if hasCutoff {
		cutoff = time.Unix(cutoffSec, 0)
	}
	return memberExpiry > serverNow, cutoff, nil
}

// written drops this store's cached results for userID's keys once its own write has
// returned (whatever it returned): the store reads its own writes without waiting for
// Redis's invalidation, and a check in flight since before the write is not kept.
func (s *Store) written(userID string) {
	if s.cache != nil {
		s.cache.invalidate(groupOf(userID))
	}
}

// groupOf is the local cache group of userID's keys: their hash tag, or the shared pool's.
func groupOf(userID string) string {
	if userID == "" {
		return sharedGroup
	}
	return hashID(userID)
}

func (s *Store) precheck(ctx context.Context) error {
	if s == nil || s.client == nil {
		return ErrNoClient
	}
	return ctx.Err()
}

// evictionCheckTimeout bounds the one extra round trip of the first successful call.
const evictionCheckTimeout = time.Second

// checkEviction logs, once, whether Redis can evict revocations. It runs after a call
// that reached Redis, so an outage costs nothing more; a call that finds another one
// checking does not wait for it, and a check that gets no answer is left to a later call.
func (s *Store) checkEviction(ctx context.Context) {
	if s.evictionChecked.Load() || !s.evictionMu.TryLock() {
		return
	}
	defer s.evictionMu.Unlock()
	if s.evictionChecked.Load() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, evictionCheckTimeout)
	defer cancel()
	pipe := s.client.Pipeline()
	policyCmd := pipe.ConfigGet(ctx, "maxmemory-policy")
	memoryCmd := pipe.ConfigGet(ctx, "maxmemory")
	_, _ = pipe.Exec(ctx)
	err := errors.Join(policyCmd.Err(), memoryCmd.Err())
	var refused redis.Error
	if err != nil && !errors.As(err, &refused) {
		return
	}
	s.evictionChecked.Store(true)
	logger := s.logger
	if logger == nil {
		logger = slog.Default()
	}
	policy, policyOK := policyCmd.Val()["maxmemory-policy"]
	maxMemory, parseErr := strconv.ParseInt(memoryCmd.Val()["maxmemory"], 10, 64)
	switch {
	case err != nil:
		logger.LogAttrs(ctx, slog.LevelWarn,
			"edgeauth: cannot read the redis eviction policy (CONFIG GET refused); unless maxmemory-policy is noeviction, redis can evict revocations and re-admit revoked sessions",
			slog.String("error", err.Error()))
	case !policyOK || parseErr != nil:
		logger.LogAttrs(ctx, slog.LevelWarn,
			"edgeauth: cannot read the redis eviction policy (unexpected CONFIG GET reply); unless maxmemory-policy is noeviction, redis can evict revocations and re-admit revoked sessions")
	case maxMemory > 0 && !strings.EqualFold(policy, "noeviction"):
		logger.LogAttrs(ctx, slog.LevelError,
			"edgeauth: redis can evict revocations, and an evicted revocation re-admits a revoked session; set maxmemory-policy to noeviction (revocation keys have TTLs, so volatile-* policies evict them too)",
			slog.String("maxmemory-policy", policy), slog.Int64("maxmemory", maxMemory))
	}
}

// userKeys returns the user's sessions key and cutoff key, which share a hash tag.
func (s *Store) userKeys(userID string) []string {
	tag := "{" + hashID(userID) + "}"
	return []string{s.prefix + "s:" + tag, s.prefix + "u:" + tag}
}

func (s *Store) sharedKey() string { return s.prefix + "n" }

func hashID(id string) string {
	sum := sha256.Sum256([]byte(id))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// memberID is a session's member in its user's sorted set: 128 bits of SHA-256 are
// plenty among at most a quota of members (a collision would only revoke more), and
// half the size of hashID keeps a user's set small.
func memberID(sessionID string) string {
	sum := sha256.Sum256([]byte(sessionID))
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}

// ceilMilli rounds up so an entry never expires before the instant it was asked to last to.
func ceilMilli(t time.Time) int64 {
	ms := t.UnixMilli()
	if t.Nanosecond()%int(time.Millisecond) != 0 {
		ms++
	}
	return ms
}

// wrap keeps both the context error (so errors.Is(err, context.DeadlineExceeded) works
// whatever go-redis reported) and the underlying error.
func wrap(ctx context.Context, op string, err error) error {
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("edgeauth: redis %s: %w: %w", op, cerr, err)
	}
	return fmt.Errorf("edgeauth: redis %s: %w", op, err)
}

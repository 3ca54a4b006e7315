// Package redisstore is a Redis-backed revocation store for edgeauth (it implements
// edgeauth.Store), so that revocations are shared by every instance of a service.
// [BetterAuthStorage] reads Better Auth's secondary storage on Redis for the
// betterauth package.
//
// Operational notes:
//   - Create the client with ContextTimeoutEnabled: true, otherwise go-redis ignores the
//     context deadline for socket I/O and a hung Redis blocks requests for ReadTimeout.
//   - Entries expire by Redis TTL (PEXPIREAT), judged by the Redis server's clock.
//   - Revocations live only as long as Redis keeps its data: run Redis with persistence
//     (or accept that a Redis restart forgets revocations).
package redisstore

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/edgeauth/edgeauth/internal/revocation"
)

// DefaultPrefix is the key prefix used when Options.Prefix is empty.
const DefaultPrefix = "edgeauth:"

var (
	// ErrInvalidRevocation is returned for a revocation with an empty ID or a zero time.
	ErrInvalidRevocation = revocation.ErrInvalid
	// ErrNoClient is returned by a Store created with a nil client.
	ErrNoClient = errors.New("edgeauth: redis store has no client")
	// ErrCorruptEntry is returned when a stored cutoff is not an integer (the key was
	// written by something else).
	ErrCorruptEntry = errors.New("edgeauth: corrupt revocation entry in redis")
)

// Options configures New.
type Options struct {
	// Prefix is prepended to every key; empty means DefaultPrefix. Stores sharing a Redis
	// database must use prefixes where neither is a prefix of the other.
	Prefix string
}

// Store is a Redis-backed revocation store, safe for concurrent use.
//
// Keys are Prefix+"t:"+H(jti) (a string holding the expiry in Unix ms) and
// Prefix+"u:"+H(userID) (a hash with c = cutoff in Unix seconds, e = expiry in Unix ms),
// where H is unpadded base64url SHA-256: ids of any length or content (':' '{' '*', NUL)
// give fixed-size keys that cannot collide across the two key spaces.
type Store struct {
	client redis.UniversalClient
	prefix string
}

// New returns a Store using client. It does not contact Redis.
func New(client redis.UniversalClient, opts Options) *Store {
	if opts.Prefix == "" {
		opts.Prefix = DefaultPrefix
	}
	return &Store{client: client, prefix: opts.Prefix}
}

// revokeTokenScript keeps the latest expiry, so a repeated revocation never shortens one.
// KEYS[1] token key; ARGV[1] expiry, Unix ms.
var revokeTokenScript = redis.NewScript(`
local cur = tonumber(redis.call('GET', KEYS[1]) or '')
if cur == nil or tonumber(ARGV[1]) > cur then
  redis.call('SET', KEYS[1], ARGV[1])
  redis.call('PEXPIREAT', KEYS[1], ARGV[1])
end
return 1
`)

// revokeUserScript keeps the maximum cutoff and the maximum expiry.
// KEYS[1] user key; ARGV[1] cutoff, Unix s; ARGV[2] expiry, Unix ms.
var revokeUserScript = redis.NewScript(`
local cur = redis.call('HMGET', KEYS[1], 'c', 'e')
local c = tonumber(cur[1] or '')
local e = tonumber(cur[2] or '')
if c == nil or tonumber(ARGV[1]) > c then
  redis.call('HSET', KEYS[1], 'c', ARGV[1])
end
if e == nil or tonumber(ARGV[2]) > e then
  redis.call('HSET', KEYS[1], 'e', ARGV[2])
  redis.call('PEXPIREAT', KEYS[1], ARGV[2])
end
return 1
`)

// RevokeToken denylists jti until exp. An exp in the past leaves no entry.
func (s *Store) RevokeToken(ctx context.Context, jti string, exp time.Time) error {
	if err := s.precheck(ctx); err != nil {
		return err
	}
	if jti == "" || exp.IsZero() {
		return ErrInvalidRevocation
	}
	err := revokeTokenScript.Run(ctx, s.client, []string{s.tokenKey(jti)}, ceilMilli(exp)).Err()
	if err != nil {
		return wrap(ctx, "revoke token", err)
	}
	return nil
}

// RevokeUser rejects tokens of userID issued before `before`, recorded rounded up to the
// next whole second; the manager compares iat < cutoff in whole seconds. The entry is kept
// until the latest keepUntil ever given; the cutoff never decreases.
func (s *Store) RevokeUser(ctx context.Context, userID string, before, keepUntil time.Time) error {
	if err := s.precheck(ctx); err != nil {
		return err
	}
	if userID == "" || before.IsZero() || keepUntil.IsZero() {
		return ErrInvalidRevocation
	}
	err := revokeUserScript.Run(ctx, s.client, []string{s.userKey(userID)},
		cutoffSecond(before), ceilMilli(keepUntil)).Err()
	if err != nil {
		return wrap(ctx, "revoke user", err)
	}
	return nil
}

// Check reports whether jti is denylisted and the user's cutoff (zero when none), in one
// pipelined round trip. An empty jti or userID is "not revoked" for that part.
func (s *Store) Check(ctx context.Context, jti, userID string) (bool, time.Time, error) {
	if err := s.precheck(ctx); err != nil {
		return false, time.Time{}, err
	}
	if jti == "" && userID == "" {
		return false, time.Time{}, nil
	}
	pipe := s.client.Pipeline()
	var tok *redis.IntCmd
	var usr *redis.StringCmd
	if jti != "" {
		tok = pipe.Exists(ctx, s.tokenKey(jti))
	}
	if userID != "" {
		usr = pipe.HGet(ctx, s.userKey(userID), "c")
	}
	// A missing hash field surfaces as redis.Nil; real errors are checked per command.
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return false, time.Time{}, wrap(ctx, "check", err)
	}

	var revoked bool
	if tok != nil {
		n, err := tok.Result()
		if err != nil {
			return false, time.Time{}, wrap(ctx, "check", err)
		}
		revoked = n > 0
	}
	var cutoff time.Time
	if usr != nil {
		v, err := usr.Result()
		switch {
		case errors.Is(err, redis.Nil):
		case err != nil:
			return false, time.Time{}, wrap(ctx, "check", err)
		default:
			sec, perr := strconv.ParseInt(v, 10, 64)
			if perr != nil {
				return false, time.Time{}, ErrCorruptEntry
			}
			cutoff = time.Unix(sec, 0)
		}
	}
	return revoked, cutoff, nil
}

func (s *Store) precheck(ctx context.Context) error {
	if s == nil || s.client == nil {
		return ErrNoClient
	}
	return ctx.Err()
}

func (s *Store) tokenKey(jti string) string { return s.prefix + "t:" + hashID(jti) }
func (s *Store) userKey(id string) string   { return s.prefix + "u:" + hashID(id) }

func hashID(id string) string {
	sum := sha256.Sum256([]byte(id))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// cutoffSecond rounds up to whole seconds, exactly as the memory store.
func cutoffSecond(before time.Time) int64 { return revocation.CutoffSecond(before) }

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

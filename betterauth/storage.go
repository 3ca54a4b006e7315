package betterauth

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Storage reads Better Auth's secondary storage. Get returns the value
// stored under key, exactly as Better Auth's SecondaryStorage.get would
// (keys without the storage's own prefix: "<token>",
// "revoked-sessions-before-<userId>"), or an error satisfying
// errors.Is(err, [ErrNotFound]) when there is none. It must honour ctx's
// deadline. The redisstore package has one for @better-auth/redis-storage.
type Storage interface {
	Get(ctx context.Context, key string) (string, error)
}

// maxStoredSize bounds a stored value before it is parsed.
const maxStoredSize = 256 << 10

// errStorageMiss reports a session token the storage does not hold.
var errStorageMiss = errors.New("betterauth: session not in secondary storage")

// fromStorage reads the session as Better Auth's findSession does
// (db/internal-adapter.ts): "<token>" holds {"session":…,"user":…} until the
// session expires; a sign-out deletes it; a revoke-all sets
// "revoked-sessions-before-<userId>" (Unix ms) and deletes the user's
// sessions, and any session created before that mark is refused.
func (v *Verifier) fromStorage(ctx context.Context, token string) (*Session, error) {
	ctx, cancel := context.WithTimeout(ctx, v.timeout)
	defer cancel()
	raw, err := v.storage.Get(ctx, token)
	if errors.Is(err, ErrNotFound) {
		return nil, errStorageMiss
	}
	if err != nil {
		return nil, fmt.Errorf("%w: reading the session: %w", ErrUnavailable, err)
	}
	if len(raw) > maxStoredSize {
		return nil, fmt.Errorf("%w: stored session too large", ErrUnavailable)
	}
	top, err := decodeObject([]byte(raw))
	var r *record
	if err == nil {
		r, err = parseRecord(top)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: stored session: %w", ErrUnavailable, err)
	}
	if subtle.ConstantTimeCompare([]byte(r.token), []byte(token)) != 1 || r.sessionUserID == "" || !r.hasCreatedAt {
		return nil, fmt.Errorf("%w: stored session: %w", ErrUnavailable, errShape)
	}
	if v.expired(r.expiresAt) {
		return nil, ErrExpired
	}
	mark, err := v.storage.Get(ctx, "revoked-sessions-before-"+r.sessionUserID)
	switch {
	case errors.Is(err, ErrNotFound):
	case err != nil:
		return nil, fmt.Errorf("%w: reading the revocation mark: %w", ErrUnavailable, err)
	default:
		// Better Auth writes String(Date.now()); anything else is not ours to guess at.
		before, err := strconv.ParseInt(strings.TrimSpace(mark), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%w: revocation mark is not a number", ErrUnavailable)
		}
		if r.createdAt.UnixMilli() < before {
			return nil, fmt.Errorf("%w: revoked", ErrRevoked)
		}
	}
	return v.newSession(r, SourceStorage), nil
}

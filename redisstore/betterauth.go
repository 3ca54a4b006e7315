package redisstore

import (
	"context"
	"errors"

	"github.com/redis/go-redis/v9"

	"github.com/edgeauth/edgeauth/betterauth"
)

// BetterAuthPrefix is @better-auth/redis-storage's default keyPrefix.
const BetterAuthPrefix = "better-auth:"

// BetterAuthStorage reads Better Auth's secondary storage as
// @better-auth/redis-storage writes it (keyPrefix + key, plain strings); it
// implements betterauth.Storage. It only reads.
type BetterAuthStorage struct {
	client redis.UniversalClient
	prefix string
}

// NewBetterAuthStorage returns a BetterAuthStorage for keys under keyPrefix,
// redisStorage's keyPrefix option: usually BetterAuthPrefix.
func NewBetterAuthStorage(client redis.UniversalClient, keyPrefix string) *BetterAuthStorage {
	return &BetterAuthStorage{client: client, prefix: keyPrefix}
}

// Get returns the value of keyPrefix+key, or betterauth.ErrNotFound.
func (s *BetterAuthStorage) Get(ctx context.Context, key string) (string, error) {
	if s.client == nil {
		return "", ErrNoClient
	}
	v, err := s.client.Get(ctx, s.prefix+key).Result()
	if errors.Is(err, redis.Nil) {
		return "", betterauth.ErrNotFound
	}
	if err != nil {
		return "", wrap(ctx, "get", err)
	}
	return v, nil
}

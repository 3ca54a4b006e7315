package redisstore

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeauth/edgeauth/betterauth"
	"github.com/edgeauth/edgeauth/internal/redistest"
)

func TestBetterAuthStorage(t *testing.T) {
	ctx := context.Background()
	client := newClient(t, redistest.Start(t))
	require.NoError(t, client.Set(ctx, "better-auth:tok", "v1", time.Minute).Err())
	require.NoError(t, client.Set(ctx, "tok", "bare", time.Minute).Err())

	got, err := NewBetterAuthStorage(client, BetterAuthPrefix).Get(ctx, "tok")
	require.NoError(t, err)
	assert.Equal(t, "v1", got)
	got, err = NewBetterAuthStorage(client, "").Get(ctx, "tok")
	require.NoError(t, err)
	assert.Equal(t, "bare", got, "an empty keyPrefix is no prefix, as in redisStorage")
	_, err = NewBetterAuthStorage(client, BetterAuthPrefix).Get(ctx, "missing")
	assert.ErrorIs(t, err, betterauth.ErrNotFound)
	_, err = NewBetterAuthStorage(nil, BetterAuthPrefix).Get(ctx, "tok")
	assert.ErrorIs(t, err, ErrNoClient)

	down := newClient(t, redistest.Unresponsive(t))
	ctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	_, err = NewBetterAuthStorage(down, BetterAuthPrefix).Get(ctx, "tok")
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.NotErrorIs(t, err, betterauth.ErrNotFound)
}

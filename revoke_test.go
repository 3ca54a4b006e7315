package edgeauth

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeauth/edgeauth/internal/storetest"
	"github.com/edgeauth/edgeauth/redisstore"
)

var storeTestStart = time.Date(2025, 6, 1, 12, 0, 0, 250_000_000, time.UTC)

func TestMemoryStoreConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) (storetest.Store, storetest.Clock) {
		clk := storetest.NewFakeClock(storeTestStart)
		return NewMemoryStore(MemoryStoreConfig{Now: clk.Now}), clk
	})
}

func TestMemoryStoreFullPolicy(t *testing.T) {
	ctx := context.Background()
	clk := storetest.NewFakeClock(storeTestStart)
	s := NewMemoryStore(MemoryStoreConfig{MaxEntries: 4, Now: clk.Now})
	now := clk.Now()

	require.NoError(t, s.RevokeToken(ctx, "short", now.Add(time.Minute)))
	require.NoError(t, s.RevokeToken(ctx, "long-1", now.Add(time.Hour)))
	require.NoError(t, s.RevokeUser(ctx, "u-long", now, now.Add(time.Hour)))
	require.NoError(t, s.RevokeUser(ctx, "u-short", now, now.Add(time.Minute)))
	require.Equal(t, 4, s.Len())

	// Full of live entries: a new entry fails, nothing is forgotten.
	assert.ErrorIs(t, s.RevokeToken(ctx, "new", now.Add(time.Hour)), ErrStoreFull)
	assert.ErrorIs(t, s.RevokeUser(ctx, "u-new", now, now.Add(time.Hour)), ErrStoreFull)
	for _, c := range []struct{ jti, user string }{{"short", "u-short"}, {"long-1", "u-long"}} {
		revoked, cutoff, err := s.Check(ctx, c.jti, c.user)
		require.NoError(t, err)
		assert.True(t, revoked, c.jti)
		assert.False(t, cutoff.IsZero(), c.user)
	}

	// Updating existing entries needs no room.
	require.NoError(t, s.RevokeToken(ctx, "long-1", now.Add(2*time.Hour)))
	require.NoError(t, s.RevokeUser(ctx, "u-long", now.Add(time.Second), now.Add(2*time.Hour)))

	// Once some entries expire, the cap sweeps them to make room.
	clk.Advance(time.Minute)
	require.NoError(t, s.RevokeToken(ctx, "new", clk.Now().Add(time.Hour)))
	require.NoError(t, s.RevokeUser(ctx, "u-new", clk.Now(), clk.Now().Add(time.Hour)))
	assert.Equal(t, 4, s.Len(), "expired entries must have been swept")
	assert.ErrorIs(t, s.RevokeToken(ctx, "one-more", clk.Now().Add(time.Hour)), ErrStoreFull)

	for _, jti := range []string{"long-1", "new"} {
		revoked, _, err := s.Check(ctx, jti, "")
		require.NoError(t, err)
		assert.True(t, revoked, jti)
	}
	_, cutoff, err := s.Check(ctx, "", "u-long")
	require.NoError(t, err)
	assert.True(t, cutoff.Equal(storeTestStart.Truncate(time.Second).Add(2*time.Second)), "cutoff %v", cutoff)
}

func TestMemoryStorePeriodicSweep(t *testing.T) {
	ctx := context.Background()
	clk := storetest.NewFakeClock(storeTestStart)
	s := NewMemoryStore(MemoryStoreConfig{Now: clk.Now})
	for i := range 100 {
		require.NoError(t, s.RevokeToken(ctx, fmt.Sprintf("j%d", i), clk.Now().Add(time.Second)))
	}
	require.Equal(t, 100, s.Len())

	// Far below the cap, an insert after the sweep interval still drops expired entries.
	clk.Advance(memorySweepEvery)
	require.NoError(t, s.RevokeToken(ctx, "fresh", clk.Now().Add(time.Hour)))
	assert.Equal(t, 1, s.Len())
}

func TestMemoryStoreDefaults(t *testing.T) {
	s := NewMemoryStore(MemoryStoreConfig{})
	assert.Equal(t, DefaultMemoryStoreMaxEntries, s.maxEntries)
	require.NotNil(t, s.now)

	// The real clock works end to end.
	ctx := context.Background()
	require.NoError(t, s.RevokeToken(ctx, "j", time.Now().Add(time.Hour)))
	revoked, _, err := s.Check(ctx, "j", "")
	require.NoError(t, err)
	assert.True(t, revoked)

	assert.ErrorIs(t, s.RevokeToken(ctx, "", time.Now().Add(time.Hour)), ErrInvalidRevocation)
	assert.ErrorIs(t, s.RevokeUser(ctx, "", time.Now(), time.Now().Add(time.Hour)), ErrInvalidRevocation)
}

func TestRevokedByCutoff(t *testing.T) {
	ban := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	sec := func(d int) time.Time { return ban.Add(time.Duration(d) * time.Second) }
	tests := []struct {
		name        string
		iat, cutoff time.Time
		want        bool
	}{
		{"no cutoff", sec(0), time.Time{}, false},
		{"no cutoff, no iat", time.Time{}, time.Time{}, false},
		{"no iat", time.Time{}, sec(0), true},
		{"issued before", sec(-1), sec(0), true},
		{"issued in the cutoff second", sec(0), sec(0), false},
		{"issued after", sec(1), sec(0), false},
		// Unrounded cutoff 12:00:00.7 counts as 12:00:01.
		{"same second as fractional ban", sec(0), ban.Add(700 * time.Millisecond), true},
		{"next second after fractional ban", sec(1), ban.Add(700 * time.Millisecond), false},
		{"iat with fraction, same second", ban.Add(900 * time.Millisecond), ban.Add(700 * time.Millisecond), true},
		{"long before", sec(-86400), sec(0), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, revokedByCutoff(tt.iat, tt.cutoff))
		})
	}
}

func TestCutoffSecond(t *testing.T) {
	ban := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	assert.Equal(t, ban.Unix(), cutoffSecond(ban))
	assert.Equal(t, ban.Unix()+1, cutoffSecond(ban.Add(time.Nanosecond)))
	assert.Equal(t, ban.Unix()+1, cutoffSecond(ban.Add(999_999_999)))
	assert.Equal(t, ban.Unix()+1, cutoffSecond(ban.Add(time.Second)))
}

// Both stores return the one invalid-revocation error value.
func TestInvalidRevocationIsOneError(t *testing.T) {
	err := NewMemoryStore(MemoryStoreConfig{}).RevokeToken(context.Background(), "", time.Now().Add(time.Hour))
	require.ErrorIs(t, err, ErrInvalidRevocation)
	require.ErrorIs(t, err, redisstore.ErrInvalidRevocation)
}

package edgeauth

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

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

// Package revocation holds what the revocation stores share, so that the
// memory store and redisstore agree to the second and to the error value.
package revocation

import (
	"errors"
	"time"
)

// ErrInvalid is returned for a revocation with an empty ID or a zero time.
// edgeauth.ErrInvalidRevocation and redisstore.ErrInvalidRevocation are
// this value, so errors.Is answers the same for every store.
var ErrInvalid = errors.New("edgeauth: invalid revocation")

// ErrFull is returned by a store that cannot record a revocation without
// forgetting a live one. edgeauth.ErrStoreFull and redisstore.ErrStoreFull
// are this value.
var ErrFull = errors.New("edgeauth: revocation store full")

// CutoffSecond is the whole-second cutoff a store records for a ban issued
// at before, rounded up: iat has whole seconds, so a ban at 12:00:00.7 must
// reject a token with iat 12:00:00.
func CutoffSecond(before time.Time) int64 {
	s := before.Unix()
	if before.Nanosecond() != 0 {
		s++
	}
	return s
}

// CollapseCutoff is the cutoff, in Unix seconds, that replaces a user's
// denylisted sessions at now: the next whole second, so that every session
// signed in up to now (sign-in times have whole seconds) is rejected,
// including each one the denylist held.
func CollapseCutoff(now time.Time) int64 { return now.Unix() + 1 }

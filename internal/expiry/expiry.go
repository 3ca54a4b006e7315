// Package expiry holds the clock rules of JWT expiry that the codec and the
// token cache share, so that a cached token expires exactly when decoding
// it again would fail.
package expiry

import "time"

// Tolerance resolves a ClockTolerance setting: zero means def, a negative
// value none.
func Tolerance(setting, def time.Duration) time.Duration {
	switch {
	case setting == 0:
		return def
	case setting < 0:
		return 0
	}
	return setting
}

// Expired reports an exp as jose checks it: with now in whole seconds, a
// token is expired when exp <= now - tolerance.
func Expired(exp, now time.Time, tolerance time.Duration) bool {
	return !exp.After(wholeSeconds(now).Add(-tolerance))
}

// NotYetValid reports an nbf as jose checks it: with now in whole seconds,
// a token is not yet valid when nbf > now + tolerance.
func NotYetValid(nbf, now time.Time, tolerance time.Duration) bool {
	return nbf.After(wholeSeconds(now).Add(tolerance))
}

func wholeSeconds(t time.Time) time.Time { return time.Unix(t.Unix(), 0) }

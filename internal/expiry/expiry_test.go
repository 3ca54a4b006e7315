package expiry

import (
	"testing"
	"time"
)

func TestTolerance(t *testing.T) {
	for _, tc := range []struct{ setting, want time.Duration }{
		{0, 15 * time.Second},
		{-time.Second, 0},
		{3 * time.Second, 3 * time.Second},
	} {
		if got := Tolerance(tc.setting, 15*time.Second); got != tc.want {
			t.Errorf("Tolerance(%v) = %v, want %v", tc.setting, got, tc.want)
		}
	}
}

func TestBoundaries(t *testing.T) {
	now := time.Unix(1000, 900_000_000) // jose reads 1000
	tol := 5 * time.Second
	for _, tc := range []struct {
		exp  time.Time
		want bool
	}{
		{time.Unix(995, 0), true},            // exp == now - tolerance, now read as 1000
		{time.Unix(994, 999_999_999), true},  // before it
		{time.Unix(995, 1), false},           // just after it
		{time.Unix(995, 500_000_000), false}, // the sub-second part of now is ignored
		{time.Unix(0, 0), true},
		{time.Unix(2000, 0), false},
	} {
		if got := Expired(tc.exp, now, tol); got != tc.want {
			t.Errorf("Expired(%v) = %v, want %v", tc.exp.Sub(time.Unix(1000, 0)), got, tc.want)
		}
	}
	for _, tc := range []struct {
		nbf  time.Time
		want bool
	}{
		{time.Unix(1005, 0), false}, // nbf == now + tolerance
		{time.Unix(1005, 1), true},
		{time.Unix(1000, 0), false},
	} {
		if got := NotYetValid(tc.nbf, now, tol); got != tc.want {
			t.Errorf("NotYetValid(%v) = %v, want %v", tc.nbf.Sub(time.Unix(1000, 0)), got, tc.want)
		}
	}
	if !Expired(time.Unix(1000, 0), now, 0) || Expired(time.Unix(1001, 0), now, 0) {
		t.Error("without tolerance, exp must lie after now's whole second")
	}
}

package betterauthtest

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/edgeauth/edgeauth/betterauth"
)

// Request is a GET carrying cookieHeader.
func Request(cookieHeader string) *http.Request {
	r, _ := http.NewRequest(http.MethodGet, "http://localhost/", nil)
	if cookieHeader != "" {
		r.Header.Set("Cookie", cookieHeader)
	}
	return r
}

// Verifier builds a Verifier at the clock now (Unix seconds, 0 for the real
// clock), on the harness's secret unless cfg has its own.
func Verifier(t *testing.T, now int64, cfg betterauth.Config) *betterauth.Verifier {
	t.Helper()
	if cfg.Secrets == nil {
		cfg.Secrets = []string{Secret}
	}
	if now != 0 {
		cfg.Now = func() time.Time { return time.Unix(now, 0) }
	}
	v, err := betterauth.New(cfg)
	require.NoError(t, err)
	return v
}

// Verify verifies the session that cookieHeader carries.
func Verify(t *testing.T, v *betterauth.Verifier, cookieHeader string) (*betterauth.Session, error) {
	t.Helper()
	return v.Verify(Request(cookieHeader))
}

// MintNow is the clock of minted sessions, Unix seconds.
const MintNow = 1_700_000_000

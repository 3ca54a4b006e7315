package betterauth_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/edgeauth/edgeauth/betterauth"
	"github.com/edgeauth/edgeauth/internal/betterauthtest"
)

// harnessSecret is the harness's default BETTER_AUTH_SECRET.
const harnessSecret = betterauthtest.Secret

// mintNow is the clock of minted sessions, Unix seconds.
const mintNow = 1_700_000_000

type response = betterauthtest.Response

var (
	newBA = betterauthtest.New
	sign  = betterauthtest.Sign
)

// request is a GET carrying cookieHeader.
func request(cookieHeader string) *http.Request {
	r, _ := http.NewRequest(http.MethodGet, "http://localhost/", nil)
	if cookieHeader != "" {
		r.Header.Set("Cookie", cookieHeader)
	}
	return r
}

// verifier builds a Verifier at the clock now (Unix seconds).
func verifier(t *testing.T, now int64, cfg betterauth.Config) *betterauth.Verifier {
	t.Helper()
	if cfg.Secrets == nil {
		cfg.Secrets = []string{harnessSecret}
	}
	if now != 0 {
		cfg.Now = func() time.Time { return time.Unix(now, 0) }
	}
	v, err := betterauth.New(cfg)
	require.NoError(t, err)
	return v
}

func verify(t *testing.T, v *betterauth.Verifier, cookieHeader string) (*betterauth.Session, error) {
	t.Helper()
	return v.Verify(request(cookieHeader))
}

package edgeauth

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/edgeauth/edgeauth/internal/sessiontest"
)

// testNow is the tests' present, as unix seconds.
const testNow = 1_800_000_000

func newTestCodec(t testing.TB, cfg CodecConfig) *Codec {
	t.Helper()
	if cfg.Secrets == nil {
		cfg.Secrets = []string{"test-secret"}
	}
	if cfg.Now == nil {
		cfg.Now = fixedClock(testNow)
	}
	c, err := NewCodec(cfg)
	require.NoError(t, err)
	return c
}

// The root package's tests share one settable clock and one cookie jar with
// the other modules' tests (internal/sessiontest).
type clock = sessiontest.Clock

var (
	newClock        = sessiontest.NewClock
	responseCookies = sessiontest.ResponseCookies
	requestCarrying = sessiontest.RequestCarrying
	assertCleared   = sessiontest.AssertCleared
)

// fixedClock is a clock that stands still at unix.
func fixedClock(unix int64) func() time.Time { return newClock(unix).Now }

func memStore(clk *clock) *MemoryStore { return NewMemoryStore(MemoryStoreConfig{Now: clk.Now}) }

func newTestManager(t testing.TB, cfg Config) (*Manager, *clock) {
	t.Helper()
	return newTestManagerAt(t, newClock(testNow), cfg)
}

// newTestManagerAt runs the manager on clk. A MemoryStore in a test must run
// on the same clock (memStore): on the real clock it would drop revocations
// whose expiry, computed on the test clock, is already past in real time.
func newTestManagerAt(t testing.TB, clk *clock, cfg Config) (*Manager, *clock) {
	t.Helper()
	if cfg.Secrets == nil {
		cfg.Secrets = []string{"test-secret"}
	}
	if cfg.Now == nil {
		cfg.Now = clk.Now
	}
	m, err := New(cfg)
	require.NoError(t, err)
	return m, clk
}

// roleCallback copies User.Attributes["role"] into the token on sign-in.
func roleCallback(_ context.Context, p JWTParams) (*Token, error) {
	if p.User != nil {
		if role, ok := p.User.Attributes["role"]; ok {
			if err := p.Token.SetClaim("role", role); err != nil {
				return nil, err
			}
		}
	}
	return p.Token, nil
}

func signIn(t testing.TB, m *Manager, user *User) http.Header {
	t.Helper()
	w := httptest.NewRecorder()
	_, err := m.SignIn(w, httptest.NewRequest("POST", "/login", nil), user)
	require.NoError(t, err)
	return w.Header()
}

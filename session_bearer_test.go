package edgeauth

import (
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeauth/edgeauth/internal/testenv"
)

// sizedToken returns an A256GCM token sealed by c that is exactly n bytes
// long. GCM's ciphertext is as long as the payload, and padding both the
// payload and a header field reaches every length.
func sizedToken(t testing.TB, c *Codec, kid string, n int) string {
	t.Helper()
	seal := func(headerPad, payloadPad int) string {
		extra := map[jose.HeaderKey]any{"pad": strings.Repeat("x", headerPad)}
		return sealRaw(t, c, jose.A256GCM, kid, extra, `{"sub":"bearer","exp":1900000000,"pad":"`+strings.Repeat("x", payloadPad)+`"}`)
	}
	for headerPad := range 4 {
		// Each payload byte adds 4/3 characters.
		approx := (n - len(seal(headerPad, 0))) * 3 / 4
		for payloadPad := max(0, approx-3); payloadPad <= approx+3; payloadPad++ {
			if tok := seal(headerPad, payloadPad); len(tok) == n {
				return tok
			}
		}
	}
	t.Fatalf("no token of %d bytes", n)
	return ""
}

func bearerRequest(token string) *http.Request {
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer "+token)
	return r
}

// A bearer token gets the bound of the session cookies it stands in for:
// MaxChunks × 4096 bytes, the most a browser sends in MaxChunks cookies.
func TestBearerSizeBound(t *testing.T) {
	for _, tc := range []struct {
		maxChunks, limit int
	}{
		{0, 4 * 4096},
		{1, 4096},
		{maxChunksLimit, MaxTokenSize}, // 17 × 4096 would exceed what Decode takes
	} {
		m, _ := newTestManager(t, Config{AllowBearer: true, Cookie: CookieConfig{MaxChunks: tc.maxChunks}})
		kid := m.Codec().keys[0].gcmKid

		s, err := m.Load(bearerRequest(sizedToken(t, m.Codec(), kid, tc.limit)))
		require.NoError(t, err, "a valid token of exactly %d bytes", tc.limit)
		assert.Equal(t, "bearer", s.UserID)
		// Whitespace around the token is not part of it.
		_, err = m.Load(bearerRequest(sizedToken(t, m.Codec(), kid, tc.limit) + "  "))
		require.NoError(t, err)

		_, err = m.Load(bearerRequest(sizedToken(t, m.Codec(), kid, tc.limit+1)))
		assert.ErrorIs(t, err, ErrTooLarge, "a valid token of %d bytes", tc.limit+1)
		assert.ErrorIs(t, err, ErrInvalidToken)
		assert.ErrorIs(t, err, ErrNoSession)
	}
}

// An oversized bearer token is refused before any decoding: it costs a few
// small allocations, against buffers as large as the token and a decryption
// attempt per secret for one just within the bound.
// The allocation counts run without -race (.ci/run's -run Allocat pass).
func TestOversizedBearerAllocatesNoDecode(t *testing.T) {
	m, _ := newTestManager(t, Config{AllowBearer: true, Secrets: []string{"s1", "s2", "s3", "s4"}})
	foreign := newTestCodec(t, CodecConfig{Secrets: []string{"other"}})
	const limit = 4 * 4096
	// Without kid, every secret is tried before the token fails.
	within := bearerRequest(sizedToken(t, foreign, "", limit))
	over := bearerRequest(sizedToken(t, foreign, "", MaxTokenSize))

	_, err := m.Load(within)
	require.ErrorIs(t, err, ErrDecrypt, "a token within the bound is decoded")
	_, err = m.Load(over)
	require.ErrorIs(t, err, ErrTooLarge)
	if testenv.Race {
		t.Skip("allocation counts are meaningless under the race detector")
	}

	withinAllocs, withinBytes := allocsPerLoad(m, within)
	overAllocs, overBytes := allocsPerLoad(m, over)
	t.Logf("within the bound: %.0f allocs, %.0f bytes; over it: %.0f allocs, %.0f bytes",
		withinAllocs, withinBytes, overAllocs, overBytes)
	assert.Greater(t, withinBytes, float64(limit), "decoding allocates at least the token's size")
	assert.LessOrEqual(t, overAllocs, 10.0)
	assert.Less(t, overBytes, 1024.0, "no allocation proportional to the token")
}

// allocsPerLoad is testing.AllocsPerRun for m.Load(r), and the bytes
// allocated per run, measured the same way.
func allocsPerLoad(m *Manager, r *http.Request) (allocs, bytes float64) {
	const runs = 50
	allocs = testing.AllocsPerRun(runs, func() { _, _ = m.Load(r) })
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range runs {
		_, _ = m.Load(r)
	}
	runtime.ReadMemStats(&after)
	return float64(after.Mallocs-before.Mallocs) / runs, float64(after.TotalAlloc-before.TotalAlloc) / runs
}

// BenchmarkBearerOversized is a request with a 64 KiB bearer token without
// kid, against four secrets: refused by size, not by failed decryptions.
func BenchmarkBearerOversized(b *testing.B) {
	m, _ := newTestManager(b, Config{AllowBearer: true, Secrets: []string{"s1", "s2", "s3", "s4"}})
	r := bearerRequest(sizedToken(b, newTestCodec(b, CodecConfig{Secrets: []string{"other"}}), "", MaxTokenSize))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Load(r); err == nil {
			b.Fatal("accepted")
		}
	}
}

// Update never turns a bearer token into a cookie: it fails with
// ErrBearerSession, writes nothing and runs no callback; the same token in a
// cookie updates.
func TestUpdateRefusesBearer(t *testing.T) {
	var updates int
	m, _ := newTestManager(t, Config{AllowBearer: true, Callbacks: Callbacks{JWT: func(_ context.Context, p JWTParams) (*Token, error) {
		if p.Trigger == TriggerUpdate {
			updates++
		}
		return p.Token, nil
	}}})
	h := signIn(t, m, &User{ID: "kim"})
	w := httptest.NewRecorder()
	s, err := m.Update(w, bearerRequest(responseCookies(h)[0].Value), nil)
	assert.Nil(t, s)
	require.ErrorIs(t, err, ErrBearerSession)
	assert.NotErrorIs(t, err, ErrNoSession, "the session is valid, only not a cookie")
	assert.Empty(t, w.Header(), "no Set-Cookie, no header at all")
	assert.Zero(t, updates)

	// The session is still there for reading.
	_, err = m.Load(bearerRequest(responseCookies(h)[0].Value))
	require.NoError(t, err)

	// A cookie wins over the header, and updates.
	r := requestCarrying("POST", "/", h)
	r.Header.Set("Authorization", "Bearer "+responseCookies(h)[0].Value)
	w = httptest.NewRecorder()
	_, err = m.Update(w, r, nil)
	require.NoError(t, err)
	assert.NotEmpty(t, responseCookies(w.Header()))
	assert.Equal(t, 1, updates)

	// No session at all is still ErrNoSession.
	_, err = m.Update(httptest.NewRecorder(), bearerRequest("garbage"), nil)
	assert.ErrorIs(t, err, ErrNoSession)
	assert.NotErrorIs(t, err, ErrBearerSession)
}

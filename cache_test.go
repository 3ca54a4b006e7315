package edgeauth

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"
	"weak"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCacheHoldsOnlyVerifiedTokens(t *testing.T) {
	m, _ := newTestManager(t, Config{})
	bad := httptest.NewRequest("GET", "/", nil)
	bad.AddCookie(&http.Cookie{Name: "authjs.session-token", Value: "eyJhbGciOiJkaXIifQ..x.y.z"})
	for range 3 {
		_, err := m.Load(bad)
		require.ErrorIs(t, err, ErrInvalidToken)
	}
	assert.Zero(t, m.cache.len(), "failures are never cached")
	assert.Equal(t, CacheStats{Misses: 3}, m.CacheStats())

	h := signIn(t, m, &User{ID: "a"})
	s1, err := m.Load(requestCarrying("GET", "/", h))
	require.NoError(t, err)
	s2, err := m.Load(requestCarrying("GET", "/", h))
	require.NoError(t, err)
	assert.Equal(t, 1, m.cache.len())
	assert.Same(t, s1.Token, s2.Token, "the second request is served from the cache")
	assert.Equal(t, CacheStats{Hits: 1, Misses: 4}, m.CacheStats())
}

func TestCacheHitStillChecksExpiryAndRevocation(t *testing.T) {
	clk := newClock(testNow)
	m, _ := newTestManagerAt(t, clk, Config{Store: memStore(clk), MaxAge: time.Hour})
	h := signIn(t, m, &User{ID: "a"})
	_, err := m.Load(requestCarrying("GET", "/", h))
	require.NoError(t, err)
	require.Equal(t, 1, m.cache.len())

	require.NoError(t, m.RevokeUser(context.Background(), "a"))
	_, err = m.Load(requestCarrying("GET", "/", h))
	require.ErrorIs(t, err, ErrRevoked, "a cached token is still checked for revocation")

	other := signIn(t, m, &User{ID: "b"})
	_, err = m.Load(requestCarrying("GET", "/", other))
	require.NoError(t, err)
	clk.Advance(time.Hour + 14*time.Second)
	_, err = m.Load(requestCarrying("GET", "/", other))
	require.NoError(t, err, "inside the clock tolerance")
	before := m.CacheStats()
	clk.Advance(time.Second)
	_, err = m.Load(requestCarrying("GET", "/", other))
	require.ErrorIs(t, err, ErrExpired, "a cached token expires exactly like a decoded one")
	assert.Equal(t, before.Misses+1, m.CacheStats().Misses, "an expired entry is a miss")
}

func TestCacheBoundedAndOptional(t *testing.T) {
	m, _ := newTestManager(t, Config{CacheSize: 5})
	for i := range 20 {
		_, err := m.Load(requestCarrying("GET", "/", signIn(t, m, &User{ID: fmt.Sprint(i)})))
		require.NoError(t, err)
	}
	assert.Equal(t, 5, m.cache.len())

	off, _ := newTestManager(t, Config{CacheSize: -1})
	h := signIn(t, off, &User{ID: "a"})
	s1, err := off.Load(requestCarrying("GET", "/", h))
	require.NoError(t, err)
	s2, err := off.Load(requestCarrying("GET", "/", h))
	require.NoError(t, err)
	assert.NotSame(t, s1.Token, s2.Token)
	assert.Zero(t, off.cache.len())
	assert.Zero(t, off.CacheStats())

	_, err = New(Config{Secrets: []string{"s"}, CacheBytes: -1})
	assert.ErrorIs(t, err, ErrConfig)
}

// What handlers and session callbacks get is theirs to change: the cached
// token and default session never see it, even under -race.
func TestCachedStateIsNotShared(t *testing.T) {
	clk := newClock(testNow)
	m, _ := newTestManagerAt(t, clk, Config{Store: memStore(clk), Callbacks: Callbacks{
		Session: func(_ context.Context, p SessionParams) (*Session, error) {
			p.Token.DeleteClaim("jti")
			_ = p.Token.SetClaim("seen", true)
			p.Session.User["id"] = p.Token.Subject
			return p.Session, nil
		},
	}})
	h := signIn(t, m, &User{ID: "a"})
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				s, err := m.Load(requestCarrying("GET", "/", h))
				if !assert.NoError(t, err) {
					return
				}
				s.User["scribble"] = 1
			}
		}()
	}
	wg.Wait()
	tok, err := m.Codec().Decode(responseCookies(h)[0].Value)
	require.NoError(t, err)
	require.NoError(t, m.RevokeToken(context.Background(), tok))
	_, err = m.Load(requestCarrying("GET", "/", h))
	require.ErrorIs(t, err, ErrRevoked, "the cached token kept its jti")

	plain, _ := newTestManager(t, Config{})
	h2 := signIn(t, plain, &User{ID: "b", Name: "B"})
	s1, err := plain.Load(requestCarrying("GET", "/", h2))
	require.NoError(t, err)
	s1.User["name"] = "changed"
	s2, err := plain.Load(requestCarrying("GET", "/", h2))
	require.NoError(t, err)
	assert.Equal(t, "B", s2.User["name"])
}

// loadBeside loads token sent after padding bytes of other cookies, as a
// browser sends it, and returns the request's Cookie header.
func loadBeside(t testing.TB, m *Manager, token string, padding int) (*Session, string) {
	t.Helper()
	header := "pad=" + strings.Repeat("x", padding) + "; " + m.CookieName() + "=" + token
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Cookie", header)
	s, err := m.Load(r)
	require.NoError(t, err)
	return s, header
}

// The token is a substring of the Cookie header: an entry that kept it
// would keep the whole header (and every other cookie) alive.
func TestCacheKeepsNoRequestMemory(t *testing.T) {
	m, _ := newTestManager(t, Config{Callbacks: Callbacks{JWT: roleCallback}})
	h := signIn(t, m, &User{ID: "a", Name: "Ada", Email: "ada@example.com", Image: "https://example.com/a.png",
		Attributes: map[string]any{"role": "admin"}})
	token := responseCookies(h)[0].Value

	header := func() weak.Pointer[byte] {
		s, header := loadBeside(t, m, token, 32<<10)
		require.Equal(t, "admin", s.Role)
		require.Equal(t, 1, m.cache.len())
		lo := uintptr(unsafe.Pointer(unsafe.StringData(header)))
		inHeader := func(what string, p *byte, n int) {
			if n > 0 {
				at := uintptr(unsafe.Pointer(p))
				assert.False(t, at < lo+uintptr(len(header)) && lo < at+uintptr(n), "%s points into the request", what)
			}
		}
		str := func(what, v string) { inHeader(what, unsafe.StringData(v), len(v)) }
		for key, e := range m.cache.entries.All() {
			str("key", key)
			tok := e.token
			for name, v := range map[string]string{"sub": tok.Subject, "name": tok.Name, "email": tok.Email,
				"picture": tok.Picture, "jti": tok.ID, "UserID": e.session.UserID, "Role": e.session.Role} {
				str(name, v)
			}
			for name, raw := range tok.Claims {
				str("claim name", name)
				inHeader("claim "+name, unsafe.SliceData(raw), len(raw))
			}
			for name, v := range e.session.User {
				switch v := v.(type) {
				case string:
					str("user "+name, v)
				case json.RawMessage:
					inHeader("user "+name, unsafe.SliceData(v), len(v))
				}
			}
		}
		return weak.Make(unsafe.StringData(header))
	}()
	runtime.GC()
	runtime.GC()
	assert.Nil(t, header.Value(), "the cache keeps the request's Cookie header alive")
	_, err := m.Load(requestCarrying("GET", "/", h))
	require.NoError(t, err)
	assert.Equal(t, 1, m.cache.len(), "the copied key still finds the entry")
}

// TestCacheEntryWeightCoversHeap checks the weigher against the heap: what
// an entry is charged is at least what it keeps alive (so CacheBytes is a
// real bound), and not far above it (so the cache holds what it could).
func TestCacheEntryWeightCoversHeap(t *testing.T) {
	if runtime.GOARCH != "amd64" && runtime.GOARCH != "arm64" && runtime.GOARCH != "wasm" {
		t.Skip("entryOverhead was measured with 64-bit pointers")
	}
	type shape struct {
		user func(i int) *User
		jwt  func(context.Context, JWTParams) (*Token, error)
	}
	withClaims := func(claims map[string]any) func(context.Context, JWTParams) (*Token, error) {
		return func(_ context.Context, p JWTParams) (*Token, error) {
			for name, v := range claims {
				require.NoError(t, p.Token.SetClaim(name, v))
			}
			return p.Token, nil
		}
	}
	many := map[string]any{}
	for i := range 20 {
		many[fmt.Sprint("claim", i)] = i
	}
	for name, sh := range map[string]shape{
		"sub only": {user: func(i int) *User { return &User{ID: fmt.Sprint(i)} }},
		"profile": {user: func(i int) *User {
			return &User{ID: fmt.Sprintf("user-%06d", i), Name: "Ada Lovelace", Email: fmt.Sprintf("ada%d@example.com", i),
				Image: "https://example.com/ada.png"}
		}},
		"20 claims":  {user: func(i int) *User { return &User{ID: fmt.Sprint(i)} }, jwt: withClaims(many)},
		"2 KB claim": {user: func(i int) *User { return &User{ID: fmt.Sprint(i)} }, jwt: withClaims(map[string]any{"blob": strings.Repeat("x", 2000)})},
	} {
		t.Run(name, func(t *testing.T) {
			const n = 500
			m, _ := newTestManager(t, Config{CacheSize: 1 << 20, CacheBytes: 1 << 40, Callbacks: Callbacks{JWT: sh.jwt}})
			reqs := make([]*http.Request, n)
			for i := range reqs {
				reqs[i] = requestCarrying("GET", "/", signIn(t, m, sh.user(i)))
			}
			before := liveHeap()
			for _, r := range reqs {
				_, err := m.Load(r)
				require.NoError(t, err)
			}
			after := liveHeap()
			runtime.KeepAlive(reqs)
			require.Equal(t, n, m.cache.len())
			charged := 0
			for key, e := range m.cache.entries.All() {
				charged += entryBytes(key, e.token)
			}
			ratio := float64(charged) / float64(after-before)
			t.Logf("%d bytes kept alive per entry, %d charged (%.2f×)", (after-before)/n, charged/n, ratio)
			assert.GreaterOrEqual(t, ratio, 1.0, "entries keep more alive than they are charged")
			assert.LessOrEqual(t, ratio, 2.0, "entries are charged more than twice what they keep")
		})
	}
}

func liveHeap() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

func TestCacheBoundedInBytes(t *testing.T) {
	const budget = 64 << 10
	m, _ := newTestManager(t, Config{CacheSize: 1 << 20, CacheBytes: budget})
	var charged uint64
	for i := range 200 {
		_, err := m.Load(requestCarrying("GET", "/", signIn(t, m, &User{ID: fmt.Sprint(i), Name: "Ada Lovelace"})))
		require.NoError(t, err)
		if i == 0 {
			charged = m.cache.entries.WeightedSize()
		}
	}
	n := m.cache.len()
	assert.LessOrEqual(t, m.cache.entries.WeightedSize(), uint64(budget))
	assert.Positive(t, n)
	assert.Less(t, n, 200)
	assert.GreaterOrEqual(t, uint64(n), budget/charged-2, "the byte bound, not the entry bound, decides")
}

// A client with credentials can mint tokens and send each once. They must
// not push out the tokens of the users who keep coming back.
func TestCacheFloodKeepsWorkingSet(t *testing.T) {
	const (
		users    = 25
		capacity = 100
		flood    = 15 * capacity
	)
	minter, _ := newTestManager(t, Config{})
	var floodTokens []http.Header
	for i := range flood {
		floodTokens = append(floodTokens, signIn(t, minter, &User{ID: "mallory", Name: fmt.Sprint(i)}))
	}
	for name, cfg := range map[string]Config{
		"entry bound": {CacheSize: capacity},
		// Less than 100 of these tokens are charged.
		"byte bound": {CacheSize: 1 << 20, CacheBytes: capacity * 1200},
	} {
		t.Run(name, func(t *testing.T) {
			m, _ := newTestManager(t, cfg)
			var sessions []http.Header
			for i := range users {
				sessions = append(sessions, signIn(t, m, &User{ID: fmt.Sprint("user", i), Name: "Ada Lovelace"}))
			}
			// A hit returns the token that the cache holds, the one the
			// previous request of the user got.
			held := make([]*Token, users)
			hits, requests := 0, 0
			visit := func(i int) {
				s, err := m.Load(requestCarrying("GET", "/", sessions[i]))
				require.NoError(t, err)
				if s.Token == held[i] {
					hits++
				}
				held[i] = s.Token
				requests++
			}
			for range 4 {
				for i := range users {
					visit(i)
				}
			}
			require.Equal(t, 3*users, hits, "the working set is cached")
			hits, requests = 0, 0
			for i, h := range floodTokens {
				_, err := m.Load(requestCarrying("GET", "/", h))
				require.NoError(t, err)
				if i%10 == 0 {
					visit(i / 10 % users)
				}
			}
			for i := range users {
				visit(i)
			}
			ratio := float64(hits) / float64(requests)
			t.Logf("working set hit ratio during and after a flood of %d tokens: %.3f (%d of %d)", flood, ratio, hits, requests)
			assert.GreaterOrEqual(t, ratio, 0.9)
			assert.LessOrEqual(t, m.cache.len(), capacity)
			assert.LessOrEqual(t, m.cache.entries.WeightedSize(), m.cache.entries.GetMaximum())
		})
	}
}

// Expired entries are reclaimed, on Config.Now, by the maintenance that
// other requests cause: they need not be looked up again.
func TestCacheReclaimsExpired(t *testing.T) {
	// traffic returns how many entries are live afterwards.
	for name, traffic := range map[string]func(t *testing.T, m *Manager, live http.Header) int{
		"a new token": func(t *testing.T, m *Manager, _ http.Header) int {
			_, err := m.Load(requestCarrying("GET", "/", signIn(t, m, &User{ID: "new"})))
			require.NoError(t, err)
			return 2
		},
		"hits on another token": func(t *testing.T, m *Manager, live http.Header) int {
			for range 100 {
				_, err := m.Load(requestCarrying("GET", "/", live))
				require.NoError(t, err)
			}
			return 1
		},
	} {
		t.Run(name, func(t *testing.T) {
			clk := newClock(testNow)
			m, _ := newTestManagerAt(t, clk, Config{MaxAge: time.Hour})
			for i := range 10 {
				_, err := m.Load(requestCarrying("GET", "/", signIn(t, m, &User{ID: fmt.Sprint(i)})))
				require.NoError(t, err)
			}
			clk.Advance(30 * time.Minute)
			live := signIn(t, m, &User{ID: "live"})
			_, err := m.Load(requestCarrying("GET", "/", live))
			require.NoError(t, err)
			require.Equal(t, 11, m.cache.entries.EstimatedSize())

			// Past the first ten tokens' exp, the clock tolerance and the
			// second the cache adds.
			clk.Advance(30*time.Minute + DefaultClockTolerance + 2*time.Second)
			want := traffic(t, m, live)
			assert.Equal(t, want, m.cache.entries.EstimatedSize(), "the expired entries are gone")
			_, _, ok := m.cache.get(responseCookies(live)[0].Value)
			assert.True(t, ok, "the live token stays")
		})
	}
}

// The cache has no goroutine of its own: nothing outlives a Manager, and
// nothing needs stopping.
func TestCacheStartsNoGoroutine(t *testing.T) {
	managers := make([]*Manager, 20)
	for i := range managers {
		managers[i], _ = newTestManager(t, Config{})
		_, err := managers[i].Load(requestCarrying("GET", "/", signIn(t, managers[i], &User{ID: "a"})))
		require.NoError(t, err)
	}
	stacks := make([]byte, 1<<20)
	require.Eventually(t, func() bool {
		return !strings.Contains(string(stacks[:runtime.Stack(stacks, true)]), "maypok86/otter")
	}, 5*time.Second, time.Millisecond, "a cache goroutine is still running")
	runtime.KeepAlive(managers)
}

// Past year 2262 the cache's own clock saturates; exp is still checked
// exactly on every hit.
func TestCacheFarFutureClock(t *testing.T) {
	clk := newClock(time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC).Unix())
	m, _ := newTestManagerAt(t, clk, Config{MaxAge: time.Hour})
	h := signIn(t, m, &User{ID: "a"})
	s1, err := m.Load(requestCarrying("GET", "/", h))
	require.NoError(t, err)
	s2, err := m.Load(requestCarrying("GET", "/", h))
	require.NoError(t, err)
	assert.Same(t, s1.Token, s2.Token, "served from the cache")
	clk.Advance(2 * time.Hour)
	_, err = m.Load(requestCarrying("GET", "/", h))
	assert.ErrorIs(t, err, ErrExpired)

	// More than 292 years after New, the cache's clock saturates: tokens
	// still load, and still expire.
	for range 2 {
		clk.Advance(150 * 365 * 24 * time.Hour)
	}
	h = signIn(t, m, &User{ID: "b"})
	for range 3 {
		_, err = m.Load(requestCarrying("GET", "/", h))
		require.NoError(t, err)
	}
	clk.Advance(2 * time.Hour)
	_, err = m.Load(requestCarrying("GET", "/", h))
	assert.ErrorIs(t, err, ErrExpired)
}

// A clock that panics inside the cache's maintenance is reported to
// Config.Logger, and is nowhere else silent.
func TestCacheReportsToLogger(t *testing.T) {
	var buf strings.Builder
	var panicking atomic.Bool
	now := func() time.Time {
		if panicking.Load() {
			panic("clock broken")
		}
		return time.Unix(testNow, 0)
	}
	c, err := newTokenCache(10, 0, now, 0, slog.New(slog.NewTextHandler(&buf, nil)))
	require.NoError(t, err)
	c.put("token", &cacheEntry{token: &Token{Expires: time.Unix(testNow+60, 0)}})
	panicking.Store(true)
	c.entries.CleanUp()
	assert.Contains(t, buf.String(), `level=ERROR msg="edgeauth: cache: Clock panicked during maintenance"`)
}

// BenchmarkCacheHit is the cache's share of a warm request: one lookup of a
// token it holds, on one goroutine and on all.
func BenchmarkCacheHit(b *testing.B) {
	m, _ := newTestManager(b, Config{})
	token := responseCookies(signIn(b, m, &User{ID: "5f2b8c9e-1d4a-4b7e-9c3f-2a6d8e0b1c4f", Name: "Ada Lovelace"}))[0].Value
	_, _ = loadBeside(b, m, token, 0)
	hit := func() {
		if _, _, ok := m.cache.get(token); !ok {
			b.Fatal("miss")
		}
	}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			hit()
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				hit()
			}
		})
	})
}

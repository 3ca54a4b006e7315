package redisstore

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeauth/edgeauth/internal/redistest"
)

// logRecorder is a slog.Handler that keeps every record.
type logRecorder struct {
	mu      sync.Mutex
	records []slog.Record
}

func (h *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (h *logRecorder) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *logRecorder) WithGroup(string) slog.Handler            { return h }
func (h *logRecorder) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.records = append(h.records, r.Clone())
	return nil
}

// logged returns the records as level, message and attributes.
func (h *logRecorder) logged() []loggedRecord {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []loggedRecord
	for _, r := range h.records {
		rec := loggedRecord{Level: r.Level, Message: r.Message, Attrs: map[string]string{}}
		r.Attrs(func(a slog.Attr) bool {
			rec.Attrs[a.Key] = a.Value.String()
			return true
		})
		out = append(out, rec)
	}
	return out
}

type loggedRecord struct {
	Level   slog.Level
	Message string
	Attrs   map[string]string
}

// firstUseLogs starts a redis-server with config, uses a store on it twice, and returns
// what the store logged.
func firstUseLogs(t *testing.T, config ...string) []loggedRecord {
	t.Helper()
	rec := &logRecorder{}
	s := New(newClient(t, redistest.Start(t, config...)), Options{Logger: slog.New(rec)})
	useStore(t, s)
	useStore(t, s)
	return rec.logged()
}

// useStore runs every operation once, as the first use may be any of them.
func useStore(t *testing.T, s *Store) {
	t.Helper()
	ctx := context.Background()
	exp := time.Now().Add(time.Hour)
	_, _, err := s.Check(ctx, "sid", "user")
	require.NoError(t, err)
	require.NoError(t, s.RevokeSession(ctx, "user", "sid", exp))
	require.NoError(t, s.RevokeUser(ctx, "user", time.Now(), exp))
}

func TestEvictionPolicyWarning(t *testing.T) {
	t.Run("evicting server", func(t *testing.T) {
		logged := firstUseLogs(t, "--maxmemory", "64mb", "--maxmemory-policy", "allkeys-lru")
		require.Len(t, logged, 1, "one warning at first use")
		assert.Equal(t, slog.LevelError, logged[0].Level)
		assert.Contains(t, logged[0].Message, "redis can evict revocations")
		assert.Contains(t, logged[0].Message, "noeviction")
		assert.Equal(t, map[string]string{"maxmemory-policy": "allkeys-lru", "maxmemory": "67108864"}, logged[0].Attrs)
	})

	t.Run("non-evicting server", func(t *testing.T) {
		assert.Empty(t, firstUseLogs(t, "--maxmemory", "64mb", "--maxmemory-policy", "noeviction"))
	})

	t.Run("CONFIG refused", func(t *testing.T) {
		logged := firstUseLogs(t, "--rename-command", "CONFIG", "")
		require.Len(t, logged, 1, "one warning at first use")
		assert.Equal(t, slog.LevelWarn, logged[0].Level)
		assert.Contains(t, logged[0].Message, "cannot read the redis eviction policy")
		assert.Contains(t, logged[0].Attrs["error"], "unknown command")
	})

	// Every policy, set at run time on one server: only noeviction, or no memory limit,
	// keeps revocations.
	t.Run("policies", func(t *testing.T) {
		addr := redistest.Start(t)
		client := newClient(t, addr)
		ctx := context.Background()
		for _, tc := range []struct {
			maxMemory, policy string
			evicts            bool
		}{
			{"0", "noeviction", false},
			{"0", "allkeys-lru", false},
			{"64mb", "noeviction", false},
			{"64mb", "allkeys-lru", true},
			{"64mb", "allkeys-lfu", true},
			{"64mb", "allkeys-random", true},
			{"64mb", "volatile-lru", true},
			{"64mb", "volatile-lfu", true},
			{"64mb", "volatile-random", true},
			{"64mb", "volatile-ttl", true},
		} {
			require.NoError(t, client.ConfigSet(ctx, "maxmemory", tc.maxMemory).Err())
			require.NoError(t, client.ConfigSet(ctx, "maxmemory-policy", tc.policy).Err())
			rec := &logRecorder{}
			useStore(t, New(client, Options{Logger: slog.New(rec)}))
			logged := rec.logged()
			if !tc.evicts {
				assert.Empty(t, logged, "%s %s", tc.maxMemory, tc.policy)
				continue
			}
			if assert.Len(t, logged, 1, "%s %s", tc.maxMemory, tc.policy) {
				assert.Equal(t, slog.LevelError, logged[0].Level)
				assert.Equal(t, tc.policy, logged[0].Attrs["maxmemory-policy"])
			}
		}
	})

	t.Run("unreachable server is checked later", func(t *testing.T) {
		srv := redistest.StartServer(t, "--maxmemory", "64mb", "--maxmemory-policy", "volatile-ttl")
		rec := &logRecorder{}
		s := New(newClient(t, srv.Addr()), Options{Logger: slog.New(rec)})
		srv.Stop(t)
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		_, _, err := s.Check(ctx, "sid", "user")
		cancel()
		require.Error(t, err)
		assert.Empty(t, rec.logged(), "no answer, no verdict")

		srv.Restart(t)
		// The restarted server has the same configuration.
		require.Eventually(t, func() bool {
			_, _, err := s.Check(context.Background(), "sid", "user")
			return err == nil
		}, 5*time.Second, 20*time.Millisecond)
		logged := rec.logged()
		require.Len(t, logged, 1)
		assert.Equal(t, "volatile-ttl", logged[0].Attrs["maxmemory-policy"])
	})

	t.Run("nil logger means slog.Default", func(t *testing.T) {
		addr := redistest.Start(t, "--maxmemory", "64mb", "--maxmemory-policy", "allkeys-lru")
		s := New(newClient(t, addr), Options{})
		rec := &logRecorder{}
		defer slog.SetDefault(slog.Default())
		slog.SetDefault(slog.New(rec))
		useStore(t, s)
		logged := rec.logged()
		require.Len(t, logged, 1)
		assert.Equal(t, slog.LevelError, logged[0].Level)
	})
}

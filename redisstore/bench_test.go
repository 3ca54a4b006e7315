package redisstore

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/edgeauth/edgeauth/internal/redistest"
)

// BenchmarkCheck times a check of a session that is not revoked: a round trip to a
// loopback Redis, and a warm check with the local cache.
func BenchmarkCheck(b *testing.B) {
	ctx := context.Background()
	addr := redistest.Start(b)
	for _, bc := range []struct {
		name  string
		cache *LocalCache
	}{{"RoundTrip", nil}, {"LocalCache", &LocalCache{}}} {
		b.Run(bc.name, func(b *testing.B) {
			client := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true})
			defer client.Close()
			s := New(client, Options{LocalCache: bc.cache})
			defer s.Close()
			if s.cache != nil {
				for !tracked(s) {
					time.Sleep(time.Millisecond)
				}
			}
			if _, _, err := s.Check(ctx, "sid", "user"); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if revoked, _, err := s.Check(ctx, "sid", "user"); err != nil || revoked {
					b.Fatal(revoked, err)
				}
			}
		})
	}
}

// BenchmarkPropagation measures how long a ban made on one instance takes to be seen by
// another instance whose check of the user is warm in its local cache: from the start of
// RevokeUser on one store to the first check on the other that returns the cutoff
// (Redis's invalidation, then the other store's round trip). It reports the median, the
// 99th percentile and the maximum over b.N bans, on a single Redis and on a cluster of
// three masters.
func BenchmarkPropagation(b *testing.B) {
	b.Run("Redis", func(b *testing.B) {
		addr := redistest.Start(b)
		newClient := func() redis.UniversalClient {
			return redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true})
		}
		benchPropagation(b, newClient(), newClient())
	})
	b.Run("Cluster", func(b *testing.B) {
		cluster := redistest.StartCluster(b, 3)
		newClient := func() redis.UniversalClient {
			c, err := NewClientFromURL(cluster.URL())
			if err != nil {
				b.Fatal(err)
			}
			return c
		}
		benchPropagation(b, newClient(), newClient())
	})
}

func benchPropagation(b *testing.B, clientA, clientB redis.UniversalClient) {
	ctx := context.Background()
	defer clientA.Close()
	defer clientB.Close()
	a := New(clientA, Options{LocalCache: &LocalCache{}})
	defer a.Close()
	other := New(clientB, Options{LocalCache: &LocalCache{}})
	defer other.Close()
	for !tracked(a) || !tracked(other) {
		time.Sleep(time.Millisecond)
	}
	var latencies []time.Duration
	exp := time.Now().Add(time.Hour)
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		user := fmt.Sprint("user-", i)
		// Warm: the next check is a cache hit.
		for {
			if _, _, err := other.Check(ctx, "sid", user); err != nil {
				b.Fatal(err)
			}
			if _, ok := other.cache.get(checkKey{user, "sid"}, time.Now()); ok {
				break
			}
		}
		b.StartTimer()
		start := time.Now()
		if err := a.RevokeUser(ctx, user, start, exp); err != nil {
			b.Fatal(err)
		}
		for {
			_, cutoff, err := other.Check(ctx, "sid", user)
			if err != nil {
				b.Fatal(err)
			}
			if !cutoff.IsZero() {
				break
			}
		}
		latencies = append(latencies, time.Since(start))
	}
	slices.Sort(latencies)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(latencies[len(latencies)/2]), "p50-ms")
	b.ReportMetric(ms(latencies[len(latencies)*99/100]), "p99-ms")
	b.ReportMetric(ms(latencies[len(latencies)-1]), "max-ms")
}

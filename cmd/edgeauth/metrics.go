package main

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/edgeauth/edgeauth"
)

// endpoint is where a decision was made: the reverse proxy or the
// forward-auth endpoint.
type endpoint int

const (
	endpointProxy endpoint = iota
	endpointForwardAuth
	numEndpoints
)

func (e endpoint) String() string {
	if e == endpointForwardAuth {
		return "forward_auth"
	}
	return "proxy"
}

// outcome is what a decision came to.
type outcome int

const (
	outcomeAllowed         outcome = iota // passed with a session
	outcomeAnonymous                      // passed without one (public or unguarded path)
	outcomeUnauthenticated                // 401, or the login redirect
	outcomeForbidden                      // 403, or the unauthorized redirect
	outcomeBadRequest                     // a forward-auth request naming no usable original request
	numOutcomes
)

var outcomeNames = [numOutcomes]string{"allowed", "anonymous", "unauthenticated", "forbidden", "bad_request"}

// latencyBuckets span a cached check (microseconds) to a revocation check
// stuck until its timeout (the default is 500 ms).
var latencyBuckets = []float64{
	0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005,
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
}

// gatewayMetrics are the gateway's Prometheus metrics, in a registry of its
// own served only on metricsListen. Per-request series are resolved once,
// so a request pays for no label lookups.
type gatewayMetrics struct {
	registry *prometheus.Registry

	decisions      [numEndpoints][numOutcomes]prometheus.Counter
	latency        [numEndpoints]prometheus.Observer
	storeErrors    map[string]prometheus.Counter
	upstreamErrors map[string]prometheus.Counter
	reloads        map[bool]prometheus.Counter

	// Cache counts of managers replaced by reloads, so that the totals never
	// go backwards.
	retiredHits, retiredMisses atomic.Uint64
}

// newGatewayMetrics registers the metrics; cache reads the current
// manager's cache counts.
func newGatewayMetrics(cache func() edgeauth.CacheStats) *gatewayMetrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	m := &gatewayMetrics{registry: reg}

	decisions := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "edgeauth_decisions_total",
		Help: "Access decisions by endpoint (proxy, forward_auth) and outcome (allowed, anonymous, unauthenticated, forbidden, bad_request).",
	}, []string{"endpoint", "outcome"})
	latency := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "edgeauth_decision_duration_seconds",
		Help:    "Time to decide a request: session cookie, cache, revocation check and rules.",
		Buckets: latencyBuckets,
	}, []string{"endpoint"})
	for e := range numEndpoints {
		for o := range numOutcomes {
			m.decisions[e][o] = decisions.WithLabelValues(e.String(), outcomeNames[o])
		}
		m.latency[e] = latency.WithLabelValues(e.String())
	}

	storeErrors := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "edgeauth_revocation_store_errors_total",
		Help: "Failed or timed-out calls to the revocation store, by operation (check, revoke_session, revoke_user).",
	}, []string{"op"})
	m.storeErrors = map[string]prometheus.Counter{}
	for _, op := range []string{"check", "revoke_session", "revoke_user"} {
		m.storeErrors[op] = storeErrors.WithLabelValues(op)
	}

	upstreamErrors := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "edgeauth_upstream_errors_total",
		Help: "Proxied requests the upstream did not answer, by kind (error: 502, timeout: 504).",
	}, []string{"kind"})
	m.upstreamErrors = map[string]prometheus.Counter{
		"error":   upstreamErrors.WithLabelValues("error"),
		"timeout": upstreamErrors.WithLabelValues("timeout"),
	}

	reloads := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "edgeauth_config_reloads_total",
		Help: "Configuration reloads (SIGHUP) by result (success, failure).",
	}, []string{"result"})
	m.reloads = map[bool]prometheus.Counter{
		true:  reloads.WithLabelValues("success"),
		false: reloads.WithLabelValues("failure"),
	}

	hits := prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "edgeauth_session_cache_hits_total",
		Help: "Session checks answered from the verified-token cache (no decryption).",
	}, func() float64 { return float64(m.retiredHits.Load() + cache().Hits) })
	misses := prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "edgeauth_session_cache_misses_total",
		Help: "Session checks that had to decrypt the token (or found it expired).",
	}, func() float64 { return float64(m.retiredMisses.Load() + cache().Misses) })

	reg.MustRegister(decisions, latency, storeErrors, upstreamErrors, reloads, hits, misses)
	return m
}

// decided records one decision.
func (m *gatewayMetrics) decided(e endpoint, o outcome, start time.Time) {
	m.decisions[e][o].Inc()
	m.latency[e].Observe(time.Since(start).Seconds())
}

// retire adds the cache counts of a manager that a reload replaced.
func (m *gatewayMetrics) retire(s edgeauth.CacheStats) {
	m.retiredHits.Add(s.Hits)
	m.retiredMisses.Add(s.Misses)
}

// meteredStore counts the errors of a revocation store.
type meteredStore struct {
	next    edgeauth.Store
	metrics *gatewayMetrics
}

func (s meteredStore) count(op string, err error) error {
	if err != nil {
		s.metrics.storeErrors[op].Inc()
	}
	return err
}

func (s meteredStore) RevokeSession(ctx context.Context, userID, sessionID string, exp time.Time) error {
	return s.count("revoke_session", s.next.RevokeSession(ctx, userID, sessionID, exp))
}

func (s meteredStore) RevokeUser(ctx context.Context, userID string, before, keepUntil time.Time) error {
	return s.count("revoke_user", s.next.RevokeUser(ctx, userID, before, keepUntil))
}

// CheckCached passes the store's answers from memory on (see
// edgeauth.CachedChecker); they make no call that could fail.
func (s meteredStore) CheckCached(sessionID, userID string) (revoked bool, cutoff time.Time, ok bool) {
	if c, is := s.next.(edgeauth.CachedChecker); is {
		return c.CheckCached(sessionID, userID)
	}
	return false, time.Time{}, false
}

func (s meteredStore) Check(ctx context.Context, sessionID, userID string) (bool, time.Time, error) {
	revoked, cutoff, err := s.next.Check(ctx, sessionID, userID)
	return revoked, cutoff, s.count("check", err)
}

package main

import (
	"cmp"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/edgeauth/edgeauth"
	"github.com/edgeauth/edgeauth/betterauth"
	"github.com/edgeauth/edgeauth/internal/nostore"
	"github.com/edgeauth/edgeauth/redisstore"
)

// Paths the gateway answers itself on its main listener.
const (
	healthzPath = "/_edgeauth/healthz"
	authPath    = "/_edgeauth/auth"
)

// maxLoggedPath bounds the request path in a log line.
const maxLoggedPath = 512

// gateway is "edgeauth proxy": one configuration in force at a time
// (state), replaced whole by a reload.
type gateway struct {
	configPath string
	flags      proxyFlags
	env        func(string) string

	logger  *slog.Logger
	level   *slog.LevelVar
	metrics *gatewayMetrics
	// memStore is the revocation store when no redis is configured: the
	// library's in-process store, kept across reloads. Nothing outside the
	// process reaches it (edgeauth revoke needs redis).
	memStore *edgeauth.MemoryStore

	state    atomic.Pointer[state]
	reloadMu sync.Mutex
	draining atomic.Bool
}

// state is one loaded configuration with everything built from it.
type state struct {
	g          *gateway
	cfg        *gatewayConfig
	m          *edgeauth.Manager
	redis      redis.UniversalClient  // nil without redis
	store      *redisstore.Store      // the revocation store on redis, with its local cache; nil otherwise
	transport  *http.Transport        // nil in forward-auth-only mode
	rp         *httputil.ReverseProxy // nil in forward-auth-only mode
	proxy      http.Handler           // the middleware around rp; nil without upstream
	auth       http.Handler           // the middleware around the forward-auth answer
	identity   []string               // canonical identity header names, sent on every forward-auth 200
	cookieName string
	cacheName  string // Better Auth's cookie cache; "" for Auth.js
}

// requestInfo travels in the request context from the gateway, through the
// library's middleware, to the gateway's next handler or ErrorHandler.
type requestInfo struct {
	start    time.Time
	endpoint endpoint
}

type requestInfoKey struct{}

func infoFrom(ctx context.Context) *requestInfo {
	if ri, ok := ctx.Value(requestInfoKey{}).(*requestInfo); ok {
		return ri
	}
	return &requestInfo{start: time.Now()}
}

// newGateway loads the configuration and builds the first state. Logs go
// to logOut.
func newGateway(path string, flags proxyFlags, env func(string) string, logOut io.Writer) (*gateway, error) {
	cfg, err := loadGatewayConfig(path, flags, env)
	if err != nil {
		return nil, err
	}
	g := &gateway{
		configPath: path,
		flags:      flags,
		env:        env,
		level:      new(slog.LevelVar),
		memStore:   edgeauth.NewMemoryStore(edgeauth.MemoryStoreConfig{}),
	}
	g.level.Set(cfg.logLevel)
	opts := &slog.HandlerOptions{Level: g.level}
	if cfg.file.LogFormat == "text" {
		g.logger = slog.New(slog.NewTextHandler(logOut, opts))
	} else {
		g.logger = slog.New(slog.NewJSONHandler(logOut, opts))
	}
	g.metrics = newGatewayMetrics(func() edgeauth.CacheStats {
		if st := g.state.Load(); st != nil {
			return st.m.CacheStats()
		}
		return edgeauth.CacheStats{}
	})
	st, err := g.build(cfg, nil)
	if err != nil {
		return nil, err
	}
	g.state.Store(st)
	return g, nil
}

// build makes a state from cfg, sharing prev's Redis client and upstream
// transport when their settings did not change.
func (g *gateway) build(cfg *gatewayConfig, prev *state) (*state, error) {
	st := &state{g: g, cfg: cfg}
	lib := cfg.lib
	lib.Logger = g.logger
	lib.ErrorHandler = st.rejected
	if cfg.hasRedis() {
		if prev != nil && prev.redis != nil && prev.cfg.file.Redis == cfg.file.Redis {
			st.redis = prev.redis
		} else {
			st.redis = cfg.newRedisClient()
		}
	}
	switch {
	case cfg.betterAuth != nil:
		v, err := st.betterAuthVerifier()
		if err != nil {
			st.closeRedisUnlessShared(prev)
			return nil, err
		}
		lib.Source = v
		st.cookieName, st.cacheName = v.CookieNames()
	case st.redis != nil:
		// The local cache answers warm checks without a round trip; Redis's
		// invalidations keep it current, and a lost connection empties it.
		st.store = redisstore.New(st.redis, redisstore.Options{
			Prefix:     cfg.file.RedisPrefix,
			Logger:     g.logger,
			LocalCache: &redisstore.LocalCache{},
		})
		lib.Store = meteredStore{next: st.store, metrics: g.metrics}
	default:
		lib.Store = g.memStore
	}
	m, err := edgeauth.New(lib)
	if err != nil {
		// resolveConfig built the same Config; this is not expected.
		st.closeRedisUnlessShared(prev)
		return nil, err
	}
	st.m = m
	if cfg.betterAuth == nil {
		st.cookieName = m.CookieName()
	}
	st.identity = identityHeaders(cfg.file)
	st.auth = m.Handler(http.HandlerFunc(st.authAllowed))
	if cfg.upstream != nil {
		if prev != nil && prev.transport != nil && prev.cfg.file.UpstreamTimeout == cfg.file.UpstreamTimeout {
			st.transport = prev.transport
		} else {
			st.transport = newUpstreamTransport(cfg.file.UpstreamTimeout)
		}
		st.rp = &httputil.ReverseProxy{
			Rewrite:      st.rewrite,
			Transport:    st.transport,
			ErrorHandler: st.upstreamFailed,
			ErrorLog:     slog.NewLogLogger(g.logger.Handler(), slog.LevelWarn),
		}
		st.proxy = m.Handler(http.HandlerFunc(st.proxyAllowed))
	}
	return st, nil
}

// identityHeaders lists the configured identity header names, canonical.
func identityHeaders(file proxyConfig) []string {
	names := []string{
		http.CanonicalHeaderKey(cmp.Or(file.UserIDHeader, "x-user-id")),
		http.CanonicalHeaderKey(cmp.Or(file.RoleHeader, "x-user-role")),
	}
	var claims []string
	for h := range file.ClaimHeaders {
		claims = append(claims, http.CanonicalHeaderKey(h))
	}
	slices.Sort(claims)
	return append(names, claims...)
}

// retire releases what st holds and next does not share. Decisions that
// started on st may still use its Redis client, for at most its
// revocation timeout, so the client closes after that.
func (st *state) retire(next *state) {
	st.g.metrics.retire(st.m.CacheStats())
	if st.transport != nil && st.transport != next.transport {
		st.transport.CloseIdleConnections()
	}
	if st.redis != nil {
		timeout := cmp.Or(st.cfg.lib.RevocationTimeout, edgeauth.DefaultRevocationTimeout)
		if ba := st.cfg.betterAuth; ba != nil {
			timeout = cmp.Or(ba.LookupTimeout, betterauth.DefaultLookupTimeout)
		}
		store, client := st.store, st.redis
		shared := client == next.redis
		time.AfterFunc(timeout+5*time.Second, func() {
			_ = store.Close() // its local cache is this state's own
			if !shared {
				_ = client.Close()
			}
		})
	}
}

// closeRedisUnlessShared closes st's store, always its own, and its Redis
// client unless prev shares it.
func (st *state) closeRedisUnlessShared(prev *state) {
	_ = st.store.Close()
	if st.redis != nil && (prev == nil || prev.redis != st.redis) {
		_ = st.redis.Close()
	}
}

// ServeHTTP is the main listener: health, forward-auth, and the reverse
// proxy for everything else.
func (g *gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	st := g.state.Load()
	switch p := r.URL.Path; {
	case p == healthzPath:
		nostore.Set(w.Header())
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "ok\n")
	case p == authPath || strings.HasPrefix(p, authPath+"/"):
		st.serveForwardAuth(w, r)
	case st.proxy != nil:
		ctx := context.WithValue(r.Context(), requestInfoKey{}, &requestInfo{start: time.Now(), endpoint: endpointProxy})
		st.proxy.ServeHTTP(w, r.WithContext(ctx))
	default:
		http.NotFound(w, r)
	}
}

// rejected is the library's ErrorHandler for both endpoints: it counts and
// logs the rejection, then answers. The reverse proxy answers as the
// middleware does (303 to the login page for browsers, 401/403 otherwise);
// forward-auth never redirects (nginx would take a 303 for an error): the
// redirect target goes in X-Edgeauth-Location for the proxy to use.
func (st *state) rejected(w http.ResponseWriter, r *http.Request, status int, err error) {
	info := infoFrom(r.Context())
	h := w.Header()
	if info.endpoint == endpointForwardAuth {
		h.Del("Set-Cookie")
		if loc := h.Get("Location"); loc != "" {
			h.Del("Location")
			h.Set("X-Edgeauth-Location", loc)
		}
		if status == http.StatusSeeOther {
			status = http.StatusUnauthorized
			if errors.Is(err, edgeauth.ErrForbidden) {
				status = http.StatusForbidden
			}
		}
	}
	o := outcomeUnauthenticated
	switch {
	case status == http.StatusBadRequest:
		o = outcomeBadRequest
	case status == http.StatusForbidden || errors.Is(err, edgeauth.ErrForbidden):
		o = outcomeForbidden
	}
	st.g.metrics.decided(info.endpoint, o, info.start)
	st.g.logRejected(r.Context(), info.endpoint, r, status, rejectReason(err), err)
	edgeauth.DefaultErrorHandler(w, r, status, err)
}

// rejectReason names why a request was rejected, for logs: from sentinel
// errors only.
func rejectReason(err error) string {
	switch {
	case errors.Is(err, edgeauth.ErrForbidden):
		return "role"
	case errors.Is(err, edgeauth.ErrRevoked), errors.Is(err, betterauth.ErrRevoked):
		return "revoked"
	case errors.Is(err, edgeauth.ErrRevocationUnavailable), errors.Is(err, betterauth.ErrUnavailable):
		return "revocation_unavailable"
	case errors.Is(err, edgeauth.ErrExpired), errors.Is(err, betterauth.ErrExpired):
		return "expired"
	case errors.Is(err, betterauth.ErrInvalidCookie):
		return "invalid_token"
	case errors.Is(err, edgeauth.ErrNotYetValid):
		return "not_yet_valid"
	case errors.Is(err, edgeauth.ErrInvalidToken):
		return "invalid_token"
	case errors.Is(err, edgeauth.ErrCallback), errors.Is(err, edgeauth.ErrSessionEnded):
		return "session_ended"
	case errors.Is(err, errNoOriginal):
		return "no_original_request"
	case errors.Is(err, errConflictingOriginal):
		return "conflicting_original_request"
	case errors.Is(err, errBadOriginal):
		return "bad_original_request"
	}
	return "no_session"
}

// logRejected writes the one info line of a rejected request. The library's
// errors never hold tokens or secrets; the query is left out, since it may.
func (g *gateway) logRejected(ctx context.Context, e endpoint, r *http.Request, status int, reason string, err error) {
	if !g.logger.Enabled(ctx, slog.LevelInfo) {
		return
	}
	attrs := []slog.Attr{
		slog.String("endpoint", e.String()),
		slog.Int("status", status),
		slog.String("reason", reason),
		slog.String("method", r.Method),
		slog.String("path", truncate(r.URL.Path)),
		slog.String("remote", r.RemoteAddr),
	}
	if err != nil {
		attrs = append(attrs, slog.String("detail", err.Error()))
	}
	g.logger.LogAttrs(ctx, slog.LevelInfo, "request rejected", attrs...)
}

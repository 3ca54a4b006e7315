package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/edgeauth/edgeauth/internal/nostore"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/v9"
)

const (
	// readHeaderTimeout bounds slow clients sending headers (slowloris);
	// bodies and responses are not bounded, so that streams can last.
	readHeaderTimeout = 10 * time.Second
	idleTimeout       = 120 * time.Second
	// readyzRedisTimeout bounds the Redis PING of /readyz.
	readyzRedisTimeout = 2 * time.Second
)

// runProxy is "edgeauth proxy".
func runProxy(args []string, stdout, stderr io.Writer, env func(string) string) int {
	fs := flag.NewFlagSet("edgeauth proxy", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	var configPath string
	var check bool
	var flags proxyFlags
	fs.StringVar(&configPath, "config", "", "")
	fs.BoolVar(&check, "check", false, "")
	fs.StringVar(&flags.listen, "listen", "", "")
	fs.StringVar(&flags.upstream, "upstream", "", "")
	fs.StringVar(&flags.metricsListen, "metrics-listen", "", "")
	fs.StringVar(&flags.redis, "redis", "", "")
	fs.StringVar(&flags.logFormat, "log-format", "", "")
	fs.StringVar(&flags.logLevel, "log-level", "", "")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, helpText)
			return exitOK
		}
		return usageError(stderr, redactFlagError(err, nil))
	}
	if fs.NArg() > 0 {
		return usageError(stderr, "proxy takes no arguments")
	}
	if configPath == "" {
		return usageError(stderr, "proxy needs --config FILE")
	}
	g, err := newGateway(configPath, flags, env, stderr)
	if err != nil {
		return fail(stderr, err.Error())
	}
	st := g.state.Load()
	if check {
		fmt.Fprintf(stdout, "%s: OK (%s)\n", configPath, st.summary())
		st.closeRedisUnlessShared(nil)
		return exitOK
	}

	ln, err := net.Listen("tcp", st.cfg.file.Listen)
	if err != nil {
		st.closeRedisUnlessShared(nil)
		return fail(stderr, "listen: "+err.Error())
	}
	var metricsLn net.Listener
	if addr := st.cfg.file.MetricsListen; addr != "" {
		if metricsLn, err = net.Listen("tcp", addr); err != nil {
			ln.Close()
			st.closeRedisUnlessShared(nil)
			return fail(stderr, "metricsListen: "+err.Error())
		}
	}
	// go-redis reports pool trouble through its own global logger; only a
	// serving process sets it.
	redis.SetLogger(redisLogger{g.logger})
	signals := make(chan os.Signal, 4)
	signal.Notify(signals, syscall.SIGHUP, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(signals)
	if err := g.serve(ln, metricsLn, signals); err != nil {
		return exitFail
	}
	return exitOK
}

// summary describes the state for the startup log and --check, without
// secrets.
func (st *state) summary() string {
	mode := "forward-auth only"
	if st.cfg.upstream != nil {
		mode = "reverse proxy to " + st.cfg.upstream.Redacted()
	}
	if ba := st.cfg.betterAuth; ba != nil {
		return fmt.Sprintf("%s; %d rules; cookie %s; Better Auth sessions: %s; secrets: %s",
			mode, len(st.cfg.lib.Rules), st.cookieName, betterAuthSources(ba, st.cfg), st.cfg.secretsFrom)
	}
	store := "in memory"
	if st.cfg.hasRedis() {
		store = "redis " + st.cfg.redisAddr()
	}
	return fmt.Sprintf("%s; %d rules; cookie %s; revocations %s; secrets: %s",
		mode, len(st.cfg.lib.Rules), st.cookieName, store, st.cfg.secretsFrom)
}

// serve runs the main listener (and the metrics listener, if any) until a
// SIGTERM or SIGINT arrives on signals, reloading on SIGHUP. It returns an
// error only when a listener failed.
func (g *gateway) serve(ln, metricsLn net.Listener, signals <-chan os.Signal) error {
	errorLog := slog.NewLogLogger(g.logger.Handler(), slog.LevelWarn)
	srv := &http.Server{
		Handler:           g,
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       idleTimeout,
		ErrorLog:          errorLog,
	}
	served := make(chan error, 2)
	go func() { served <- srv.Serve(ln) }()
	var metricsSrv *http.Server
	metricsAddr := ""
	if metricsLn != nil {
		metricsSrv = &http.Server{
			Handler:           g.metricsHandler(),
			ReadHeaderTimeout: readHeaderTimeout,
			IdleTimeout:       idleTimeout,
			ErrorLog:          errorLog,
		}
		metricsAddr = metricsLn.Addr().String()
		go func() { served <- metricsSrv.Serve(metricsLn) }()
	}
	st := g.state.Load()
	g.logger.Info("edgeauth proxy started",
		"listen", ln.Addr().String(), "metricsListen", metricsAddr, "config", g.configPath, "setup", st.summary())
	if st.redis != nil {
		ctx, cancel := context.WithTimeout(context.Background(), readyzRedisTimeout)
		if err := st.redis.Ping(ctx).Err(); err != nil {
			g.logger.Warn("redis unreachable at start; revocation checks fail until it answers", "error", err.Error())
		}
		cancel()
	}

	var failed error
	for failed == nil {
		select {
		case sig := <-signals:
			if sig == syscall.SIGHUP {
				_ = g.reload()
				continue
			}
			g.logger.Info("shutting down", "signal", sig.String())
			g.shutdown(srv, metricsSrv)
			return nil
		case err := <-served:
			failed = err
		}
	}
	g.logger.Error("listener failed", "error", failed.Error())
	g.shutdown(srv, metricsSrv)
	return failed
}

// shutdown stops accepting connections and lets in-flight requests finish,
// for at most shutdownTimeout; then it closes what is left. Upgraded
// connections (WebSockets) are closed with the process.
func (g *gateway) shutdown(srv, metricsSrv *http.Server) {
	g.draining.Store(true)
	st := g.state.Load()
	ctx, cancel := context.WithTimeout(context.Background(), st.cfg.file.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		g.logger.Warn("shutdown timeout reached; closing the remaining connections", "timeout", st.cfg.file.ShutdownTimeout.String())
		_ = srv.Close()
	}
	if metricsSrv != nil {
		mctx, mcancel := context.WithTimeout(context.Background(), time.Second)
		if metricsSrv.Shutdown(mctx) != nil {
			_ = metricsSrv.Close()
		}
		mcancel()
	}
	if st.redis != nil {
		_ = st.store.Close()
		_ = st.redis.Close()
	}
	g.logger.Info("edgeauth proxy stopped")
}

// reload re-reads the configuration file and AUTH_SECRET_FILE and swaps
// the new state in; in-flight requests finish on the old one and
// connections stay open. On any error the running state stays.
func (g *gateway) reload() error {
	g.reloadMu.Lock()
	defer g.reloadMu.Unlock()
	old := g.state.Load()
	cfg, err := loadGatewayConfig(g.configPath, g.flags, g.env)
	var st *state
	if err == nil {
		st, err = g.build(cfg, old)
	}
	if err != nil {
		g.metrics.reloads[false].Inc()
		g.logger.Error("reload failed; keeping the running configuration", "error", err.Error())
		return err
	}
	for _, f := range []struct{ key, was, now string }{
		{"listen", old.cfg.file.Listen, cfg.file.Listen},
		{"metricsListen", old.cfg.file.MetricsListen, cfg.file.MetricsListen},
		{"logFormat", old.cfg.file.LogFormat, cfg.file.LogFormat},
	} {
		if f.was != f.now {
			g.logger.Warn("changed key needs a restart; keeping the running value", "key", f.key, "running", f.was)
		}
	}
	// The listeners and the log handler stay; so must the values that
	// describe them, for the next reload's comparison.
	cfg.file.Listen, cfg.file.MetricsListen, cfg.file.LogFormat = old.cfg.file.Listen, old.cfg.file.MetricsListen, old.cfg.file.LogFormat
	g.level.Set(cfg.logLevel)
	g.state.Store(st)
	old.retire(st)
	g.metrics.reloads[true].Inc()
	g.logger.Info("configuration reloaded", "setup", st.summary())
	return nil
}

// metricsHandler serves /metrics and /readyz on metricsListen.
func (g *gateway) metricsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(g.metrics.registry, promhttp.HandlerOpts{
		ErrorLog: slog.NewLogLogger(g.logger.Handler(), slog.LevelWarn),
	}))
	mux.HandleFunc("GET /readyz", g.readyz)
	return mux
}

// readyz is 200 while the gateway serves and its Redis, if any, answers;
// 503 once shutdown began, so that load balancers stop sending traffic.
func (g *gateway) readyz(w http.ResponseWriter, r *http.Request) {
	nostore.Set(w.Header())
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if g.draining.Load() {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, "shutting down\n")
		return
	}
	if st := g.state.Load(); st.redis != nil {
		ctx, cancel := context.WithTimeout(r.Context(), readyzRedisTimeout)
		err := st.redis.Ping(ctx).Err()
		cancel()
		if err != nil {
			g.logger.Warn("readyz: redis unreachable", "error", err.Error())
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, "redis unavailable\n")
			return
		}
	}
	_, _ = io.WriteString(w, "ok\n")
}

// redisLogger sends go-redis's own messages (dial failures, pool
// trouble) to the gateway's log at warning level.
type redisLogger struct{ logger *slog.Logger }

func (l redisLogger) Printf(ctx context.Context, format string, v ...any) {
	l.logger.WarnContext(ctx, "redis: "+fmt.Sprintf(format, v...))
}

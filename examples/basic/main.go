// Command basic is a small site protected by edgeauth: a login form, pages
// for signed-in users and admins, the Auth.js session endpoint, and
// revocation (sign out everywhere, an admin ban).
//
//	go run ./examples/basic
//
// Demo users: alice / alice (role admin) and bob / bob (role user).
// Environment: ADDR (default 127.0.0.1:8080), AUTH_SECRET (default: an
// ephemeral random secret), REDIS_URL (default: in-memory revocations; a
// single Redis, redis://host:port/0, or a Redis Cluster,
// redis://host1:port1?addr=host2:port2&addr=host3:port3).
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/redis/go-redis/v9"

	"github.com/edgeauth/edgeauth"
	"github.com/edgeauth/edgeauth/internal/serve"
	"github.com/edgeauth/edgeauth/redisstore"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "basic:", err)
		os.Exit(1)
	}
}

// run serves until ctx is done, then shuts down gracefully.
func run(ctx context.Context, stderr io.Writer) error {
	logger := slog.New(slog.NewTextHandler(stderr, nil))

	addr := os.Getenv("ADDR")
	if addr == "" {
		addr = "127.0.0.1:8080"
	}
	secrets := edgeauth.SecretsFromEnv()
	if len(secrets) == 0 {
		s, err := randomSecret()
		if err != nil {
			return err
		}
		secrets = []string{s}
		logger.Warn("AUTH_SECRET is not set: using an ephemeral random secret; sessions end when the process exits")
	}

	var store edgeauth.Store
	if url := os.Getenv("REDIS_URL"); url != "" {
		client, err := newRedisClient(url)
		if err != nil {
			return err
		}
		defer client.Close()
		rs := newRedisStore(client, logger)
		defer rs.Close()
		store = rs
	}

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	origin := originFor(ln.Addr().String())
	handler, err := newApp(appConfig{
		Secrets: secrets,
		Store:   store,
		Logger:  logger,
		Origin:  origin,
	})
	if err != nil {
		ln.Close()
		return err
	}
	storeName := "memory"
	if store != nil {
		storeName = "redis"
	}
	logger.Info("edgeauth example listening", "url", origin+"/", "revocations", storeName)
	return serve.Run(ctx, serve.New(handler), ln)
}

// originFor is the site's own origin for the address it listens on; an
// unspecified host (":8080", "0.0.0.0:8080") is reached as localhost.
func originFor(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// newRedisClient connects as a redis:// or rediss:// URL says, to a single
// Redis or to a Redis Cluster (see redisstore.NewClientFromURL; options such
// as dial_timeout may be given as query parameters).
func newRedisClient(rawURL string) (redis.UniversalClient, error) {
	client, err := redisstore.NewClientFromURL(rawURL)
	if err != nil {
		// The URL may hold a password: never echo it.
		return nil, errors.New("REDIS_URL is not a valid redis URL")
	}
	return client, nil
}

// newRedisStore keeps warm checks in the process: Redis tells every instance
// about each revocation, so that a request makes no round trip to Redis. The
// store logs, once, if this Redis can evict revocations.
func newRedisStore(client redis.UniversalClient, logger *slog.Logger) *redisstore.Store {
	return redisstore.New(client, redisstore.Options{Logger: logger, LocalCache: &redisstore.LocalCache{}})
}

func randomSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generating a secret: %w", err)
	}
	return base64.StdEncoding.EncodeToString(b), nil
}

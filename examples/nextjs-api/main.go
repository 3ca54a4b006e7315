// Command nextjs-api is a Go API beside a Next.js app that signs users in
// with Auth.js: it reads the app's session cookie, never writes it (the
// Next.js app owns it), and guards each chi route where it is declared.
//
//	AUTH_SECRET=… AUTH_URL=http://localhost:3000 go run ./examples/nextjs-api
//
// Environment: AUTH_SECRET (required, the Next.js app's; AUTH_SECRET_1 … for
// rotation), AUTH_URL (the app's URL; default http://localhost:3000), ADDR
// (default 127.0.0.1:8081). Serve it on the app's site, behind the same
// reverse proxy, so that browsers send it the session cookie.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/edgeauth/edgeauth"
	"github.com/edgeauth/edgeauth/internal/serve"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "nextjs-api:", err)
		os.Exit(1)
	}
}

// run serves until ctx is done.
func run(ctx context.Context, stderr io.Writer) error {
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	secrets := edgeauth.SecretsFromEnv()
	if len(secrets) == 0 {
		return errors.New("AUTH_SECRET is not set: use the Next.js app's")
	}
	authURL := os.Getenv("AUTH_URL")
	if authURL == "" {
		authURL = "http://localhost:3000"
	}
	addr := os.Getenv("ADDR")
	if addr == "" {
		addr = "127.0.0.1:8081"
	}
	h, cookie, err := newAPI(apiConfig{Secrets: secrets, AuthURL: authURL, Logger: logger})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	logger.Info("nextjs-api listening", "url", "http://"+ln.Addr().String(), "app", authURL, "cookie", cookie)
	return serve.Run(ctx, serve.New(h), ln)
}

// Package serve runs the HTTP servers of the example programs: timeouts
// that keep slow or idle clients from holding connections, and a graceful
// shutdown.
package serve

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"
)

// New returns a server for h whose timeouts keep slow or idle clients from
// holding connections open indefinitely.
func New(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      15 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
}

// Run serves srv on ln until ctx is done, then shuts srv down, giving open
// requests 10 s to finish.
func Run(ctx context.Context, srv *http.Server, ln net.Listener) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

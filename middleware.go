package edgeauth

import (
	"context"
	"net/http"
)

// Rule protects the paths matching Pattern.
type Rule struct {
	// Pattern is a Next.js matcher: "/dashboard/:path*", "/settings/:id", "/api/:path+".
	Pattern string
	// Roles, when not empty, admits only sessions whose role is one of them.
	Roles []string
}

type middleware struct{}

func (m *Manager) initMiddleware(cfg Config) error { return nil }

// Handler is a stub until the middleware lands.
func (m *Manager) Handler(next http.Handler) http.Handler { return next }

// FromContext is a stub until the middleware lands.
func FromContext(ctx context.Context) (*Session, error) { return nil, ErrNoSession }

// SafeCallbackURL is a stub until the middleware lands.
func SafeCallbackURL(raw, origin string) string { return "/" }

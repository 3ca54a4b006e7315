package edgeauth

import (
	"context"
	"errors"
)

// NewContext returns a copy of ctx carrying s, for [FromContext] and
// [Manager.Require]. A nil s records that the request was checked and has no
// session: Require then refuses it without verifying a session itself.
func NewContext(ctx context.Context, s *Session) context.Context {
	if ctx == nil {
		ctx = context.Background()
	}
	return context.WithValue(ctx, ctxKey{}, s)
}

// FromContext returns the session [Manager.Handler] or [Manager.Require]
// stored in ctx, or an error that satisfies errors.Is(err, ErrNoSession)
// (behind Handler, wrapping why there is none, such as ErrExpired).
func FromContext(ctx context.Context) (*Session, error) {
	if ctx == nil {
		return nil, ErrNoSession
	}
	switch v := ctx.Value(ctxKey{}).(type) {
	case *Session:
		if v != nil {
			return v, nil
		}
	case *sessionAbsent:
		if errors.Is(v.err, ErrNoSession) {
			return nil, v.err
		}
	}
	return nil, ErrNoSession
}

type ctxKey struct{}

// sessionAbsent is what Handler leaves in the context of a request without a
// session: why, for Require and FromContext.
type sessionAbsent struct{ err error }

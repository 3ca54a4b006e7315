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

// requestContext is what Handler passes to next: NewContext's or the
// absent session's value, with the session or the reason, in one allocation.
type requestContext struct {
	context.Context
	value   any // *Session or *sessionAbsent
	session Session
	absent  sessionAbsent
}

// init sets c up on parent, carrying s (nil: its absence, for reason); a nil
// c is allocated. s may be c's own session.
func (c *requestContext) init(parent context.Context, s *Session, reason error) *requestContext {
	if c == nil {
		c = new(requestContext)
	}
	c.Context = parent
	if s != nil {
		c.value = s
	} else {
		c.absent.err = reason
		c.value = &c.absent
	}
	return c
}

func (c *requestContext) Value(key any) any {
	if _, ok := key.(ctxKey); ok {
		return c.value
	}
	return c.Context.Value(key)
}

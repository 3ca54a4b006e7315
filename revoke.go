package edgeauth

import (
	"cmp"
	"context"
	"fmt"
	"time"

	"github.com/edgeauth/edgeauth/internal/revocation"
)

// Store holds revocations. Implementations must be safe for concurrent use, and must
// account entries per user so that one account cannot fill the store or push out other
// users' revocations (see [MemoryStore]).
type Store interface {
	// RevokeSession denylists one session of userID until exp (userID may be "" for a token
	// without a user id); the entry then disappears by itself. A store may instead raise
	// userID's cutoff to the next whole second after now, which rejects every session of
	// the user that signed in up to now: stricter, never weaker.
	RevokeSession(ctx context.Context, userID, sessionID string, exp time.Time) error
	// RevokeUser rejects every session of userID that signed in before `before`. The entry
	// is kept until keepUntil (the latest expiry any such session can have). A later call
	// with an earlier `before` never lowers the cutoff, nor an earlier keepUntil shortens it.
	RevokeUser(ctx context.Context, userID string, before, keepUntil time.Time) error
	// Check reports, in one round trip, whether sessionID is denylisted and the user's
	// cutoff (zero time when none).
	Check(ctx context.Context, sessionID, userID string) (revoked bool, cutoff time.Time, err error)
}

// cutoffSecond rounds a ban's time up to whole seconds (see revocation.CutoffSecond).
func cutoffSecond(before time.Time) int64 { return revocation.CutoffSecond(before) }

// revokedByCutoff is the rule the manager applies to the cutoff returned by Store.Check:
// a zero cutoff revokes nothing; otherwise a token without auth_time is revoked, and a
// token is revoked when its auth_time (whole seconds) is before the cutoff rounded up to
// whole seconds. Rounding here too keeps the rule correct for stores that return
// unrounded cutoffs. It compares the sign-in time, never iat: every re-issue (Auth.js's
// session endpoint, or an instance whose clock runs ahead) sets a fresh iat.
func revokedByCutoff(authTime, cutoff time.Time) bool {
	if cutoff.IsZero() {
		return false
	}
	if authTime.IsZero() {
		return true
	}
	return authTime.Unix() < cutoffSecond(cutoff)
}

// revocationID is the denylist key of a token: its session id, which every
// copy of the session carries whoever re-encoded it; for a token without
// one (minted by a Next.js app that does not add it), its jti, which only
// edgeauth's re-issues keep.
func revocationID(tok *Token) string { return cmp.Or(tok.SessionID, tok.ID) }

// CachedChecker is an optional interface of a [Store] that can answer some
// checks from memory, without I/O ([MemoryStore] always, the Redis store
// from its local cache): CheckCached answers as Check would, or reports ok
// false, and the manager then calls Check. Answers from memory spare each
// request the RevocationTimeout deadline and its timer.
//
// A Store that embeds a *MemoryStore or a Redis store and overrides Check
// inherits their CheckCached, which the manager then asks instead of the
// override: such a Store must override CheckCached too (reporting ok false
// sends every check to its Check).
type CachedChecker interface {
	CheckCached(sessionID, userID string) (revoked bool, cutoff time.Time, ok bool)
}

// checkRevocation runs after a token verified, so that garbage never
// reaches the store. It fails closed unless RevocationFailOpen is set.
func (m *Manager) checkRevocation(ctx context.Context, tok *Token) error {
	if m.store == nil && m.tokenVersion == nil {
		return nil
	}
	// One RevocationTimeout deadline bounds the store and TokenVersion
	// together, made only when one of them may do I/O.
	bounded, cancel := ctx, context.CancelFunc(nil)
	withDeadline := func() context.Context {
		if cancel == nil {
			bounded, cancel = context.WithTimeout(ctx, m.revocationTimeout)
		}
		return bounded
	}
	defer func() {
		if cancel != nil {
			cancel()
		}
	}()
	userID := tok.StringClaim(m.userIDClaim)
	if m.store != nil {
		revoked, cutoff, ok := false, time.Time{}, false
		if cached, is := m.store.(CachedChecker); is && ctx.Err() == nil {
			revoked, cutoff, ok = cached.CheckCached(revocationID(tok), userID)
		}
		if !ok {
			var err error
			if revoked, cutoff, err = m.store.Check(withDeadline(), revocationID(tok), userID); err != nil {
				return m.revocationFailed(ctx, err)
			}
		}
		if revoked {
			m.log(ctx, "session revoked")
			return fmt.Errorf("%w: session denylisted", ErrRevoked)
		}
		if userID != "" && revokedByCutoff(tok.AuthTime, cutoff) {
			m.log(ctx, "session signed in before the user's revocation cutoff, or without auth_time")
			return fmt.Errorf("%w: signed out everywhere", ErrRevoked)
		}
	}
	if m.tokenVersion != nil {
		current, err := m.lookupVersion(withDeadline(), userID)
		if err != nil {
			return m.revocationFailed(ctx, err)
		}
		var version int64
		if ok, err := tok.Claim(m.versionClaim, &version); !ok || err != nil || version < current {
			m.log(ctx, "token version outdated")
			return fmt.Errorf("%w: token version outdated", ErrRevoked)
		}
	}
	return nil
}

func (m *Manager) lookupVersion(ctx context.Context, userID string) (v int64, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("TokenVersion panicked")
		}
	}()
	return m.tokenVersion(ctx, userID)
}

func (m *Manager) revocationFailed(ctx context.Context, err error) error {
	if m.failOpen {
		m.warn(ctx, "revocation check failed; failing open", "error", err.Error())
		return nil
	}
	m.warn(ctx, "revocation check failed; no session", "error", err.Error())
	return fmt.Errorf("%w: %w", ErrRevocationUnavailable, err)
}

// keepFor is how long after exp a revocation must outlive the token: the
// codec still accepts a token for the clock tolerance past its exp.
func (m *Manager) keepFor() time.Duration { return m.codec.tolerance + time.Second }

// RevokeToken denylists the session tok belongs to: the remedy for a leaked
// cookie, and what [Manager.SignOut] does. The entry is keyed by the
// session id (Token.SessionID), which every copy of the session carries,
// whoever re-encoded it: edgeauth's rolling refreshes and Auth.js's session
// endpoint alike. A token without a session id (minted by a Next.js app
// whose jwt callback does not add one) is keyed by its jti instead, which
// edgeauth's re-issues keep but Auth.js's session endpoint replaces: copies
// Auth.js re-encoded before or after the call are not covered.
//
// The entry lasts until the latest expiry any copy can have: a copy
// refreshed just before this call expires up to MaxAge from now, later than
// tok itself (MaxAge must not be shorter than the issuing app's).
func (m *Manager) RevokeToken(ctx context.Context, tok *Token) error {
	if m.store == nil {
		return ErrNoStore
	}
	if tok == nil || revocationID(tok) == "" || tok.Expires.IsZero() {
		return fmt.Errorf("%w: token without sid, jti or exp", ErrInvalidRevocation)
	}
	until := m.now().Add(m.maxAge)
	if tok.Expires.After(until) {
		until = tok.Expires
	}
	return m.store.RevokeSession(ctx, tok.StringClaim(m.userIDClaim), revocationID(tok), until.Add(m.keepFor()))
}

// RevokeUser signs a user out everywhere: every session of userID signed in
// before now is rejected, by its sign-in time (Token.AuthTime, claim
// "auth_time"), which re-issues keep, so neither a rolling refresh, nor
// Auth.js's session endpoint, nor an instance whose clock runs ahead can
// renew a session past it. Sign-in times have whole seconds: a sign-in later
// in the same second is rejected too. A token without auth_time (minted by a
// Next.js app whose jwt callback does not add it) is rejected for as long as
// the entry lasts, even one minted after this call. Use it to ban a user, or
// for "sign out of all devices"; blocking new sign-ins is the application's
// job. The entry lasts as long as a session signed in before now could live,
// MaxAge from now; MaxAge must not be shorter than the issuing app's.
func (m *Manager) RevokeUser(ctx context.Context, userID string) error {
	if m.store == nil {
		return ErrNoStore
	}
	now := m.now()
	// The cutoff is the next whole second: auth_time has whole seconds, and
	// a session signed in during this second may predate the call.
	cutoff := time.Unix(now.Unix()+1, 0)
	return m.store.RevokeUser(ctx, userID, cutoff, now.Add(m.maxAge+m.keepFor()))
}

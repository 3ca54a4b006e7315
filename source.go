package edgeauth

import (
	"fmt"
	"net/http"
	"time"
)

// Source proves the sessions of another library than Auth.js, such as
// Better Auth (the betterauth package's Verifier is one): set it as
// Config.Source and the Manager takes every session from it instead of the
// Auth.js cookie. Rules, roles, identity headers, [Manager.Check],
// [Manager.Handler], [Manager.Require] and [FromContext] then decide on its
// sessions exactly as on Auth.js's: one decision path whatever proved the
// session, so a rule cannot mean one thing for one library and another
// thing for the other.
//
// A Source only reads: the library that owns its cookies signs in, renews
// and signs out, so a Manager with a Source is read-only (see
// Config.Source). That is also why the Auth.js cookie is not a Source
// itself: its path renews and clears cookies and feeds revocation and the
// callbacks, which a reader cannot; both paths end in the same decision.
// The interface holds standard types only, so that a Source can live in a
// module of its own.
type Source interface {
	// Session returns the verified session of r, or an error when r has
	// none. It must not write to r. The Session is the caller's (handlers
	// may modify it): a new one for each call, with Token nil, UserID and
	// Role set for the identity headers and rules, Expires the session's
	// expiry, and User the user object. The Source checks expiry and
	// revocation itself. Its error reaches the caller (Load, Decision.Err,
	// Config.ErrorHandler) wrapped, and is never logged by the Manager.
	Session(r *http.Request) (*Session, error)
}

// fromSource returns the session of r from the Source, failing closed: an
// error, a panic or a nil session all mean no session, and every error
// satisfies errors.Is(err, ErrNoSession) with the Source's cause kept.
func (m *Manager) fromSource(r *http.Request) (s *Session, err error) {
	defer func() {
		if p := recover(); p != nil {
			m.warn(r.Context(), "session source panicked")
			s, err = nil, noSession(fmt.Errorf("%w: panic", ErrSource))
		}
	}()
	s, err = m.source.Session(r)
	switch {
	case err != nil:
		// The Source's error text is its own and may quote what it read
		// (a token, a store's reply): the log says only that it refused.
		m.log(r.Context(), "session source found no session")
		return nil, noSession(err)
	case s == nil:
		m.warn(r.Context(), "session source returned neither a session nor an error")
		return nil, noSession(fmt.Errorf("%w: no session and no error", ErrSource))
	}
	return s, nil
}

// claim returns the string value of a ClaimHeaders claim: a token claim for
// an Auth.js session, or for a Source's session (which has no token) a
// top-level string field of its user object.
func (s *Session) claim(name string) string {
	if s.Token != nil {
		return s.Token.StringClaim(name)
	}
	v, _ := s.User[name].(string)
	return v
}

// checkSourceConfig refuses a Config that sets Source beside a field only
// the Auth.js cookie uses: such a field would be silently ignored.
func checkSourceConfig(cfg *Config) error {
	for _, f := range []struct {
		name string
		set  bool
	}{
		{"Secrets", cfg.Secrets != nil},
		{"Format", cfg.Format != FormatAuthJS},
		{"Cookie", cfg.Cookie != CookieConfig{}},
		{"MaxAge", cfg.MaxAge != 0},
		{"UpdateAge", cfg.UpdateAge != 0},
		{"ClockTolerance", cfg.ClockTolerance != 0},
		{"UserIDClaim", cfg.UserIDClaim != ""},
		{"RoleClaim", cfg.RoleClaim != ""},
		{"Callbacks", cfg.Callbacks.JWT != nil || cfg.Callbacks.Session != nil},
		{"Events.SignIn", cfg.Events.SignIn != nil},
		{"Events.SignOut", cfg.Events.SignOut != nil},
		{"AllowBearer", cfg.AllowBearer},
		{"Store", cfg.Store != nil},
		{"TokenVersion", cfg.TokenVersion != nil},
		{"VersionClaim", cfg.VersionClaim != ""},
		{"RevocationTimeout", cfg.RevocationTimeout != 0},
		{"RevocationFailOpen", cfg.RevocationFailOpen},
		{"CacheSize", cfg.CacheSize != 0},
		{"CacheBytes", cfg.CacheBytes != 0},
	} {
		if f.set {
			return fmt.Errorf("%w: %s applies to Auth.js cookies only and cannot be set with Source", ErrConfig, f.name)
		}
	}
	return nil
}

// newWithSource builds the read-only Manager of a Config with a Source.
func newWithSource(cfg Config) (*Manager, error) {
	if err := checkSourceConfig(&cfg); err != nil {
		return nil, err
	}
	m := &Manager{
		source:        cfg.Source,
		events:        cfg.Events,
		now:           cfg.Now,
		logger:        cfg.Logger,
		readOnly:      true,
		logRejections: cfg.LogRejections,
	}
	if m.now == nil {
		m.now = time.Now
	}
	if err := m.initMiddleware(cfg); err != nil {
		return nil, err
	}
	return m, nil
}

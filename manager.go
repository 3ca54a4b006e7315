package edgeauth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// Manager issues, reads, refreshes and clears Auth.js session cookies, or
// reads the sessions of a [Source]. It is built by [New], immutable, and
// safe for concurrent use.
type Manager struct {
	source      Source // nil: the Auth.js cookie
	codec       *Codec
	jar         *cookieJar
	maxAge      time.Duration
	updateAge   time.Duration
	userIDClaim string
	roleClaim   string
	callbacks   Callbacks
	events      Events
	now         func() time.Time
	logger      *slog.Logger
	allowBearer bool
	mw          middleware

	readOnly      bool
	logRejections bool
	warnings      nameWarnings

	store             Store
	tokenVersion      func(ctx context.Context, userID string) (int64, error)
	versionClaim      string
	revocationTimeout time.Duration
	failOpen          bool

	cache *tokenCache
}

// New checks cfg and builds a Manager. Every configuration error is reported
// here, wrapping ErrConfig or ErrNoSecret.
func New(cfg Config) (*Manager, error) {
	if cfg.Source != nil {
		return newWithSource(cfg)
	}
	secrets := cfg.Secrets
	if secrets == nil {
		secrets = SecretsFromEnv()
	}
	jar, err := newCookieJar(cfg.Cookie, cfg.Format)
	if err != nil {
		return nil, err
	}
	m := &Manager{
		jar:         jar,
		maxAge:      cfg.MaxAge,
		updateAge:   cfg.UpdateAge,
		userIDClaim: cfg.UserIDClaim,
		roleClaim:   cfg.RoleClaim,
		callbacks:   cfg.Callbacks,
		events:      cfg.Events,
		now:         cfg.Now,
		logger:      cfg.Logger,
		allowBearer: cfg.AllowBearer,

		readOnly:      cfg.ReadOnly,
		logRejections: cfg.LogRejections,

		store:             cfg.Store,
		tokenVersion:      cfg.TokenVersion,
		versionClaim:      cfg.VersionClaim,
		revocationTimeout: cfg.RevocationTimeout,
		failOpen:          cfg.RevocationFailOpen,
	}
	if m.versionClaim == "" {
		m.versionClaim = "version"
	}
	if m.revocationTimeout == 0 {
		m.revocationTimeout = DefaultRevocationTimeout
	}
	if m.revocationTimeout < 0 {
		return nil, fmt.Errorf("%w: negative RevocationTimeout", ErrConfig)
	}
	if m.maxAge == 0 {
		m.maxAge = DefaultMaxAge
	}
	if m.updateAge == 0 {
		m.updateAge = DefaultUpdateAge
	}
	if m.userIDClaim == "" {
		m.userIDClaim = "sub"
	}
	if m.roleClaim == "" {
		m.roleClaim = "role"
	}
	if m.now == nil {
		m.now = time.Now
	}
	// Auth.js salts keys with the cookie name; next-auth v4 never salts them.
	salt := jar.Name()
	if cfg.Format == FormatNextAuthV4 {
		salt = ""
	}
	m.codec, err = NewCodec(CodecConfig{
		Secrets:        secrets,
		Salt:           salt,
		Format:         cfg.Format,
		MaxAge:         m.maxAge,
		ClockTolerance: cfg.ClockTolerance,
		Now:            m.now,
	})
	if err != nil {
		return nil, err
	}
	m.cache, err = newTokenCache(cfg.CacheSize, cfg.CacheBytes, m.now, m.codec.tolerance, m.logger)
	if err != nil {
		return nil, err
	}
	if err := m.initMiddleware(cfg); err != nil {
		return nil, err
	}
	return m, nil
}

// Codec returns the token codec the manager uses: a tool that revokes a
// token it is handed (the edgeauth command's revoke) decodes it with the
// manager's own secrets, salt and format. It is nil with Config.Source.
func (m *Manager) Codec() *Codec { return m.codec }

// CookieName returns the session cookie name (for Auth.js, also the HKDF
// salt); "" with Config.Source, whose cookies are the Source's.
func (m *Manager) CookieName() string {
	if m.jar == nil {
		return ""
	}
	return m.jar.Name()
}

// log records why a request had no session: debug level, since clients
// cause most of these (expired or foreign cookies).
func (m *Manager) log(ctx context.Context, msg string, args ...any) {
	m.logAt(ctx, slog.LevelDebug, msg, args...)
}

// warn records what an operator must see: failing stores and callbacks.
func (m *Manager) warn(ctx context.Context, msg string, args ...any) {
	m.logAt(ctx, slog.LevelWarn, msg, args...)
}

func (m *Manager) logAt(ctx context.Context, level slog.Level, msg string, args ...any) {
	if m.logger != nil {
		m.logger.LogAttrs(ctx, level, "edgeauth: "+msg, argsToAttrs(args)...)
	}
}

func argsToAttrs(args []any) []slog.Attr {
	attrs := make([]slog.Attr, 0, len(args)/2)
	for i := 0; i+1 < len(args); i += 2 {
		if k, ok := args[i].(string); ok {
			attrs = append(attrs, slog.Any(k, args[i+1]))
		}
	}
	return attrs
}

// errNoSessionNoCookie is noSession(errNoCookie), made once: most requests
// carry no session cookie, and wrapping costs four allocations.
var errNoSessionNoCookie = fmt.Errorf("%w: %w", ErrNoSession, errNoCookie)

// noSession wraps cause so that errors.Is(err, ErrNoSession) holds while the
// cause stays visible to errors.Is.
func noSession(cause error) error {
	if cause == errNoCookie {
		return errNoSessionNoCookie
	}
	if cause == nil || errors.Is(cause, ErrNoSession) {
		return cause
	}
	return fmt.Errorf("%w: %w", ErrNoSession, cause)
}

// loaded is a verified token with what it takes to write it back.
type loaded struct {
	token   *Token
	carried []string
	bearer  bool      // the token came from an Authorization header, not a cookie
	session *Session  // the cached default session, when there is one
	decoded *Token    // a token that verified but failed the revocation check
	read    time.Time // when the cache found the token; zero when it did not
}

// verify reads and decodes the session cookie, without callbacks.
func (m *Manager) verify(r *http.Request) (loaded, error) {
	raw, carried, err := m.jar.read(r)
	fromHeader := false
	if errors.Is(err, errNoCookie) && m.allowBearer {
		if bearer, ok := bearerToken(r); ok {
			raw, err, fromHeader = bearer, nil, true
			// The cookies' bound, checked before decoding: Codec.Decode
			// alone allows MaxTokenSize, and tries every secret on a
			// token without kid.
			if len(bearer) > m.jar.limits.MaxLen {
				raw, err = "", fmt.Errorf("%w: bearer token over the size limit", ErrTooLarge)
			}
		}
	}
	if err != nil {
		if errors.Is(err, errNoCookie) {
			m.diagnoseCookieName(r)
		}
		return loaded{carried: carried}, err
	}
	entry, read, ok := m.cache.get(raw)
	if !ok {
		tok, err := m.codec.Decode(raw)
		if err != nil {
			m.log(r.Context(), "token rejected", "reason", err.Error())
			return loaded{carried: carried}, err
		}
		entry = &cacheEntry{token: tok}
		if m.cache != nil {
			entry.session = m.defaultSession(tok)
		}
		m.cache.put(raw, entry)
	}
	if err := m.checkRevocation(r.Context(), entry.token); err != nil {
		// decoded lets SignOut revoke a token whose check failed.
		return loaded{carried: carried, bearer: fromHeader, decoded: entry.token}, err
	}
	return loaded{token: entry.token, carried: carried, bearer: fromHeader, session: entry.session, read: read}, nil
}

// bearerToken returns the token of an "Authorization: Bearer" header.
func bearerToken(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	if len(h) < 7 || !strings.EqualFold(h[:7], "bearer ") {
		return "", false
	}
	tok := strings.TrimSpace(h[7:])
	return tok, tok != ""
}

// Load returns the verified session of the request, or an error that
// satisfies errors.Is(err, ErrNoSession) (and, for a bad token,
// ErrInvalidToken). It never writes cookies; see [Manager.Refresh]. With
// Config.Source the session is the Source's, and the Source's error is
// wrapped.
func (m *Manager) Load(r *http.Request) (*Session, error) { return m.load(r, nil) }

// load is Load; into is sessionOf's.
func (m *Manager) load(r *http.Request, into **requestContext) (*Session, error) {
	if m.source != nil {
		return m.fromSource(r)
	}
	l, err := m.verify(r)
	if err != nil {
		return nil, noSession(err)
	}
	return m.sessionOf(r.Context(), &l, into)
}

// sessionOf returns the session of a verified, not re-issued token: a copy
// of the cached default session, or the session callback's result. With
// into, the copy is made in a new requestContext left there, which Handler
// then passes on to next: one allocation for both.
func (m *Manager) sessionOf(ctx context.Context, l *loaded, into **requestContext) (*Session, error) {
	if l.session != nil && m.callbacks.Session == nil {
		if into == nil {
			return l.session.copyForRequest(nil), nil
		}
		*into = new(requestContext)
		return l.session.copyForRequest(&(*into).session), nil
	}
	s, err := m.runSessionFrom(ctx, l.token, l.session)
	if err != nil {
		return nil, noSession(err)
	}
	return s, nil
}

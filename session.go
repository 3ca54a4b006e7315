package edgeauth

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"
)

// DefaultUpdateAge is how old a token gets before [Manager.Refresh] re-issues
// it, as Auth.js's session.updateAge.
const DefaultUpdateAge = 24 * time.Hour

// Config is the whole setup of a [Manager]. The zero value of every field
// means Auth.js's default; only a secret is required.
type Config struct {
	// Secrets are the AUTH_SECRET values, newest first (see [CodecConfig]).
	// Nil means [SecretsFromEnv].
	Secrets []string
	// Format is the issuing library's token format.
	Format Format
	// Cookie describes the session cookie; its name is also the HKDF salt.
	Cookie CookieConfig
	// MaxAge is the session lifetime; zero means 30 days.
	MaxAge time.Duration
	// UpdateAge is how old a token gets before it is re-issued with a new
	// expiry; zero means 24 hours, a negative value means on every request.
	UpdateAge time.Duration
	// ClockTolerance is the leeway for exp and nbf; zero means 15 s, negative none.
	ClockTolerance time.Duration
	// UserIDClaim names the claim that holds the user id; "" means "sub".
	UserIDClaim string
	// RoleClaim names the claim that holds the role; "" means "role".
	RoleClaim string
	// Callbacks are the jwt and session callbacks; zero keeps Auth.js's behaviour.
	Callbacks Callbacks
	// Events report sign-in, sign-out and session reads, for audit logs.
	Events Events
	// Rules protect routes for [Manager.Handler], in Next.js matcher syntax
	// (see [Rule]), matched ASCII case-insensitively; the most specific
	// matching rule decides, whatever their order. Paths no rule matches pass
	// through. [Manager.Require] guards routes where they are declared instead.
	Rules []Rule
	// LoginURL is where browsers without a session are redirected, with a
	// callbackUrl; "" means "/login". A clean path or an http(s) URL; its
	// path is never protected.
	LoginURL string
	// UnauthorizedURL is where browsers with the wrong role are redirected;
	// "" means a 403 response.
	UnauthorizedURL string
	// APIPrefixes are path prefixes ("/api", segment-bounded) answered with
	// 401/403 JSON instead of redirects.
	APIPrefixes []string
	// Origin is the site's own origin (scheme://host[:port]); absolute
	// callbackUrl values are accepted only for it, and the login redirect's
	// callbackUrl is absolute on it. "" means relative paths only.
	Origin string
	// UserIDHeader and RoleHeader name the identity headers set on requests
	// passed downstream; "" means "x-user-id" and "x-user-role".
	UserIDHeader string
	RoleHeader   string
	// ClaimHeaders maps more request header names to token claims to
	// forward; only string claims are forwarded.
	ClaimHeaders map[string]string
	// AllowBearer accepts "Authorization: Bearer <token>" when no session
	// cookie is present, as Auth.js's getToken does. The cookie wins. A
	// bearer token longer than the session cookies may be (Cookie.MaxChunks
	// × 4096 bytes, at most MaxTokenSize) is ErrTooLarge before any
	// decoding. A bearer token is never turned into a cookie: it is not
	// re-issued, and [Manager.Update] refuses it with ErrBearerSession.
	AllowBearer bool
	// ErrorHandler writes every rejection: status 303 (Location already set
	// on w), 401 or 403 (Content-Type application/json already set for
	// API-style requests), where err satisfies errors.Is with ErrNoSession or
	// ErrForbidden; or 400 for a request without a URL. Nil means
	// [DefaultErrorHandler], which never writes error text.
	ErrorHandler func(w http.ResponseWriter, r *http.Request, status int, err error)

	// Store, when set, holds revocations (see [Store]); it is checked on
	// every request after the token verifies, and SignOut revokes the token.
	Store Store
	// TokenVersion, when set, returns the user's current token version. A
	// token whose VersionClaim is lower, or missing, is rejected.
	TokenVersion func(ctx context.Context, userID string) (int64, error)
	// VersionClaim names the token-version claim; "" means "version".
	VersionClaim string
	// RevocationTimeout bounds each revocation check (store and
	// TokenVersion together); zero means 500 ms.
	RevocationTimeout time.Duration
	// RevocationFailOpen accepts a verified token when the revocation check
	// fails or times out. The default, false, fails closed: no session (a
	// protected route's ErrorHandler sees ErrRevocationUnavailable; every
	// failure is logged at warning level either way).
	RevocationFailOpen bool

	// CacheSize and CacheBytes bound the cache of verified tokens that lets
	// a repeated cookie skip decryption (exp and revocation are still checked
	// on every request): in entries, and in the bytes the entries keep alive
	// (token, claims, session). Zero means 10 000 entries and 32 MiB. A
	// negative CacheSize turns the cache off; a negative CacheBytes is an
	// error. Tokens seen once do not displace those seen repeatedly.
	CacheSize  int
	CacheBytes int64

	// ReadOnly makes the Manager a reader of a session cookie another app
	// owns, such as a Next.js app whose jwt callback refreshes OAuth tokens
	// on every re-issue: the Manager never writes Set-Cookie. Refresh and
	// Handler do not re-issue (no rolling expiry) and do not clear bad
	// cookies, SessionHandler answers without re-issuing, the jwt callback
	// never runs, and SignIn, Update and SignOut fail with ErrReadOnly.
	ReadOnly bool

	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives diagnostics; nil means silent. Tokens, cookie values
	// and secrets are never logged, nor the text of errors from callbacks.
	// Messages start with "edgeauth: ". At level
	//
	//   - Warn: a failing or panicking jwt or session callback or event
	//     handler; a failed revocation check (with RevocationFailOpen or
	//     not); a request with no session cookie under the configured name
	//     but one under another name Auth.js or next-auth uses (for example
	//     __Secure-authjs.session-token when authjs.session-token is
	//     expected), naming both, at most once a minute per name.
	//   - Info: with LogRejections, every request Handler or Require refuses.
	//   - Debug: why a token gave no session ("token rejected" with the
	//     reason, revoked, issued before the user's cutoff, outdated
	//     version); an identity header dropped for a control character; and
	//     every refused request when LogRejections is off.
	Logger *slog.Logger
	// LogRejections logs every request that Handler or Require refuses at
	// Info instead of Debug, as "edgeauth: request rejected" with method,
	// path (without the query), status, the reason (the text of the
	// sentinel error, such as "edgeauth: invalid token: token expired" or
	// "edgeauth: forbidden") and what refused it (by="rule /admin/:path*"
	// or by=Require(admin)).
	LogRejections bool
}

// Manager issues, reads, refreshes and clears Auth.js session cookies. It is
// built by [New], immutable, and safe for concurrent use.
type Manager struct {
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

// Session is a verified session as handlers see it.
type Session struct {
	// User is the session JSON's "user" object; by default name, email and
	// image from the token.
	User map[string]any
	// Expires is the session expiry, written as an ISO 8601 date in JSON.
	Expires time.Time
	// Extra holds any other top-level fields a session callback adds.
	Extra map[string]any
	// UserID is the user id for Go code (x-user-id); by default the token's sub.
	UserID string
	// Role is the role for Go code (x-user-role); by default the token's "role" claim.
	Role string
	// Token is the verified token the session was built from. It and User
	// may be shared with other requests (see Config.CacheSize): treat them as
	// read-only, and change a session's claims with [Manager.Update].
	Token *Token
}

// MarshalJSON writes the session as Auth.js's session endpoint does:
// {"user":{…},"expires":"2006-01-02T15:04:05.000Z", …Extra}.
func (s *Session) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	b.WriteString(`{"user":`)
	user := s.User
	if user == nil {
		user = map[string]any{}
	}
	if err := enc.Encode(user); err != nil {
		return nil, fmt.Errorf("edgeauth: session user: %w", err)
	}
	b.Truncate(b.Len() - 1)
	b.WriteString(`,"expires":"`)
	b.WriteString(s.Expires.UTC().Format("2006-01-02T15:04:05.000Z"))
	b.WriteByte('"')
	names := make([]string, 0, len(s.Extra))
	for k := range s.Extra {
		if k != "user" && k != "expires" {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	for _, k := range names {
		b.WriteByte(',')
		b.Write(quote(k))
		b.WriteByte(':')
		if err := enc.Encode(s.Extra[k]); err != nil {
			return nil, fmt.Errorf("edgeauth: session field %q: %w", k, err)
		}
		b.Truncate(b.Len() - 1)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// New checks cfg and builds a Manager. Every configuration error is reported
// here, wrapping ErrConfig or ErrNoSecret.
func New(cfg Config) (*Manager, error) {
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

// Codec returns the token codec the manager uses, for tools and tests.
func (m *Manager) Codec() *Codec { return m.codec }

// CookieName returns the session cookie name (for Auth.js, also the HKDF salt).
func (m *Manager) CookieName() string { return m.jar.Name() }

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

// noSession wraps cause so that errors.Is(err, ErrNoSession) holds while the
// cause stays visible to errors.Is.
func noSession(cause error) error {
	if cause == nil || errors.Is(cause, ErrNoSession) {
		return cause
	}
	return fmt.Errorf("%w: %w", ErrNoSession, cause)
}

// loaded is a verified token with what it takes to write it back.
type loaded struct {
	token   *Token
	carried []string
	bearer  bool     // the token came from an Authorization header, not a cookie
	session *Session // the cached default session, when there is one
	decoded *Token   // a token that verified but failed the revocation check
}

// verify reads and decodes the session cookie, without callbacks.
func (m *Manager) verify(r *http.Request) (*loaded, error) {
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
		return &loaded{carried: carried}, err
	}
	entry, ok := m.cache.get(raw)
	if !ok {
		tok, err := m.codec.Decode(raw)
		if err != nil {
			m.log(r.Context(), "token rejected", "reason", err.Error())
			return &loaded{carried: carried}, err
		}
		entry = &cacheEntry{token: tok}
		if m.cache != nil {
			entry.session = m.defaultSession(tok)
		}
		m.cache.put(raw, entry)
	}
	if err := m.checkRevocation(r.Context(), entry.token); err != nil {
		// decoded lets SignOut revoke a token whose check failed.
		return &loaded{carried: carried, bearer: fromHeader, decoded: entry.token}, err
	}
	return &loaded{token: entry.token, carried: carried, bearer: fromHeader, session: entry.session}, nil
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
// ErrInvalidToken). It never writes cookies; see [Manager.Refresh].
func (m *Manager) Load(r *http.Request) (*Session, error) {
	l, err := m.verify(r)
	if err != nil {
		return nil, noSession(err)
	}
	return m.sessionOf(r.Context(), l)
}

// sessionOf returns the session of a verified, not re-issued token: a copy
// of the cached default session, or the session callback's result.
func (m *Manager) sessionOf(ctx context.Context, l *loaded) (*Session, error) {
	if l.session != nil && m.callbacks.Session == nil {
		s := *l.session
		s.User = maps.Clone(s.User) // handlers may write to their copy
		return &s, nil
	}
	s, err := m.runSessionFrom(ctx, l.token, l.session)
	if err != nil {
		return nil, noSession(err)
	}
	return s, nil
}

// Refresh is [Manager.Load] plus rolling expiry: a token older than
// UpdateAge is passed to the jwt callback (TriggerRefresh) and re-issued with
// a new expiry, and the cookies are set on w. Call it before writing the
// response. A bad or ended session gets its cookies cleared. With
// Config.ReadOnly it is Load: it writes nothing.
func (m *Manager) Refresh(w http.ResponseWriter, r *http.Request) (*Session, error) {
	if m.readOnly {
		return m.Load(r)
	}
	l, err := m.verify(r)
	if err != nil {
		if (errors.Is(err, ErrInvalidToken) || errors.Is(err, ErrRevoked)) && len(l.carried) > 0 {
			m.clear(w, l.carried)
		}
		return nil, noSession(err)
	}
	tok := l.token
	// A bearer token belongs to an API client: never turn it into a cookie.
	if age := m.now().Sub(tok.IssuedAt); l.bearer || !(tok.IssuedAt.IsZero() || age >= m.updateAge) {
		return m.sessionOf(r.Context(), l)
	}
	return m.reissueSession(w, r, l, JWTParams{Token: tok, Trigger: TriggerRefresh})
}

// reissueSession is reissue followed by the session callback, with every
// error an ErrNoSession one.
func (m *Manager) reissueSession(w http.ResponseWriter, r *http.Request, l *loaded, p JWTParams) (*Session, error) {
	tok, err := m.reissue(w, r, l, p)
	if err != nil {
		return nil, noSession(err)
	}
	s, err := m.runSession(r.Context(), tok)
	if err != nil {
		return nil, noSession(err)
	}
	return s, nil
}

// reissue runs the jwt callback and writes the resulting token, keeping the
// session's sid, auth_time and jti so that revoking it covers every
// refreshed copy. A nil token from the callback ends the session.
func (m *Manager) reissue(w http.ResponseWriter, r *http.Request, l *loaded, p JWTParams) (*Token, error) {
	p.Token = p.Token.Clone()
	tok, err := m.runJWT(r.Context(), p)
	if err != nil {
		return nil, err
	}
	if tok == nil {
		m.clear(w, l.carried)
		return nil, ErrSessionEnded
	}
	keepSessionIdentity(tok, l.token)
	// A revocation that landed while the callback ran (a slow database,
	// say) must not be outlived by the token issued now.
	if err := m.checkRevocation(r.Context(), l.token); err != nil {
		return nil, err
	}
	if err := m.issue(w, tok, l.carried, l.token.ID); err != nil {
		return nil, err
	}
	return tok, nil
}

// issue encodes tok and sets its cookies. keepID, when not empty, is kept as
// the jti instead of a new one.
func (m *Manager) issue(w http.ResponseWriter, tok *Token, carried []string, keepID string) error {
	if m.readOnly { // every cookie write goes through here
		return ErrReadOnly
	}
	raw, err := m.codec.encode(tok, keepID)
	if err != nil {
		return err
	}
	h := make(http.Header)
	if err := m.jar.write(h, raw, tok.Expires, m.now(), carried); err != nil {
		return err
	}
	for _, c := range h.Values("Set-Cookie") {
		w.Header().Add("Set-Cookie", c)
	}
	noStore(w.Header())
	return nil
}

func (m *Manager) clear(w http.ResponseWriter, carried []string) {
	if m.readOnly { // every cookie deletion goes through here
		return
	}
	m.jar.clear(w.Header(), carried)
	noStore(w.Header())
}

// noStore keeps responses that set or clear session cookies out of shared caches.
func noStore(h http.Header) {
	h.Set("Cache-Control", "private, no-cache, no-store")
}

// SignIn starts a session for user: it runs the jwt callback (TriggerSignIn,
// or TriggerSignUp when user.IsNew) on Auth.js's default token, always issues
// a fresh token with a new jti, and replaces every session cookie the request
// carried. Nothing is written when it fails. With Config.ReadOnly it fails
// with ErrReadOnly.
//
// After the callback, whatever it returned, the token gets a new random
// session id (Token.SessionID, claim "sid") and the sign-in time
// (Token.AuthTime, claim "auth_time", whole seconds); re-issues keep both.
func (m *Manager) SignIn(w http.ResponseWriter, r *http.Request, user *User) (*Session, error) {
	if m.readOnly {
		return nil, fmt.Errorf("%w: SignIn", ErrReadOnly)
	}
	if user == nil {
		return nil, fmt.Errorf("%w: nil user", ErrConfig)
	}
	_, carried, _ := m.jar.read(r)
	trigger := TriggerSignIn
	if user.IsNew {
		trigger = TriggerSignUp
	}
	tok, err := m.runJWT(r.Context(), JWTParams{Token: defaultToken(user), Trigger: trigger, User: user})
	if err != nil {
		return nil, err
	}
	if tok == nil {
		return nil, ErrSessionEnded
	}
	if err := startSession(tok, m.now()); err != nil {
		return nil, err
	}
	s, err := m.runSession(r.Context(), tok.Clone())
	if err != nil {
		return nil, err
	}
	if err := m.issue(w, tok, carried, ""); err != nil {
		return nil, err
	}
	s.Token, s.Expires = tok, tok.Expires
	if m.events.SignIn != nil {
		m.fireEvent(r.Context(), "signIn", func() { m.events.SignIn(r.Context(), user, tok) })
	}
	return s, nil
}

// sessionClaims name a session and its sign-in: SignIn sets them, and
// nothing else (callbacks, Update data, a client) may change them.
var sessionClaims = [...]string{"sid", "auth_time"}

// startSession gives tok a new session id and now as its sign-in time.
func startSession(tok *Token, now time.Time) error {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return fmt.Errorf("edgeauth: generating sid: %w", err)
	}
	for _, name := range sessionClaims {
		tok.DeleteClaim(name)
	}
	tok.SessionID = base64.RawURLEncoding.EncodeToString(b[:])
	tok.AuthTime = time.Unix(now.Unix(), 0).UTC() // whole seconds, as iat
	return nil
}

// keepSessionIdentity gives tok the sid and auth_time of the verified token
// it continues, as they were (absent or not a string included), whatever the
// jwt callback made of them: a re-issue never starts a new session.
func keepSessionIdentity(tok, verified *Token) {
	if tok == verified {
		return
	}
	for _, name := range sessionClaims {
		tok.DeleteClaim(name)
		if raw, ok := verified.Claims[name]; ok {
			if tok.Claims == nil {
				tok.Claims = make(map[string]json.RawMessage, 1)
			}
			tok.Claims[name] = raw // claim values are replaced, never edited in place
		}
	}
	tok.SessionID, tok.AuthTime = verified.SessionID, verified.AuthTime
}

// Update re-issues the current session after running the jwt callback with
// TriggerUpdate and data, as Auth.js's update(). It fails with an
// ErrNoSession error when the request has no valid session, and with
// ErrBearerSession, writing nothing, when the session came from an
// Authorization header (Config.AllowBearer): that would turn a bearer token
// into a cookie; with Config.ReadOnly it fails with ErrReadOnly.
func (m *Manager) Update(w http.ResponseWriter, r *http.Request, data any) (*Session, error) {
	if m.readOnly {
		return nil, fmt.Errorf("%w: Update", ErrReadOnly)
	}
	l, err := m.verify(r)
	if err != nil {
		return nil, noSession(err)
	}
	if l.bearer {
		return nil, ErrBearerSession
	}
	return m.reissueSession(w, r, l, JWTParams{Token: l.token, Trigger: TriggerUpdate, Data: data})
}

// SignOut clears every session cookie the request carried and fires the
// SignOut event, whether or not a valid session was present. With a Store
// it also revokes the token, so that copies of the cookie stop working; the
// cookies are cleared even when that fails, and the error is returned.
// With Config.ReadOnly it does nothing and returns ErrReadOnly: the app that
// owns the cookie signs out; [Manager.RevokeToken] still revokes.
func (m *Manager) SignOut(w http.ResponseWriter, r *http.Request) error {
	if m.readOnly {
		return fmt.Errorf("%w: SignOut", ErrReadOnly)
	}
	l, err := m.verify(r)
	m.clear(w, l.carried)
	var tok *Token
	if err == nil {
		tok = l.token
	}
	var revokeErr error
	if toRevoke := cmp.Or(tok, l.decoded); toRevoke != nil && m.store != nil {
		// Revoke even when the check failed (store down): the cookie may
		// have been copied, and the store may be back for this write.
		if revokeErr = m.RevokeToken(r.Context(), toRevoke); revokeErr == nil && errors.Is(err, ErrRevocationUnavailable) {
			m.log(r.Context(), "sign-out revoked a token whose revocation check had failed")
		}
	}
	if m.events.SignOut != nil {
		m.fireEvent(r.Context(), "signOut", func() { m.events.SignOut(r.Context(), tok) })
	}
	return revokeErr
}

// SessionHandler serves GET requests as Auth.js's /api/auth/session does:
// the session JSON, or the JSON null when signed out, with no-cache headers.
// Like Auth.js it re-issues the token on every read (TriggerRefresh), and
// clears the cookies of a bad or ended session; with Config.ReadOnly it only
// reads, as [Manager.Load] does.
func (m *Manager) SessionHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Cache-Control", "private, no-cache, no-store")
		h.Set("Expires", "0")
		h.Set("Pragma", "no-cache")
		body := []byte("null")
		if s, err := m.readForEndpoint(w, r); err == nil {
			if b, err := s.MarshalJSON(); err == nil {
				body = b
				if m.events.Session != nil {
					m.fireEvent(r.Context(), "session", func() { m.events.Session(r.Context(), s) })
				}
			}
		}
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(body)
	})
}

func (m *Manager) readForEndpoint(w http.ResponseWriter, r *http.Request) (*Session, error) {
	if m.readOnly {
		return m.Load(r)
	}
	l, err := m.verify(r)
	if err != nil {
		// Clear what is dead for good; an outage of the revocation store
		// must not sign out every client that polls this endpoint.
		if (errors.Is(err, ErrInvalidToken) || errors.Is(err, ErrRevoked)) && len(l.carried) > 0 {
			m.clear(w, l.carried)
		}
		return nil, err
	}
	if l.bearer {
		return m.runSession(r.Context(), l.token)
	}
	tok, err := m.reissue(w, r, l, JWTParams{Token: l.token, Trigger: TriggerRefresh})
	if err != nil {
		return nil, err
	}
	return m.runSession(r.Context(), tok)
}

package edgeauth

import (
	"cmp"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/edgeauth/edgeauth/internal/nostore"
)

// Refresh is [Manager.Load] plus rolling expiry: a token older than
// UpdateAge is passed to the jwt callback (TriggerRefresh) and re-issued with
// a new expiry, and the cookies are set on w. Call it before writing the
// response. A bad or ended session gets its cookies cleared. With
// Config.ReadOnly it is Load: it writes nothing.
func (m *Manager) Refresh(w http.ResponseWriter, r *http.Request) (*Session, error) {
	return m.refresh(w, r, nil)
}

// refresh is Refresh; into is sessionOf's.
func (m *Manager) refresh(w http.ResponseWriter, r *http.Request, into **requestContext) (*Session, error) {
	if m.readOnly {
		return m.load(r, into)
	}
	l, err := m.verify(r)
	if err != nil {
		m.clearDead(w, &l, err)
		return nil, noSession(err)
	}
	tok := l.token
	now := l.read // a clock read costs as much as the rest of a cache hit
	if now.IsZero() {
		now = m.now()
	}
	// A bearer token belongs to an API client: never turn it into a cookie.
	if age := now.Sub(tok.IssuedAt); l.bearer || !(tok.IssuedAt.IsZero() || age >= m.updateAge) {
		return m.sessionOf(r.Context(), &l, into)
	}
	return m.reissueSession(w, r, &l, JWTParams{Token: tok, Trigger: TriggerRefresh})
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
	nostore.Set(w.Header())
	return nil
}

// clearDead clears the cookies of a session verify rejected for good: an
// invalid or revoked token. An outage of the revocation store must not sign
// out every client, so other failures keep the cookies.
func (m *Manager) clearDead(w http.ResponseWriter, l *loaded, err error) {
	if (errors.Is(err, ErrInvalidToken) || errors.Is(err, ErrRevoked)) && len(l.carried) > 0 {
		m.clear(w, l.carried)
	}
}

func (m *Manager) clear(w http.ResponseWriter, carried []string) {
	if m.readOnly { // every cookie deletion goes through here
		return
	}
	m.jar.clear(w.Header(), carried)
	nostore.Set(w.Header())
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
	return m.reissueSession(w, r, &l, JWTParams{Token: l.token, Trigger: TriggerUpdate, Data: data})
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

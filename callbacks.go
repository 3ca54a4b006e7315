package edgeauth

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
)

// Trigger says why the jwt callback runs, as Auth.js's trigger parameter.
type Trigger string

const (
	// TriggerSignIn is a sign-in of a known user.
	TriggerSignIn Trigger = "signIn"
	// TriggerSignUp is the first sign-in of a new user ([User].IsNew).
	TriggerSignUp Trigger = "signUp"
	// TriggerUpdate is a [Manager.Update] call; [JWTParams].Data carries its data.
	TriggerUpdate Trigger = "update"
	// TriggerRefresh is a re-issue of a verified token: rolling expiry or the
	// session endpoint (Auth.js passes no trigger then).
	TriggerRefresh Trigger = "refresh"
)

// User is what an application knows about a user at sign-in, as the user
// object Auth.js hands to the jwt callback.
type User struct {
	// ID becomes the token's sub.
	ID string
	// Name, Email and Image become name, email and picture.
	Name  string
	Email string
	Image string
	// IsNew marks a first sign-in: the jwt callback sees TriggerSignUp.
	IsNew bool
	// Attributes carries anything else (a role, say) for the jwt callback to copy.
	Attributes map[string]any
}

// JWTParams are the arguments of the jwt callback.
type JWTParams struct {
	// Token is the token to store: on sign-in Auth.js's default token
	// (sub, name, email, picture from User), otherwise the verified token.
	Token *Token
	// Trigger says why the callback runs.
	Trigger Trigger
	// User is set on TriggerSignIn and TriggerSignUp only.
	User *User
	// Data is what was passed to [Manager.Update], on TriggerUpdate only.
	Data any
}

// SessionParams are the arguments of the session callback.
type SessionParams struct {
	// Session is the default session built from Token, to be changed or replaced.
	Session *Session
	// Token is the verified token, a copy the callback may change freely
	// (changes are not stored: use the jwt callback for that).
	Token *Token
}

// Callbacks shape tokens and sessions, as Auth.js's jwt and session callbacks.
// A callback that returns an error or panics ends the request as "no session":
// no cookie is set, and the error is never shown to the client.
type Callbacks struct {
	// JWT returns the token to store, or nil to end the session (its cookies
	// are cleared). Nil keeps the token as it is. The session claims sid and
	// auth_time are not the callback's: SignIn sets them after it runs, and
	// a re-issue puts back those of the verified token.
	JWT func(ctx context.Context, p JWTParams) (*Token, error)
	// Session returns the session that handlers and the session endpoint see.
	// Nil keeps the default: Auth.js's {user:{name,email,image},expires}.
	Session func(ctx context.Context, p SessionParams) (*Session, error)
}

// Events are notifications for audit logging. They run synchronously after
// the action; a panic in one is recovered and logged.
type Events struct {
	// SignIn follows a successful [Manager.SignIn].
	SignIn func(ctx context.Context, user *User, token *Token)
	// SignOut follows [Manager.SignOut]; token is nil when no valid session was present.
	SignOut func(ctx context.Context, token *Token)
	// Session follows each session read by [Manager.SessionHandler].
	Session func(ctx context.Context, s *Session)
}

// defaultToken is Auth.js's defaultToken for a signing-in user.
func defaultToken(u *User) *Token {
	return &Token{Subject: u.ID, Name: u.Name, Email: u.Email, Picture: u.Image}
}

// runJWT calls the jwt callback, turning errors and panics into errCallback.
func (m *Manager) runJWT(ctx context.Context, p JWTParams) (tok *Token, err error) {
	if m.callbacks.JWT == nil {
		return p.Token, nil
	}
	defer func() {
		if v := recover(); v != nil {
			m.warn(ctx, "jwt callback panicked", "trigger", string(p.Trigger))
			tok, err = nil, fmt.Errorf("%w: jwt callback panicked", ErrCallback)
		}
	}()
	tok, err = m.callbacks.JWT(ctx, p)
	if err != nil {
		// The callback's error text is the application's and may hold
		// anything; the log says only that it failed.
		m.warn(ctx, "jwt callback failed", "trigger", string(p.Trigger))
		return nil, fmt.Errorf("%w: jwt: %w", ErrCallback, err)
	}
	return tok, nil
}

// runSession builds the default session and calls the session callback.
func (m *Manager) runSession(ctx context.Context, tok *Token) (*Session, error) {
	return m.runSessionFrom(ctx, tok, nil)
}

// runSessionFrom is runSession starting from a cached default session,
// which it copies so that the callback may change its copy freely.
func (m *Manager) runSessionFrom(ctx context.Context, tok *Token, cached *Session) (s *Session, err error) {
	if cached != nil {
		s = cached.copyForRequest(nil)
	} else {
		s = m.defaultSession(tok)
	}
	if m.callbacks.Session == nil {
		return s, nil
	}
	defer func() {
		if v := recover(); v != nil {
			m.warn(ctx, "session callback panicked")
			s, err = nil, fmt.Errorf("%w: session callback panicked", ErrCallback)
		}
	}()
	// The token may be shared through the cache: the callback gets its own
	// copy. The claim values themselves are shared: claims are replaced
	// (SetClaim), never edited in place.
	c := *tok
	c.Claims = maps.Clone(tok.Claims)
	tok = &c
	s.Token = tok
	out, err := m.callbacks.Session(ctx, SessionParams{Session: s, Token: tok})
	if err != nil {
		m.warn(ctx, "session callback failed")
		return nil, fmt.Errorf("%w: session: %w", ErrCallback, err)
	}
	if out == nil {
		return nil, fmt.Errorf("%w: session callback returned nil", ErrCallback)
	}
	if out.Token == nil {
		out.Token = tok
	}
	return out, nil
}

// defaultSession is Auth.js's default session: user name, email and image
// from the token (null and absent kept as such), plus the id and role for Go code.
func (m *Manager) defaultSession(tok *Token) *Session {
	user := make(map[string]any, 3)
	for _, f := range [...]struct{ key, claim, value string }{
		{"name", "name", tok.Name}, {"email", "email", tok.Email}, {"image", "picture", tok.Picture},
	} {
		if f.value != "" {
			user[f.key] = f.value
		} else if raw, ok := tok.Claims[f.claim]; ok {
			user[f.key] = json.RawMessage(raw)
		}
	}
	return &Session{
		User:    user,
		Expires: tok.Expires,
		UserID:  tok.StringClaim(m.userIDClaim),
		Role:    tok.StringClaim(m.roleClaim),
		Token:   tok,
	}
}

func (m *Manager) fireEvent(ctx context.Context, name string, fn func()) {
	defer func() {
		if v := recover(); v != nil {
			m.warn(ctx, "event handler panicked", "event", name)
		}
	}()
	fn()
}

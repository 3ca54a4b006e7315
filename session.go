package edgeauth

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"
)

// Session is a verified session as handlers see it, whether the Auth.js
// cookie or a [Source] proved it.
type Session struct {
	// User is the session JSON's "user" object; by default name, email and
	// image from the token. For a Source's session, its user object. The
	// map is the request's own (its keys may be set); values nested in it
	// may be shared with other requests: replace them, never edit them.
	User map[string]any
	// Expires is the session expiry, written as an ISO 8601 date in JSON.
	Expires time.Time
	// Extra holds any other top-level fields a session callback adds.
	Extra map[string]any
	// UserID is the user id for Go code (x-user-id); by default the token's sub.
	UserID string
	// Role is the role for Go code (x-user-role); by default the token's "role" claim.
	Role string
	// Roles, when not nil, lists every role of a session that holds
	// several, such as a Better Auth user whose role is "admin,user" (its
	// admin plugin's form): Config.Rules and [Manager.Require] admit the
	// session when one of them is required. Role stays what x-user-role
	// carries. Nil means the one role in Role.
	Roles []string
	// Token is the verified token the session was built from. It may be
	// shared with other requests (see Config.CacheSize): treat it as
	// read-only, and change a session's claims with [Manager.Update]. Nil
	// for a Source's session.
	Token *Token
	// Raw is the session as a Source proved it, for what the fields above
	// do not carry (for Better Auth, a *betterauth.Session with the session
	// and user JSON); nil for Auth.js sessions. Treat it as read-only.
	// MarshalJSON leaves it out.
	Raw any
}

// copyForRequest copies a cached session for one request, whose handlers
// and session callback may write to its User map, into dst (nil: a new
// Session). Token and Extra stay shared, as Session documents.
func (s *Session) copyForRequest(dst *Session) *Session {
	if dst == nil {
		dst = new(Session)
	}
	*dst = *s
	dst.User = maps.Clone(s.User)
	return dst
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

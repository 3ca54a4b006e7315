package betterauth

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/edgeauth/edgeauth"
)

// Verifier is an [edgeauth.Source]: set it as edgeauth.Config.Source and the
// Manager's rules, roles, identity headers, Require and FromContext decide on
// Better Auth sessions, through the same middleware as Auth.js's.
var _ edgeauth.Source = (*Verifier)(nil)

// Session is [Verifier.Verify] for an [edgeauth.Manager]: the session as
// edgeauth.Session, with UserID user.id, Role the user field named by
// Config.RoleField and Roles its comma-separated roles when it holds
// several (as Better Auth's admin plugin reads "admin,user": split on
// commas, nothing trimmed), Expires session.expiresAt, User the user object
// (numbers as json.Number), Token nil, and Raw the *Session that Verify
// returned (its SessionJSON holds the session token: never log it). Every
// error is Verify's, so errors.Is sees both ErrNoSession classes: this
// package's, and edgeauth.ErrNoSession once the Manager wraps it.
func (v *Verifier) Session(r *http.Request) (*edgeauth.Session, error) {
	s, err := v.Verify(r)
	if err != nil {
		return nil, err
	}
	user, err := decodeUser(s.UserJSON)
	if err != nil {
		return nil, err
	}
	var roles []string
	if strings.Contains(s.Role, ",") {
		roles = strings.Split(s.Role, ",")
	}
	return &edgeauth.Session{
		UserID:  s.UserID,
		Role:    s.Role,
		Roles:   roles,
		Expires: s.ExpiresAt,
		User:    user,
		Raw:     s,
	}, nil
}

// decodeUser returns the user object as a map of its own for each request
// (handlers may write to it), keeping numbers exact.
func decodeUser(raw json.RawMessage) (map[string]any, error) {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var user map[string]any
	if err := d.Decode(&user); err != nil || user == nil {
		return nil, fmt.Errorf("%w: user: %w", ErrUnavailable, errShape)
	}
	return user, nil
}

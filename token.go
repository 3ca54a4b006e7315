package edgeauth

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// maxNumericDate bounds iat/exp/nbf (9999-12-31T23:59:59Z) so that no
// float-to-int conversion can overflow and absurd dates are rejected.
const maxNumericDate = 253402300799

// Token is a decoded session token. The standard claims are typed; every
// other claim is kept verbatim in Claims, so decoding a token and encoding it
// again preserves what the issuing application wrote.
//
// A standard string claim whose JSON value is not a string (for example
// "name": null, which Auth.js writes for a user without a name), or is an
// empty string, is kept in Claims under its own name and written back
// unchanged. The numeric dates iat, exp and nbf must be numbers: anything
// else is ErrInvalidClaims, as in jose. An auth_time that is not a numeric
// date is kept in Claims, and AuthTime stays zero.
type Token struct {
	Subject  string    // "sub"
	Name     string    // "name"
	Email    string    // "email"
	Picture  string    // "picture"
	IssuedAt time.Time // "iat"; zero when absent
	Expires  time.Time // "exp"; zero when absent
	ID       string    // "jti"

	// SessionID ("sid") and AuthTime ("auth_time", zero when absent) name
	// the session and its sign-in: [Manager.SignIn] sets them, every
	// re-issue keeps them, and Auth.js carries them unchanged, so revocations
	// key on them (see [Manager.RevokeToken] and [Manager.RevokeUser]).
	SessionID string
	AuthTime  time.Time

	// Claims holds every other claim as raw JSON, keyed by claim name.
	Claims map[string]json.RawMessage
}

// stringClaims are the standard claims that Token types as strings.
var stringClaims = [...]string{"sub", "name", "email", "picture", "jti", "sid"}

func (t *Token) stringField(name string) *string {
	switch name {
	case "sub":
		return &t.Subject
	case "name":
		return &t.Name
	case "email":
		return &t.Email
	case "picture":
		return &t.Picture
	case "jti":
		return &t.ID
	case "sid":
		return &t.SessionID
	}
	return nil
}

func (t *Token) timeField(name string) *time.Time {
	switch name {
	case "iat":
		return &t.IssuedAt
	case "exp":
		return &t.Expires
	case "auth_time":
		return &t.AuthTime
	}
	return nil
}

// Claim decodes the named claim into v. Standard claims are served from the
// typed fields. It reports false when the claim is absent.
func (t *Token) Claim(name string, v any) (bool, error) {
	var raw []byte
	if f := t.stringField(name); f != nil && *f != "" {
		raw = quote(*f)
	} else if f := t.timeField(name); f != nil && !f.IsZero() {
		raw = numericDate(*f)
	} else if r, ok := t.Claims[name]; ok {
		raw = r
	} else {
		return false, nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return true, fmt.Errorf("edgeauth: claim %q: %w", name, err)
	}
	return true, nil
}

// StringClaim returns the named claim when it is a JSON string, and "" otherwise.
func (t *Token) StringClaim(name string) string {
	if f := t.stringField(name); f != nil && *f != "" {
		return *f
	}
	raw, ok := t.Claims[name]
	if !ok || len(raw) < 2 || raw[0] != '"' {
		return ""
	}
	s, err := unquote(raw)
	if err != nil {
		return ""
	}
	return s
}

// SetClaim sets the named claim to the JSON encoding of v. Standard claims go
// to their typed fields when v has the expected type.
func (t *Token) SetClaim(name string, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("edgeauth: claim %q: %w", name, err)
	}
	t.DeleteClaim(name)
	if f := t.stringField(name); f != nil {
		if s, ok := v.(string); ok {
			*f = s
			return nil
		}
	}
	if f := t.timeField(name); f != nil {
		tm, err := parseNumericDate(raw)
		if err != nil {
			return fmt.Errorf("edgeauth: claim %q: %w", name, err)
		}
		*f = tm
		return nil
	}
	if t.Claims == nil {
		t.Claims = make(map[string]json.RawMessage)
	}
	t.Claims[name] = raw
	return nil
}

// DeleteClaim removes the named claim, typed or not.
func (t *Token) DeleteClaim(name string) {
	if f := t.stringField(name); f != nil {
		*f = ""
	}
	if f := t.timeField(name); f != nil {
		*f = time.Time{}
	}
	delete(t.Claims, name)
}

// Clone returns a deep copy of t.
func (t *Token) Clone() *Token {
	c := *t
	if t.Claims != nil {
		c.Claims = make(map[string]json.RawMessage, len(t.Claims))
		for k, v := range t.Claims {
			c.Claims[k] = slices.Clone(v)
		}
	}
	return &c
}

package betterauth

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/edgeauth/edgeauth/internal/chunk"
)

// jweSalt is the HKDF salt of the session cookie cache's key.
const jweSalt = "better-auth-session"

// jweKey is one secret's cookie-cache key and its kid.
type jweKey struct {
	key []byte
	kid string
}

// errNoCache reports a request without a session_data cookie.
var errNoCache = errors.New("betterauth: no cookie cache")

// fromCache verifies the cookie cache and binds it to token, with Better
// Auth's get-session rules: its session.token must be the token, its version
// the configured one, and neither it nor the session may have expired.
func (v *Verifier) fromCache(lines []string, token string) (*Session, error) {
	cookies := chunk.FromHeader(lines, v.dataName)
	value, _, err := chunk.Read(cookies, v.dataName, chunk.Limits{MaxChunks: chunk.MaxIndex + 1, MaxLen: v.maxCacheSize})
	switch {
	case errors.Is(err, chunk.ErrMissing):
		return nil, errNoCache
	case errors.Is(err, chunk.ErrTooLarge):
		return nil, ErrTooLarge
	case err != nil:
		return nil, fmt.Errorf("%w: cookie cache chunks", ErrInvalidCookie)
	}
	var top object
	var expires time.Time
	switch v.strategy {
	case StrategyCompact:
		top, expires, err = v.openCompact(value)
	case StrategyJWT:
		top, expires, err = v.openJWT(value)
	default:
		top, expires, err = v.openJWE(value)
	}
	if err != nil {
		return nil, err
	}
	r, version, err := parseCachePayload(top)
	if err != nil {
		return nil, fmt.Errorf("%w: cookie cache payload: %w", ErrInvalidCookie, err)
	}
	if subtle.ConstantTimeCompare([]byte(r.token), []byte(token)) != 1 {
		return nil, ErrCacheMismatch
	}
	if version != v.version {
		return nil, ErrVersionMismatch
	}
	if v.expired(expires) || v.expired(r.expiresAt) {
		return nil, ErrExpired
	}
	return v.newSession(r, SourceCookieCache), nil
}

// openCompact checks a compact cache, base64url(JSON.stringify({session,
// expiresAt, signature})) where signature is base64url(HMAC-SHA256(secret,
// JSON.stringify({...session, expiresAt}))). The signed text is rebuilt from
// the session's bytes as sent, so what is returned is exactly what was
// signed. Better Auth re-serializes the parsed session instead; the two
// agree on every cache it writes.
func (v *Verifier) openCompact(value string) (object, time.Time, error) {
	raw, err := base64.RawURLEncoding.Strict().DecodeString(value)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("%w: compact cache encoding", ErrInvalidCookie)
	}
	outer, err := decodeObject(raw)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("%w: compact cache JSON", ErrInvalidCookie)
	}
	session := outer["session"]
	expRaw := string(outer["expiresAt"])
	sig, sigOK := outer.str("signature")
	expMS, err := strconv.ParseInt(expRaw, 10, 64)
	if kind(session) != '{' || !sigOK || err != nil || strconv.FormatInt(expMS, 10) != expRaw {
		return nil, time.Time{}, fmt.Errorf("%w: compact cache shape", ErrInvalidCookie)
	}
	signed := make([]byte, 0, len(session)+len(expRaw)+14)
	signed = append(signed, session[:len(session)-1]...)
	if len(strings.TrimSpace(string(session[1:len(session)-1]))) > 0 {
		signed = append(signed, ',')
	}
	signed = append(signed, `"expiresAt":`...)
	signed = append(signed, expRaw...)
	signed = append(signed, '}')
	m := hmac.New(sha256.New, v.current)
	m.Write(signed)
	want := base64.RawURLEncoding.EncodeToString(m.Sum(nil))
	if !hmac.Equal([]byte(want), []byte(sig)) {
		return nil, time.Time{}, fmt.Errorf("%w: compact cache signature does not verify", ErrInvalidCookie)
	}
	top, err := decodeObject(session)
	if err != nil || !revivesUnchanged(session) {
		return nil, time.Time{}, fmt.Errorf("%w: compact cache session", ErrInvalidCookie)
	}
	return top, time.UnixMilli(expMS), nil
}

// revivesUnchanged reports whether every string value in raw that Better
// Auth's JSON reviver turns into a Date serializes back to itself. Better
// Auth checks the compact signature over the revived, re-serialized session,
// so where one does not (a date without milliseconds, say) its own cache
// fails there; the Verifier refuses it alike.
func revivesUnchanged(raw []byte) bool {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return false
	}
	var walk func(any) bool
	walk = func(v any) bool {
		switch v := v.(type) {
		case string:
			t, ok := parseDate(v)
			return !ok || (t.Year() <= 9999 && t.Format("2006-01-02T15:04:05.000Z") == v)
		case map[string]any:
			for _, e := range v {
				if !walk(e) {
					return false
				}
			}
		case []any:
			for _, e := range v {
				if !walk(e) {
					return false
				}
			}
		}
		return true
	}
	return walk(v)
}

// maxHeaderSize bounds a JWT or JWE protected header; Better Auth's are
// under 150 bytes.
const maxHeaderSize = 1024

// segments splits a compact JWS (3 parts) or JWE (5 parts) and checks that
// every part is canonical unpadded base64url, so one token has one spelling.
func segments(token string, n int) ([]string, error) {
	parts := strings.Split(token, ".")
	if len(parts) != n {
		return nil, fmt.Errorf("%w: not a compact %d-part token", ErrInvalidCookie, n)
	}
	for _, p := range parts {
		if _, err := base64.RawURLEncoding.Strict().DecodeString(p); err != nil {
			return nil, fmt.Errorf("%w: non-canonical base64url", ErrInvalidCookie)
		}
	}
	if base64.RawURLEncoding.DecodedLen(len(parts[0])) > maxHeaderSize {
		return nil, ErrTooLarge
	}
	return parts, nil
}

// protectedHeader decodes a header and refuses "crit" and "zip", which
// neither signer writes.
func protectedHeader(segment string) (object, error) {
	raw, _ := base64.RawURLEncoding.DecodeString(segment)
	h, err := decodeObject(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: header JSON", ErrInvalidCookie)
	}
	if _, ok := h["crit"]; ok {
		return nil, fmt.Errorf("%w: crit header", ErrInvalidCookie)
	}
	if _, ok := h["zip"]; ok {
		return nil, fmt.Errorf("%w: zip header", ErrInvalidCookie)
	}
	return h, nil
}

// openJWT checks a jwt cache: HS256 only, signed with the current secret
// (better-auth crypto/jwt.ts signJWT), with a required exp.
func (v *Verifier) openJWT(value string) (object, time.Time, error) {
	parts, err := segments(value, 3)
	if err != nil {
		return nil, time.Time{}, err
	}
	h, err := protectedHeader(parts[0])
	if err != nil {
		return nil, time.Time{}, err
	}
	if alg, _ := h.str("alg"); alg != "HS256" {
		return nil, time.Time{}, fmt.Errorf("%w: alg not allowed", ErrInvalidCookie)
	}
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	m := hmac.New(sha256.New, v.current)
	m.Write([]byte(value[:len(parts[0])+1+len(parts[1])]))
	if !hmac.Equal(sig, m.Sum(nil)) {
		return nil, time.Time{}, fmt.Errorf("%w: jwt cache signature does not verify", ErrInvalidCookie)
	}
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	return v.claims(payload)
}

// openJWE opens a jwe cache: "dir" with A256CBC-HS512 only, under the key of
// the secret whose thumbprint is the kid, or of each secret in turn for a
// cache without kid (better-auth crypto/jwt.ts symmetricDecodeJWT).
func (v *Verifier) openJWE(value string) (object, time.Time, error) {
	parts, err := segments(value, 5)
	if err != nil {
		return nil, time.Time{}, err
	}
	if parts[1] != "" {
		return nil, time.Time{}, fmt.Errorf("%w: encrypted key must be empty for dir", ErrInvalidCookie)
	}
	h, err := protectedHeader(parts[0])
	if err != nil {
		return nil, time.Time{}, err
	}
	alg, _ := h.str("alg")
	enc, _ := h.str("enc")
	if alg != string(jose.DIRECT) || enc != string(jose.A256CBC_HS512) {
		return nil, time.Time{}, fmt.Errorf("%w: alg or enc not allowed", ErrInvalidCookie)
	}
	candidates := v.jweKeys
	if _, hasKid := h["kid"]; hasKid {
		kid, ok := h.str("kid")
		if !ok {
			return nil, time.Time{}, fmt.Errorf("%w: kid", ErrInvalidCookie)
		}
		candidates = nil
		for _, k := range v.jweKeys {
			if subtle.ConstantTimeCompare([]byte(k.kid), []byte(kid)) == 1 {
				candidates = []jweKey{k}
				break
			}
		}
		if candidates == nil {
			return nil, time.Time{}, fmt.Errorf("%w: jwe cache sealed with an unknown secret", ErrInvalidCookie)
		}
	}
	obj, err := jose.ParseEncryptedCompact(value, []jose.KeyAlgorithm{jose.DIRECT}, []jose.ContentEncryption{jose.A256CBC_HS512})
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("%w: jwe cache", ErrInvalidCookie)
	}
	for _, k := range candidates {
		if payload, err := obj.Decrypt(k.key); err == nil {
			return v.claims(payload)
		}
	}
	return nil, time.Time{}, fmt.Errorf("%w: jwe cache does not decrypt", ErrInvalidCookie)
}

// claims reads a JWT claim set: a JSON object with a numeric exp; an nbf, if
// any, must have passed (with the clock tolerance), as jose checks.
func (v *Verifier) claims(payload []byte) (object, time.Time, error) {
	top, err := decodeObject(payload)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("%w: claims", ErrInvalidCookie)
	}
	exp, ok := numericDate(top["exp"])
	if !ok {
		return nil, time.Time{}, fmt.Errorf("%w: exp", ErrInvalidCookie)
	}
	if raw, has := top["nbf"]; has {
		nbf, ok := numericDate(raw)
		if !ok {
			return nil, time.Time{}, fmt.Errorf("%w: nbf", ErrInvalidCookie)
		}
		if nbf.After(v.now().Add(v.tolerance)) {
			return nil, time.Time{}, fmt.Errorf("%w: not yet valid", ErrInvalidCookie)
		}
	}
	return top, exp, nil
}

// numericDate reads a JWT NumericDate (seconds, possibly fractional).
func numericDate(raw json.RawMessage) (time.Time, bool) {
	if kind(raw) != '0' {
		return time.Time{}, false
	}
	var f float64
	if json.Unmarshal(raw, &f) != nil || f < 0 || f > 253402300799 || math.IsNaN(f) {
		return time.Time{}, false
	}
	return time.UnixMilli(int64(f * 1000)), true
}

package edgeauth

import (
	"crypto/rand"
	"fmt"
	"os"
	"time"
	"unicode/utf8"

	"github.com/edgeauth/edgeauth/internal/expiry"
	"github.com/edgeauth/edgeauth/internal/jwefast"
	"github.com/edgeauth/edgeauth/internal/keys"
)

// Format selects the token format of the issuing library.
type Format int

const (
	// FormatAuthJS is Auth.js (next-auth v5, @auth/core): A256CBC-HS512 with a
	// "kid" header on encode; A256CBC-HS512 or A256GCM on decode.
	FormatAuthJS Format = iota
	// FormatNextAuthV4 is next-auth 4.x: A256GCM, no "kid".
	FormatNextAuthV4
)

// String returns "authjs" or "next-auth-v4".
func (f Format) String() string {
	switch f {
	case FormatAuthJS:
		return "authjs"
	case FormatNextAuthV4:
		return "next-auth-v4"
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// MaxTokenSize bounds the length of a token accepted by [Codec.Decode]. It is
// checked before any parsing.
const MaxTokenSize = 64 << 10

// CodecConfig configures a [Codec]. The zero value of every field but Secrets
// means Auth.js's default.
type CodecConfig struct {
	// Secrets are the AUTH_SECRET values, newest first: the first encodes,
	// all of them decode (key rotation). See [SecretsFromEnv].
	Secrets []string
	// Salt is the HKDF salt, which Auth.js sets to the session cookie name.
	// Empty means "authjs.session-token" for FormatAuthJS and "" (next-auth v4's
	// default) for FormatNextAuthV4.
	Salt string
	// Format is the issuing library's format; zero is FormatAuthJS.
	Format Format
	// MaxAge is the lifetime given to encoded tokens; zero means 30 days.
	MaxAge time.Duration
	// ClockTolerance is the leeway for exp and nbf; zero means 15 s, a
	// negative value means none.
	ClockTolerance time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Codec encodes and decodes session tokens. It is immutable and safe for
// concurrent use; keys and their thumbprints are derived once, in [NewCodec].
type Codec struct {
	format    Format
	salt      string
	maxAge    time.Duration
	tolerance time.Duration
	now       func() time.Time
	keys      []derivedKeys
	fast      *jwefast.Opener // the headers Auth.js and next-auth write
}

type derivedKeys struct {
	cbc, gcm       []byte // 64-byte A256CBC-HS512 key (v5 only), 32-byte A256GCM key
	cbcKid, gcmKid string // their RFC 7638 thumbprints, base64url
}

// NewCodec checks cfg and derives the keys of every secret.
func NewCodec(cfg CodecConfig) (*Codec, error) {
	c := &Codec{
		format:    cfg.Format,
		salt:      cfg.Salt,
		maxAge:    cfg.MaxAge,
		tolerance: cfg.ClockTolerance,
		now:       cfg.Now,
	}
	switch cfg.Format {
	case FormatAuthJS:
		if c.salt == "" {
			c.salt = DefaultCookieName
		}
	case FormatNextAuthV4:
	default:
		return nil, fmt.Errorf("%w: unknown format %d", ErrConfig, int(cfg.Format))
	}
	if c.maxAge == 0 {
		c.maxAge = DefaultMaxAge
	}
	if c.maxAge < time.Second {
		return nil, fmt.Errorf("%w: MaxAge must be at least one second", ErrConfig)
	}
	c.tolerance = expiry.Tolerance(c.tolerance, DefaultClockTolerance)
	if c.now == nil {
		c.now = time.Now
	}
	if len(cfg.Secrets) == 0 {
		return nil, ErrNoSecret
	}
	for i, secret := range cfg.Secrets {
		if secret == "" {
			return nil, fmt.Errorf("%w: secret %d is empty", ErrNoSecret, i)
		}
		var k derivedKeys
		var err error
		if c.format == FormatNextAuthV4 {
			k.gcm, err = keys.NextAuthV4(secret, c.salt)
		} else {
			if k.cbc, err = keys.AuthJS(secret, c.salt, 64); err == nil {
				k.gcm, err = keys.AuthJS(secret, c.salt, 32)
			}
			k.cbcKid, k.gcmKid = keys.Thumbprint(k.cbc), keys.Thumbprint(k.gcm)
		}
		if err != nil {
			return nil, fmt.Errorf("%w: deriving key %d", ErrConfig, i)
		}
		c.keys = append(c.keys, k)
	}
	var err error
	if c.fast, err = jwefast.New(c.fastRoutes()); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	return c, nil
}

// fastRoutes are the exact headers Auth.js and next-auth write, each with
// the keys open's general path would try: the kid's key, or every key in
// order. next-auth v4 ignores kid, so only its kid-less header is routed.
func (c *Codec) fastRoutes() []jwefast.Route {
	gcm := jwefast.Route{Enc: jwefast.A256GCM}
	cbc := jwefast.Route{Enc: jwefast.A256CBCHS512}
	for _, k := range c.keys {
		gcm.Keys = append(gcm.Keys, k.gcm)
		cbc.Keys = append(cbc.Keys, k.cbc)
	}
	if c.format == FormatNextAuthV4 {
		return []jwefast.Route{gcm}
	}
	routes := []jwefast.Route{gcm, cbc}
	for _, k := range c.keys {
		routes = append(routes,
			jwefast.Route{Enc: jwefast.A256CBCHS512, Kid: k.cbcKid, Keys: [][]byte{k.cbc}},
			jwefast.Route{Enc: jwefast.A256GCM, Kid: k.gcmKid, Keys: [][]byte{k.gcm}})
	}
	return routes
}

// SecretsFromEnv returns the secrets in the environment in Auth.js's order:
// AUTH_SECRET_3, AUTH_SECRET_2, AUTH_SECRET_1, AUTH_SECRET, skipping unset or
// empty ones.
func SecretsFromEnv() []string {
	var secrets []string
	for _, name := range []string{"AUTH_SECRET_3", "AUTH_SECRET_2", "AUTH_SECRET_1", "AUTH_SECRET"} {
		if s := os.Getenv(name); s != "" {
			secrets = append(secrets, s)
		}
	}
	return secrets
}

// Encode seals t with the newest secret. Like Auth.js it sets t.IssuedAt to
// now, t.Expires to now + MaxAge and t.ID to a new random UUID, then returns
// the compact JWE. A token that cannot be encoded is an ErrInvalidSession,
// never an ErrInvalidToken: it is the caller's, not a client's.
func (c *Codec) Encode(t *Token) (string, error) { return c.encode(t, "") }

// encode is Encode; a non-empty keepID is kept as the jti.
func (c *Codec) encode(t *Token, keepID string) (string, error) {
	now := time.Unix(c.now().Unix(), 0).UTC()
	jti := keepID
	if jti == "" {
		var err error
		if jti, err = newUUID(); err != nil {
			return "", fmt.Errorf("edgeauth: generating jti: %w", err)
		}
	}
	t.IssuedAt = now
	t.Expires = now.Add(c.maxAge.Truncate(time.Second))
	t.ID = jti
	delete(t.Claims, "iat")
	delete(t.Claims, "exp")
	delete(t.Claims, "jti")
	return c.seal(t)
}

// Decode verifies and decrypts a token and checks its exp and nbf. Every
// error caused by the token satisfies errors.Is(err, ErrInvalidToken).
func (c *Codec) Decode(token string) (*Token, error) {
	plaintext, err := c.open(token)
	if err != nil {
		return nil, err
	}
	// As @auth/core's strict TextDecoder: invalid UTF-8 is not a claim set.
	if !utf8.Valid(plaintext) {
		return nil, fmt.Errorf("%w: payload is not UTF-8", ErrInvalidClaims)
	}
	t := new(Token)
	if err := t.UnmarshalJSON(plaintext); err != nil {
		return nil, err
	}
	if err := c.checkTimes(t); err != nil {
		return nil, err
	}
	return t, nil
}

func (c *Codec) checkTimes(t *Token) error {
	if t.Expires.IsZero() {
		return fmt.Errorf("%w: exp is required", ErrInvalidClaims)
	}
	now := c.now()
	if expiry.Expired(t.Expires, now, c.tolerance) {
		return ErrExpired
	}
	if raw, ok := t.Claims["nbf"]; ok {
		nbf, err := parseNumericDate(raw)
		if err != nil {
			return fmt.Errorf("%w: claim \"nbf\"", ErrInvalidClaims)
		}
		if expiry.NotYetValid(nbf, now, c.tolerance) {
			return ErrNotYetValid
		}
	}
	return nil
}

// newUUID returns a random RFC 9562 version 4 UUID, as crypto.randomUUID.
func newUUID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	const hex = "0123456789abcdef"
	out := make([]byte, 0, 36)
	for i, x := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out = append(out, '-')
		}
		out = append(out, hex[x>>4], hex[x&0x0f])
	}
	return string(out), nil
}

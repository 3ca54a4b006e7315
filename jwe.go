package edgeauth

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/edgeauth/edgeauth/internal/jsonscan"
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
	if c.tolerance == 0 {
		c.tolerance = DefaultClockTolerance
	} else if c.tolerance < 0 {
		c.tolerance = 0
	}
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

// Salt returns the HKDF salt in use (the session cookie name for Auth.js).
func (c *Codec) Salt() string { return c.salt }

// Encode seals t with the newest secret. Like Auth.js it sets t.IssuedAt to
// now, t.Expires to now + MaxAge and t.ID to a new random UUID, then returns
// the compact JWE.
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

// seal encrypts t as it is, with the newest secret.
func (c *Codec) seal(t *Token) (string, error) {
	payload, err := t.MarshalJSON()
	if err != nil {
		return "", err
	}
	k := c.keys[0]
	rcpt := jose.Recipient{Algorithm: jose.DIRECT, Key: k.cbc, KeyID: k.cbcKid}
	enc := jose.A256CBC_HS512
	if c.format == FormatNextAuthV4 {
		rcpt = jose.Recipient{Algorithm: jose.DIRECT, Key: k.gcm}
		enc = jose.A256GCM
	}
	encrypter, err := jose.NewEncrypter(enc, rcpt, nil)
	if err != nil {
		return "", fmt.Errorf("edgeauth: encrypter: %w", err)
	}
	obj, err := encrypter.Encrypt(payload)
	if err != nil {
		return "", fmt.Errorf("edgeauth: encrypt: %w", err)
	}
	return obj.CompactSerialize()
}

// header is the part of the protected header that is checked before go-jose
// sees the token; kid is kept raw (quoted) and compared without decoding.
type header struct {
	alg, enc string
	kid      []byte
	hasKid   bool
	zipCrit  bool // a "zip" or "crit" member, whatever its value
}

var (
	keyAlgorithms = []jose.KeyAlgorithm{jose.DIRECT}
	encAuthJS     = []jose.ContentEncryption{jose.A256CBC_HS512, jose.A256GCM}
	encV4         = []jose.ContentEncryption{jose.A256GCM}
)

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

func (c *Codec) open(token string) ([]byte, error) {
	if len(token) > MaxTokenSize {
		return nil, ErrTooLarge
	}
	// A known header skips go-jose's JSON parsing and cipher setup, with the
	// same outcome. A token it opens has the shape checkCompactShape
	// requires (jwefast decodes strictly), so only failures pay for that
	// check; every other header takes the general path below.
	plaintext, known, err := c.fast.Open(token)
	if known && err == nil {
		return plaintext, nil
	}
	if err := checkCompactShape(token); err != nil {
		return nil, err
	}
	if known {
		return nil, ErrDecrypt // a well-shaped token jwefast rejects fails to decrypt
	}
	h, err := parseHeader(token[:strings.IndexByte(token, '.')])
	if err != nil {
		return nil, err
	}
	if h.alg != string(jose.DIRECT) {
		return nil, fmt.Errorf("%w: alg not allowed", ErrMalformed)
	}
	allowed := encAuthJS
	if c.format == FormatNextAuthV4 {
		allowed = encV4
	}
	enc := jose.ContentEncryption(h.enc)
	if !containsEnc(allowed, enc) {
		return nil, fmt.Errorf("%w: enc not allowed", ErrMalformed)
	}
	if h.zipCrit {
		return nil, fmt.Errorf("%w: zip and crit are not allowed", ErrMalformed)
	}
	candidates, err := c.candidates(enc, h)
	if err != nil {
		return nil, err
	}
	obj, err := jose.ParseEncryptedCompact(token, keyAlgorithms, allowed)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	// go-jose opens a tag segment longer than the tag as the end of the
	// ciphertext, which would give every token many spellings; RFC 7518
	// and the JavaScript libraries take exactly the algorithm's tag.
	tagSize := 16
	if enc == jose.A256CBC_HS512 {
		tagSize = 32
	}
	if base64.RawURLEncoding.DecodedLen(len(token)-strings.LastIndexByte(token, '.')-1) != tagSize {
		return nil, ErrDecrypt
	}
	for _, key := range candidates {
		if plaintext, err := obj.Decrypt(key); err == nil {
			return plaintext, nil
		}
	}
	return nil, ErrDecrypt
}

// candidates returns the keys to try: the one whose thumbprint is kid, or,
// for a token without kid, every secret's key in order (Auth.js tries only
// the first).
func (c *Codec) candidates(enc jose.ContentEncryption, h *header) ([][]byte, error) {
	cbc := enc == jose.A256CBC_HS512
	if h.hasKid && c.format == FormatAuthJS {
		// Thumbprints are base64url, so a kid with escapes matches none.
		kid := h.kid[1 : len(h.kid)-1]
		var match []byte
		for _, k := range c.keys {
			key, thumb := k.gcm, k.gcmKid
			if cbc {
				key, thumb = k.cbc, k.cbcKid
			}
			if constantTimeEqual(thumb, kid) && match == nil {
				match = key
			}
		}
		if match == nil {
			return nil, ErrNoMatchingSecret
		}
		return [][]byte{match}, nil
	}
	out := make([][]byte, 0, len(c.keys))
	for _, k := range c.keys {
		if cbc {
			out = append(out, k.cbc)
		} else {
			out = append(out, k.gcm)
		}
	}
	return out, nil
}

// constantTimeEqual is subtle.ConstantTimeCompare for a string and a byte
// slice, without converting (and allocating) either.
func constantTimeEqual(a string, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	var v byte
	for i := range b {
		v |= a[i] ^ b[i]
	}
	return subtle.ConstantTimeByteEq(v, 0) == 1
}

func containsEnc(list []jose.ContentEncryption, enc jose.ContentEncryption) bool {
	for _, e := range list {
		if e == enc {
			return true
		}
	}
	return false
}

// checkCompactShape requires five canonical base64url segments with an
// empty encrypted-key segment (alg "dir"), before anything is decoded.
// Canonical means no spare bits set in a segment's last character: base64
// decoders ignore them, so without this one token would have many spellings
// (and cache entries).
func checkCompactShape(token string) error {
	if token == "" {
		return fmt.Errorf("%w: empty", ErrMalformed)
	}
	dots, start := 0, 0
	for i := 0; i <= len(token); i++ {
		if i < len(token) && token[i] != '.' {
			if b64Value[token[i]] < 0 {
				return fmt.Errorf("%w: not compact JWE", ErrMalformed)
			}
			continue
		}
		if !canonicalSegment(token[start:i]) {
			return fmt.Errorf("%w: non-canonical base64url", ErrMalformed)
		}
		if i == len(token) {
			break
		}
		dots++
		if dots == 2 && i > start {
			return fmt.Errorf("%w: encrypted key must be empty for dir", ErrMalformed)
		}
		start = i + 1
	}
	if dots != 4 {
		return fmt.Errorf("%w: compact JWE needs five segments", ErrMalformed)
	}
	return nil
}

// canonicalSegment reports an unpadded base64url string whose length is
// possible and whose last character carries no spare bits.
func canonicalSegment(seg string) bool {
	switch len(seg) % 4 {
	case 1:
		return false
	case 2:
		return b64Value[seg[len(seg)-1]]&0x0f == 0
	case 3:
		return b64Value[seg[len(seg)-1]]&0x03 == 0
	}
	return true
}

// b64Value maps base64url characters to their 6-bit values, others to -1.
var b64Value = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for i := 0; i < len(alphabet); i++ {
		t[alphabet[i]] = int8(i)
	}
	return t
}()

// maxHeaderSize bounds the decoded protected header; Auth.js's is ~140 bytes.
const maxHeaderSize = 1024

func parseHeader(segment string) (*header, error) {
	if base64.RawURLEncoding.DecodedLen(len(segment)) > maxHeaderSize {
		return nil, fmt.Errorf("%w: header too large", ErrMalformed)
	}
	raw, err := base64.RawURLEncoding.DecodeString(segment)
	if err != nil {
		return nil, fmt.Errorf("%w: header encoding", ErrMalformed)
	}
	var room [8]jsonscan.Member
	members, ok := jsonscan.Object(raw, room[:0])
	if !ok {
		return nil, fmt.Errorf("%w: header JSON", ErrMalformed)
	}
	h := new(header)
	for _, m := range members {
		if err := h.set(m.Name, m.Value); err != nil {
			return nil, fmt.Errorf("%w: header", ErrMalformed)
		}
	}
	return h, nil
}

// set records one member of the header, given its raw name and value.
func (h *header) set(key, value []byte) error {
	name := string(key)
	if bytes.IndexByte(key, '\\') >= 0 {
		var err error
		if name, err = unquote(key); err != nil {
			return err
		}
		name = `"` + name + `"`
	}
	switch name {
	case `"alg"`, `"enc"`:
		s, err := unquote(value)
		if err != nil || value[0] != '"' {
			return fmt.Errorf("%w: header %s", ErrMalformed, name)
		}
		if name == `"alg"` {
			h.alg = s
		} else {
			h.enc = s
		}
	case `"kid"`:
		if value[0] != '"' {
			return fmt.Errorf("%w: header kid", ErrMalformed)
		}
		h.kid, h.hasKid = value, true
	case `"zip"`, `"crit"`:
		h.zipCrit = true
	}
	return nil
}

func (c *Codec) checkTimes(t *Token) error {
	if t.Expires.IsZero() {
		return fmt.Errorf("%w: exp is required", ErrInvalidClaims)
	}
	// As jose: now is whole seconds; expired when exp <= now - tolerance,
	// not yet valid when nbf > now + tolerance.
	now := time.Unix(c.now().Unix(), 0)
	if !t.Expires.After(now.Add(-c.tolerance)) {
		return ErrExpired
	}
	if raw, ok := t.Claims["nbf"]; ok {
		nbf, err := parseNumericDate(raw)
		if err != nil {
			return fmt.Errorf("%w: claim \"nbf\"", ErrInvalidClaims)
		}
		if nbf.After(now.Add(c.tolerance)) {
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

package edgeauth

import (
	"bytes"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/edgeauth/edgeauth/internal/jsonscan"
)

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

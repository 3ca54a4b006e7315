// Package jwefast opens the compact JWEs whose protected header is one of a
// few exact byte strings, the ones Auth.js and next-auth write: alg "dir",
// enc A256CBC-HS512 or A256GCM, with or without a "kid". It skips JSON
// parsing (the header is matched by its base64url spelling, which is also
// the AAD) and per-call cipher construction (keys are expanded once in
// [New]; the HMAC and CBC state that calls mutate is pooled).
//
// Every other token is left to the caller's general JOSE implementation,
// which stays the reference: for a token [Opener.Open] handles, the outcome
// is that of go-jose's ParseEncryptedCompact and Decrypt with the same keys,
// tried in the same order, given a tag of exactly the algorithm's length
// (go-jose alone would also open a longer tag segment as the end of the
// ciphertext; RFC 7518 and the JavaScript libraries do not).
package jwefast

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"strings"
	"sync"
)

// Enc is a content encryption algorithm.
type Enc int

const (
	// A256CBCHS512 is AES-256-CBC with HMAC-SHA-512 (RFC 7518 §5.2.5), under a 64-byte key.
	A256CBCHS512 Enc = iota
	// A256GCM is AES-256-GCM (RFC 7518 §5.3), under a 32-byte key.
	A256GCM
)

func (e Enc) String() string {
	switch e {
	case A256CBCHS512:
		return "A256CBC-HS512"
	case A256GCM:
		return "A256GCM"
	}
	return fmt.Sprintf("Enc(%d)", int(e))
}

func (e Enc) keySize() int {
	if e == A256CBCHS512 {
		return 64
	}
	return 32
}

var (
	// ErrMalformed reports a token with a known header that is not five
	// base64url segments with an empty encrypted key.
	ErrMalformed = errors.New("jwefast: malformed token")
	// ErrDecrypt reports a token that no candidate key opens.
	ErrDecrypt = errors.New("jwefast: decryption failed")
)

// Route is one protected header and the keys that may open tokens carrying it.
type Route struct {
	Enc Enc
	// Kid is the "kid" member, empty for a header without one. It must be
	// base64url (a thumbprint), so that it needs no JSON escaping.
	Kid string
	// Keys are tried in order; each is Enc's key size.
	Keys [][]byte
}

// Header returns the exact protected header of r:
// {"alg":"dir","enc":"<enc>"} or {"alg":"dir","enc":"<enc>","kid":"<kid>"},
// members in the order both Auth.js (jose) and go-jose write them.
func (r Route) Header() string {
	if r.Kid == "" {
		return `{"alg":"dir","enc":"` + r.Enc.String() + `"}`
	}
	return `{"alg":"dir","enc":"` + r.Enc.String() + `","kid":"` + r.Kid + `"}`
}

// Opener opens the tokens of its routes. It is safe for concurrent use.
type Opener struct {
	routes map[string]route // by the base64url spelling of the header
	keys   []*key
	pool   sync.Pool // *scratch
}

type route struct {
	enc  Enc
	keys []int // indexes into Opener.keys
}

// key is a key's immutable state: AES blocks and GCM are safe for
// concurrent use (crypto/internal/fips140/aes documents it for Block; see
// golang/go#41689 for GCM), the HMAC and CBC state are not and live in
// scratch.
type key struct {
	enc    Enc
	macKey []byte       // A256CBC-HS512: the first half of the key
	block  cipher.Block // A256CBC-HS512: AES-256 under the second half
	gcm    cipher.AEAD  // A256GCM
}

// scratch is one call's working memory; the plaintext returned is never in it.
type scratch struct {
	buf  []byte
	sum  [sha512.Size]byte
	al   [8]byte            // the AAD length in bits, the last input to the HMAC
	macs []hash.Hash        // per key, made on first use
	cbcs []cipher.BlockMode // per key, made on first use; nil when they cannot take a new IV
}

// ivSetter is implemented by the standard library's CBC decrypters, so one
// can be reused with another IV instead of copying the AES key schedule
// into a new one on every call.
type ivSetter interface{ SetIV([]byte) }

// New expands the keys of every route. When two routes share a header, the
// first one is kept, as a key lookup by kid keeps the first match.
func New(routes []Route) (*Opener, error) {
	o := &Opener{routes: make(map[string]route, len(routes))}
	index := map[string]int{} // key bytes and enc → index in o.keys
	for _, r := range routes {
		if r.Enc != A256CBCHS512 && r.Enc != A256GCM {
			return nil, fmt.Errorf("jwefast: unknown enc %d", int(r.Enc))
		}
		// Trimming every base64url character leaves nothing of a base64url kid.
		if strings.Trim(r.Kid, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
			return nil, errors.New("jwefast: kid is not base64url")
		}
		segment := base64.RawURLEncoding.EncodeToString([]byte(r.Header()))
		if _, dup := o.routes[segment]; dup {
			continue
		}
		rt := route{enc: r.Enc}
		for _, k := range r.Keys {
			if len(k) != r.Enc.keySize() {
				return nil, fmt.Errorf("jwefast: %v needs a %d-byte key", r.Enc, r.Enc.keySize())
			}
			id := r.Enc.String() + "/" + string(k)
			i, ok := index[id]
			if !ok {
				st, err := newKey(r.Enc, k)
				if err != nil {
					return nil, err
				}
				i = len(o.keys)
				o.keys = append(o.keys, st)
				index[id] = i
			}
			rt.keys = append(rt.keys, i)
		}
		o.routes[segment] = rt
	}
	o.pool.New = func() any {
		return &scratch{macs: make([]hash.Hash, len(o.keys)), cbcs: make([]cipher.BlockMode, len(o.keys))}
	}
	return o, nil
}

func newKey(enc Enc, k []byte) (*key, error) {
	if enc == A256GCM {
		block, err := aes.NewCipher(k)
		if err != nil {
			return nil, err
		}
		gcm, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		return &key{enc: enc, gcm: gcm}, nil
	}
	block, err := aes.NewCipher(k[32:])
	if err != nil {
		return nil, err
	}
	return &key{enc: enc, macKey: append([]byte(nil), k[:32]...), block: block}, nil
}

// Open decrypts token when its protected header is one of the routes'; known
// is false, and nothing is done, otherwise. For a known header err is nil,
// ErrMalformed or ErrDecrypt, and plaintext is newly allocated: callers may
// keep it. A token that fails authentication allocates nothing. The caller
// bounds the token's size.
//
// A token Open opens is five canonical base64url segments with an empty
// second one: IV, ciphertext and tag are decoded strictly, and CR and LF,
// which base64 decoders skip, are malformed.
func (o *Opener) Open(token string) (plaintext []byte, known bool, err error) {
	dot := strings.IndexByte(token, '.')
	if dot < 0 {
		return nil, false, nil
	}
	r, ok := o.routes[token[:dot]]
	if !ok {
		return nil, false, nil
	}
	rest, ok := strings.CutPrefix(token[dot+1:], ".") // the empty encrypted key of "dir"
	if !ok || strings.IndexByte(rest, '\r') >= 0 || strings.IndexByte(rest, '\n') >= 0 {
		return nil, true, ErrMalformed
	}
	ivSeg, rest, ok1 := strings.Cut(rest, ".")
	ctSeg, tagSeg, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || strings.IndexByte(tagSeg, '.') >= 0 {
		return nil, true, ErrMalformed
	}

	s := o.pool.Get().(*scratch)
	defer o.put(s)
	// buf holds the token's bytes (the header's are the AAD), then the
	// decoded IV, ciphertext and tag back to back (GCM opens
	// ciphertext||tag as one), then room for a GCM plaintext.
	enc := base64.RawURLEncoding.Strict()
	need := len(token) + enc.DecodedLen(len(ivSeg)) + 2*enc.DecodedLen(len(ctSeg)+len(tagSeg)) + 8
	if cap(s.buf) < need {
		s.buf = make([]byte, need)
	}
	buf := s.buf[:cap(s.buf)]
	raw := buf[:copy(buf, token)]
	aad := raw[:dot]
	ivStart := dot + 2
	ctStart := ivStart + len(ivSeg) + 1
	tagStart := ctStart + len(ctSeg) + 1

	out := buf[len(raw):]
	nIV, err1 := enc.Decode(out, raw[ivStart:ivStart+len(ivSeg)])
	nCT, err2 := enc.Decode(out[nIV:], raw[ctStart:ctStart+len(ctSeg)])
	nTag, err3 := enc.Decode(out[nIV+nCT:], raw[tagStart:])
	if err1 != nil || err2 != nil || err3 != nil {
		return nil, true, ErrMalformed
	}
	iv, sealed := out[:nIV], out[nIV:nIV+nCT+nTag]
	spare := out[nIV+nCT+nTag:]

	for _, i := range r.keys {
		var p []byte
		var ok bool
		if r.enc == A256GCM {
			p, ok = o.keys[i].openGCM(spare, iv, sealed, nTag, aad)
		} else {
			p, ok = o.keys[i].openCBC(s, i, iv, sealed, nTag, aad)
		}
		if ok {
			return p, true, nil
		}
	}
	return nil, true, ErrDecrypt
}

// maxPooledBuffer bounds the scratch memory kept between calls: a rare
// large token gets its buffer, which the pool then does not keep.
const maxPooledBuffer = 32 << 10

func (o *Opener) put(s *scratch) {
	if cap(s.buf) > maxPooledBuffer {
		s.buf = nil
	}
	o.pool.Put(s)
}

// openCBC is RFC 7518 §5.2.2.2: the tag is checked, in constant time,
// before anything is decrypted, then every padding byte. The IV is 16
// bytes and the tag 32.
func (k *key) openCBC(s *scratch, i int, iv, sealed []byte, tagLen int, aad []byte) ([]byte, bool) {
	const tagSize = 32
	if len(iv) != aes.BlockSize || tagLen != tagSize {
		return nil, false
	}
	ciphertext, tag := sealed[:len(sealed)-tagSize], sealed[len(sealed)-tagSize:]
	mac := s.macs[i]
	if mac == nil {
		mac = hmac.New(sha512.New, k.macKey)
		s.macs[i] = mac
	}
	mac.Reset()
	mac.Write(aad)
	mac.Write(iv)
	mac.Write(ciphertext)
	binary.BigEndian.PutUint64(s.al[:], uint64(len(aad))*8)
	mac.Write(s.al[:])
	if subtle.ConstantTimeCompare(mac.Sum(s.sum[:0])[:tagSize], tag) != 1 {
		return nil, false
	}
	if len(ciphertext) == 0 || len(ciphertext)%aes.BlockSize != 0 {
		return nil, false
	}
	plaintext := make([]byte, len(ciphertext))
	k.cbcDecrypter(s, i, iv).CryptBlocks(plaintext, ciphertext)
	n, ok := unpad(plaintext)
	if !ok {
		return nil, false
	}
	return plaintext[:n:n], true
}

func (k *key) cbcDecrypter(s *scratch, i int, iv []byte) cipher.BlockMode {
	if m := s.cbcs[i]; m != nil {
		m.(ivSetter).SetIV(iv)
		return m
	}
	m := cipher.NewCBCDecrypter(k.block, iv)
	if _, ok := m.(ivSetter); ok {
		s.cbcs[i] = m
	}
	return m
}

// unpad checks PKCS#7 padding, every byte of it, and returns the length
// without it. It runs after the tag check, so it cannot be a padding oracle.
func unpad(p []byte) (int, bool) {
	if len(p) == 0 {
		return 0, false
	}
	pad := int(p[len(p)-1])
	if pad == 0 || pad > aes.BlockSize || pad > len(p) {
		return 0, false
	}
	var diff byte
	for _, b := range p[len(p)-pad:] {
		diff |= b ^ byte(pad)
	}
	if diff != 0 {
		return 0, false
	}
	return len(p) - pad, true
}

// openGCM decrypts into spare, not in place: with several candidate keys a
// failed attempt must leave the ciphertext intact, and the assembly GCM
// decrypts while it authenticates. Only a success allocates.
func (k *key) openGCM(spare, iv, sealed []byte, tagLen int, aad []byte) ([]byte, bool) {
	if len(iv) != k.gcm.NonceSize() || tagLen != k.gcm.Overhead() {
		return nil, false
	}
	opened, err := k.gcm.Open(spare[:0], iv, sealed, aad)
	if err != nil {
		return nil, false
	}
	plaintext := make([]byte, len(opened))
	copy(plaintext, opened)
	clear(opened)
	return plaintext, true
}

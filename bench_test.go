package edgeauth

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha512"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// The benchmarks share one token. testdata/authjs/bench.mjs sets
// EDGEAUTH_BENCH_SECRET and EDGEAUTH_BENCH_TOKEN (@auth/core's) and
// EDGEAUTH_BENCH_TOKEN_V4 (next-auth v4's) so that Node and Go measure the
// very same tokens in one run; otherwise typical ones are made here.
func benchSetup(b *testing.B) (secret, token string) {
	return benchToken(b, "EDGEAUTH_BENCH_TOKEN", FormatAuthJS)
}

// benchSetupV4 is benchSetup's A256GCM token, as next-auth v4 writes it.
func benchSetupV4(b *testing.B) (secret, token string) {
	return benchToken(b, "EDGEAUTH_BENCH_TOKEN_V4", FormatNextAuthV4)
}

func benchToken(b *testing.B, env string, format Format) (secret, token string) {
	b.Helper()
	secret, token = os.Getenv("EDGEAUTH_BENCH_SECRET"), os.Getenv(env)
	if secret != "" && token != "" {
		return secret, token
	}
	secret = "bench-secret-0123456789abcdefghij"
	c := newTestCodec(b, CodecConfig{Secrets: []string{secret}, Format: format, Now: time.Now})
	tok := &Token{Subject: "5f2b8c9e-1d4a-4b7e-9c3f-2a6d8e0b1c4f", Name: "Ada Lovelace", Email: "ada@example.com",
		Picture: "https://avatars.example.com/u/1234567?v=4"}
	_ = tok.SetClaim("role", "admin")
	_ = tok.SetClaim("id", tok.Subject)
	token, err := c.Encode(tok)
	if err != nil {
		b.Fatal(err)
	}
	return secret, token
}

func benchCodec(b *testing.B, secret string) *Codec {
	return newTestCodec(b, CodecConfig{Secrets: []string{secret}, Now: time.Now})
}

func benchCodecV4(b *testing.B, secret string) *Codec {
	return newTestCodec(b, CodecConfig{Secrets: []string{secret}, Format: FormatNextAuthV4, Now: time.Now})
}

// floorInput is a token's segments as bytes, since encoding/base64 decodes
// from []byte, and buffers for the decoded IV, ciphertext and tag, the
// ciphertext and tag back to back (the AEAD input of A256GCM).
type floorInput struct {
	aad, ivSrc, ctSrc, tagSrc []byte
	iv, sealed                []byte
}

func newFloorInput(token string) *floorInput {
	p := strings.Split(token, ".")
	in := &floorInput{aad: []byte(p[0]), ivSrc: []byte(p[2]), ctSrc: []byte(p[3]), tagSrc: []byte(p[4])}
	enc := base64.RawURLEncoding
	in.iv = make([]byte, enc.DecodedLen(len(p[2])))
	in.sealed = make([]byte, enc.DecodedLen(len(p[3]))+enc.DecodedLen(len(p[4])))
	return in
}

// decode is the base64url decoding every verifier does.
func (in *floorInput) decode(b *testing.B) (iv, ciphertext, tag []byte) {
	enc := base64.RawURLEncoding
	nIV, err1 := enc.Decode(in.iv, in.ivSrc)
	nCT, err2 := enc.Decode(in.sealed, in.ctSrc)
	nTag, err3 := enc.Decode(in.sealed[nCT:], in.tagSrc)
	if err1 != nil || err2 != nil || err3 != nil {
		b.Fatal("base64")
	}
	return in.iv[:nIV], in.sealed[:nCT], in.sealed[nCT : nCT+nTag]
}

// BenchmarkCryptoFloor is the cost of the cryptography alone for the
// benchmark token, with everything that can be prepared prepared: the
// derived key at hand, HMAC and CBC state and every buffer reused, no
// allocation. What is left is base64url decoding, the HMAC-SHA-512 tag check,
// AES-256-CBC decryption and the padding check of RFC 7518 §5.2: nothing
// that verifies this token can be cheaper.
func BenchmarkCryptoFloor(b *testing.B) {
	secret, token := benchSetup(b)
	key := benchCodec(b, secret).keys[0].cbc
	in := newFloorInput(token)
	block, err := aes.NewCipher(key[32:])
	if err != nil {
		b.Fatal(err)
	}
	mac := hmac.New(sha512.New, key[:32])
	cbc := cipher.NewCBCDecrypter(block, make([]byte, aes.BlockSize))
	setIV := cbc.(interface{ SetIV([]byte) })
	plaintext := make([]byte, len(in.sealed))
	sum := make([]byte, 0, sha512.Size)
	al := binary.BigEndian.AppendUint64(nil, uint64(len(in.aad))*8)
	b.ReportAllocs()
	b.SetBytes(int64(len(token)))
	for b.Loop() {
		iv, ciphertext, tag := in.decode(b)
		mac.Reset()
		mac.Write(in.aad)
		mac.Write(iv)
		mac.Write(ciphertext)
		mac.Write(al)
		if !hmac.Equal(mac.Sum(sum)[:32], tag) {
			b.Fatal("tag")
		}
		setIV.SetIV(iv)
		p := plaintext[:len(ciphertext)]
		cbc.CryptBlocks(p, ciphertext)
		pad := int(p[len(p)-1])
		if pad == 0 || pad > aes.BlockSize {
			b.Fatal("padding")
		}
		for _, c := range p[len(p)-pad:] {
			if int(c) != pad {
				b.Fatal("padding")
			}
		}
	}
}

// BenchmarkCryptoFloorGCM is BenchmarkCryptoFloor for next-auth v4's
// A256GCM token: base64url decoding and one AES-256-GCM open.
func BenchmarkCryptoFloorGCM(b *testing.B) {
	secret, token := benchSetupV4(b)
	key := benchCodecV4(b, secret).keys[0].gcm
	in := newFloorInput(token)
	block, err := aes.NewCipher(key)
	if err != nil {
		b.Fatal(err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		b.Fatal(err)
	}
	plaintext := make([]byte, len(in.sealed))
	b.ReportAllocs()
	b.SetBytes(int64(len(token)))
	for b.Loop() {
		iv, ciphertext, tag := in.decode(b)
		if _, err := gcm.Open(plaintext[:0], iv, in.sealed[:len(ciphertext)+len(tag)], in.aad); err != nil {
			b.Fatal(err)
		}
	}
}

func benchDecode(b *testing.B, c *Codec, token string) {
	b.ReportAllocs()
	b.SetBytes(int64(len(token)))
	for b.Loop() {
		if _, err := c.Decode(token); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecode is a cold decode: no cache, everything from the token string.
func BenchmarkDecode(b *testing.B) {
	secret, token := benchSetup(b)
	benchDecode(b, benchCodec(b, secret), token)
}

// BenchmarkDecodeGCM is a cold decode of next-auth v4's A256GCM token.
func BenchmarkDecodeGCM(b *testing.B) {
	secret, token := benchSetupV4(b)
	benchDecode(b, benchCodecV4(b, secret), token)
}

// BenchmarkDecodeGoJose is BenchmarkDecode with the fast path off: the
// general path, go-jose's, that every other header takes.
func BenchmarkDecodeGoJose(b *testing.B) {
	secret, token := benchSetup(b)
	benchDecode(b, generalPath(b, benchCodec(b, secret)), token)
}

// flipTag changes the first character of token's tag: a forgery that
// stays well-formed.
func flipTag(token string) string {
	i := strings.LastIndexByte(token, '.') + 1
	first := "A"
	if token[i] == 'A' {
		first = "B"
	}
	return token[:i] + first + token[i+1:]
}

// BenchmarkDecodeForged is a token whose tag does not verify.
func BenchmarkDecodeForged(b *testing.B) {
	secret, token := benchSetup(b)
	c := benchCodec(b, secret)
	forged := flipTag(token)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Decode(forged); !errors.Is(err, ErrDecrypt) {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncode(b *testing.B) {
	secret, _ := benchSetup(b)
	c := benchCodec(b, secret)
	b.ReportAllocs()
	for b.Loop() {
		tok := &Token{Subject: "5f2b8c9e-1d4a-4b7e-9c3f-2a6d8e0b1c4f", Name: "Ada Lovelace", Email: "ada@example.com"}
		if _, err := c.Encode(tok); err != nil {
			b.Fatal(err)
		}
	}
}

// discardWriter is a reusable ResponseWriter, so that the middleware
// benchmarks measure the middleware and not the recorder.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(int)             {}

// newBenchMiddleware builds the middleware benchmarks' Manager, handler and
// request, and serves the request once, which fills the cache when it is on.
func newBenchMiddleware(b *testing.B, cacheSize int) (*Manager, http.Handler, *http.Request, *discardWriter) {
	secret, token := benchSetup(b)
	m, err := New(Config{
		Secrets:   []string{secret},
		Rules:     []Rule{{Pattern: "/dashboard/:path*"}, {Pattern: "/admin/:path*", Roles: []string{"admin"}}},
		CacheSize: cacheSize,
		Store:     NewMemoryStore(MemoryStoreConfig{}),
	})
	if err != nil {
		b.Fatal(err)
	}
	var seen string
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = r.Header.Get("X-User-Id")
	}))
	r := httptest.NewRequest("GET", "/dashboard/settings", nil)
	r.Header.Set("Cookie", "theme=dark; authjs.session-token="+token+"; _ga=GA1.2.3")
	r.Header.Set("X-User-Id", "spoofed")
	w := &discardWriter{h: make(http.Header)}
	h.ServeHTTP(w, r)
	if seen != "5f2b8c9e-1d4a-4b7e-9c3f-2a6d8e0b1c4f" {
		b.Fatalf("middleware did not pass the session on: %q", seen)
	}
	return m, h, r, w
}

func benchMiddleware(b *testing.B, cacheSize int) {
	_, h, r, w := newBenchMiddleware(b, cacheSize)
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, r)
	}
}

// BenchmarkMiddlewareWarm is the steady state: the cookie was seen before,
// so decryption is skipped; exp, revocation, rules and headers are not.
func BenchmarkMiddlewareWarm(b *testing.B) { benchMiddleware(b, 0) }

// BenchmarkMiddlewareCold decrypts the cookie on every request.
func BenchmarkMiddlewareCold(b *testing.B) { benchMiddleware(b, -1) }

// BenchmarkMiddlewareWarmSteps breaks BenchmarkMiddlewareWarm's request
// into its steps: reading the cookie, the cache hit, the revocation check,
// the session copy, the rules, and the copy of the request next gets. Each
// sub-benchmark runs the steps up to its own, so the difference between two
// is what a step adds, its garbage collected in the same company as in a
// request (a step that allocates, timed alone, pays for far more).
func BenchmarkMiddlewareWarmSteps(b *testing.B) {
	m, _, r, _ := newBenchMiddleware(b, 0)
	var (
		raw   string
		entry *cacheEntry
		l     loaded
		rc    *requestContext
		s     *Session
	)
	steps := []struct {
		name string
		run  func()
	}{
		{"Cookie", func() { raw, _, _ = m.jar.read(r) }},
		{"Cache", func() { entry, _, _ = m.cache.get(raw) }},
		{"Revocation", func() { _ = m.checkRevocation(r.Context(), entry.token) }},
		{"Session", func() {
			l = loaded{token: entry.token, session: entry.session}
			rc = nil
			s, _ = m.sessionOf(r.Context(), &l, &rc)
		}},
		{"Rules", func() { _ = m.decide(r, s, nil, false) }},
		{"Forward", func() { _ = m.forward(r, s, nil, rc) }},
	}
	for i := range steps {
		b.Run(fmt.Sprintf("%d-%s", i+1, steps[i].name), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				for _, step := range steps[:i+1] {
					step.run()
				}
			}
			if s == nil && i >= 3 {
				b.Fatal("no session")
			}
		})
	}
}

// BenchmarkGoJoseFloor is go-jose's compact parse and decrypt alone, with the
// key at hand: the part of a cold Decode that edgeauth does not rewrite.
// Decode minus this is edgeauth's own cost (hardening, key lookup, claims).
func BenchmarkGoJoseFloor(b *testing.B) {
	secret, token := benchSetup(b)
	key := benchCodec(b, secret).keys[0].cbc
	b.ReportAllocs()
	b.SetBytes(int64(len(token)))
	for b.Loop() {
		obj, err := jose.ParseEncryptedCompact(token, keyAlgorithms, encAuthJS)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := obj.Decrypt(key); err != nil {
			b.Fatal(err)
		}
	}
}

package edgeauth

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha512"
	"encoding/base64"
	"encoding/binary"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// The benchmarks share one token. testdata/authjs/bench.mjs sets
// EDGEAUTH_BENCH_SECRET and EDGEAUTH_BENCH_TOKEN so that @auth/core and Go
// measure the very same token in one run; otherwise a typical Auth.js token
// is made here.
func benchSetup(b *testing.B) (secret, token string) {
	b.Helper()
	secret, token = os.Getenv("EDGEAUTH_BENCH_SECRET"), os.Getenv("EDGEAUTH_BENCH_TOKEN")
	if secret != "" && token != "" {
		return secret, token
	}
	secret = "bench-secret-0123456789abcdefghij"
	c := newTestCodec(b, CodecConfig{Secrets: []string{secret}, Now: time.Now})
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

// BenchmarkCryptoFloor is the cost of the cryptography alone for the
// benchmark token: base64 decoding, the HMAC-SHA-512 tag check and the
// AES-256-CBC decryption of RFC 7518 §5.2, with the derived key at hand.
// Nothing that verifies this token can be cheaper.
func BenchmarkCryptoFloor(b *testing.B) {
	secret, token := benchSetup(b)
	key := benchCodec(b, secret).keys[0].cbc
	macKey, encKey := key[:32], key[32:]
	parts := strings.Split(token, ".")
	b.ReportAllocs()
	b.SetBytes(int64(len(token)))
	for b.Loop() {
		iv, err1 := base64.RawURLEncoding.DecodeString(parts[2])
		ciphertext, err2 := base64.RawURLEncoding.DecodeString(parts[3])
		tag, err3 := base64.RawURLEncoding.DecodeString(parts[4])
		if err1 != nil || err2 != nil || err3 != nil {
			b.Fatal("base64")
		}
		aad := []byte(parts[0])
		mac := hmac.New(sha512.New, macKey)
		mac.Write(aad)
		mac.Write(iv)
		mac.Write(ciphertext)
		var al [8]byte
		binary.BigEndian.PutUint64(al[:], uint64(len(aad))*8)
		mac.Write(al[:])
		if !hmac.Equal(mac.Sum(nil)[:32], tag) {
			b.Fatal("tag")
		}
		block, err := aes.NewCipher(encKey)
		if err != nil {
			b.Fatal(err)
		}
		plaintext := make([]byte, len(ciphertext))
		cipher.NewCBCDecrypter(block, iv).CryptBlocks(plaintext, ciphertext)
		if pad := int(plaintext[len(plaintext)-1]); pad == 0 || pad > aes.BlockSize {
			b.Fatal("padding")
		}
	}
}

// BenchmarkDecode is a cold decode: no cache, everything from the token string.
func BenchmarkDecode(b *testing.B) {
	secret, token := benchSetup(b)
	c := benchCodec(b, secret)
	b.ReportAllocs()
	b.SetBytes(int64(len(token)))
	for b.Loop() {
		if _, err := c.Decode(token); err != nil {
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

func benchMiddleware(b *testing.B, cacheSize int) {
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
	h.ServeHTTP(w, r) // fills the cache when it is on
	if seen != "5f2b8c9e-1d4a-4b7e-9c3f-2a6d8e0b1c4f" {
		b.Fatalf("middleware did not pass the session on: %q", seen)
	}
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

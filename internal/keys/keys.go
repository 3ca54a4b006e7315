// Package keys derives Auth.js, next-auth v4 and Better Auth encryption keys
// and their RFC 7638 thumbprints.
package keys

import (
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
)

// AuthJS derives the @auth/core key: info "Auth.js Generated Encryption Key (<salt>)",
// 64 bytes for A256CBC-HS512 and 32 bytes for A256GCM.
func AuthJS(secret, salt string, length int) ([]byte, error) {
	return hkdf.Key(sha256.New, []byte(secret), []byte(salt), "Auth.js Generated Encryption Key ("+salt+")", length)
}

// NextAuthV4 derives the next-auth 4.x key: 32 bytes, info without a salt
// suffix when the salt is empty.
func NextAuthV4(secret, salt string) ([]byte, error) {
	info := "NextAuth.js Generated Encryption Key"
	if salt != "" {
		info += " (" + salt + ")"
	}
	return hkdf.Key(sha256.New, []byte(secret), []byte(salt), info, 32)
}

// Thumbprint is the RFC 7638 thumbprint of the symmetric JWK {"k":…,"kty":"oct"},
// hashed with SHA-512 for a 64-byte key and SHA-256 otherwise, as @auth/core
// computes the "kid" header (sha${byteLength << 3}).
func Thumbprint(key []byte) string {
	if len(key) == 64 {
		sum := sha512.Sum512(jwk(key))
		return base64.RawURLEncoding.EncodeToString(sum[:])
	}
	return ThumbprintSHA256(key)
}

// ThumbprintSHA256 is the RFC 7638 thumbprint hashed with SHA-256 whatever
// the key's length, as Better Auth computes the "kid" of its 64-byte key.
func ThumbprintSHA256(key []byte) string {
	sum := sha256.Sum256(jwk(key))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// jwk is the thumbprint input of a symmetric key: its required members in
// lexicographic order, no whitespace.
func jwk(key []byte) []byte {
	return []byte(`{"k":"` + base64.RawURLEncoding.EncodeToString(key) + `","kty":"oct"}`)
}

// BetterAuth derives Better Auth's cookie-cache key (better-auth
// crypto/jwt.ts): 64 bytes for A256CBC-HS512, info "BetterAuth.js Generated
// Encryption Key" without the salt, which is "better-auth-session" for the
// session cache.
func BetterAuth(secret, salt string) ([]byte, error) {
	return hkdf.Key(sha256.New, []byte(secret), []byte(salt), "BetterAuth.js Generated Encryption Key", 64)
}

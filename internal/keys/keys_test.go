package keys_test

import (
	"bytes"
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeauth/edgeauth/internal/keys"
)

// peerFile reads a vector copied from another project's test suite.
func peerFile(t *testing.T, name string, v any) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "peers", "fastapi-nextauth-jwt", name))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, v))
}

// fastapi-nextauth-jwt's HKDF known answer for next-auth v4 parameters.
func TestNextAuthV4KnownAnswer(t *testing.T) {
	var v struct {
		Hash   string `json:"hash"`
		IKM    string `json:"ikm_utf8"`
		Salt   string `json:"salt"`
		Info   string `json:"info"`
		Length int    `json:"length"`
		OKM    string `json:"okm_hex"`
	}
	peerFile(t, "hkdf_v4.json", &v)
	// The vector's parameters must be the ones NextAuthV4 documents, or the
	// comparison below would prove nothing about them.
	require.Equal(t, "SHA-256", v.Hash)
	require.Equal(t, "", v.Salt)
	require.Equal(t, "NextAuth.js Generated Encryption Key", v.Info)
	require.Equal(t, 32, v.Length)

	key, err := keys.NextAuthV4(v.IKM, v.Salt)
	require.NoError(t, err)
	assert.Equal(t, v.OKM, hex.EncodeToString(key))
}

// The v5 peer token's "kid" was computed by @auth/core from its derived
// key, so it checks AuthJS (64 bytes) and Thumbprint (SHA-512) together.
func TestThumbprintMatchesAuthJSKid(t *testing.T) {
	var v struct {
		Secret string `json:"secret"`
		HKDF   struct {
			Salt   string `json:"salt"`
			Info   string `json:"info"`
			Length int    `json:"length"`
		} `json:"hkdf"`
		ValidCookies map[string]string `json:"valid_cookies"`
	}
	peerFile(t, "v5.json", &v)
	require.Equal(t, 64, v.HKDF.Length)
	require.Equal(t, "Auth.js Generated Encryption Key ("+v.HKDF.Salt+")", v.HKDF.Info)
	token := v.ValidCookies[v.HKDF.Salt]
	require.NotEmpty(t, token)

	rawHeader, _, ok := strings.Cut(token, ".")
	require.True(t, ok)
	headerJSON, err := base64.RawURLEncoding.DecodeString(rawHeader)
	require.NoError(t, err)
	var header struct {
		Alg, Enc, Kid string
	}
	require.NoError(t, json.Unmarshal(headerJSON, &header))
	require.Equal(t, "dir", header.Alg)
	require.Equal(t, "A256CBC-HS512", header.Enc)
	require.NotEmpty(t, header.Kid)

	key, err := keys.AuthJS(v.Secret, v.HKDF.Salt, 64)
	require.NoError(t, err)
	require.Len(t, key, 64)
	assert.Equal(t, header.Kid, keys.Thumbprint(key))

	// The wrong salt or length gives another kid.
	other, err := keys.AuthJS(v.Secret, "next-auth.session-token", 64)
	require.NoError(t, err)
	assert.NotEqual(t, header.Kid, keys.Thumbprint(other))
	short, err := keys.AuthJS(v.Secret, v.HKDF.Salt, 32)
	require.NoError(t, err)
	assert.NotEqual(t, header.Kid, keys.Thumbprint(short))
}

func TestAuthJSLengthsAndInfo(t *testing.T) {
	const secret, salt = "test-secret-0123456789", "__Secure-authjs.session-token"
	k64, err := keys.AuthJS(secret, salt, 64)
	require.NoError(t, err)
	k32, err := keys.AuthJS(secret, salt, 32)
	require.NoError(t, err)
	require.Len(t, k64, 64)
	require.Len(t, k32, 32)
	assert.NotEqual(t, k64, k32)
	// Same HKDF parameters but the length, so the A256GCM key is the start of
	// the A256CBC-HS512 key, as in @auth/core; their thumbprints still differ.
	assert.Equal(t, k64[:32], k32)
	assert.NotEqual(t, keys.Thumbprint(k64), keys.Thumbprint(k32))

	info := "Auth.js Generated Encryption Key (" + salt + ")"
	for _, n := range []int{32, 64} {
		want, err := hkdf.Key(sha256.New, []byte(secret), []byte(salt), info, n)
		require.NoError(t, err)
		got, err := keys.AuthJS(secret, salt, n)
		require.NoError(t, err)
		assert.Equal(t, want, got, "length %d", n)

		// The salt is in the info too: the info without it gives another key.
		bare, err := hkdf.Key(sha256.New, []byte(secret), []byte(salt), "Auth.js Generated Encryption Key", n)
		require.NoError(t, err)
		assert.NotEqual(t, bare, got, "length %d", n)
	}

	other, err := keys.AuthJS(secret, "authjs.session-token", 64)
	require.NoError(t, err)
	assert.NotEqual(t, k64, other, "the salt selects the key")
}

func TestNextAuthV4Info(t *testing.T) {
	const secret = "test-secret-0123456789"
	for salt, info := range map[string]string{
		"":                        "NextAuth.js Generated Encryption Key",
		"next-auth.session-token": "NextAuth.js Generated Encryption Key (next-auth.session-token)",
	} {
		want, err := hkdf.Key(sha256.New, []byte(secret), []byte(salt), info, 32)
		require.NoError(t, err)
		got, err := keys.NextAuthV4(secret, salt)
		require.NoError(t, err)
		assert.Equal(t, want, got, "salt %q", salt)
	}
}

// RFC 7638: SHA-256 or SHA-512 of the JWK's required members in
// lexicographic order, without whitespace; built here with encoding/json.
func TestThumbprintRFC7638(t *testing.T) {
	for _, n := range []int{16, 32, 64} {
		key := bytes.Repeat([]byte{byte(n)}, n)
		jwk, err := json.Marshal(map[string]string{"kty": "oct", "k": base64.RawURLEncoding.EncodeToString(key)})
		require.NoError(t, err)
		var sum []byte
		if n == 64 {
			s := sha512.Sum512(jwk)
			sum = s[:]
		} else {
			s := sha256.Sum256(jwk)
			sum = s[:]
		}
		assert.Equal(t, base64.RawURLEncoding.EncodeToString(sum), keys.Thumbprint(key), "%d-byte key", n)
	}
}

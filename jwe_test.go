package edgeauth

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sealRaw encrypts an arbitrary payload and header with the codec's newest
// key, so tests can build tokens Encode would never produce.
func sealRaw(t testing.TB, c *Codec, enc jose.ContentEncryption, kid string, extra map[jose.HeaderKey]any, payload string) string {
	t.Helper()
	key := c.keys[0].gcm
	if enc == jose.A256CBC_HS512 {
		key = c.keys[0].cbc
	}
	opts := &jose.EncrypterOptions{ExtraHeaders: extra}
	e, err := jose.NewEncrypter(enc, jose.Recipient{Algorithm: jose.DIRECT, Key: key, KeyID: kid}, opts)
	require.NoError(t, err)
	obj, err := e.Encrypt([]byte(payload))
	require.NoError(t, err)
	s, err := obj.CompactSerialize()
	require.NoError(t, err)
	return s
}

func TestEncodeSetsAuthJSClaimsAndHeader(t *testing.T) {
	c := newTestCodec(t, CodecConfig{MaxAge: time.Hour})
	tok := &Token{Subject: "user-1", Name: "Ada"}
	raw, err := c.Encode(tok)
	require.NoError(t, err)

	h, err := parseHeader(raw[:strings.IndexByte(raw, '.')])
	require.NoError(t, err)
	assert.Equal(t, "dir", h.alg)
	assert.Equal(t, "A256CBC-HS512", h.enc)
	require.True(t, h.hasKid)
	assert.Equal(t, `"`+c.keys[0].cbcKid+`"`, string(h.kid))
	assert.Len(t, c.keys[0].cbcKid, 86, "base64url of a SHA-512 thumbprint")

	assert.Equal(t, int64(testNow), tok.IssuedAt.Unix())
	assert.Equal(t, int64(testNow+3600), tok.Expires.Unix())
	assert.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, tok.ID)

	got, err := c.Decode(raw)
	require.NoError(t, err)
	assert.Equal(t, tok, got)

	again := &Token{Subject: "user-1"}
	raw2, err := c.Encode(again)
	require.NoError(t, err)
	assert.NotEqual(t, tok.ID, again.ID, "every encode gets a new jti")
	assert.NotEqual(t, raw, raw2)
}

func TestV4EncodeHasNoKid(t *testing.T) {
	c := newTestCodec(t, CodecConfig{Format: FormatNextAuthV4})
	raw, err := c.Encode(&Token{Subject: "42"})
	require.NoError(t, err)
	h, err := parseHeader(raw[:strings.IndexByte(raw, '.')])
	require.NoError(t, err)
	assert.Equal(t, "A256GCM", h.enc)
	assert.False(t, h.hasKid)
	got, err := c.Decode(raw)
	require.NoError(t, err)
	assert.Equal(t, "42", got.Subject)
}

func TestRotation(t *testing.T) {
	for _, format := range []Format{FormatAuthJS, FormatNextAuthV4} {
		t.Run(format.String(), func(t *testing.T) {
			old := newTestCodec(t, CodecConfig{Secrets: []string{"old"}, Format: format})
			rotated := newTestCodec(t, CodecConfig{Secrets: []string{"new", "old"}, Format: format})
			newOnly := newTestCodec(t, CodecConfig{Secrets: []string{"new"}, Format: format})

			fromOld, err := old.Encode(&Token{Subject: "a"})
			require.NoError(t, err)
			fromNew, err := rotated.Encode(&Token{Subject: "b"})
			require.NoError(t, err)

			got, err := rotated.Decode(fromOld)
			require.NoError(t, err, "old tokens stay valid during rotation")
			assert.Equal(t, "a", got.Subject)
			got, err = newOnly.Decode(fromNew)
			require.NoError(t, err, "the first secret encodes")
			assert.Equal(t, "b", got.Subject)

			_, err = newOnly.Decode(fromOld)
			require.ErrorIs(t, err, ErrInvalidToken)
			if format == FormatAuthJS {
				require.ErrorIs(t, err, ErrNoMatchingSecret, "kid names a secret we do not have")
			} else {
				require.ErrorIs(t, err, ErrDecrypt)
			}
		})
	}
}

// Auth.js tries only the first secret for a token without kid; we try each.
func TestRotationWithoutKid(t *testing.T) {
	old := newTestCodec(t, CodecConfig{Secrets: []string{"old"}})
	rotated := newTestCodec(t, CodecConfig{Secrets: []string{"new", "old"}})
	for _, enc := range []jose.ContentEncryption{jose.A256CBC_HS512, jose.A256GCM} {
		raw := sealRaw(t, old, enc, "", nil, `{"sub":"x","exp":1900000000}`)
		got, err := rotated.Decode(raw)
		require.NoError(t, err, enc)
		assert.Equal(t, "x", got.Subject)
	}
	// A256GCM with kid: the 32-byte key's SHA-256 thumbprint selects the secret.
	raw := sealRaw(t, old, jose.A256GCM, old.keys[0].gcmKid, nil, `{"sub":"y","exp":1900000000}`)
	got, err := rotated.Decode(raw)
	require.NoError(t, err)
	assert.Equal(t, "y", got.Subject)
}

func TestSaltSeparatesKeys(t *testing.T) {
	a := newTestCodec(t, CodecConfig{Salt: "authjs.session-token"})
	b := newTestCodec(t, CodecConfig{Salt: "__Secure-authjs.session-token"})
	raw, err := a.Encode(&Token{Subject: "s"})
	require.NoError(t, err)
	_, err = b.Decode(raw)
	require.ErrorIs(t, err, ErrNoMatchingSecret)
}

func TestClaimsSurviveDecodeEncode(t *testing.T) {
	c := newTestCodec(t, CodecConfig{})
	in := `{"sub":"u1","name":null,"email":"ada@example.com","picture":"https://x/p.png",` +
		`"role":"admin","id":"u1","nested":{"a":[1,2,{"b":"ünïcødé 🚀"}],"n":null},"list":["x","y"],` +
		`"big":12345678901234567890,"float":1.5,"flag":true,"esc":"<a>&\u2028","iat":1799990000,"exp":1900000000,"jti":"abc"}`
	raw := sealRaw(t, c, jose.A256CBC_HS512, c.keys[0].cbcKid, nil, in)
	tok, err := c.Decode(raw)
	require.NoError(t, err)
	assert.Equal(t, "admin", tok.StringClaim("role"))
	assert.Equal(t, "", tok.Name)
	assert.JSONEq(t, "null", string(tok.Claims["name"]))

	out, err := c.Encode(tok)
	require.NoError(t, err)
	back, err := c.Decode(out)
	require.NoError(t, err)
	got, _ := back.MarshalJSON()

	var want, have map[string]json.RawMessage
	require.NoError(t, json.Unmarshal([]byte(in), &want))
	require.NoError(t, json.Unmarshal(got, &have))
	for k, v := range want {
		if k == "iat" || k == "exp" || k == "jti" {
			continue // re-set on every encode, as Auth.js does
		}
		assert.JSONEq(t, string(v), string(have[k]), "claim %s", k)
	}
	assert.Equal(t, "12345678901234567890", string(have["big"]), "big numbers are kept digit for digit")
	assert.Len(t, have, len(want))
}

func TestDecodeRejectsHostileTokens(t *testing.T) {
	c := newTestCodec(t, CodecConfig{})
	kid := c.keys[0].cbcKid
	valid, err := c.Encode(&Token{Subject: "s"})
	require.NoError(t, err)
	parts := strings.Split(valid, ".")
	b64 := base64.RawURLEncoding.EncodeToString
	withHeader := func(h string) string { return b64([]byte(h)) + "." + strings.Join(parts[1:], ".") }
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	seal := func(payload string) string { return sealRaw(t, c, jose.A256CBC_HS512, kid, nil, payload) }

	cases := []struct {
		name  string
		token string
		want  error
	}{
		{"empty", "", ErrMalformed},
		{"too large", strings.Repeat("a", MaxTokenSize+1), ErrTooLarge},
		{"four segments", strings.Join(parts[:4], "."), ErrMalformed},
		{"six segments", valid + ".x", ErrMalformed},
		{"JWS compact", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln", ErrMalformed},
		{"JSON serialization", `{"protected":"` + parts[0] + `","iv":"` + parts[2] + `"}`, ErrMalformed},
		{"padding", valid + "=", ErrMalformed},
		{"whitespace", " " + valid, ErrMalformed},
		{"encrypted key for dir", parts[0] + ".AAAA." + strings.Join(parts[2:], "."), ErrMalformed},
		{"header not base64", "!!!." + strings.Join(parts[1:], "."), ErrMalformed},
		{"header not JSON", withHeader(`{"alg":"dir"`), ErrMalformed},
		{"header array", withHeader(`["dir"]`), ErrMalformed},
		{"alg none", withHeader(`{"alg":"none","enc":"A256CBC-HS512"}`), ErrMalformed},
		{"alg A256KW", withHeader(`{"alg":"A256KW","enc":"A256CBC-HS512"}`), ErrMalformed},
		{"alg number", withHeader(`{"alg":1,"enc":"A256CBC-HS512"}`), ErrMalformed},
		{"enc A128GCM", withHeader(`{"alg":"dir","enc":"A128GCM"}`), ErrMalformed},
		{"zip", withHeader(`{"alg":"dir","enc":"A256CBC-HS512","zip":"DEF","kid":"` + kid + `"}`), ErrMalformed},
		{"zip null", withHeader(`{"alg":"dir","enc":"A256CBC-HS512","zip":null,"kid":"` + kid + `"}`), ErrMalformed},
		{"crit", withHeader(`{"alg":"dir","enc":"A256CBC-HS512","crit":["exp"],"kid":"` + kid + `"}`), ErrMalformed},
		{"unknown kid", withHeader(`{"alg":"dir","enc":"A256CBC-HS512","kid":"nope"}`), ErrNoMatchingSecret},
		{"kid not a string", withHeader(`{"alg":"dir","enc":"A256CBC-HS512","kid":7}`), ErrMalformed},
		{"escaped zip name", withHeader(`{"alg":"dir","enc":"A256CBC-HS512","\u007aip":"DEF","kid":"` + kid + `"}`), ErrMalformed},
		{"duplicate alg, last wins", withHeader(`{"alg":"dir","alg":"A256KW","enc":"A256CBC-HS512"}`), ErrMalformed},
		{"header too large", withHeader(`{"alg":"dir","enc":"A256CBC-HS512","x":"` + strings.Repeat("a", 2000) + `"}`), ErrMalformed},
		{"header swapped (aad)", withHeader(`{"alg":"dir","enc":"A256CBC-HS512","kid":"` + kid + `","x":1}`), ErrDecrypt},
		{"tampered iv", strings.Join([]string{parts[0], "", flip(parts[2], 3), parts[3], parts[4]}, "."), ErrDecrypt},
		{"tampered ciphertext", strings.Join([]string{parts[0], "", parts[2], flip(parts[3], 5), parts[4]}, "."), ErrDecrypt},
		{"tampered tag", strings.Join([]string{parts[0], "", parts[2], parts[3], flip(parts[4], 0)}, "."), ErrDecrypt},
		{"non-canonical tag spelling", strings.Join([]string{parts[0], "", parts[2], parts[3], parts[4][:len(parts[4])-1] + nonCanonical(parts[4][len(parts[4])-1])}, "."), ErrMalformed},
		{"impossible segment length", strings.Join([]string{parts[0], "", parts[2] + "AAA", parts[3], parts[4]}, "."), ErrMalformed},
		{"truncated tag", strings.Join([]string{parts[0], "", parts[2], parts[3], parts[4][:10]}, "."), ErrInvalidToken},
		{"payload array", seal(`[1,2]`), ErrInvalidClaims},
		{"payload string", seal(`"x"`), ErrInvalidClaims},
		{"payload null", seal(`null`), ErrInvalidClaims},
		{"payload not JSON", seal(`{"exp":`), ErrInvalidClaims},
		{"payload empty", seal(``), ErrInvalidClaims},
		{"exp missing", seal(`{"sub":"s"}`), ErrInvalidClaims},
		{"exp string", seal(`{"exp":"1900000000"}`), ErrInvalidClaims},
		{"exp null", seal(`{"exp":null}`), ErrInvalidClaims},
		{"exp huge", seal(`{"exp":1e300}`), ErrInvalidClaims},
		{"exp beyond int64", seal(`{"exp":99999999999999999999999}`), ErrInvalidClaims},
		{"exp negative", seal(`{"exp":-1}`), ErrInvalidClaims},
		{"exp past", seal(`{"exp":1700000000}`), ErrExpired},
		{"iat string", seal(`{"exp":1900000000,"iat":"x"}`), ErrInvalidClaims},
		{"iat huge", seal(`{"exp":1900000000,"iat":1e20}`), ErrInvalidClaims},
		{"nbf future", seal(`{"exp":1900000000,"nbf":1850000000}`), ErrNotYetValid},
		{"nbf string", seal(`{"exp":1900000000,"nbf":"soon"}`), ErrInvalidClaims},
		{"sub object stays a claim", seal(`{"exp":1900000000,"sub":{"x":1}}`), nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := c.Decode(tc.token)
			if tc.want == nil {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Nil(t, tok)
			assert.ErrorIs(t, err, tc.want)
			assert.ErrorIs(t, err, ErrInvalidToken, "every token failure is ErrInvalidToken")
			assert.NotContains(t, err.Error(), "test-secret")
		})
	}
}

func TestClockTolerance(t *testing.T) {
	// As jose: expired when exp <= now - tolerance; nbf invalid when nbf > now + tolerance.
	const exp = testNow
	cases := []struct {
		now       int64
		tolerance time.Duration
		want      error
	}{
		{exp - 1, 0, nil},
		{exp + 14, 0, nil},
		{exp + 15, 0, ErrExpired},
		{exp + 59, time.Minute, nil},
		{exp + 60, time.Minute, ErrExpired},
		{exp - 1, -1, nil},
		{exp, -1, ErrExpired},
	}
	signer := newTestCodec(t, CodecConfig{})
	raw := sealRaw(t, signer, jose.A256CBC_HS512, signer.keys[0].cbcKid, nil, `{"exp":1800000000,"nbf":1799999000}`)
	for _, tc := range cases {
		c := newTestCodec(t, CodecConfig{Now: fixedClock(tc.now), ClockTolerance: tc.tolerance})
		_, err := c.Decode(raw)
		if tc.want == nil {
			assert.NoError(t, err, "now=exp%+d tol=%v", tc.now-exp, tc.tolerance)
		} else {
			assert.ErrorIs(t, err, tc.want, "now=exp%+d tol=%v", tc.now-exp, tc.tolerance)
		}
	}
	nbfRaw := sealRaw(t, signer, jose.A256CBC_HS512, signer.keys[0].cbcKid, nil, `{"exp":1900000000,"nbf":1800000015}`)
	_, err := newTestCodec(t, CodecConfig{}).Decode(nbfRaw)
	assert.NoError(t, err, "nbf = now + tolerance is still valid")
	_, err = newTestCodec(t, CodecConfig{Now: fixedClock(testNow - 1)}).Decode(nbfRaw)
	assert.ErrorIs(t, err, ErrNotYetValid)
}

func TestNewCodecConfigErrors(t *testing.T) {
	_, err := NewCodec(CodecConfig{})
	assert.ErrorIs(t, err, ErrNoSecret)
	_, err = NewCodec(CodecConfig{Secrets: []string{"a", ""}})
	assert.ErrorIs(t, err, ErrNoSecret)
	_, err = NewCodec(CodecConfig{Secrets: []string{"a"}, Format: Format(7)})
	assert.ErrorIs(t, err, ErrConfig)
	_, err = NewCodec(CodecConfig{Secrets: []string{"a"}, MaxAge: -time.Hour})
	assert.ErrorIs(t, err, ErrConfig)
	c, err := NewCodec(CodecConfig{Secrets: []string{"a"}})
	require.NoError(t, err)
	assert.Equal(t, "authjs.session-token", c.salt)
	c, err = NewCodec(CodecConfig{Secrets: []string{"a"}, Format: FormatNextAuthV4})
	require.NoError(t, err)
	assert.Equal(t, "", c.salt)
}

func TestSecretsFromEnv(t *testing.T) {
	t.Setenv("AUTH_SECRET", "s0")
	t.Setenv("AUTH_SECRET_1", "s1")
	t.Setenv("AUTH_SECRET_2", "")
	t.Setenv("AUTH_SECRET_3", "s3")
	assert.Equal(t, []string{"s3", "s1", "s0"}, SecretsFromEnv())
}

func TestTokenClaimHelpers(t *testing.T) {
	var tok Token
	require.NoError(t, tok.SetClaim("role", "admin"))
	require.NoError(t, tok.SetClaim("sub", "u1"))
	require.NoError(t, tok.SetClaim("perms", []string{"a", "b"}))
	require.Error(t, tok.SetClaim("exp", "tomorrow"))
	assert.Equal(t, "u1", tok.Subject)
	assert.Equal(t, "admin", tok.StringClaim("role"))
	var perms []string
	ok, err := tok.Claim("perms", &perms)
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, []string{"a", "b"}, perms)
	ok, err = tok.Claim("missing", &perms)
	assert.False(t, ok)
	assert.NoError(t, err)
	tok.DeleteClaim("role")
	assert.Equal(t, "", tok.StringClaim("role"))
	tok.Claims["bad"] = json.RawMessage(`{`)
	_, err = tok.MarshalJSON()
	assert.Error(t, err)
	assert.False(t, errors.Is(err, ErrInvalidToken))
}

// nonCanonical returns another spelling of the last character of a segment
// whose length leaves spare bits: the same data bits, a spare bit set.
func nonCanonical(c byte) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	return string(alphabet[strings.IndexByte(alphabet, c)^1])
}

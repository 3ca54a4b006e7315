package edgeauth

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeauth/edgeauth/internal/authjstest"
)

// Hostile and malformed tokens, each decoded by the codec and by the real
// Auth.js and next-auth: both must refuse, or both accept the same claims.
// The round trips, rotation, salts and clocks are in jwe_authjs_test.go.

func TestAuthJSJWETamperAndWrongSecret(t *testing.T) {
	h := authjstest.Start(t)
	var cases []jweCase
	for _, lib := range []string{"v5", "v4"} {
		fromNode := func(t *testing.T) string {
			return jweNodeEncode(t, h, lib, []string{jweSecret}, jweV5Salt, jweNodeNow, 3600, `{"sub":"t","role":"admin"}`)
		}
		fromGo := func(t *testing.T) string {
			raw, _ := jweGoEncode(t, lib, []string{jweSecret}, jweV5Salt, jweNodeNow, time.Hour, `{"sub":"t","role":"admin"}`)
			return raw
		}
		wrongNode, wrongGo := "no matching decryption secret", ErrNoMatchingSecret
		if lib == "v4" {
			wrongNode, wrongGo = "ERR_JWE_DECRYPTION_FAILED", ErrDecrypt
		}
		for _, pr := range []struct {
			who     string
			produce func(t *testing.T) string
		}{{"node", fromNode}, {"go", fromGo}} {
			produce, p := pr.produce, lib+" "+pr.who+" "
			cases = append(cases,
				jweCase{name: p + "untouched", lib: lib, token: produce},
				jweCase{name: p + "wrong secret", lib: lib, token: produce, secrets: []string{"another-secret"},
					nodeErr: wrongNode, goErr: wrongGo},
			)
			for seg, what := range []string{0: "header", 2: "iv", 3: "ciphertext", 4: "tag"} {
				if what == "" {
					continue // the encrypted key is empty for dir
				}
				want := ErrDecrypt
				if seg == 0 {
					want = ErrInvalidToken // a flipped header may be bad JSON, a foreign kid or just bad AAD
				}
				cases = append(cases, jweCase{
					name: p + "tampered " + what, lib: lib,
					token:   func(t *testing.T) string { return jweFlip(produce(t), seg) },
					nodeErr: jweNodeRejects, goErr: want,
				})
			}
		}
	}
	for i := range cases {
		if cases[i].secrets == nil {
			cases[i].secrets = []string{jweSecret}
		}
		cases[i].salt = jweV5Salt
	}
	runJWECases(t, h, cases)
}

// Tokens neither encoder writes: where the two sides agree, and the
// differences (DIFF): Go requires a sane exp and rejects zip and, for v4,
// any alg/enc but dir/A256GCM.
func TestAuthJSJWEPayloadAndHeaderEdges(t *testing.T) {
	h := authjstest.Start(t)
	secrets := []string{jweSecret}
	v5 := func(t *testing.T) *Codec { return jweCodec(t, "v5", secrets, jweV5Salt, jweNodeNow, 0) }
	v4 := func(t *testing.T) *Codec { return jweCodec(t, "v4", secrets, jweV5Salt, jweNodeNow, 0) }
	v5Payload := func(payload string) func(t *testing.T) string {
		return func(t *testing.T) string {
			c := v5(t)
			return sealRaw(t, c, jose.A256CBC_HS512, c.keys[0].cbcKid, nil, payload)
		}
	}
	v4Payload := func(payload string) func(t *testing.T) string {
		return func(t *testing.T) string { return sealRaw(t, v4(t), jose.A256GCM, "", nil, payload) }
	}
	v5Header := func(extra map[jose.HeaderKey]any) func(t *testing.T) string {
		return func(t *testing.T) string {
			c := v5(t)
			return sealRaw(t, c, jose.A256CBC_HS512, c.keys[0].cbcKid, extra, `{"sub":"h","exp":1700003600}`)
		}
	}
	const ok = `{"sub":"p","exp":1700003600}`

	cases := []jweCase{
		// Agreement.
		{name: "duplicate keys: last wins", lib: "v5", token: v5Payload(`{"sub":"first","sub":"last","exp":1700003600}`)},
		{name: "iat in the future is not checked", lib: "v5", token: v5Payload(`{"sub":"p","iat":1800000000,"exp":1700003600}`)},
		{name: "fractional exp inside tolerance", lib: "v5", token: v5Payload(`{"exp":1699999986.5}`)},
		{name: "fractional exp past tolerance", lib: "v5", token: v5Payload(`{"exp":1699999985.5}`),
			nodeErr: "ERR_JWT_EXPIRED", goErr: ErrExpired},
		{name: "exp string", lib: "v5", token: v5Payload(`{"exp":"1700003600"}`),
			nodeErr: `"exp" claim must be a number`, goErr: ErrInvalidClaims},
		{name: "exp null", lib: "v5", token: v5Payload(`{"exp":null}`),
			nodeErr: `"exp" claim must be a number`, goErr: ErrInvalidClaims},
		{name: "iat string", lib: "v5", token: v5Payload(`{"exp":1700003600,"iat":"x"}`),
			nodeErr: `"iat" claim must be a number`, goErr: ErrInvalidClaims},
		{name: "nbf string", lib: "v5", token: v5Payload(`{"exp":1700003600,"nbf":"x"}`),
			nodeErr: `"nbf" claim must be a number`, goErr: ErrInvalidClaims},
		{name: "payload array", lib: "v5", token: v5Payload(`[1]`), nodeErr: "ERR_JWT_INVALID", goErr: ErrInvalidClaims},
		{name: "payload not JSON", lib: "v5", token: v5Payload(`{"exp":`), nodeErr: "ERR_JWT_INVALID", goErr: ErrInvalidClaims},
		{name: "v4 exp string", lib: "v4", token: v4Payload(`{"exp":"1700003600"}`),
			nodeErr: `"exp" claim must be a number`, goErr: ErrInvalidClaims},
		{name: "v4 payload array", lib: "v4", token: v4Payload(`[1]`), nodeErr: "ERR_JWT_INVALID", goErr: ErrInvalidClaims},
		{name: "extra typ and cty headers", lib: "v5", token: v5Header(map[jose.HeaderKey]any{"typ": "JWT", "cty": "JWT"})},
		{name: "crit header", lib: "v5", token: v5Header(map[jose.HeaderKey]any{"crit": []string{"exp"}, "exp": 1}),
			nodeErr: jweNodeRejects, goErr: ErrMalformed},
		{name: "kid not a string", lib: "v5", token: v5Header(map[jose.HeaderKey]any{"kid": 7}),
			nodeErr: "no matching decryption secret", goErr: ErrMalformed},
		{name: "v5 A256GCM with the A256CBC-HS512 kid", lib: "v5", token: func(t *testing.T) string {
			c := v5(t)
			return sealRaw(t, c, jose.A256GCM, c.keys[0].cbcKid, nil, ok)
		}, nodeErr: "no matching decryption secret", goErr: ErrNoMatchingSecret},
		{name: "v5 A128CBC-HS256", lib: "v5", token: func(t *testing.T) string {
			return jweSeal(t, jose.DIRECT, jose.A128CBC_HS256, v5(t).keys[0].gcm, "", nil, ok)
		}, nodeErr: "ERR_JOSE_ALG_NOT_ALLOWED", goErr: ErrMalformed},
		{name: "v5 A256KW", lib: "v5", token: func(t *testing.T) string {
			return jweSeal(t, jose.A256KW, jose.A256CBC_HS512, v5(t).keys[0].gcm, "", nil, ok)
		}, nodeErr: "ERR_JOSE_ALG_NOT_ALLOWED", goErr: ErrMalformed},
		{name: "kid null", lib: "v5", token: v5Header(map[jose.HeaderKey]any{"kid": nil}),
			nodeErr: "no matching decryption secret", goErr: ErrMalformed},
		{name: "v4 ignores kid", lib: "v4", token: func(t *testing.T) string {
			return sealRaw(t, v4(t), jose.A256GCM, "whatever", nil, ok)
		}},

		// Differences.
		{name: "DIFF no exp: Go requires it", lib: "v5", token: v5Payload(`{"sub":"p"}`), goErr: ErrInvalidClaims},
		{name: "DIFF v4 no exp: Go requires it", lib: "v4", token: v4Payload(`{"sub":"p"}`), goErr: ErrInvalidClaims},
		{name: "DIFF exp past year 9999", lib: "v5", token: v5Payload(`{"exp":1e300}`), goErr: ErrInvalidClaims},
		{name: "DIFF negative exp", lib: "v5", token: v5Payload(`{"exp":-1}`), nodeErr: "ERR_JWT_EXPIRED", goErr: ErrInvalidClaims},
		{name: "DIFF v5 zip: jose 6 inflates (up to 250 kB)", lib: "v5", token: func(t *testing.T) string {
			c := v5(t)
			return jweSeal(t, jose.DIRECT, jose.A256CBC_HS512, c.keys[0].cbc, c.keys[0].cbcKid, &jose.EncrypterOptions{Compression: jose.DEFLATE}, ok)
		}, goErr: ErrMalformed},
		{name: "DIFF v4 zip: next-auth v4 inflates", lib: "v4", token: func(t *testing.T) string {
			return jweSeal(t, jose.DIRECT, jose.A256GCM, v4(t).keys[0].gcm, "", &jose.EncrypterOptions{Compression: jose.DEFLATE}, ok)
		}, goErr: ErrMalformed},
		{name: "DIFF v4 A128CBC-HS256: next-auth v4 allows any enc", lib: "v4", token: func(t *testing.T) string {
			return jweSeal(t, jose.DIRECT, jose.A128CBC_HS256, v4(t).keys[0].gcm, "", nil, ok)
		}, goErr: ErrMalformed},
		{name: "DIFF v4 A256KW: next-auth v4 allows any alg", lib: "v4", token: func(t *testing.T) string {
			return jweSeal(t, jose.A256KW, jose.A256GCM, v4(t).keys[0].gcm, "", nil, ok)
		}, goErr: ErrMalformed},
	}
	for i := range cases {
		cases[i].secrets, cases[i].salt = secrets, jweV5Salt
	}
	runJWECases(t, h, cases)
}

// Go reads the protected header with its own scanner and go-jose reads it
// again; JSON.parse is the reference for both.
func TestAuthJSJWEHeaderParsing(t *testing.T) {
	h := authjstest.Start(t)
	secrets := []string{jweSecret}
	c5 := jweCodec(t, "v5", secrets, jweV5Salt, jweNodeNow, 0)
	c4 := jweCodec(t, "v4", secrets, jweV5Salt, jweNodeNow, 0)
	kid := c5.keys[0].gcmKid
	const payload = `{"sub":"hdr","exp":1700003600}`
	v5 := func(header string) func(t *testing.T) string {
		return func(t *testing.T) string {
			return jweSealHeader(t, c5.keys[0].gcm, strings.ReplaceAll(header, "KID", kid), payload)
		}
	}
	v4 := func(header string) func(t *testing.T) string {
		return func(t *testing.T) string { return jweSealHeader(t, c4.keys[0].gcm, header, payload) }
	}
	escapedKid := fmt.Sprintf(`\u%04x`, kid[0]) + kid[1:]
	cases := []jweCase{
		{name: "plain", lib: "v5", token: v5(`{"alg":"dir","enc":"A256GCM","kid":"KID"}`)},
		{name: "whitespace", lib: "v5", token: v5(" {\n\t\"alg\" : \"dir\" ,\r\n \"enc\":\"A256GCM\", \"kid\":\"KID\" } ")},
		{name: "escaped member name", lib: "v5", token: v5(`{"\u0061lg":"dir","\u0065nc":"A256GCM","\u006bid":"KID"}`)},
		{name: "escaped value", lib: "v5", token: v5(`{"alg":"\u0064ir","enc":"A256\u0047CM","kid":"KID"}`)},
		{name: "nested unknown members", lib: "v5", token: v5(`{"x":{"alg":"A256KW","kid":"no"},"y":["enc",{"zip":"DEF"}],"alg":"dir","enc":"A256GCM","kid":"KID"}`)},
		{name: "quotes inside an unknown member", lib: "v5", token: v5(`{"x":"\",\"alg\":\"A256KW","alg":"dir","enc":"A256GCM","kid":"KID"}`)},
		{name: "DIFF duplicate kid, last right: go-jose rejects duplicates", lib: "v5",
			token: v5(`{"alg":"dir","enc":"A256GCM","kid":"bogus","kid":"KID"}`), goErr: ErrMalformed},
		{name: "duplicate kid, last wrong", lib: "v5", token: v5(`{"alg":"dir","enc":"A256GCM","kid":"KID","kid":"bogus"}`),
			nodeErr: "no matching decryption secret", goErr: ErrNoMatchingSecret},
		{name: "DIFF duplicate alg, last dir: go-jose rejects duplicates", lib: "v5",
			token: v5(`{"alg":"A256KW","alg":"dir","enc":"A256GCM","kid":"KID"}`), goErr: ErrMalformed},
		{name: "duplicate alg, last A256KW", lib: "v5", token: v5(`{"alg":"dir","alg":"A256KW","enc":"A256GCM","kid":"KID"}`),
			nodeErr: "ERR_JOSE_ALG_NOT_ALLOWED", goErr: ErrMalformed},
		{name: "empty kid", lib: "v5", token: v5(`{"alg":"dir","enc":"A256GCM","kid":""}`),
			nodeErr: "no matching decryption secret", goErr: ErrNoMatchingSecret},
		{name: "zip null", lib: "v5", token: v5(`{"alg":"dir","enc":"A256GCM","kid":"KID","zip":null}`),
			nodeErr: jweNodeRejects, goErr: ErrMalformed},
		{name: "enc number", lib: "v5", token: v5(`{"alg":"dir","enc":256,"kid":"KID"}`), nodeErr: jweNodeRejects, goErr: ErrMalformed},
		{name: "array", lib: "v5", token: v5(`["dir","A256GCM"]`), nodeErr: jweNodeRejects, goErr: ErrMalformed},
		{name: "trailing comma", lib: "v5", token: v5(`{"alg":"dir","enc":"A256GCM","kid":"KID",}`), nodeErr: jweNodeRejects, goErr: ErrMalformed},
		{name: "two objects", lib: "v5", token: v5(`{"alg":"dir","enc":"A256GCM","kid":"KID"}{}`), nodeErr: jweNodeRejects, goErr: ErrMalformed},
		{name: "DIFF BOM: TextDecoder strips it", lib: "v5", token: v5("\uFEFF" + `{"alg":"dir","enc":"A256GCM","kid":"KID"}`),
			goErr: ErrMalformed},
		{name: "DIFF invalid UTF-8 in an unknown member: jose 6 decodes strictly", lib: "v5",
			token:   v5("{\"x\":\"\xff\",\"alg\":\"dir\",\"enc\":\"A256GCM\",\"kid\":\"KID\"}"),
			nodeErr: "ERR_JWE_INVALID"},
		{name: "DIFF escaped kid character: Go compares kid undecoded", lib: "v5",
			token: v5(`{"alg":"dir","enc":"A256GCM","kid":"` + escapedKid + `"}`), goErr: ErrNoMatchingSecret},
		{name: "v4 plain", lib: "v4", token: v4(`{"alg":"dir","enc":"A256GCM"}`)},
		{name: "DIFF v4 kid not a string: next-auth v4 ignores kid", lib: "v4",
			token: v4(`{"alg":"dir","enc":"A256GCM","kid":7}`), goErr: ErrMalformed},
	}
	for i := range cases {
		cases[i].secrets, cases[i].salt = secrets, jweV5Salt
	}
	runJWECases(t, h, cases)
}

// The claims scanner against JSON.parse and jose's claim checks.
func TestAuthJSJWEClaimsParsing(t *testing.T) {
	h := authjstest.Start(t)
	secrets := []string{jweSecret}
	c := jweCodec(t, "v5", secrets, jweV5Salt, jweNodeNow, 0)
	seal := func(payload string) func(t *testing.T) string {
		return func(t *testing.T) string { return sealRaw(t, c, jose.A256CBC_HS512, c.keys[0].cbcKid, nil, payload) }
	}
	cases := []jweCase{
		{name: "whitespace", token: seal(" {\n \"sub\" : \"w\" ,\t\"exp\" : 1700003600 }\r\n")},
		{name: "escaped claim name", token: seal(`{"\u0073ub":"esc","exp":1700003600}`)},
		{name: "escaped exp name", token: seal(`{"sub":"x","\u0065xp":1}`), nodeErr: "ERR_JWT_EXPIRED", goErr: ErrExpired},
		{name: "exponent exp", token: seal(`{"exp":1.7000036E9}`)},
		{name: "negative zero exp", token: seal(`{"exp":-0}`), nodeErr: "ERR_JWT_EXPIRED", goErr: ErrExpired},
		{name: "duplicate exp, last future", token: seal(`{"exp":1,"exp":1700003600}`)},
		{name: "duplicate exp, last past", token: seal(`{"exp":1700003600,"exp":1}`), nodeErr: "ERR_JWT_EXPIRED", goErr: ErrExpired},
		{name: "duplicate sub, string then object", token: seal(`{"sub":"s","sub":{"o":1},"exp":1700003600}`)},
		{name: "duplicate sub, object then string", token: seal(`{"sub":{"o":1},"sub":"s","exp":1700003600}`)},
		{name: "sub number", token: seal(`{"sub":42,"exp":1700003600}`)},
		{name: "jti number", token: seal(`{"jti":42,"exp":1700003600}`)},
		{name: "iat null", token: seal(`{"iat":null,"exp":1700003600}`), nodeErr: `"iat" claim must be a number`, goErr: ErrInvalidClaims},
		{name: "escapes in values", token: seal(`{"sub":"\ud83d\ude80\u00e9\n\/","name":"\"<\u003e\"","exp":1700003600}`)},
		{name: "trailing garbage", token: seal(`{"exp":1700003600} x`), nodeErr: "ERR_JWT_INVALID", goErr: ErrInvalidClaims},
		{name: "two objects", token: seal(`{"exp":1700003600}{}`), nodeErr: "ERR_JWT_INVALID", goErr: ErrInvalidClaims},
		{name: "DIFF BOM: TextDecoder strips it", token: seal("\uFEFF" + `{"sub":"bom","exp":1700003600}`), goErr: ErrInvalidClaims},
		{name: "nesting 1000", token: seal(`{"exp":1700003600,"d":` + strings.Repeat("[", 1000) + strings.Repeat("]", 1000) + `}`)},
		{name: "nesting 10001", token: seal(`{"exp":1700003600,"d":` + strings.Repeat("[", 10001) + strings.Repeat("]", 10001) + `}`),
			nodeErr: "Maximum call stack size exceeded", goErr: ErrInvalidClaims},
	}
	for i := range cases {
		cases[i].lib, cases[i].secrets, cases[i].salt = "v5", secrets, jweV5Salt
	}
	runJWECases(t, h, cases)
}

// Invalid UTF-8 in the payload: @auth/core's jose decodes it strictly and
// rejects the token, next-auth v4's jose substitutes U+FFFD. Go accepts it
// like v4 for both formats (encoding/json substitutes U+FFFD).
func TestAuthJSJWEInvalidUTF8(t *testing.T) {
	h := authjstest.Start(t)
	const payload = "{\"sub\":\"p\",\"x\":\"a\xffb\",\"exp\":1700003600}"
	for _, lib := range []string{"v5", "v4"} {
		t.Run(lib, func(t *testing.T) {
			c := jweCodec(t, lib, []string{jweSecret}, jweV5Salt, jweNodeNow, 0)
			kid, enc := "", jose.A256GCM
			if lib == "v5" {
				kid, enc = c.keys[0].cbcKid, jose.A256CBC_HS512
			}
			token := sealRaw(t, c, enc, kid, nil, payload)
			nodePayload, nodeErr := jweNodeDecode(t, h, lib, []string{jweSecret}, jweV5Salt, jweNodeNow+1, token)
			// Go rejects invalid UTF-8 as @auth/core does (next-auth v4 replaces it).
			_, err := c.Decode(token)
			require.ErrorIs(t, err, ErrInvalidClaims)
			if lib == "v5" {
				require.ErrorContains(t, nodeErr, "ERR_JWT_INVALID")
				return
			}
			require.NoError(t, nodeErr)
			assert.Equal(t, "a\uFFFDb", exactJSON(t, nodePayload)["x"])
		})
	}
}

// A lone surrogate survives Node -> Go -> Node in a custom claim (kept as raw
// JSON) but becomes U+FFFD in a typed one (a Go string), as with encoding/json.
func TestAuthJSJWELoneSurrogate(t *testing.T) {
	h := authjstest.Start(t)
	secrets := []string{jweSecret}
	token := jweNodeEncode(t, h, "v5", secrets, jweV5Salt, jweNodeNow, 3600, `{"sub":"\ud800x","other":"\ud800y"}`)
	c := jweCodec(t, "v5", secrets, jweV5Salt, jweNodeNow+1, time.Hour)
	tok, err := c.Decode(token)
	require.NoError(t, err)
	assert.Equal(t, "\uFFFDx", tok.Subject)
	again, err := c.Encode(tok)
	require.NoError(t, err)
	payload, err := jweNodeDecode(t, h, "v5", secrets, jweV5Salt, jweNodeNow+1, again)
	require.NoError(t, err)
	var got struct {
		Sub   string
		Other json.RawMessage
	}
	require.NoError(t, json.Unmarshal(payload, &got))
	assert.Equal(t, `"\ud800y"`, string(got.Other), "custom claim kept verbatim (JSON.stringify escapes lone surrogates)")
	assert.Equal(t, "\uFFFDx", got.Sub, "typed claim replaced")
}

// A base64url character whose low bits are padding can be changed without
// changing the bytes. Auth.js accepts such a spelling; Go rejects it, so that
// a token string is unique (one cache entry per token). Auth.js never writes one.
func TestAuthJSJWENonCanonicalBase64(t *testing.T) {
	h := authjstest.Start(t)
	raw, _ := jweGoEncode(t, "v5", []string{jweSecret}, jweV5Salt, jweNodeNow, time.Hour, `{"sub":"b64"}`)
	parts := strings.Split(raw, ".")
	tag := []byte(parts[4]) // 64 bytes in 86 chars: the last char carries 2 padding bits
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	last := strings.IndexByte(alphabet, tag[len(tag)-1])
	tag[len(tag)-1] = alphabet[last^1]
	parts[4] = string(tag)
	mutated := strings.Join(parts, ".")
	require.NotEqual(t, raw, mutated)

	_, nodeErr := jweNodeDecode(t, h, "v5", []string{jweSecret}, jweV5Salt, jweNodeNow+1, mutated)
	assert.NoError(t, nodeErr)
	c := jweCodec(t, "v5", []string{jweSecret}, jweV5Salt, jweNodeNow+1, 0)
	_, goErr := c.Decode(mutated)
	assert.ErrorIs(t, goErr, ErrMalformed)
	_, goErr = c.Decode(raw)
	assert.NoError(t, goErr)
}

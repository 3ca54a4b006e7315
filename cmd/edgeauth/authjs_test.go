package main

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeauth/edgeauth/internal/authjstest"
)

// interopClaims exercises typed claims, a null standard claim, HTML
// characters, non-ASCII text, nesting and a number beyond int53.
const interopClaims = `{"sub":"user-1","name":null,"email":"ada@example.com","picture":"https://example.com/a.png?x=1&y=<2>","role":"admin","tags":["ü","日本",""],"n":12345678901234567890,"f":1.5,"nested":{"ok":true,"z":null}}`

// claimsMap is what JSON.parse would see; iat, exp and jti are the issuer's.
func claimsMap(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(s), &m))
	return m
}

// withoutTimes drops the claims that encode sets.
func withoutTimes(m map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		if k != "iat" && k != "exp" && k != "jti" {
			out[k] = v
		}
	}
	return out
}

func TestAuthJSInterop(t *testing.T) {
	h := authjstest.Start(t)
	const maxAge = 3600
	for _, tc := range []struct {
		lib   string
		salt  string // what Auth.js is given
		flags []string
	}{
		{"v5", "authjs.session-token", nil},
		{"v5", "__Secure-authjs.session-token", []string{"--salt", "__Secure-authjs.session-token"}},
		{"v4", "", []string{"--v4"}},
		{"v4", "next-auth.session-token", []string{"--v4", "--salt", "next-auth.session-token"}},
	} {
		t.Run(tc.lib+" salt="+tc.salt, func(t *testing.T) {
			in := claimsMap(t, interopClaims)
			flags := func(a ...string) []string { return append(append([]string{}, tc.flags...), a...) }

			// CLI encode → Auth.js decode.
			token := encode(t, interopClaims, flags("--secret", secretNew, "--now", at(now), "--max-age", at(maxAge))...)
			var nodeDec struct{ Payload map[string]any }
			require.NoError(t, h.Call(map[string]any{
				"op": "decode", "lib": tc.lib, "secret": secretNew, "salt": tc.salt, "token": token, "now": now + 10,
			}, &nodeDec))
			require.NotNil(t, nodeDec.Payload)
			assert.Equal(t, in, withoutTimes(nodeDec.Payload))
			assert.Equal(t, float64(now), nodeDec.Payload["iat"])
			assert.Equal(t, float64(now+maxAge), nodeDec.Payload["exp"])
			assert.Regexp(t, uuidV4, nodeDec.Payload["jti"])
			r := cli(t, nil, token, append([]string{"decode"}, flags("--secret", secretNew, "--now", at(now+10))...)...)
			require.Equal(t, exitOK, r.code, r.stderr)
			assert.Equal(t, nodeDec.Payload, claimsMap(t, r.stdout), "CLI and Auth.js read the same claims")

			// Auth.js encode → CLI decode.
			var nodeEnc struct{ Token string }
			require.NoError(t, h.Call(map[string]any{
				"op": "encode", "lib": tc.lib, "secret": secretNew, "salt": tc.salt, "maxAge": maxAge,
				"token": in, "now": now,
			}, &nodeEnc))
			require.NotEmpty(t, nodeEnc.Token)
			r = cli(t, nil, nodeEnc.Token, append([]string{"decode"}, flags("--secret", secretNew, "--now", at(now+10))...)...)
			require.Equal(t, exitOK, r.code, r.stderr)
			got := claimsMap(t, r.stdout)
			assert.Equal(t, in, withoutTimes(got))
			assert.Equal(t, float64(now), got["iat"])
			assert.Equal(t, float64(now+maxAge), got["exp"])
			require.NoError(t, h.Call(map[string]any{
				"op": "decode", "lib": tc.lib, "secret": secretNew, "salt": tc.salt, "token": nodeEnc.Token, "now": now + 10,
			}, &nodeDec))
			assert.Equal(t, nodeDec.Payload, got)

			// Both agree on expiry, 15 s tolerance included.
			for _, dt := range []int64{maxAge + 14, maxAge + 15} {
				r := cli(t, nil, nodeEnc.Token, append([]string{"decode"}, flags("--secret", secretNew, "--now", at(now+dt))...)...)
				err := h.Call(map[string]any{
					"op": "decode", "lib": tc.lib, "secret": secretNew, "salt": tc.salt, "token": nodeEnc.Token, "now": now + dt,
				}, &nodeDec)
				assert.Equal(t, err == nil, r.code == exitOK, "at exp%+d: node err %v, CLI %q", dt-maxAge, err, r.stderr)
				if dt == maxAge+15 {
					assert.Equal(t, fmt.Sprintf("edgeauth: token expired at %s (now %s)\n", rfc3339(now+maxAge), rfc3339(now+dt)), r.stderr)
				}
			}

			// A wrong secret fails in the CLI too.
			r = cli(t, nil, nodeEnc.Token, append([]string{"decode"}, flags("--secret", secretBad, "--now", at(now))...)...)
			assert.Equal(t, exitFail, r.code)
		})
	}
}

// TestAuthJSInteropRotation: Auth.js v5 picks the key by kid among its
// secrets; so does the CLI, in either order of --secret.
func TestAuthJSInteropRotation(t *testing.T) {
	h := authjstest.Start(t)
	const salt = "authjs.session-token"
	in := claimsMap(t, interopClaims)

	var nodeEnc struct{ Token string }
	require.NoError(t, h.Call(map[string]any{
		"op": "encode", "lib": "v5", "secret": []string{secretOld, secretNew}, "salt": salt, "token": in, "now": now,
	}, &nodeEnc))
	for _, order := range [][]string{{secretNew, secretOld}, {secretOld, secretNew}} {
		r := cli(t, nil, nodeEnc.Token, "decode", "--secret", order[0], "--secret", order[1], "--now", at(now))
		require.Equal(t, exitOK, r.code, r.stderr)
		assert.Equal(t, in, withoutTimes(claimsMap(t, r.stdout)))
	}
	r := cli(t, nil, nodeEnc.Token, "decode", "--secret", secretNew, "--now", at(now))
	assert.Equal(t, "edgeauth: no matching secret (token sealed with another secret or salt)\n", r.stderr)

	token := encode(t, interopClaims, "--secret", secretNew, "--secret", secretOld, "--now", at(now))
	var nodeDec struct{ Payload map[string]any }
	require.NoError(t, h.Call(map[string]any{
		"op": "decode", "lib": "v5", "secret": []string{secretOld, secretNew}, "salt": salt, "token": token, "now": now,
	}, &nodeDec))
	assert.Equal(t, in, withoutTimes(nodeDec.Payload))
	err := h.Call(map[string]any{
		"op": "decode", "lib": "v5", "secret": secretOld, "salt": salt, "token": token, "now": now,
	}, &nodeDec)
	assert.ErrorContains(t, err, "no matching decryption secret", "the CLI encodes with the first --secret")
}

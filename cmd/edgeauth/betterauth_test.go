package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeauth/edgeauth/internal/betterauthtest"
)

// decode --format better-auth against cookies minted by the real Better Auth.
func TestDecodeBetterAuth(t *testing.T) {
	const minted = 1_700_000_000
	mintedAt := at(minted + 60)
	for _, strategy := range []string{"compact", "jwt", "jwe"} {
		for _, secure := range []bool{false, true} {
			name := strategy
			if secure {
				name += "/secure"
			}
			t.Run(name, func(t *testing.T) {
				app := betterauthtest.New(t, map[string]any{"strategy": strategy, "secure": secure, "maxAge": 300})
				r := app.SignUp(minted, map[string]any{"name": strings.Repeat("Ada ", 1500)}) // chunked
				header := r.CookieHeader()

				out := cli(t, nil, "", "decode", "--format", "better-auth", "--secret", betterauthtest.Secret, "--now", mintedAt, "--cookie", header)
				require.Equal(t, exitOK, out.code, out.stderr)
				assert.Empty(t, out.stderr)
				require.Equal(t, 1, strings.Count(out.stdout, "\n"))
				var got struct {
					Session map[string]any `json:"session"`
					User    map[string]any `json:"user"`
				}
				require.NoError(t, json.Unmarshal([]byte(out.stdout), &got))
				assert.Equal(t, r.UserID(t), got.User["id"])
				assert.NotEmpty(t, got.Session["token"])

				// The secret from the environment, as Better Auth reads it.
				env := map[string]string{"BETTER_AUTH_SECRETS": "3:" + secretNew + ",1:" + betterauthtest.Secret}
				out = cli(t, env, "", "decode", "--format", "better-auth", "--now", mintedAt, "--cookie", header)
				assert.Equal(t, exitFail, out.code, "the current secret signs the token: %s", out.stderr)
				env = map[string]string{"BETTER_AUTH_SECRET": betterauthtest.Secret}
				out = cli(t, env, "", "decode", "--format", "better-auth", "--now", mintedAt, "--cookie", header)
				assert.Equal(t, exitOK, out.code, out.stderr)

				tokenOnly := strings.Split(header, "; ")[0]
				for _, tc := range []struct{ name, now, cookie, secret, reason string }{
					{"token only", mintedAt, tokenOnly, betterauthtest.Secret, "no cookie cache: the cookie alone cannot prove the session"},
					{"expired cache", at(minted + 400), header, betterauthtest.Secret, "cookie cache expired: the cookie alone cannot prove the session"},
					{"wrong secret", mintedAt, header, secretNew, "invalid session token signature (wrong secret or tampered)"},
					{"no session cookie", mintedAt, "other=1", betterauthtest.Secret, "no Better Auth session token cookie in header"},
				} {
					out := cli(t, nil, "", "decode", "--format", "better-auth", "--secret", tc.secret, "--now", tc.now, "--cookie", tc.cookie)
					assert.Equal(t, exitFail, out.code, tc.name)
					assert.Equal(t, "edgeauth: "+tc.reason+"\n", out.stderr, tc.name)
				}
			})
		}
	}
}

func TestDecodeBetterAuthUsage(t *testing.T) {
	for _, args := range [][]string{
		{"decode", "--format", "better-auth", "--secret", secretNew},
		{"decode", "--format", "better-auth", "--secret", secretNew, "--v4", "--cookie", "a=b"},
		{"decode", "--format", "better-auth", "--secret", secretNew, "--salt", "x", "--cookie", "a=b"},
		{"decode", "--format", "better-auth", "--cookie", "a=b"},
		{"decode", "--format", "nope", "--secret", secretNew},
		{"encode", "--format", "better-auth", "--secret", secretNew},
	} {
		out := cli(t, map[string]string{"BETTER_AUTH_SECRETS": "no-version-0123456789abcdef"}, `{"sub":"u"}`, args...)
		assert.Equal(t, exitUsage, out.code, "%v: %s", args, out.stderr)
	}
	out := cli(t, nil, "", "decode", "--format", "better-auth", "--cookie", "a=b")
	assert.Equal(t, "edgeauth: no secret configured (use --secret or set BETTER_AUTH_SECRET)\n", out.stderr)
}

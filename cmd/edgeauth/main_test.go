package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeauth/edgeauth"
)

const (
	now       = 1700000000 // the fake clock of every test, Unix seconds
	secretNew = "cli-test-secret-new-0123456789abcdef"
	secretOld = "cli-test-secret-old-0123456789abcdef"
	secretBad = "cli-test-secret-wrong-0123456789abcd"
	claimsIn  = `{"sub":"user-1","name":"Ada <Lovelace>","role":"admin","n":12345678901234567890,"nested":{"a":[1,2,{"b":null}]}}`
)

var (
	allSecrets = []string{secretNew, secretOld, secretBad}
	uuidV4     = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	// Every stderr of a failure or usage error is "edgeauth: " and one line of reason.
	errLine = regexp.MustCompile(`^edgeauth: [^\n]+\n`)
)

type result struct {
	code           int
	stdout, stderr string
}

// cli runs the command with env as the whole environment and checks what
// must hold for every run: no secret, token or stdin ever echoed on stderr.
func cli(t *testing.T, env map[string]string, stdin string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, strings.NewReader(stdin), &out, &errb, func(k string) string { return env[k] })
	r := result{code, out.String(), errb.String()}
	sensitive := append([]string{}, allSecrets...)
	for _, v := range env {
		if v != "" {
			sensitive = append(sensitive, v)
		}
	}
	for i, a := range args {
		// Secrets, tokens, cookie headers; not the cookie names given as
		// the salt or the cookie name, which hints quote.
		named := i > 0 && (args[i-1] == "--salt" || args[i-1] == "--cookie-name")
		if len(a) >= 16 && !strings.HasPrefix(a, "-") && !named {
			sensitive = append(sensitive, a)
		}
	}
	if len(strings.TrimSpace(stdin)) >= 16 {
		sensitive = append(sensitive, strings.TrimSpace(stdin))
	}
	for _, s := range sensitive {
		require.NotContains(t, r.stderr, s, "stderr leaks an input")
	}
	if r.code != exitOK {
		require.Regexp(t, errLine, r.stderr)
		require.Empty(t, r.stdout)
	}
	if r.code == exitFail {
		require.Equal(t, 1, strings.Count(r.stderr, "\n"), "a failure is one line: %q", r.stderr)
	}
	return r
}

func encode(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	r := cli(t, nil, stdin, append([]string{"encode"}, args...)...)
	require.Equal(t, exitOK, r.code, "stderr: %s", r.stderr)
	require.Empty(t, r.stderr)
	require.True(t, strings.HasSuffix(r.stdout, "\n"))
	token := strings.TrimSuffix(r.stdout, "\n")
	require.NotContains(t, token, "\n")
	require.Equal(t, 4, strings.Count(token, "."), "compact JWE: %q", token)
	return token
}

// decodeOK decodes and returns the claims, checking the output is one JSON line.
func decodeOK(t *testing.T, token string, args ...string) map[string]any {
	t.Helper()
	r := cli(t, nil, token+"\n", append([]string{"decode"}, args...)...)
	require.Equal(t, exitOK, r.code, "stderr: %s", r.stderr)
	require.Empty(t, r.stderr)
	return parseLine(t, r.stdout)
}

func parseLine(t *testing.T, out string) map[string]any {
	t.Helper()
	require.True(t, strings.HasSuffix(out, "\n"))
	require.Equal(t, 1, strings.Count(out, "\n"), "one line: %q", out)
	dec := json.NewDecoder(strings.NewReader(out))
	dec.UseNumber()
	var m map[string]any
	require.NoError(t, dec.Decode(&m))
	return m
}

func header(t *testing.T, token string) map[string]any {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(token[:strings.IndexByte(token, '.')])
	require.NoError(t, err)
	var h map[string]any
	require.NoError(t, json.Unmarshal(raw, &h))
	return h
}

func at(unix int64) string { return strconv.FormatInt(unix, 10) }

func rfc3339(unix int64) string { return time.Unix(unix, 0).UTC().Format(time.RFC3339) }

// manyCookies is a Cookie header of n unrelated cookies.
func manyCookies(n int) string {
	var parts []string
	for i := range n {
		parts = append(parts, fmt.Sprintf("c%d=%d", i, i))
	}
	return strings.Join(parts, "; ")
}

func TestSecret(t *testing.T) {
	seen := map[string]bool{}
	for range 2 {
		r := cli(t, nil, "", "secret")
		require.Equal(t, exitOK, r.code)
		require.Empty(t, r.stderr)
		require.Regexp(t, `^[A-Za-z0-9+/]{43}=\n$`, r.stdout)
		b, err := base64.StdEncoding.DecodeString(strings.TrimSuffix(r.stdout, "\n"))
		require.NoError(t, err)
		assert.Len(t, b, 32)
		assert.False(t, seen[r.stdout], "two secrets are equal")
		seen[r.stdout] = true
	}
}

func TestRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		enc  string
		kid  bool
	}{
		{"v5", nil, "A256CBC-HS512", true},
		{"v5 secure salt", []string{"--salt", "__Secure-authjs.session-token"}, "A256CBC-HS512", true},
		{"v4", []string{"--v4"}, "A256GCM", false},
		{"v4 salt", []string{"--v4", "--salt", "next-auth.session-token"}, "A256GCM", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			flags := append([]string{"--secret", secretNew}, tc.args...)
			token := encode(t, claimsIn, append(flags, "--now", at(now), "--max-age", "3600")...)
			h := header(t, token)
			assert.Equal(t, "dir", h["alg"])
			assert.Equal(t, tc.enc, h["enc"])
			_, hasKid := h["kid"]
			assert.Equal(t, tc.kid, hasKid)

			r := cli(t, nil, "", append(append([]string{"decode"}, flags...), "--now", at(now+10), token)...)
			require.Equal(t, exitOK, r.code, r.stderr)
			require.Empty(t, r.stderr)
			got := parseLine(t, r.stdout)
			jti, _ := got["jti"].(string)
			require.Regexp(t, uuidV4, jti)
			// Exact shape: typed claims, the rest by name, then iat, exp, jti;
			// numbers written as the claims had them.
			want := fmt.Sprintf(`{"sub":"user-1","name":"Ada <Lovelace>","n":12345678901234567890,"nested":{"a":[1,2,{"b":null}]},"role":"admin","iat":%d,"exp":%d,"jti":%q}`+"\n", now, now+3600, jti)
			assert.Equal(t, want, r.stdout)

			// The same token from stdin, with surrounding whitespace.
			r2 := cli(t, nil, "\n  "+token+" \r\n\n", append(append([]string{"decode"}, flags...), "--now", at(now+10))...)
			require.Equal(t, exitOK, r2.code, r2.stderr)
			assert.Equal(t, r.stdout, r2.stdout)

			// Another salt derives another key.
			r3 := cli(t, nil, token, append(append([]string{"decode"}, flags...), "--salt", "other", "--now", at(now))...)
			assert.Equal(t, exitFail, r3.code)
		})
	}
}

func TestEncodeOverridesTimes(t *testing.T) {
	// iat, exp and jti from stdin are replaced, even when they would not parse.
	token := encode(t, `{"sub":"u","iat":"x","exp":null,"jti":7,"nbf":1}`, "--secret", secretNew, "--now", at(now))
	got := decodeOK(t, token, "--secret", secretNew, "--now", at(now))
	assert.Equal(t, json.Number(at(now)), got["iat"])
	assert.Equal(t, json.Number(at(now+2592000)), got["exp"], "default max age is 30 days")
	assert.Regexp(t, uuidV4, got["jti"])
	assert.Equal(t, json.Number("1"), got["nbf"])
}

func TestLongestMaxAge(t *testing.T) {
	token := encode(t, `{}`, "--secret", secretNew, "--now", "0", "--max-age", "9223372036")
	got := decodeOK(t, token, "--secret", secretNew, "--now", "9223372000")
	assert.Equal(t, json.Number("9223372036"), got["exp"])
	assert.Equal(t, json.Number("0"), got["iat"])
}

func TestClock(t *testing.T) {
	token := encode(t, `{"sub":"u"}`, "--secret", secretNew, "--now", at(now), "--max-age", "60")
	nbf := encode(t, `{"sub":"u","nbf":`+at(now+100)+`}`, "--secret", secretNew, "--now", at(now))
	for _, tc := range []struct {
		name  string
		token string
		at    int64
		code  int
		err   string
	}{
		{"fresh", token, now, exitOK, ""},
		{"within tolerance", token, now + 60 + 14, exitOK, ""},
		{"expired at tolerance", token, now + 60 + 15, exitFail,
			"edgeauth: token expired at 2023-11-14T22:14:20Z (now 2023-11-14T22:14:35Z)\n"},
		{"expired far ahead", token, now + 10*365*24*3600, exitFail,
			"edgeauth: token expired at 2023-11-14T22:14:20Z (now 2033-11-11T22:13:20Z)\n"},
		{"nbf within tolerance", nbf, now + 85, exitOK, ""},
		{"not yet valid", nbf, now + 84, exitFail, "edgeauth: token not yet valid: nbf 2023-11-14T22:15:00Z (now 2023-11-14T22:14:44Z)\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := cli(t, nil, tc.token, "decode", "--secret", secretNew, "--now", at(tc.at))
			assert.Equal(t, tc.code, r.code)
			assert.Equal(t, tc.err, r.stderr)
		})
	}
}

func TestRotation(t *testing.T) {
	for _, v4 := range []bool{false, true} {
		t.Run(fmt.Sprintf("v4=%v", v4), func(t *testing.T) {
			var f []string
			if v4 {
				f = []string{"--v4"}
			}
			args := func(a ...string) []string { return append(append([]string{}, f...), a...) }
			fromNew := encode(t, claimsIn, args("--secret", secretNew, "--now", at(now))...)
			fromOld := encode(t, claimsIn, args("--secret", secretOld, "--now", at(now))...)
			both := args("--secret", secretNew, "--secret", secretOld, "--now", at(now))
			assert.Equal(t, "user-1", decodeOK(t, fromNew, both...)["sub"])
			assert.Equal(t, "user-1", decodeOK(t, fromOld, both...)["sub"])
			// A repeated secret is harmless.
			assert.Equal(t, "user-1", decodeOK(t, fromOld, args("--secret", secretOld, "--secret", secretOld, "--now", at(now))...)["sub"])

			// From the environment, newest first: AUTH_SECRET_1 encodes, AUTH_SECRET still decodes.
			env := map[string]string{"AUTH_SECRET_1": secretNew, "AUTH_SECRET": secretOld}
			r := cli(t, env, claimsIn, append([]string{"encode"}, args("--now", at(now))...)...)
			require.Equal(t, exitOK, r.code, r.stderr)
			assert.Equal(t, "user-1", decodeOK(t, strings.TrimSpace(r.stdout), args("--secret", secretNew, "--now", at(now))...)["sub"])
			r = cli(t, env, fromOld, append([]string{"decode"}, args("--now", at(now))...)...)
			require.Equal(t, exitOK, r.code, r.stderr)
			// --secret replaces the environment.
			r = cli(t, env, fromOld, append([]string{"decode"}, args("--secret", secretBad, "--now", at(now))...)...)
			assert.Equal(t, exitFail, r.code)

			// The old token without the old secret. v5 tokens name their key (kid).
			want := "edgeauth: no matching secret (token sealed with another secret or salt)\n"
			if v4 {
				want = "edgeauth: decryption failed (wrong secret or tampered)\n"
			}
			r = cli(t, nil, fromOld, append([]string{"decode"}, args("--secret", secretNew, "--now", at(now))...)...)
			assert.Equal(t, exitFail, r.code)
			assert.Equal(t, want, r.stderr)
		})
	}
}

func TestSecretsFromEnvMatchesLibrary(t *testing.T) {
	t.Setenv("AUTH_SECRET", "s0")
	t.Setenv("AUTH_SECRET_1", "s1")
	t.Setenv("AUTH_SECRET_2", "")
	t.Setenv("AUTH_SECRET_3", "s3")
	assert.Equal(t, edgeauth.SecretsFromEnv(), secretsFromEnv(os.Getenv))
	assert.Equal(t, []string{"s3", "s1", "s0"}, secretsFromEnv(os.Getenv))
}

// tamper changes one character of the ciphertext segment.
func tamper(token string) string {
	parts := strings.Split(token, ".")
	c := []byte(parts[3])
	if c[4] == 'A' {
		c[4] = 'B'
	} else {
		c[4] = 'A'
	}
	parts[3] = string(c)
	return strings.Join(parts, ".")
}

func TestDecodeFailures(t *testing.T) {
	v5 := encode(t, claimsIn, "--secret", secretNew, "--now", at(now))
	v4 := encode(t, claimsIn, "--v4", "--secret", secretNew, "--now", at(now))
	big := strings.Repeat("a", edgeauth.MaxTokenSize+1)
	// An A256GCM token that names its key, as Auth.js v5 does: v4's token
	// with a kid in its header (which then fails its integrity check).
	v5gcm := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"dir","enc":"A256GCM","kid":"k1"}`)) + v4[strings.IndexByte(v4, '.'):]
	// A signed JWT, as an OAuth provider's id_token: header, claims, signature.
	jws := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." +
		base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"user-1"}`)) + ".c2lnbmF0dXJlLWJ5dGVz"
	for _, tc := range []struct {
		name  string
		env   map[string]string
		stdin string
		args  []string
		want  string
	}{
		{"wrong secret v5", nil, v5, []string{"--secret", secretBad}, "no matching secret (token sealed with another secret or salt)"},
		{"wrong secret v4", nil, v4, []string{"--v4", "--secret", secretBad}, "decryption failed (wrong secret or tampered)"},
		{"tampered v5", nil, tamper(v5), []string{"--secret", secretNew}, "decryption failed (wrong secret or tampered)"},
		{"tampered v4", nil, tamper(v4), []string{"--v4", "--secret", secretNew}, "decryption failed (wrong secret or tampered)"},
		{"v5 token as v4", nil, v5, []string{"--v4", "--secret", secretNew}, "this is an Auth.js v5 token (enc A256CBC-HS512), not a next-auth v4 one: decode without --v4"},
		{"v5 GCM token as v4", nil, v5gcm, []string{"--v4", "--secret", secretNew},
			"decryption failed: the token names its key (kid) as Auth.js v5 does, next-auth v4 never does: decode without --v4"},
		{"v4 token as v5", nil, v4, []string{"--secret", secretNew},
			"decryption failed (wrong secret or tampered); the token is A256GCM without kid, as next-auth v4 issues it: if it is, add --v4"},
		{"cookie on stdin", nil, "authjs.session-token=" + v5, []string{"--secret", secretNew},
			"input is a cookie (authjs.session-token=…), not a token: pass the Cookie header with --cookie"},
		{"cookie header line", nil, "Cookie: theme=dark; authjs.session-token=" + v5, []string{"--secret", secretNew},
			"input is a cookie (theme=…), not a token: pass the Cookie header with --cookie"},
		{"cookie as argument", nil, "", []string{"--secret", secretNew, "__Secure-authjs.session-token=" + v5},
			"input is a cookie (__Secure-authjs.session-token=…), not a token: pass the Cookie header with --cookie"},
		{"JWS", nil, jws, []string{"--secret", secretNew},
			`input is a signed JWT (JWS: 3 segments, alg "HS256"), not an Auth.js session token (JWE: 5 segments, encrypted)`},
		{"JWS without header", nil, "x.y.z", []string{"--secret", secretNew},
			"input is a signed JWT (JWS: 3 segments), not an Auth.js session token (JWE: 5 segments, encrypted)"},
		{"garbage", nil, "not-a-token-at-all-but-long", []string{"--secret", secretNew}, "malformed token"},
		{"four dots", nil, "a.b.c.d.e", []string{"--secret", secretNew}, "malformed token"},
		{"empty stdin", nil, " \n\t", []string{"--secret", secretNew}, "no token given"},
		{"empty argument", nil, "", []string{"--secret", secretNew, "  "}, "no token given"},
		{"token too large", nil, big, []string{"--secret", secretNew}, "token too large"},
		{"stdin too large", nil, strings.Repeat("a", maxStdin+1), []string{"--secret", secretNew}, "input too large (over 1048576 bytes)"},
		{"no secret", nil, v5, nil, "no secret configured (use --secret or set AUTH_SECRET)"},
		{"empty env secrets", map[string]string{"AUTH_SECRET": ""}, v5, nil, "no secret configured (use --secret or set AUTH_SECRET)"},
		{"no session cookie", nil, "", []string{"--secret", secretNew, "--cookie", "theme=dark; authjs.csrf-token=abc"},
			`no session cookie "authjs.session-token" in header (cookies seen: theme, authjs.csrf-token)`},
		{"empty cookie header", nil, "", []string{"--secret", secretNew, "--cookie", ""},
			`no session cookie "authjs.session-token" in header (it holds no cookies)`},
		{"https cookie name", nil, "", []string{"--secret", secretNew, "--cookie", "theme=dark; __Secure-authjs.session-token.0=" + v5[:20] + "; __Secure-authjs.session-token.1=" + v5[20:]},
			`no session cookie "authjs.session-token" in header (cookies seen: theme, __Secure-authjs.session-token.0, __Secure-authjs.session-token.1); ` +
				`to read __Secure-authjs.session-token use --salt __Secure-authjs.session-token (Auth.js salts its keys with the cookie name)`},
		{"v4 cookie name", nil, "", []string{"--secret", secretNew, "--cookie", "next-auth.session-token=" + v4},
			`no session cookie "authjs.session-token" in header (cookies seen: next-auth.session-token); to read next-auth.session-token use --v4 --cookie-name next-auth.session-token`},
		{"v5 cookie with --v4", nil, "", []string{"--v4", "--secret", secretNew, "--cookie", "authjs.session-token=" + v5},
			`no session cookie "next-auth.session-token" in header (cookies seen: authjs.session-token); to read authjs.session-token (Auth.js v5) decode without --v4, with --salt authjs.session-token`},
		{"many cookies", nil, "", []string{"--secret", secretNew, "--cookie", manyCookies(12)},
			`no session cookie "authjs.session-token" in header (cookies seen: c0, c1, c2, c3, c4, c5, c6, c7, c8, c9 and 2 more)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"decode", "--now", at(now)}, tc.args...)
			r := cli(t, tc.env, tc.stdin, args...)
			assert.Equal(t, exitFail, r.code)
			assert.Equal(t, "edgeauth: "+tc.want+"\n", r.stderr)
			assert.NotContains(t, r.stderr, v5)
			assert.NotContains(t, r.stderr, v4)
			assert.NotContains(t, r.stderr, "eyJ", "no part of a token or cookie value")
		})
	}
}

func TestEncodeFailures(t *testing.T) {
	for _, tc := range []struct {
		name  string
		env   map[string]string
		stdin string
		want  string
	}{
		{"array", nil, `[1,2]`, "claims must be a JSON object"},
		{"null", nil, `null`, "claims must be a JSON object"},
		{"string", nil, `"sub"`, "claims must be a JSON object"},
		{"empty", nil, " \n", "no claims on stdin (want a JSON object)"},
		{"syntax", nil, `{"sub":`, "claims must be a JSON object"},
		{"bad char", nil, `{"sub" x}`, "claims are not valid JSON: invalid character 'x' after object key"},
		{"two objects", nil, `{"a":1} {"b":2}`, "claims must be a single JSON object"},
		{"bad nbf", nil, `{"nbf":"soon"}`, `invalid claims: claim "nbf": not a number`},
		{"too large", nil, `{"a":"` + strings.Repeat("x", maxStdin) + `"}`, "input too large (over 1048576 bytes)"},
		{"no secret", nil, `{}`, "no secret configured (use --secret or set AUTH_SECRET)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"encode", "--now", at(now)}
			if tc.name != "no secret" {
				args = append(args, "--secret", secretNew)
			}
			r := cli(t, tc.env, tc.stdin, args...)
			assert.Equal(t, exitFail, r.code)
			assert.Equal(t, "edgeauth: "+tc.want+"\n", r.stderr)
		})
	}
}

// cookieHeader splits token into n chunks named name.0 … in a shuffled order,
// among unrelated cookies.
func cookieHeader(name, token string, n int) string {
	size := (len(token) + n - 1) / n
	var parts []string
	for i := 0; i*size < len(token); i++ {
		parts = append(parts, fmt.Sprintf("%s.%d=%s", name, i, token[i*size:min((i+1)*size, len(token))]))
	}
	// A fixed shuffle: last, first, then the rest.
	shuffled := append([]string{parts[len(parts)-1]}, parts[:len(parts)-1]...)
	out := []string{"theme=dark", shuffled[0], "authjs.csrf-token=abc%7Cdef", "authjs.callback-url=http%3A%2F%2Flocalhost"}
	out = append(out, shuffled[1:]...)
	out = append(out, "other.session-token.0=zzz")
	return strings.Join(out, "; ")
}

func TestCookie(t *testing.T) {
	const secure = "__Secure-authjs.session-token"
	v5 := encode(t, claimsIn, "--secret", secretNew, "--now", at(now))
	v5secure := encode(t, claimsIn, "--secret", secretNew, "--salt", secure, "--now", at(now))
	v4 := encode(t, claimsIn, "--v4", "--secret", secretNew, "--now", at(now))
	for _, tc := range []struct {
		name   string
		header string
		args   []string
	}{
		{"v5 single", "theme=dark; authjs.session-token=" + v5, nil},
		{"v5 two chunks", cookieHeader("authjs.session-token", v5, 2), nil},
		{"v5 three chunks", cookieHeader("authjs.session-token", v5, 3), nil},
		{"v5 secure prefix", cookieHeader(secure, v5secure, 3), []string{"--salt", secure}},
		{"v5 explicit name", cookieHeader("my-session", v5, 2), []string{"--cookie-name", "my-session"}},
		{"v4 default name", cookieHeader("next-auth.session-token", v4, 3), []string{"--v4"}},
		{"v4 empty salt", cookieHeader("next-auth.session-token", v4, 2), []string{"--v4", "--salt", ""}},
		{"v4 secure name", cookieHeader("__Secure-next-auth.session-token", v4, 2), []string{"--v4", "--cookie-name", "__Secure-next-auth.session-token"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"decode", "--secret", secretNew, "--now", at(now), "--cookie", tc.header}, tc.args...)
			r := cli(t, nil, "", args...)
			require.Equal(t, exitOK, r.code, r.stderr)
			got := parseLine(t, r.stdout)
			assert.Equal(t, "user-1", got["sub"])
			assert.Equal(t, json.Number("12345678901234567890"), got["n"])
		})
	}

	// Chunks of another name are not the session cookie.
	r := cli(t, nil, "", "decode", "--secret", secretNew, "--now", at(now), "--cookie", cookieHeader("authjs.session-token", v5, 2), "--salt", secure)
	assert.Equal(t, exitFail, r.code)
	assert.Equal(t, `edgeauth: no session cookie "__Secure-authjs.session-token" in header `+
		`(cookies seen: theme, authjs.session-token.1, authjs.csrf-token, authjs.callback-url, authjs.session-token.0, other.session-token.0); `+
		"to read authjs.session-token use --salt authjs.session-token (Auth.js salts its keys with the cookie name)\n", r.stderr)
	// A chunk missing: the joined value is not the token.
	parts := strings.Split(cookieHeader("authjs.session-token", v5, 3), "; ")
	var dropped []string
	for _, p := range parts {
		if !strings.HasPrefix(p, "authjs.session-token.1=") {
			dropped = append(dropped, p)
		}
	}
	r = cli(t, nil, "", "decode", "--secret", secretNew, "--now", at(now), "--cookie", strings.Join(dropped, "; "))
	assert.Equal(t, exitFail, r.code)
	assert.Equal(t, "edgeauth: inconsistent session cookie chunks\n", r.stderr)
	// More chunks than a token can need.
	var many []string
	for i := range maxCookieChunks + 1 {
		many = append(many, fmt.Sprintf("authjs.session-token.%d=x", i))
	}
	r = cli(t, nil, "", "decode", "--secret", secretNew, "--now", at(now), "--cookie", strings.Join(many, "; "))
	assert.Equal(t, exitFail, r.code)
	assert.Equal(t, "edgeauth: token too large\n", r.stderr)
	// A stale chunk set beside the whole cookie: the whole cookie wins.
	r = cli(t, nil, "", "decode", "--secret", secretNew, "--now", at(now), "--cookie", "authjs.session-token.0=stale; authjs.session-token="+v5)
	assert.Equal(t, exitOK, r.code, r.stderr)
}

func TestUsage(t *testing.T) {
	for _, tc := range []struct {
		name  string
		args  []string
		inErr string
	}{
		{"no command", nil, "missing command"},
		{"unknown command", []string{"verify"}, `unknown command "verify"`},
		{"secret with argument", []string{"secret", "x"}, "secret takes no arguments"},
		{"encode with argument", []string{"encode", "--secret", secretNew, "x"}, "encode reads the claims from stdin"},
		{"decode two tokens", []string{"decode", "a", "b"}, "at most one TOKEN"},
		{"token and cookie", []string{"decode", "--cookie", "a=b", "tok"}, "either TOKEN or --cookie"},
		{"max-age zero", []string{"encode", "--max-age", "0"}, "-max-age: must be a positive integer"},
		{"max-age negative", []string{"encode", "--max-age", "-5"}, "-max-age: must be a positive integer"},
		{"max-age fraction", []string{"encode", "--max-age", "1.5"}, "-max-age: must be a positive integer"},
		{"max-age word", []string{"encode", "--max-age", "day"}, "-max-age: must be a positive integer"},
		{"max-age over a Duration", []string{"encode", "--now", "0", "--max-age", "9223372037"}, "-max-age: must be a positive integer number of seconds, at most 9223372036"},
		{"max-age past 9999", []string{"encode", "--now", at(253402300799 - 100), "--max-age", "101"}, "past the year 9999"},
		{"max-age on decode", []string{"decode", "--max-age", "60"}, "flag provided but not defined: -max-age"},
		{"cookie on encode", []string{"encode", "--cookie", "a=b"}, "flag provided but not defined: -cookie"},
		{"now word", []string{"decode", "--now", "today"}, "-now: must be an integer"},
		{"now fraction", []string{"decode", "--now", "1.5"}, "-now: must be an integer"},
		{"now negative", []string{"decode", "--now", "-1"}, "-now: must be an integer"},
		{"empty salt v5", []string{"decode", "--salt", ""}, `--salt "" needs --v4`},
		{"cookie-name alone", []string{"decode", "--cookie-name", "x"}, "--cookie-name needs --cookie"},
		{"empty cookie-name", []string{"decode", "--cookie", "a=b", "--cookie-name", ""}, "-cookie-name: must not be empty"},
		{"empty secret", []string{"decode", "--secret", ""}, "-secret: must not be empty"},
		{"unknown flag", []string{"decode", "--secrets", secretNew}, "flag provided but not defined: -secrets"},
		{"missing value", []string{"decode", "--secret"}, "flag needs an argument: -secret"},
		{"bad bool", []string{"decode", "--v4=" + secretNew}, "invalid boolean value for -v4: parse error"},
		{"secret in bad value", []string{"decode", "--secret", secretNew, "--now", secretNew}, "invalid value for flag -now: must be an integer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := cli(t, nil, "", tc.args...)
			assert.Equal(t, exitUsage, r.code)
			assert.Contains(t, r.stderr, tc.inErr)
			assert.True(t, strings.HasSuffix(r.stderr, shortUsage), "short usage follows: %q", r.stderr)
		})
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"--help"}, {"-h"}, {"decode", "-h"}, {"encode", "--help"}} {
		r := cli(t, nil, "", args...)
		assert.Equal(t, exitOK, r.code, args)
		assert.Equal(t, helpText, r.stdout)
		assert.Empty(t, r.stderr)
	}

	// The help's flags section: "  --NAME [ARG]  [encode: |decode: ]text".
	documented := map[string]string{} // flag -> "encode", "decode" or "" (both)
	flagLine := regexp.MustCompile(`^  --([a-z0-9-]+)(?: [A-Z]+)? +(?:(encode|decode): )?`)
	_, section, ok := strings.Cut(helpText, "\nflags:\n")
	require.True(t, ok, "help has a flags section")
	section, _, _ = strings.Cut(section, "\n\n")
	for _, line := range strings.Split(section, "\n") {
		if m := flagLine.FindStringSubmatch(line); m != nil {
			documented[m[1]] = m[2]
		}
	}
	defined := flagsDefined(t)
	require.NotEmpty(t, defined)
	for name := range defined {
		assert.Contains(t, documented, name, "flag --%s is not in the help", name)
	}

	// A valid value for each documented flag; a new flag needs one here.
	values := map[string][]string{
		"secret":      {secretNew},
		"salt":        {"my.session-token"},
		"v4":          nil,
		"max-age":     {"60"},
		"now":         {at(now)},
		"cookie":      {"my.session-token=x"},
		"cookie-name": {"my.session-token", "--cookie", "my.session-token=x"},
		"format":      {"authjs"},
	}
	for name, only := range documented {
		val, ok := values[name]
		require.True(t, ok, "no test value for documented flag --%s", name)
		for _, cmd := range []string{"encode", "decode"} {
			args := append([]string{cmd, "--" + name}, val...)
			if name != "secret" {
				args = append(args, "--secret", secretNew)
			}
			r := cli(t, nil, `{"sub":"u"}`, args...)
			undefined := "flag provided but not defined: -" + name + "\n"
			if only == "" || only == cmd {
				assert.NotContains(t, r.stderr, undefined, "%s must accept --%s", cmd, name)
				assert.NotEqual(t, exitUsage, r.code, "%v: %s", args, r.stderr)
			} else {
				assert.Contains(t, r.stderr, undefined, "%s must reject --%s (help says %s only)", cmd, name, only)
				assert.Equal(t, exitUsage, r.code, args)
			}
		}
	}
}

// flagsDefined finds, in the command's source, the name of every flag
// registered on a flag.NewFlagSet value.
func flagsDefined(t *testing.T) map[string]bool {
	t.Helper()
	paths, err := filepath.Glob("*.go")
	require.NoError(t, err)
	defined := map[string]bool{}
	for _, path := range paths {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
		require.NoError(t, err)
		sets := map[string]bool{} // names of the *flag.FlagSet variables
		ast.Inspect(f, func(n ast.Node) bool {
			if as, ok := n.(*ast.AssignStmt); ok && len(as.Lhs) == 1 && len(as.Rhs) == 1 && isCall(as.Rhs[0], "flag", "NewFlagSet") {
				if id, ok := as.Lhs[0].(*ast.Ident); ok {
					sets[id.Name] = true
				}
			}
			return true
		})
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if recv, ok := sel.X.(*ast.Ident); !ok || !sets[recv.Name] {
				return true
			}
			// The name is the first string-literal argument (Func, Bool…:
			// the first argument; BoolVar, Var…: the second).
			for _, a := range call.Args {
				if lit, ok := a.(*ast.BasicLit); ok && lit.Kind == token.STRING {
					name, err := strconv.Unquote(lit.Value)
					require.NoError(t, err)
					defined[name] = true
					break
				}
			}
			return true
		})
	}
	return defined
}

func isCall(e ast.Expr, pkg, fn string) bool {
	call, ok := e.(*ast.CallExpr)
	if !ok {
		return false
	}
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	id, ok := sel.X.(*ast.Ident)
	return ok && id.Name == pkg && sel.Sel.Name == fn
}

// A token from another issuer may hold claims with insignificant whitespace;
// the output is still one line.
func TestDecodeOneLine(t *testing.T) {
	c, err := edgeauth.NewCodec(edgeauth.CodecConfig{
		Secrets: []string{secretNew},
		Now:     func() time.Time { return time.Unix(now, 0) },
	})
	require.NoError(t, err)
	token, err := c.Encode(&edgeauth.Token{
		Subject: "u",
		Claims:  map[string]json.RawMessage{"x": json.RawMessage("{\n  \"a\": [1,\n 2],\t\"b\": \"c d\"\n}")},
	})
	require.NoError(t, err)
	r := cli(t, nil, token, "decode", "--secret", secretNew, "--now", at(now))
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Regexp(t, `^\{"sub":"u","x":\{"a":\[1,2\],"b":"c d"\},"iat":1700000000,"exp":1702592000,"jti":"[0-9a-f-]{36}"\}\n$`, r.stdout)
}

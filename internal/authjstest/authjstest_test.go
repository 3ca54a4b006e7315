package authjstest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const now = 1700000000 // fixed fake clock (Unix seconds) for the harness

type encodeResp struct {
	Token string `json:"token"`
}

type decodeResp struct {
	Payload map[string]any `json:"payload"`
}

type headerResp struct {
	Header map[string]any `json:"header"`
}

func TestDir(t *testing.T) {
	dir, err := Dir()
	require.NoError(t, err)
	assert.True(t, filepath.IsAbs(dir))
	_, err = os.Stat(filepath.Join(dir, "harness.mjs"))
	require.NoError(t, err)
	_, err = os.Stat(filepath.Join(dir, "package-lock.json"))
	require.NoError(t, err)
}

func TestRoundTripV5(t *testing.T) {
	h := Start(t)
	const salt = "authjs.session-token"
	var enc encodeResp
	require.NoError(t, h.Call(map[string]any{
		"op": "encode", "lib": "v5", "secret": "test-secret", "salt": salt,
		"maxAge": 3600, "now": now,
		"token": map[string]any{"sub": "user-1", "name": "Ada", "role": "admin"},
	}, &enc))
	require.NotEmpty(t, enc.Token)

	var hdr headerResp
	require.NoError(t, h.Call(map[string]any{"op": "header", "token": enc.Token}, &hdr))
	assert.Equal(t, "dir", hdr.Header["alg"])
	assert.Equal(t, "A256CBC-HS512", hdr.Header["enc"])
	assert.NotEmpty(t, hdr.Header["kid"])

	var dec decodeResp
	require.NoError(t, h.Call(map[string]any{
		"op": "decode", "lib": "v5", "secret": []string{"old-secret", "test-secret"},
		"salt": salt, "token": enc.Token, "now": now + 10,
	}, &dec))
	assert.Equal(t, "user-1", dec.Payload["sub"])
	assert.Equal(t, "Ada", dec.Payload["name"])
	assert.Equal(t, "admin", dec.Payload["role"])
	assert.Equal(t, float64(now), dec.Payload["iat"])
	assert.Equal(t, float64(now+3600), dec.Payload["exp"])
	assert.NotEmpty(t, dec.Payload["jti"])

	// The fake clock reaches jose's exp check (15 s clock tolerance).
	err := h.Call(map[string]any{
		"op": "decode", "lib": "v5", "secret": "test-secret", "salt": salt,
		"token": enc.Token, "now": now + 3600 + 15,
	}, &dec)
	var herr *Error
	require.ErrorAs(t, err, &herr)
	assert.Equal(t, "ERR_JWT_EXPIRED", herr.Code)
}

func TestRoundTripV4(t *testing.T) {
	h := Start(t)
	var enc encodeResp
	require.NoError(t, h.Call(map[string]any{
		"op": "encode", "lib": "v4", "secret": "test-secret", "now": now,
		"token": map[string]any{"sub": "user-4", "email": "a@example.com"},
	}, &enc))

	var hdr headerResp
	require.NoError(t, h.Call(map[string]any{"op": "header", "token": enc.Token}, &hdr))
	assert.Equal(t, map[string]any{"alg": "dir", "enc": "A256GCM"}, hdr.Header)

	var dec decodeResp
	require.NoError(t, h.Call(map[string]any{
		"op": "decode", "lib": "v4", "secret": "test-secret", "token": enc.Token, "now": now,
	}, &dec))
	assert.Equal(t, "user-4", dec.Payload["sub"])
	assert.Equal(t, "a@example.com", dec.Payload["email"])
	assert.Equal(t, float64(now), dec.Payload["iat"])
	assert.Equal(t, float64(now+30*24*3600), dec.Payload["exp"]) // v4 default maxAge
}

func TestTamperedTokenIsHarnessError(t *testing.T) {
	h := Start(t)
	const salt = "authjs.session-token"
	var enc encodeResp
	require.NoError(t, h.Call(map[string]any{
		"op": "encode", "lib": "v5", "secret": "s", "salt": salt, "now": now,
		"token": map[string]any{"sub": "x"},
	}, &enc))

	// Flip the first ciphertext character (segment 4 of 5).
	tok := []byte(enc.Token)
	i := nthDot(enc.Token, 3) + 1
	if tok[i] == 'A' {
		tok[i] = 'B'
	} else {
		tok[i] = 'A'
	}
	var dec decodeResp
	err := h.Call(map[string]any{
		"op": "decode", "lib": "v5", "secret": "s", "salt": salt, "token": string(tok), "now": now,
	}, &dec)
	var herr *Error
	require.ErrorAs(t, err, &herr)
	assert.Equal(t, "ERR_JWE_DECRYPTION_FAILED", herr.Code)
	assert.Contains(t, herr.Message, "JWEDecryptionFailed")

	// A wrong secret fails in Auth.js's own key lookup, without a jose code.
	err = h.Call(map[string]any{
		"op": "decode", "lib": "v5", "secret": "other", "salt": salt, "token": enc.Token, "now": now,
	}, &dec)
	require.ErrorAs(t, err, &herr)
	assert.Equal(t, "Error: no matching decryption secret", herr.Message)
	assert.Empty(t, herr.Code)
}

func TestHarnessErrorsAndBadRequests(t *testing.T) {
	h := Start(t)
	var herr *Error
	require.ErrorAs(t, h.Call(map[string]any{"op": "no-such-op"}, nil), &herr)
	assert.Contains(t, herr.Message, "unknown op")

	// Not an object: rejected on the Go side, not a harness error.
	err := h.Call("ping", nil)
	require.Error(t, err)
	assert.False(t, errors.As(err, &herr))

	// The process is still usable afterwards.
	var ping struct {
		OK       bool              `json:"ok"`
		Versions map[string]string `json:"versions"`
	}
	require.NoError(t, h.Call(map[string]any{"op": "ping"}, &ping))
	assert.True(t, ping.OK)
	assert.Equal(t, "0.41.3", ping.Versions["@auth/core"])
	assert.Equal(t, "4.24.15", ping.Versions["next-auth"])
	assert.Equal(t, "6.2.17", ping.Versions["jose"])
}

// The signIn op signs in through @auth/core's Credentials provider; with the
// "sid" callback the token carries sid and auth_time, which the session op
// (a read, or an update with client data) carries over unchanged.
func TestSignInAndSessionOps(t *testing.T) {
	h := Start(t)
	const salt = "authjs.session-token"
	sessionToken := func(setCookies []string) string {
		t.Helper()
		for _, c := range setCookies {
			if v, ok := strings.CutPrefix(c, salt+"="); ok {
				return strings.SplitN(v, ";", 2)[0]
			}
		}
		t.Fatalf("no session cookie in %q", setCookies)
		return ""
	}
	payload := func(token string) map[string]any {
		t.Helper()
		var dec decodeResp
		require.NoError(t, h.Call(map[string]any{"op": "decode", "lib": "v5", "secret": "s", "salt": salt, "token": token, "now": now + 10}, &dec))
		return dec.Payload
	}
	type result struct {
		Status     int      `json:"status"`
		Location   string   `json:"location"`
		SetCookies []string `json:"setCookies"`
	}
	signIn := func(callbacks string) map[string]any {
		var out result
		require.NoError(t, h.Call(map[string]any{"op": "signIn", "secret": "s", "callbacks": callbacks,
			"user": map[string]any{"id": "u1", "name": "Ada"}, "now": now}, &out))
		assert.Equal(t, 302, out.Status)
		assert.Equal(t, "http://localhost:3000/", out.Location)
		p := payload(sessionToken(out.SetCookies))
		p["_token"] = sessionToken(out.SetCookies)
		return p
	}

	plain := signIn("default")
	assert.Equal(t, "u1", plain["sub"])
	assert.Equal(t, "Ada", plain["name"])
	assert.NotContains(t, plain, "sid")
	assert.NotContains(t, plain, "auth_time")

	withSid := signIn("sid")
	assert.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, withSid["sid"])
	assert.Equal(t, float64(now), withSid["auth_time"])
	assert.NotEqual(t, withSid["sid"], signIn("sid")["sid"], "a new sid per sign-in")

	var read result
	require.NoError(t, h.Call(map[string]any{"op": "session", "secret": "s", "callbacks": "sid",
		"cookieHeader": salt + "=" + withSid["_token"].(string), "now": now + 5,
		"data": map[string]any{"sid": "client", "auth_time": 1}}, &read))
	updated := payload(sessionToken(read.SetCookies))
	assert.Equal(t, withSid["sid"], updated["sid"])
	assert.Equal(t, withSid["auth_time"], updated["auth_time"])
	assert.Equal(t, float64(now+5), updated["iat"])
	assert.NotEqual(t, withSid["jti"], updated["jti"])

	var herr *Error
	require.ErrorAs(t, h.Call(map[string]any{"op": "signIn", "secret": "s", "user": map[string]any{"id": 1}}, nil), &herr)
	assert.Contains(t, herr.Message, `"user"`)
	require.ErrorAs(t, h.Call(map[string]any{"op": "session", "secret": "s", "callbacks": "nope"}, nil), &herr)
	assert.Contains(t, herr.Message, `"callbacks"`)
}

func TestConcurrentCallsStayPaired(t *testing.T) {
	h := Start(t)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sub := fmt.Sprintf("user-%d", i)
			var enc encodeResp
			if err := h.Call(map[string]any{
				"op": "encode", "lib": "v4", "secret": "s", "token": map[string]any{"sub": sub},
			}, &enc); err != nil {
				errs <- err
				return
			}
			var dec decodeResp
			if err := h.Call(map[string]any{
				"op": "decode", "lib": "v4", "secret": "s", "token": enc.Token,
			}, &dec); err != nil {
				errs <- err
				return
			}
			if dec.Payload["sub"] != sub {
				errs <- fmt.Errorf("got sub %v, want %s", dec.Payload["sub"], sub)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestStartIsShared(t *testing.T) {
	assert.Same(t, Start(t), Start(t))
}

func nthDot(s string, n int) int {
	for i := range len(s) {
		if s[i] == '.' {
			if n == 0 {
				return i
			}
			n--
		}
	}
	return -1
}

func TestTimeoutKillsAndRestarts(t *testing.T) {
	shared := Start(t) // ensures node_modules and node are there
	// A private harness so the short timeout does not affect other tests.
	h := &Harness{dir: shared.dir, timeout: 300 * time.Millisecond}
	defer func() {
		if h.p != nil {
			h.p.kill()
		}
	}()

	err := h.Call(map[string]any{"op": "sleep", "ms": 5000}, nil)
	require.Error(t, err)
	var herr *Error
	assert.False(t, errors.As(err, &herr), "a timeout is a transport error, not a harness error")
	assert.ErrorIs(t, err, os.ErrDeadlineExceeded)
	assert.Nil(t, h.p, "the stuck process is dropped")

	// The next call starts a fresh process and is answered in step.
	h.timeout = 0
	var ping struct {
		OK bool `json:"ok"`
	}
	require.NoError(t, h.Call(map[string]any{"op": "ping"}, &ping))
	assert.True(t, ping.OK)
}

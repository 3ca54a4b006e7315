package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeauth/edgeauth"
	"github.com/edgeauth/edgeauth/internal/authjstest"
)

const (
	testSecret = "nextjs-api-test-secret-0123456789"
	appHTTP    = "http://localhost:3000"
	appHTTPS   = "https://app.example.com"
	testNow    = 1_800_000_000
)

var (
	alice = map[string]any{"id": "alice", "name": "Alice", "email": "alice@example.com", "role": "admin"}
	bob   = map[string]any{"id": "bob", "name": "Bob", "email": "bob@example.com", "role": "user"}
)

// authConfig is the README's auth.ts part, which the harness runs for
// "callbacks": "article".
func authConfig(t *testing.T) string {
	t.Helper()
	dir, err := authjstest.Dir()
	require.NoError(t, err)
	return filepath.Join(dir, "auth.config.mjs")
}

// flow is what the harness's signIn and signOut ops answer.
type flow struct {
	Status       int      `json:"status"`
	Location     string   `json:"location"`
	SetCookies   []string `json:"setCookies"`
	CookieHeader string   `json:"cookieHeader"`
	Logs         []any    `json:"logs"`
}

// signIn signs user in on the Next.js app at appURL, as a browser does,
// with the real Auth.js and the README's callbacks; now 0 is the real clock.
func signIn(t *testing.T, h *authjstest.Harness, appURL string, user map[string]any, now int64) flow {
	t.Helper()
	req := map[string]any{"op": "signIn", "secret": testSecret, "origin": appURL, "user": user, "callbacks": "article"}
	if now != 0 {
		req["now"] = now
	}
	var f flow
	require.NoError(t, h.Call(req, &f))
	require.Equal(t, http.StatusFound, f.Status, "Auth.js logs: %v", f.Logs)
	require.Empty(t, f.Logs)
	return f
}

// sessionToken is the value of the session cookie Auth.js set.
func (f flow) sessionToken(t *testing.T, name string) string {
	t.Helper()
	for _, c := range (&http.Response{Header: http.Header{"Set-Cookie": f.SetCookies}}).Cookies() {
		if c.Name == name {
			return c.Value
		}
	}
	t.Fatalf("no %s in %q", name, f.SetCookies)
	return ""
}

// call sends a GET with a Cookie header and returns status, Location and body.
func call(t *testing.T, h http.Handler, target, cookie, accept string) (int, string, string) {
	t.Helper()
	r := httptest.NewRequest("GET", target, nil)
	if cookie != "" {
		r.Header.Set("Cookie", cookie)
	}
	if accept != "" {
		r.Header.Set("Accept", accept)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	assert.Empty(t, w.Header().Values("Set-Cookie"), "the API never writes the app's cookie")
	return w.Code, w.Header().Get("Location"), strings.TrimSpace(w.Body.String())
}

// logBuffer collects log lines, safe for the server's goroutines.
type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// lines returns the lines logged so far without their time field.
func (l *logBuffer) lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(l.b.String()), "\n") {
		if line != "" {
			out = append(out, timeField.ReplaceAllString(line, ""))
		}
	}
	return out
}

var timeField = regexp.MustCompile(`^time=\S+ `)

// The whole scenario with cookies minted by the real Auth.js: sign-in on
// http and https, roles, the redirect to the app's sign-in page, a
// mismatched cookie name, sign-out.
func TestWithAuthJS(t *testing.T) {
	h := authjstest.Start(t)
	clock := func() time.Time { return time.Unix(testNow+10, 0) }
	for _, app := range []struct{ url, cookie string }{
		{appHTTP, "authjs.session-token"},
		{appHTTPS, "__Secure-authjs.session-token"},
	} {
		t.Run(app.url, func(t *testing.T) {
			var logs logBuffer
			api, cookie, err := newAPI(apiConfig{Secrets: []string{testSecret}, AuthURL: app.url, Now: clock,
				Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			require.NoError(t, err)
			assert.Equal(t, app.cookie, cookie)
			a := signIn(t, h, app.url, alice, testNow)
			b := signIn(t, h, app.url, bob, testNow)
			assert.NotEmpty(t, a.sessionToken(t, app.cookie), "Auth.js names the cookie %s on %s", app.cookie, app.url)
			// The README's callbacks give the session what edgeauth revokes by.
			m, err := edgeauth.New(edgeauth.Config{Secrets: []string{testSecret}, Cookie: edgeauth.CookieConfig{Name: app.cookie}, ReadOnly: true, Now: clock})
			require.NoError(t, err)
			r := httptest.NewRequest("GET", "/", nil)
			r.Header.Set("Cookie", a.CookieHeader)
			s, err := m.Load(r)
			require.NoError(t, err)
			assert.NotEmpty(t, s.Token.SessionID)
			assert.Equal(t, time.Unix(testNow, 0).UTC(), s.Token.AuthTime)

			for _, c := range []struct {
				target, cookie  string
				status          int
				location, body  string
				browser         bool
				wantLogFragment string
			}{
				{"/api/health", "", 200, "", `{"ok":true}`, false, ""},
				{"/api/me", "", 401, "", `{"error":"unauthorized"}`, false, `status=401 reason="edgeauth: no session cookie" by=Require()`},
				{"/api/me", a.CookieHeader, 200, "", `{"id":"alice","name":"Alice","role":"admin"}`, false, ""},
				{"/api/me", b.CookieHeader, 200, "", `{"id":"bob","name":"Bob","role":"user"}`, false, ""},
				{"/api/admin/stats", b.CookieHeader, 403, "", `{"error":"forbidden"}`, false, `status=403 reason="edgeauth: forbidden" by=Require(admin)`},
				{"/api/admin/stats", a.CookieHeader, 200, "", `{"admin":"alice","orders":42}`, false, ""},
				{"/export.csv", a.CookieHeader, 200, "", "user,orders\nalice,42", true, ""},
				{"/export.csv", "", 303, app.url + "/api/auth/signin?callbackUrl=" + strings.ReplaceAll(strings.ReplaceAll(app.url, ":", "%3A"), "/", "%2F") + "%2Fexport.csv", "", true, "status=303"},
			} {
				accept := "application/json"
				if c.browser {
					accept = "text/html"
				}
				status, location, body := call(t, api, c.target, c.cookie, accept)
				assert.Equal(t, c.status, status, c.target)
				assert.Equal(t, c.location, location, c.target)
				if c.body != "" {
					assert.Equal(t, c.body, body, c.target)
				}
				if c.wantLogFragment != "" {
					assert.Contains(t, strings.Join(logs.lines(), "\n"), "path="+c.target+" "+c.wantLogFragment)
				}
			}
			for _, line := range logs.lines() {
				assert.NotContains(t, line, a.sessionToken(t, app.cookie)[:30])
			}

			// Next.js signs alice out: Auth.js deletes the cookie in the
			// browser, whose next call has no session. A copy of the token
			// taken before stays valid until it expires (stateless).
			var out flow
			require.NoError(t, h.Call(map[string]any{"op": "signOut", "secret": testSecret, "origin": app.url,
				"cookieHeader": a.CookieHeader, "now": testNow + 5}, &out))
			cleared := app.cookie + "=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax"
			if app.url == appHTTPS {
				cleared = app.cookie + "=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Lax"
			} else {
				assert.Contains(t, section(t), cleared, "the README quotes Auth.js's sign-out")
			}
			assert.Contains(t, out.SetCookies, cleared)
			status, _, _ := call(t, api, "/api/me", out.CookieHeader, "")
			assert.Equal(t, 401, status)
			status, _, _ = call(t, api, "/api/me", a.CookieHeader, "")
			assert.Equal(t, 200, status)
		})
	}

	t.Run("cookie name mismatch", func(t *testing.T) {
		var logs logBuffer
		// The Go side thinks the app is on http; Auth.js ran on https.
		api, _, err := newAPI(apiConfig{Secrets: []string{testSecret}, AuthURL: appHTTP, Now: clock,
			Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		require.NoError(t, err)
		a := signIn(t, h, appHTTPS, alice, testNow)
		status, _, body := call(t, api, "/api/me", a.CookieHeader, "")
		assert.Equal(t, 401, status)
		assert.Equal(t, `{"error":"unauthorized"}`, body)
		assert.Contains(t, logs.lines(), `level=WARN msg="edgeauth: no session cookie under the configured name, but one under another Auth.js name: set Config.Cookie (Name or Secure) and Format to match the app that sets it" expected=authjs.session-token found=__Secure-authjs.session-token`)
	})
}

// The routing itself, with Go-sealed cookies: chi's Group and With, and a
// Require without Handler in front, which verifies the session itself.
func TestChiRoutes(t *testing.T) {
	clock := func() time.Time { return time.Unix(testNow, 0) }
	api, cookie, err := newAPI(apiConfig{Secrets: []string{testSecret}, AuthURL: appHTTP, Now: clock})
	require.NoError(t, err)
	codec, err := edgeauth.NewCodec(edgeauth.CodecConfig{Secrets: []string{testSecret}, Salt: cookie, Now: clock})
	require.NoError(t, err)
	seal := func(id, role string) string {
		tok := &edgeauth.Token{Subject: id, Name: id}
		require.NoError(t, tok.SetClaim("role", role))
		v, err := codec.Encode(tok)
		require.NoError(t, err)
		return cookie + "=" + v
	}
	admin, user := seal("root", "admin"), seal("ann", "user")

	for _, c := range []struct {
		target, cookie string
		status         int
	}{
		{"/api/health", "", 200},
		{"/api/me", user, 200},
		{"/api/me", cookie + "=garbage", 401},
		{"/api/admin/stats", "", 401},
		{"/api/admin/stats", user, 403},
		{"/api/admin/stats", admin, 200},
		{"/api/ADMIN/stats", admin, 404}, // chi matches case-sensitively: no route
		{"/nothing", admin, 404},
	} {
		status, _, _ := call(t, api, c.target, c.cookie, "")
		assert.Equal(t, c.status, status, "%s with %q", c.target, c.cookie)
	}

	// Require alone, no Handler in front: it verifies the session itself.
	m, err := edgeauth.New(edgeauth.Config{Secrets: []string{testSecret}, ReadOnly: true, APIPrefixes: []string{"/api"}, Now: clock})
	require.NoError(t, err)
	r := chi.NewRouter()
	r.With(m.Require("admin")).Get("/api/admin/stats", stats)
	r.Route("/api/me", func(r chi.Router) {
		r.Use(m.Require())
		r.Get("/", me)
	})
	for _, c := range []struct {
		target, cookie string
		status         int
		body           string
	}{
		{"/api/me", user, 200, `{"id":"ann","name":"ann","role":"user"}`},
		{"/api/me", "", 401, `{"error":"unauthorized"}`},
		{"/api/admin/stats", user, 403, `{"error":"forbidden"}`},
		// Without Handler, no identity headers: the handler sees none.
		{"/api/admin/stats", admin, 200, `{"admin":"","orders":42}`},
	} {
		status, _, body := call(t, r, c.target, c.cookie, "")
		assert.Equal(t, c.status, status, c.target)
		assert.Equal(t, c.body, body, c.target)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, bad := range []string{"localhost:3000", "ftp://x", "http://", "::"} {
		_, _, err := newAPI(apiConfig{Secrets: []string{testSecret}, AuthURL: bad})
		assert.ErrorContains(t, err, "AUTH_URL", bad)
	}
	_, _, err := newAPI(apiConfig{AuthURL: appHTTP})
	assert.ErrorIs(t, err, edgeauth.ErrNoSecret)
	for _, name := range []string{"AUTH_SECRET_3", "AUTH_SECRET_2", "AUTH_SECRET_1", "AUTH_SECRET"} {
		t.Setenv(name, "")
	}
	err = run(context.Background(), io.Discard)
	assert.ErrorContains(t, err, "AUTH_SECRET is not set")
}

// section returns the README's section "A Go API beside your Next.js app".
func section(t *testing.T) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	require.NoError(t, err)
	readme := string(raw)
	start := strings.Index(readme, "\n## A Go API beside your Next.js app\n")
	require.GreaterOrEqual(t, start, 0, "README section missing")
	rest := readme[start+1:]
	if end := strings.Index(rest[3:], "\n## "); end >= 0 {
		rest = rest[:end+4]
	}
	return rest
}

// codeBlocks returns the fenced blocks of lang in s.
func codeBlocks(s, lang string) []string {
	var out []string
	for _, part := range strings.Split(s, "```"+lang+"\n")[1:] {
		out = append(out, part[:strings.Index(part, "```")])
	}
	return out
}

// The README's auth.ts holds the callbacks the tests run in Auth.js,
// verbatim, and its Go code is this example's, line by line.
func TestREADMECode(t *testing.T) {
	sec := section(t)
	module, err := os.ReadFile(authConfig(t))
	require.NoError(t, err)
	m := string(module)
	begin, end := strings.Index(m, "// README:begin\n"), strings.Index(m, "  // README:end")
	require.True(t, begin > 0 && end > begin)
	callbacks := m[begin+len("// README:begin\n") : end]
	ts := codeBlocks(sec, "ts")
	require.Len(t, ts, 1)
	assert.Contains(t, ts[0], callbacks, "auth.ts in the README must hold testdata/authjs/auth.config.mjs's callbacks verbatim")

	src, err := os.ReadFile("api.go")
	require.NoError(t, err)
	goBlocks := codeBlocks(sec, "go")
	require.NotEmpty(t, goBlocks)
	for _, block := range goBlocks {
		rest := string(src)
		for _, line := range strings.Split(block, "\n") {
			line = strings.TrimSpace(line)
			if line == "" {
				continue
			}
			i := strings.Index(rest, line)
			require.GreaterOrEqual(t, i, 0, "README line %q is not in api.go (in this order)", line)
			rest = rest[i+len(line):]
		}
	}
}

// The README's transcript is what the command prints and answers, run here
// as a real server with cookies minted by the real Auth.js.
func TestREADMETranscript(t *testing.T) {
	h := authjstest.Start(t)
	a := signIn(t, h, appHTTP, alice, 0)
	b := signIn(t, h, appHTTP, bob, 0)
	secure := signIn(t, h, appHTTPS, alice, 0)

	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	for k, v := range map[string]string{"AUTH_SECRET": testSecret, "AUTH_URL": appHTTP, "ADDR": "127.0.0.1:0"} {
		t.Setenv(k, v)
	}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, pw)
		pw.Close()
	}()
	var logs logBuffer
	lines := bufio.NewScanner(pr)
	require.True(t, lines.Scan(), "startup line")
	startup := lines.Text()
	logged := make(chan struct{})
	go func() {
		for lines.Scan() {
			_, _ = logs.Write([]byte(lines.Text() + "\n"))
		}
		close(logged)
	}()
	addr := regexp.MustCompile(`url=http://(\S+)`).FindStringSubmatch(startup)
	require.Len(t, addr, 2, startup)
	base := "http://" + addr[1]
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	var transcript []string
	curl := func(args, cookie, target string, statusAndRedirect bool) {
		req, err := http.NewRequest("GET", base+target, nil)
		require.NoError(t, err)
		if cookie != "" {
			req.Header.Set("Cookie", cookie)
		}
		resp, err := client.Do(req)
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		transcript = append(transcript, "$ curl -s "+args+"http://127.0.0.1:8081"+target)
		if statusAndRedirect {
			transcript = append(transcript, resp.Status[:3]+" "+resp.Header.Get("Location"))
		} else {
			transcript = append(transcript, strings.TrimSpace(string(body)))
		}
	}
	curl("", "", "/api/me", false)
	curl(`-b "authjs.session-token=$ALICE" `, "authjs.session-token="+a.sessionToken(t, "authjs.session-token"), "/api/me", false)
	curl(`-b "authjs.session-token=$BOB" `, "authjs.session-token="+b.sessionToken(t, "authjs.session-token"), "/api/admin/stats", false)
	curl(`-b "authjs.session-token=$ALICE" `, "authjs.session-token="+a.sessionToken(t, "authjs.session-token"), "/api/admin/stats", false)
	curl(`-o /dev/null -w "%{http_code} %{redirect_url}\n" `, "", "/export.csv", true)
	curl(`-b "__Secure-authjs.session-token=$ALICE_HTTPS" `, "__Secure-authjs.session-token="+secure.sessionToken(t, "__Secure-authjs.session-token"), "/api/me", false)

	cancel()
	require.NoError(t, <-done)
	<-logged

	sec := section(t)
	startupLine := strings.Replace(timeField.ReplaceAllString(startup, ""), addr[1], "127.0.0.1:8081", 1)
	command := "$ AUTH_SECRET=… AUTH_URL=http://localhost:3000 go run ./examples/nextjs-api\n" + startupLine
	assert.Contains(t, sec, command)
	assert.Contains(t, sec, strings.Join(transcript, "\n")+"\n", "the README's curl transcript")
	assert.Contains(t, sec, strings.Join(logs.lines(), "\n")+"\n", "the README's log lines")
	assert.Len(t, logs.lines(), 5)
}

// The session JSON of the Next.js side carries id and role, from the
// README's callbacks.
func TestNextSessionJSON(t *testing.T) {
	h := authjstest.Start(t)
	a := signIn(t, h, appHTTP, alice, testNow)
	var res struct {
		Body map[string]any `json:"body"`
	}
	require.NoError(t, h.Call(map[string]any{"op": "session", "secret": testSecret, "cookieHeader": a.CookieHeader,
		"callbacks": "article", "now": testNow + 1}, &res))
	user, _ := json.Marshal(res.Body["user"])
	assert.JSONEq(t, `{"id":"alice","name":"Alice","email":"alice@example.com","role":"admin"}`, string(user))
}

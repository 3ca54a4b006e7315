package edgeauth

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// logTo returns a text logger at level writing to buf, without times.
func logTo(buf *strings.Builder, level slog.Level) *slog.Logger {
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: level, ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}}))
}

func withCookieHeader(target, header string) *http.Request {
	r := httptest.NewRequest("GET", target, nil)
	r.Header.Set("Cookie", header)
	return r
}

// A cookie under another Auth.js name is reported at warning level, naming
// both names and never the value, at most once a minute per name.
func TestCookieNameMismatchWarning(t *testing.T) {
	var buf strings.Builder
	m, clk := newTestManager(t, Config{Logger: logTo(&buf, slog.LevelWarn)})
	const value = "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2Q0JDLUhTNTEyIn0..secret-value"
	lines := func() []string {
		var out []string
		for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
			if l != "" {
				out = append(out, l)
			}
		}
		return out
	}

	_, err := m.Load(withCookieHeader("/", "theme=dark; __Secure-authjs.session-token="+value))
	require.ErrorIs(t, err, ErrNoSession)
	require.Len(t, lines(), 1)
	assert.Equal(t, `level=WARN msg="edgeauth: no session cookie under the configured name, but one under another Auth.js name: set Config.Cookie (Name or Secure) and Format to match the app that sets it" expected=authjs.session-token found=__Secure-authjs.session-token`, lines()[0])
	assert.NotContains(t, buf.String(), "secret-value")

	// Rate-limited per name on the manager's clock.
	for range 3 {
		_, _ = m.Load(withCookieHeader("/", "__Secure-authjs.session-token="+value))
	}
	clk.Advance(59 * time.Second)
	_, _ = m.Load(withCookieHeader("/", "__Secure-authjs.session-token="+value))
	assert.Len(t, lines(), 1)
	// Another name has its own budget; chunked cookies count.
	_, _ = m.Load(withCookieHeader("/", "next-auth.session-token.0=a; next-auth.session-token.1=b"))
	require.Len(t, lines(), 2)
	assert.Contains(t, lines()[1], "expected=authjs.session-token found=next-auth.session-token.0")
	clk.Advance(time.Second)
	_, _ = m.Load(withCookieHeader("/", "__Secure-authjs.session-token="+value))
	assert.Len(t, lines(), 3)

	// Not reported: the configured name present (even if bad), names that
	// only start like a session cookie, requests with no cookie at all.
	clk.Advance(time.Hour)
	buf.Reset()
	_, _ = m.Load(withCookieHeader("/", "authjs.session-token=bad; __Secure-authjs.session-token="+value))
	_, _ = m.Load(withCookieHeader("/", "__Secure-authjs.session-token.x=1; next-auth.session-token-old=1"))
	_, _ = m.Load(httptest.NewRequest("GET", "/", nil))
	assert.Empty(t, buf.String())

	// The v4 name is expected by a v4 manager, which reports the v5 one.
	buf.Reset()
	v4, _ := newTestManager(t, Config{Format: FormatNextAuthV4, Cookie: CookieConfig{Secure: true}, Logger: logTo(&buf, slog.LevelWarn)})
	_, _ = v4.Load(withCookieHeader("/", "authjs.session-token="+value))
	assert.Contains(t, buf.String(), "expected=__Secure-next-auth.session-token found=authjs.session-token")

	// Silent loggers cost nothing and say nothing.
	buf.Reset()
	quiet, _ := newTestManager(t, Config{Logger: logTo(&buf, slog.LevelError)})
	_, _ = quiet.Load(withCookieHeader("/", "__Secure-authjs.session-token="+value))
	none, _ := newTestManager(t, Config{})
	_, _ = none.Load(withCookieHeader("/", "__Secure-authjs.session-token="+value))
	assert.Empty(t, buf.String())
}

// Every refused request can be found at Info with LogRejections, with its
// reason and what refused it; never with a token.
func TestLogRejections(t *testing.T) {
	var buf strings.Builder
	cfg := mwConfig(mwNow)
	cfg.Logger = logTo(&buf, slog.LevelInfo)
	cfg.LogRejections = true
	m := mwNew(t, cfg)
	alice := mwSignIn(t, m, "alice")
	serve := func(h http.Handler, target, cookie string) {
		r := httptest.NewRequest("GET", target, nil)
		if cookie != "" {
			r.AddCookie(&http.Cookie{Name: m.CookieName(), Value: cookie})
		}
		h.ServeHTTP(httptest.NewRecorder(), r)
	}
	h := m.Handler(http.NotFoundHandler())
	serve(h, "/admin/users?q=secret-query", alice)
	serve(h, "/dashboard", mwTamper(alice))
	serve(h, "/api/orders", "")
	serve(m.Handler(m.Require("admin", "auditor")(http.NotFoundHandler())), "/about", alice)
	// Handler's reason reaches Require.
	serve(m.Handler(m.Require()(http.NotFoundHandler())), "/about", mwTamper(alice))
	serve(h, "/about", alice) // passes: not logged

	mwLate := mwConfig(mwNow.Add(40 * 24 * time.Hour))
	mwLate.Logger, mwLate.LogRejections = cfg.Logger, true
	serve(mwNew(t, mwLate).Handler(http.NotFoundHandler()), "/profile", alice)

	assert.Equal(t, strings.Join([]string{
		`level=INFO msg="edgeauth: request rejected" method=GET path=/admin/users status=403 reason="edgeauth: forbidden" by="rule /admin/:path*"`,
		`level=INFO msg="edgeauth: request rejected" method=GET path=/dashboard status=303 reason="edgeauth: invalid token: token decryption failed" by="rule /dashboard/:path*"`,
		`level=INFO msg="edgeauth: request rejected" method=GET path=/api/orders status=401 reason="edgeauth: no session cookie" by="rule /api/:path+"`,
		`level=INFO msg="edgeauth: request rejected" method=GET path=/about status=403 reason="edgeauth: forbidden" by=Require(admin,auditor)`,
		`level=INFO msg="edgeauth: request rejected" method=GET path=/about status=303 reason="edgeauth: invalid token: token decryption failed" by=Require()`,
		`level=INFO msg="edgeauth: request rejected" method=GET path=/profile status=303 reason="edgeauth: invalid token: token expired" by="rule /profile"`,
	}, "\n")+"\n", buf.String())
	assert.NotContains(t, buf.String(), alice[:40])
	assert.NotContains(t, buf.String(), "secret-query")

	// Without the switch, rejections are at Debug only.
	buf.Reset()
	cfg.LogRejections = false
	quiet := mwNew(t, cfg)
	serve(quiet.Handler(http.NotFoundHandler()), "/admin", alice)
	assert.Empty(t, buf.String())
	cfg.Logger = logTo(&buf, slog.LevelDebug)
	serve(mwNew(t, cfg).Handler(http.NotFoundHandler()), "/admin", alice)
	assert.Contains(t, buf.String(), `level=DEBUG msg="edgeauth: request rejected" method=GET path=/admin status=403`)

	// A hostile path is cut short.
	buf.Reset()
	serve(mwNew(t, cfg).Handler(http.NotFoundHandler()), "/admin/"+strings.Repeat("a", 5000), "")
	assert.Less(t, len(buf.String()), 600)
}

package edgeauth

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeauth/edgeauth/internal/chunk"
)

var cookieNow = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func mustJar(t *testing.T, cfg CookieConfig, f Format) *cookieJar {
	t.Helper()
	j, err := newCookieJar(cfg, f)
	require.NoError(t, err)
	return j
}

// setCookies parses the Set-Cookie headers of h, in order.
func setCookies(t *testing.T, h http.Header) []*http.Cookie {
	t.Helper()
	var out []*http.Cookie
	for _, line := range h.Values("Set-Cookie") {
		c, err := http.ParseSetCookie(line)
		require.NoError(t, err, line)
		out = append(out, c)
	}
	return out
}

// requestWith returns a request carrying the live (not expired) cookies, as a
// browser would send them back.
func requestWith(cookies []*http.Cookie) *http.Request {
	r := &http.Request{Header: http.Header{}}
	for _, c := range cookies {
		if c.MaxAge >= 0 {
			r.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
		}
	}
	return r
}

func requestHeader(h string) *http.Request {
	return &http.Request{Header: http.Header{"Cookie": {h}}}
}

// token returns a cookie-safe token of n bytes.
func token(n int) string {
	return strings.Repeat("eyJhbGciOiJkaXIifQ.", n/19+1)[:n]
}

func TestCookieDefaultNames(t *testing.T) {
	for _, tc := range []struct {
		cfg    CookieConfig
		format Format
		want   string
	}{
		{CookieConfig{}, FormatAuthJS, "authjs.session-token"},
		{CookieConfig{Secure: true}, FormatAuthJS, "__Secure-authjs.session-token"},
		{CookieConfig{}, FormatNextAuthV4, "next-auth.session-token"},
		{CookieConfig{Secure: true}, FormatNextAuthV4, "__Secure-next-auth.session-token"},
		{CookieConfig{Name: "my.session", Secure: true}, FormatAuthJS, "my.session"},
	} {
		j := mustJar(t, tc.cfg, tc.format)
		assert.Equal(t, tc.want, j.Name())
	}
	assert.Equal(t, DefaultCookieName, mustJar(t, CookieConfig{}, FormatAuthJS).Name(), "name is the codec's default salt")
	assert.Equal(t, chunk.SizeAuthJS, mustJar(t, CookieConfig{}, FormatAuthJS).chunkSize)
	assert.Equal(t, chunk.SizeV4, mustJar(t, CookieConfig{}, FormatNextAuthV4).chunkSize)
}

func TestCookieAttributes(t *testing.T) {
	expires := cookieNow.Add(30*24*time.Hour + 500*time.Millisecond)
	tests := []struct {
		name     string
		cfg      CookieConfig
		wantName string
		secure   bool
		domain   string
		path     string
		sameSite http.SameSite
		raw      []string // substrings of the Set-Cookie line
		notRaw   []string
	}{
		{
			name: "default", wantName: "authjs.session-token", path: "/", sameSite: http.SameSiteLaxMode,
			raw:    []string{"; Path=/", "; HttpOnly", "; SameSite=Lax", "; Max-Age=2592000", "; Expires=Tue, 01 Jul 2025 12:00:00 GMT"},
			notRaw: []string{"Secure", "Domain"},
		},
		{
			name: "secure", cfg: CookieConfig{Secure: true}, wantName: "__Secure-authjs.session-token",
			secure: true, path: "/", sameSite: http.SameSiteLaxMode, raw: []string{"; Secure"},
		},
		{
			name: "__Secure- name forces Secure", cfg: CookieConfig{Name: "__Secure-app"}, wantName: "__Secure-app",
			secure: true, path: "/", sameSite: http.SameSiteLaxMode,
		},
		{
			name: "__Host- name forces Secure", cfg: CookieConfig{Name: "__Host-authjs.session-token", Path: "/"},
			wantName: "__Host-authjs.session-token", secure: true, path: "/", sameSite: http.SameSiteLaxMode,
			notRaw: []string{"Domain"},
		},
		{
			name: "__host- prefix matched case-insensitively", cfg: CookieConfig{Name: "__host-s"},
			wantName: "__host-s", secure: true, path: "/", sameSite: http.SameSiteLaxMode,
		},
		{
			name: "custom domain and path", cfg: CookieConfig{Name: "sid", Domain: "example.com", Path: "/app", SameSite: http.SameSiteStrictMode},
			wantName: "sid", domain: "example.com", path: "/app", sameSite: http.SameSiteStrictMode,
			raw: []string{"; Domain=example.com", "; Path=/app", "; SameSite=Strict"},
		},
		{
			name: "SameSite None with Secure", cfg: CookieConfig{Secure: true, SameSite: http.SameSiteNoneMode},
			wantName: "__Secure-authjs.session-token", secure: true, path: "/", sameSite: http.SameSiteNoneMode,
			raw: []string{"; SameSite=None"},
		},
		{
			name: "SameSite default mode omits the attribute", cfg: CookieConfig{SameSite: http.SameSiteDefaultMode},
			wantName: "authjs.session-token", path: "/", notRaw: []string{"SameSite"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			j := mustJar(t, tc.cfg, FormatAuthJS)
			h := http.Header{}
			carried := []string{tc.wantName + ".0", tc.wantName + ".1"}
			require.NoError(t, j.write(h, "tok", expires, cookieNow, carried))
			lines := h.Values("Set-Cookie")
			require.Len(t, lines, 3)
			for _, s := range tc.raw {
				assert.Contains(t, lines[0], s)
			}
			for _, s := range tc.notRaw {
				assert.NotContains(t, lines[0], s)
			}
			cs := setCookies(t, h)
			live := cs[0]
			assert.Equal(t, tc.wantName, live.Name)
			assert.Equal(t, "tok", live.Value)
			assert.Equal(t, 2592000, live.MaxAge, "Max-Age rounds down")
			assert.True(t, live.Expires.Equal(expires.Truncate(time.Second)), live.Expires)

			// The two expired chunks carry identical scope attributes.
			for i, c := range cs {
				assert.True(t, c.HttpOnly, c.Name)
				assert.Equal(t, tc.secure, c.Secure, c.Name)
				assert.Equal(t, tc.domain, c.Domain, c.Name)
				assert.Equal(t, tc.path, c.Path, c.Name)
				assert.Equal(t, tc.sameSite, c.SameSite, c.Name)
				if i > 0 {
					assert.Equal(t, carried[i-1], c.Name)
					assert.Empty(t, c.Value)
					assert.Equal(t, -1, c.MaxAge, "Max-Age=0")
					assert.Contains(t, lines[i], "; Max-Age=0")
					assert.True(t, c.Expires.Before(cookieNow), c.Expires)
				}
			}
		})
	}
}

func TestCookieWriteChunks(t *testing.T) {
	for _, tc := range []struct {
		format Format
		size   int
	}{{FormatAuthJS, chunk.SizeAuthJS}, {FormatNextAuthV4, chunk.SizeV4}} {
		j := mustJar(t, CookieConfig{Secure: true}, tc.format)
		for _, n := range []int{1, tc.size, tc.size + 1, 2*tc.size + 1, 4 * tc.size} {
			tok := token(n)
			h := http.Header{}
			require.NoError(t, j.write(h, tok, cookieNow.Add(time.Hour), cookieNow, nil))
			cs := setCookies(t, h)
			pieces := chunk.Split(tok, tc.size)
			require.Len(t, cs, len(pieces))
			for i, name := range chunk.Names(j.Name(), len(pieces)) {
				assert.Equal(t, name, cs[i].Name)
				assert.Equal(t, pieces[i], cs[i].Value)
				assert.LessOrEqual(t, len(cs[i].Name)+len(cs[i].Value), 4096, "browser per-cookie limit")
			}
			got, carried, err := j.read(requestWith(cs))
			require.NoError(t, err)
			assert.Equal(t, tok, got)
			assert.Equal(t, chunk.Names(j.Name(), len(pieces)), carried)
		}
	}
}

// Cleanup: every carried name the new set does not use is expired, once.
func TestCookieWriteCleanup(t *testing.T) {
	j := mustJar(t, CookieConfig{}, FormatAuthJS)
	name := j.Name()
	three := chunk.Names(name, 3)
	big := token(2*chunk.SizeAuthJS + 1)
	tests := []struct {
		name    string
		header  string
		token   string
		live    []string
		expired []string
	}{
		{"3 chunks → 1", name + ".0=a; " + name + ".1=b; " + name + ".2=c", "tok", []string{name}, three},
		{"1 → 3", name + "=tok", big, three, []string{name}},
		{"3 → 3", name + ".0=a; " + name + ".1=b; " + name + ".2=c", big, three, nil},
		{"1 → 1", name + "=old", "tok", []string{name}, nil},
		{"plain and chunks carried → 1", name + ".1=b; " + name + "=p; " + name + ".0=a", "tok", []string{name}, []string{name + ".1", name + ".0"}},
		{"plain and chunks carried → 3", name + ".0=a; " + name + "=p; " + name + ".5=z", big, three, []string{name, name + ".5"}},
		{"unrelated and look-alikes are left alone", "theme=x; " + name + "-x=1; " + name + ".01=2; " + name + "=p", big, three, []string{name}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, carried, _ := j.read(requestHeader(tc.header))
			h := http.Header{}
			require.NoError(t, j.write(h, tc.token, cookieNow.Add(time.Hour), cookieNow, carried))
			var live, expired []string
			for _, c := range setCookies(t, h) {
				if c.MaxAge < 0 {
					expired = append(expired, c.Name)
				} else {
					live = append(live, c.Name)
				}
			}
			assert.Equal(t, tc.live, live)
			assert.Equal(t, tc.expired, expired)
		})
	}

	// A caller's stray names never expire unrelated cookies.
	h := http.Header{}
	require.NoError(t, j.write(h, "tok", cookieNow.Add(time.Hour), cookieNow, []string{"theme", name + ".2", name + ".2"}))
	cs := setCookies(t, h)
	require.Len(t, cs, 2)
	assert.Equal(t, name+".2", cs[1].Name)
}

func TestCookieWriteErrors(t *testing.T) {
	j := mustJar(t, CookieConfig{}, FormatAuthJS)
	later := cookieNow.Add(time.Hour)
	carried := []string{j.Name()}

	h := http.Header{}
	err := j.write(h, token(4*chunk.SizeAuthJS+1), later, cookieNow, carried)
	require.ErrorIs(t, err, ErrSessionTooLarge)
	require.ErrorIs(t, err, ErrInvalidSession)
	require.NotErrorIs(t, err, ErrInvalidToken, "the application's session, not a client's token")
	assert.Empty(t, h, "nothing is written, not even the cleanup")

	small := mustJar(t, CookieConfig{MaxChunks: 1}, FormatAuthJS)
	require.ErrorIs(t, small.write(h, token(chunk.SizeAuthJS+1), later, cookieNow, carried), ErrSessionTooLarge)
	require.NoError(t, small.write(h, token(chunk.SizeAuthJS), later, cookieNow, nil))
	h = http.Header{}

	// What is written is the application's own session: its failures are
	// ErrInvalidSession, never a client's ErrInvalidToken.
	issueErr := func(err error, msg ...any) {
		t.Helper()
		require.ErrorIs(t, err, ErrInvalidSession, msg...)
		require.NotErrorIs(t, err, ErrInvalidToken, msg...)
	}
	issueErr(j.write(h, "", later, cookieNow, carried))
	for _, bad := range []string{"a b", "a;b", "a,b", `a"b`, `a\b`, "a\x00b", "é"} {
		issueErr(j.write(h, bad, later, cookieNow, carried), "%q", bad)
	}
	issueErr(j.write(h, "tok", cookieNow, cookieNow, carried))
	issueErr(j.write(h, "tok", cookieNow.Add(999*time.Millisecond), cookieNow, carried))
	issueErr(j.write(h, "tok", cookieNow.Add(-time.Hour), cookieNow, carried))
	assert.Empty(t, h)

	// A zero expiry writes a browser-session cookie.
	require.NoError(t, j.write(h, "tok", time.Time{}, cookieNow, nil))
	line := h.Get("Set-Cookie")
	assert.NotContains(t, line, "Expires")
	assert.NotContains(t, line, "Max-Age")
}

func TestCookieClear(t *testing.T) {
	j := mustJar(t, CookieConfig{Name: "__Host-s"}, FormatAuthJS)
	for _, tc := range []struct {
		header string
		want   []string
	}{
		{"", []string{"__Host-s"}},
		{"__Host-s=a", []string{"__Host-s"}},
		{"x=1; __Host-s.1=b; __Host-s.0=a; __Host-s.2=c", []string{"__Host-s", "__Host-s.1", "__Host-s.0", "__Host-s.2"}},
		{"__Host-s.0=a; __Host-s=p; __Host-s.0=dup; __Host-s.7=z", []string{"__Host-s", "__Host-s.0", "__Host-s.7"}},
	} {
		_, carried, _ := j.read(requestHeader(tc.header))
		h := http.Header{}
		j.clear(h, carried)
		var names []string
		for _, c := range setCookies(t, h) {
			names = append(names, c.Name)
			assert.Empty(t, c.Value)
			assert.Equal(t, -1, c.MaxAge)
			assert.True(t, c.Secure)
			assert.True(t, c.HttpOnly)
			assert.Equal(t, "/", c.Path)
			assert.Equal(t, http.SameSiteLaxMode, c.SameSite)
		}
		assert.Equal(t, tc.want, names, tc.header)
	}
}

func TestCookieRead(t *testing.T) {
	j := mustJar(t, CookieConfig{}, FormatAuthJS)
	n := j.Name()

	_, carried, err := j.read(requestHeader("theme=dark"))
	require.ErrorIs(t, err, errNoCookie)
	assert.NotErrorIs(t, err, ErrInvalidToken)
	assert.Empty(t, carried)

	_, carried, err = j.read(requestHeader(n + ".0=a; " + n + ".2=c"))
	require.ErrorIs(t, err, ErrMalformed)
	require.ErrorIs(t, err, ErrInvalidToken)
	assert.Equal(t, []string{n + ".0", n + ".2"}, carried, "carried is returned with the error")

	var parts []string
	for i, name := range chunk.Names(n, 5) {
		parts = append(parts, name+"="+strings.Repeat("a", i+1))
	}
	_, carried, err = j.read(requestHeader(strings.Join(parts, "; ")))
	require.ErrorIs(t, err, ErrTooLarge)
	require.ErrorIs(t, err, ErrInvalidToken)
	assert.Len(t, carried, 5)

	_, _, err = j.read(requestHeader(n + "=" + strings.Repeat("a", 4*4096+1)))
	require.ErrorIs(t, err, ErrTooLarge)

	tok, carried, err := j.read(requestHeader("a=1; " + n + "=first; " + n + "=second"))
	require.NoError(t, err)
	assert.Equal(t, "first", tok)
	assert.Equal(t, []string{n}, carried)
}

func TestCookieConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		cfg    CookieConfig
		format Format
	}{
		{"space in name", CookieConfig{Name: "a b"}, FormatAuthJS},
		{"semicolon in name", CookieConfig{Name: "a;b"}, FormatAuthJS},
		{"equals in name", CookieConfig{Name: "a=b"}, FormatAuthJS},
		{"non-ASCII name", CookieConfig{Name: "séance"}, FormatAuthJS},
		{"control byte in name", CookieConfig{Name: "a\x7fb"}, FormatAuthJS},
		{"name ends like chunk 0", CookieConfig{Name: "session.0"}, FormatAuthJS},
		{"name ends like chunk 12", CookieConfig{Name: "authjs.session-token.12"}, FormatAuthJS},
		{"bare __Host- prefix", CookieConfig{Name: "__Host-"}, FormatAuthJS},
		{"bare __Secure- prefix", CookieConfig{Name: "__secure-"}, FormatAuthJS},
		{"__Host- with Domain", CookieConfig{Name: "__Host-s", Domain: "example.com"}, FormatAuthJS},
		{"__Host- with Path", CookieConfig{Name: "__Host-s", Path: "/app"}, FormatAuthJS},
		{"__HOST- with Domain", CookieConfig{Name: "__HOST-s", Domain: "example.com"}, FormatAuthJS},
		{"relative Path", CookieConfig{Path: "app"}, FormatAuthJS},
		{"Path with semicolon", CookieConfig{Path: "/a;b"}, FormatAuthJS},
		{"invalid Domain", CookieConfig{Domain: "exa mple.com"}, FormatAuthJS},
		{"Domain with semicolon", CookieConfig{Domain: "example.com;x=y"}, FormatAuthJS},
		{"SameSite None without Secure", CookieConfig{SameSite: http.SameSiteNoneMode}, FormatAuthJS},
		{"unknown SameSite", CookieConfig{SameSite: 99}, FormatAuthJS},
		{"negative MaxChunks", CookieConfig{MaxChunks: -1}, FormatAuthJS},
		{"MaxChunks over the token limit", CookieConfig{MaxChunks: maxChunksLimit + 1}, FormatAuthJS},
		{"unknown format", CookieConfig{}, Format(7)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j, err := newCookieJar(tc.cfg, tc.format)
			require.ErrorIs(t, err, ErrConfig)
			assert.Nil(t, j)
		})
	}
	for _, ok := range []CookieConfig{
		{Name: "session.v2"},
		{Name: "session.1a"},
		{Name: "a.b.c", Domain: ".example.com", Path: "/x/y"},
		{MaxChunks: maxChunksLimit},
		{MaxChunks: 1},
	} {
		_, err := newCookieJar(ok, FormatNextAuthV4)
		assert.NoError(t, err, "%+v", ok)
	}
	assert.Equal(t, 17, maxChunksLimit, "ceil(MaxTokenSize / 3933)")
}

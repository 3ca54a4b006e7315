package edgeauth

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const cbOrigin = "https://good.example"

// browserHost resolves ref against the origin roughly as a browser does:
// tabs and newlines removed, leading/trailing C0 controls and spaces trimmed,
// backslashes read as slashes. It returns the host the browser would visit.
func browserHost(t *testing.T, ref string) string {
	t.Helper()
	ref = strings.NewReplacer("\t", "", "\n", "", "\r", "").Replace(ref)
	ref = strings.TrimFunc(ref, func(r rune) bool { return r <= ' ' })
	ref = strings.ReplaceAll(ref, `\`, "/")
	base, _ := url.Parse(cbOrigin + "/app/page")
	u, err := url.Parse(ref)
	if err != nil {
		// Browsers keep a stray "%" as is; Go's parser refuses it.
		if u, err = url.Parse(strings.ReplaceAll(ref, "%", "%25")); err != nil {
			return "(unparsable)"
		}
	}
	res := base.ResolveReference(u)
	if res.Scheme != "https" {
		return res.Scheme + ":" // javascript:, data: …
	}
	return res.Host
}

// checkSafe asserts what a login page may do with a callbackUrl from us:
// use it, or decode it once more and use that, and stay on the origin.
func checkSafe(t *testing.T, cb string) {
	t.Helper()
	assert.Equal(t, cb, SafeCallbackURL(cb, cbOrigin), "callbackUrl %q is not a fixpoint", cb)
	assert.Equal(t, "good.example", browserHost(t, cb), "callbackUrl %q", cb)
	if d, err := url.PathUnescape(cb); err == nil {
		assert.Equal(t, "good.example", browserHost(t, d), "decoded callbackUrl %q", d)
	}
}

var hostileCallbacks = []string{
	// An undecodable form after a decodable one: lenient decoders reach "///evil.com".
	"/%252F%252Fevil.com%25zz",
	"/%2525zz",
	"//evil.com",
	"//evil.com/x",
	"///evil.com",
	`/\evil.com`,
	`\\evil.com`,
	`/\/evil.com`,
	`\/evil.com`,
	`//evil.com\@good.example`,
	"javascript:alert(1)",
	"JaVaScRiPt:alert(1)",
	"data:text/html,<script>alert(1)</script>",
	"https://evil.com",
	"http://evil.com/x",
	"ftp://evil.com",
	"https:evil.com",
	`https:/\evil.com`,
	"https://good.example@evil.com",
	"https://good.example.evil.com",
	"https://good.example:443@evil.com/",
	"https://good.example%2F@evil.com",
	`https://good.example\@evil.com`,
	"http://good.example/x", // other scheme, other origin
	"/%2F%2Fevil.com",
	"/%2fevil.com",
	"/%5Cevil.com",
	"/%5c%5cevil.com",
	"%2F%2Fevil.com",
	"/%252F%252Fevil.com", // decodes to //evil.com on the second pass
	"/%2e%2e//evil.com",
	"/..//evil.com",
	"/x/../../evil.com",
	"/\t/evil.com",
	"/\n/evil.com",
	"/\r\n/evil.com",
	"\t//evil.com",
	" //evil.com",
	"/%09/evil.com",
	"/%0d%0aSet-Cookie:x=1",
	"/x\x00",
	"/x\x7f",
	"/\u3000/evil.com",
	"/%zz",
	"evil.com",
	"./x",
	"../x",
	"?next=/x",
	"#/x",
	"",
	"/" + strings.Repeat("a", 2048),
}

func TestSafeCallbackURL(t *testing.T) {
	for _, raw := range hostileCallbacks {
		assert.Equal(t, "/", SafeCallbackURL(raw, cbOrigin), "%q", raw)
		assert.Equal(t, "/", SafeCallbackURL(raw, ""), "%q", raw)
	}
	for raw, want := range map[string]string{
		"/":                             "/",
		"/dashboard":                    "/dashboard",
		"/a/b?c=d&e=%2F#frag":           "/a/b?c=d&e=%2F#frag",
		"/caf%C3%A9":                    "/caf%C3%A9",
		"/admin%2Fx":                    "/admin%2Fx",
		"/" + strings.Repeat("a", 2047): "/" + strings.Repeat("a", 2047),
		"https://good.example/x?y=1":    "https://good.example/x?y=1",
		"HTTPS://GOOD.example/x":        "https://good.example/x",
		"https://good.example":          "https://good.example/",
	} {
		assert.Equal(t, want, SafeCallbackURL(raw, cbOrigin+"/"), "%q", raw)
	}
	// Without an origin, absolute URLs are never accepted.
	assert.Equal(t, "/", SafeCallbackURL("https://good.example/x", ""))
	// A malformed origin accepts nothing absolute.
	assert.Equal(t, "/", SafeCallbackURL("https://good.example@evil.com/x", "https://good.example@evil.com"))
}

// Every hostile value used as the request path of a guarded GET must give a
// Location, and a callbackUrl, that keep the browser on the origin.
func TestCallbackURLInLoginRedirect(t *testing.T) {
	for _, origin := range []string{"", cbOrigin} {
		cfg := mwConfig(mwNow)
		cfg.Rules = []Rule{{Pattern: "/:path*"}}
		cfg.Origin = origin
		m := mwNew(t, cfg)
		h := m.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { t.Error("next ran") }))
		for _, raw := range append(hostileCallbacks, "/ok?x=1", "/a%2F%2Fb", "//evil.com/dashboard?x=//evil.com") {
			r := httptest.NewRequest("GET", "/", nil)
			r.Header.Set("Accept", htmlAccept)
			if u, err := url.ParseRequestURI(raw); err == nil {
				r.URL = u
			} else {
				r.URL = &url.URL{Path: raw} // what a hand-built request may carry
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			require.Equal(t, 303, rec.Code, "%q", raw)
			loc := rec.Header().Get("Location")
			assert.Equal(t, "good.example", browserHost(t, loc), "Location %q for %q", loc, raw)
			lu, err := url.Parse(loc)
			require.NoError(t, err)
			assert.Equal(t, "/login", lu.Path)
			cbs := lu.Query()["callbackUrl"]
			require.Len(t, cbs, 1, "Location %q", loc)
			checkSafe(t, cbs[0])
			if origin != "" {
				assert.True(t, strings.HasPrefix(cbs[0], origin+"/"), "%q", cbs[0])
			}
		}
	}
}

func FuzzSafeCallbackURL(f *testing.F) {
	for _, s := range hostileCallbacks {
		f.Add(s)
	}
	f.Add("/dashboard?x=1")
	f.Add("https://good.example/x")
	f.Add("hTtps://good.eXAmple")
	f.Fuzz(func(t *testing.T, raw string) {
		for _, origin := range []string{"", cbOrigin} {
			out := SafeCallbackURL(raw, origin)
			rel := out
			if origin != "" && strings.HasPrefix(out, origin+"/") {
				rel = out[len(origin):]
			}
			if rel != "/" && (len(rel) < 2 || rel[0] != '/' || rel[1] == '/' || rel[1] == '\\') {
				t.Fatalf("SafeCallbackURL(%q) = %q", raw, out)
			}
			for i := 0; i < len(out); i++ {
				if out[i] < 0x20 || out[i] == 0x7f {
					t.Fatalf("SafeCallbackURL(%q) = %q holds a control character", raw, out)
				}
			}
			if out != "/" && !strings.EqualFold(out, raw) && !strings.EqualFold(out, raw+"/") {
				t.Fatalf("SafeCallbackURL(%q) = %q rewrites more than the origin", raw, out)
			}
			if h := browserHost(t, out); h != "good.example" {
				t.Fatalf("SafeCallbackURL(%q) = %q leads to %q", raw, out, h)
			}
			if d, err := url.PathUnescape(out); err == nil {
				if h := browserHost(t, d); h != "good.example" {
					t.Fatalf("SafeCallbackURL(%q) = %q decodes to %q, host %q", raw, out, d, h)
				}
			}
		}
	})
}

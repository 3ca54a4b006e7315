package match

import (
	"errors"
	stdpath "path"
	"strings"
	"testing"
)

func TestMatchPatterns(t *testing.T) {
	cases := []struct {
		pattern string
		yes     []string
		no      []string
	}{
		{"/dashboard/:path*",
			[]string{"/dashboard", "/dashboard/", "/dashboard/a", "/dashboard/a/b/c", "/DASHBOARD/x", "/Dashboard", "//dashboard//x", "/x/../dashboard/y", `/dashboard\x`},
			[]string{"/", "/dashboardx", "/dashboar", "/x/dashboard", "/dashboard/../x", ""}},
		{"/admin/:path+",
			[]string{"/admin/x", "/admin/x/y", "/ADMIN/X"},
			[]string{"/admin", "/admin/", "/adminx/y"}},
		{"/settings/:id",
			[]string{"/settings/1", "/settings/abc/", "/SETTINGS/1"},
			[]string{"/settings", "/settings/", "/settings/1/2", "/settingsx/1"}},
		{"/:lang?/about",
			[]string{"/about", "/en/about", "/EN/ABOUT"},
			[]string{"/en/de/about", "/en", "/aboutx"}},
		{"/profile",
			[]string{"/profile", "/profile/", "/PROFILE", "/./profile"},
			[]string{"/profile/x", "/profiles", "/", "/pro"}},
		{"/", []string{"/", "", "//", "/."}, []string{"/x"}},
		{"/:path*", []string{"/", "/x", "/x/y/z"}, nil},
		{"/api/:v/users/:id?", []string{"/api/1/users", "/api/1/users/2"}, []string{"/api/users", "/api/1/users/2/3"}},
		{"/a/:x*/b", []string{"/a/b", "/a/1/b", "/a/1/2/b"}, []string{"/a", "/a/1", "/a/b/c"}},
		// Only ASCII folds, as a JavaScript regexp without the u flag:
		// "ſ" (U+017F) and "K" (U+212A) are not "s" and "k".
		{"/kiosk", []string{"/KIOSK", "/KiOsK"}, []string{"/kioſk", "/\u212Aiosk"}},
	}
	for _, c := range cases {
		p, err := Compile(c.pattern)
		if err != nil {
			t.Fatalf("Compile(%q): %v", c.pattern, err)
		}
		if p.String() != c.pattern {
			t.Errorf("String() = %q", p.String())
		}
		for _, path := range c.yes {
			if !p.Match(path) {
				t.Errorf("%q should match %q", c.pattern, path)
			}
		}
		for _, path := range c.no {
			if p.Match(path) {
				t.Errorf("%q should not match %q", c.pattern, path)
			}
		}
	}
}

func TestMatchSegmentsUncleaned(t *testing.T) {
	p, err := Compile("/admin/:path*")
	if err != nil {
		t.Fatal(err)
	}
	for _, segs := range [][]string{{"admin"}, {"admin", ""}, {"admin", "..", "public"}, {"admin", "", "x"}, {"ADMIN", "."}} {
		if !p.MatchSegments(segs) {
			t.Errorf("should match %q", segs)
		}
	}
	for _, segs := range [][]string{nil, {""}, {"", "admin"}, {"public", "..", "admin"}, {"admin/x"}} {
		if p.MatchSegments(segs) {
			t.Errorf("should not match %q", segs)
		}
	}
	id, _ := Compile("/settings/:id")
	if !id.MatchSegments([]string{"settings", "", ""}) { // "/settings//": the parameter takes the empty segment
		t.Error("parameter should match an empty segment when not cleaned")
	}
}

func TestMatchCompileErrors(t *testing.T) {
	for _, bad := range []string{
		"", "admin", "admin/:path*", "/a//b", "/:", "/:*", "/:id(\\d+)", "/((?!api).*)", "/foo-:id",
		"/:a-b", "/a*", "/(.*)", "/{a}", "/a/./b", "/a/../b", "/caf%C3%A9", "/a\x00", "/a\\b", "/a#b", "/a?",
		"/" + strings.Repeat("a/", 64), "/" + strings.Repeat("x", 1100),
	} {
		if _, err := Compile(bad); !errors.Is(err, ErrPattern) {
			t.Errorf("Compile(%q) = %v, want ErrPattern", bad, err)
		}
	}
	for _, good := range []string{"/", "/admin/", "/:path*", "/:a/:b?/:c+", "/café", "/a_b-c.d~e"} {
		if _, err := Compile(good); err != nil {
			t.Errorf("Compile(%q): %v", good, err)
		}
	}
}

func TestMatchClean(t *testing.T) {
	for in, want := range map[string]string{
		"": "/", "/": "/", "//admin": "/admin", "/a/../b": "/b", `\admin\x`: "/admin/x", "admin": "/admin",
		"/admin/": "/admin", "/../..": "/",
	} {
		if got := Clean(in); got != want {
			t.Errorf("Clean(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzClean holds Clean's shortcut for clean paths to path.Clean.
func FuzzClean(f *testing.F) {
	for _, s := range []string{"/", "/admin/x", "/.well-known/x", "/a/..", "/a//b", "/a/", `/a\b`, "a", "", "/a/.b", "/a.b/c."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		if isClean(p) && stdpath.Clean(p) != p {
			t.Fatalf("isClean(%q), but path.Clean gives %q", p, stdpath.Clean(p))
		}
		if want := stdpath.Clean("/" + strings.ReplaceAll(p, `\`, "/")); Clean(p) != want {
			t.Fatalf("Clean(%q) = %q, want %q", p, Clean(p), want)
		}
	})
}

func FuzzMatch(f *testing.F) {
	for _, s := range []string{"/admin", "/ADMIN/x", "//admin", "/public/../admin", "/adminx", `\admin`, "/admin/../..", "/a/./admin", ""} {
		f.Add(s, "/admin/:path*")
	}
	f.Add("/x/y", "/:a?/:b+/:c*")
	admin, err := Compile("/admin/:path*")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, path, pattern string) {
		if admin.Match(path) {
			c := strings.ToLower(Clean(path))
			if !strings.HasPrefix(c, "/admin") || (len(c) > 6 && c[6] != '/') {
				t.Fatalf("%q matched /admin/:path* but cleans to %q", path, c)
			}
		}
		if p, err := Compile(pattern); err == nil {
			p.Match(path)
			p.MatchSegments(Split(path))
		}
	})
}

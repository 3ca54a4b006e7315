package match

import (
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func mustCompile(t testing.TB, s string) *Pattern {
	t.Helper()
	p, err := Compile(s)
	if err != nil {
		t.Fatalf("Compile(%q): %v", s, err)
	}
	return p
}

func TestCompare(t *testing.T) {
	for _, c := range []struct {
		p, q string
		rel  Relation
		both string // a shortest path both match
	}{
		{"/admin/:path*", "/:path*", MoreSpecific, "/admin"},
		{"/admin/reports/:path*", "/admin/:path*", MoreSpecific, "/admin/reports"},
		{"/api/public/:path*", "/api/:path+", MoreSpecific, "/api/public"},
		{"/api/health", "/api/:path*", MoreSpecific, "/api/health"},
		{"/x/:id", "/x/:name", Equivalent, "/x/a"},
		{"/x", "/X/", Equivalent, "/x"},
		{"/:a*/:b*", "/:c*", Equivalent, "/"},
		{"/:a+", "/:a/:b*", Equivalent, "/a"},
		{"/a/:x", "/:y/b", Overlapping, "/a/b"},
		{"/dashboard/:path*", "/:lang/dashboard/:path*", Overlapping, "/dashboard/dashboard"},
		{"/a", "/b", Disjoint, ""},
		{"/admin/:path+", "/admin", Disjoint, ""},
		// literal > :param > :param? > :path+ > :path*, segment by segment.
		{"/x/lit", "/x/:p", MoreSpecific, "/x/lit"},
		{"/x/:p", "/x/:p?", MoreSpecific, "/x/a"},
		{"/x/:p?", "/x/:p*", MoreSpecific, "/x"},
		{"/x/:p+", "/x/:p*", MoreSpecific, "/x/a"},
		{"/x/:p", "/x/:p+", MoreSpecific, "/x/a"},
		{"/x/:p?", "/x/:p+", Overlapping, "/x/a"},
		// Not only segment by segment: an optional prefix.
		{"/about", "/:lang?/about", MoreSpecific, "/about"},
		{"/a/:x*/b", "/a/:y*", MoreSpecific, "/a/b"},
		{"/a/:x*/b", "/:y*/b", MoreSpecific, "/a/b"},
		{"/a/:x*", "/:y*/b", Overlapping, "/a/b"},
		// Witnesses avoid the patterns' own literals.
		{"/a/:x", "/a/:y?", MoreSpecific, "/a/b"},
		{"/:x", "/a", LessSpecific, "/a"},
		{"/", "/:path*", MoreSpecific, "/"},
	} {
		p, q := mustCompile(t, c.p), mustCompile(t, c.q)
		rel, both, err := Compare(p, q)
		if err != nil {
			t.Fatalf("Compare(%q, %q): %v", c.p, c.q, err)
		}
		if rel != c.rel {
			t.Errorf("Compare(%q, %q) = %v, want %v", c.p, c.q, rel, c.rel)
		}
		if c.rel != Disjoint && both != c.both {
			t.Errorf("Compare(%q, %q) witness %q, want %q", c.p, c.q, both, c.both)
		}
		if c.rel != Disjoint && (!p.Match(both) || !q.Match(both)) {
			t.Errorf("Compare(%q, %q): witness %q does not match both", c.p, c.q, both)
		}
		if back, _, _ := Compare(q, p); back != inverse(rel) {
			t.Errorf("Compare(%q, %q) = %v, not the inverse of %v", c.q, c.p, back, rel)
		}
	}
}

func inverse(r Relation) Relation {
	switch r {
	case MoreSpecific:
		return LessSpecific
	case LessSpecific:
		return MoreSpecific
	}
	return r
}

// checkComparison verifies every witness of compare(p, q, true) and that segs,
// any path, does not contradict the relation.
func checkComparison(t *testing.T, p, q *Pattern, c comparison, segs []string) {
	t.Helper()
	matchOf := func(pat *Pattern, w string) bool { return pat.MatchSegments(Split(w)) }
	if c.both != "" && (!matchOf(p, c.both) || !matchOf(q, c.both)) {
		t.Fatalf("%q, %q: %q should match both", p, q, c.both)
	}
	if c.pOnly != "" && (!matchOf(p, c.pOnly) || matchOf(q, c.pOnly)) {
		t.Fatalf("%q, %q: %q should match the first only", p, q, c.pOnly)
	}
	if c.qOnly != "" && (!matchOf(q, c.qOnly) || matchOf(p, c.qOnly)) {
		t.Fatalf("%q, %q: %q should match the second only", p, q, c.qOnly)
	}
	mp, mq := p.MatchSegments(segs), q.MatchSegments(segs)
	if (mp && mq && c.both == "") || (mp && !mq && c.pOnly == "") || (mq && !mp && c.qOnly == "") {
		t.Fatalf("%q, %q: segments %q (%v, %v) contradict %+v", p, q, segs, mp, mq, c)
	}
}

// randomPattern draws from a small grammar so that random pairs often
// overlap: few literals, every parameter kind.
func randomPattern(rng *rand.Rand, lits []string) string {
	n := rng.IntN(4)
	var b strings.Builder
	for range n {
		b.WriteByte('/')
		switch rng.IntN(6) {
		case 0, 1:
			b.WriteString(lits[rng.IntN(len(lits))])
		case 2:
			b.WriteString(":p")
		case 3:
			b.WriteString(":p?")
		case 4:
			b.WriteString(":p+")
		case 5:
			b.WriteString(":p*")
		}
	}
	if n == 0 {
		return "/"
	}
	return b.String()
}

// allPaths lists every segment sequence up to max segments over alphabet.
func allPaths(alphabet []string, max int) [][]string {
	out := [][]string{nil}
	level := [][]string{nil}
	for range max {
		var next [][]string
		for _, p := range level {
			for _, a := range alphabet {
				next = append(next, append(slices.Clone(p), a))
			}
		}
		out = append(out, next...)
		level = next
	}
	return out
}

// Every witness is checked, and no path of up to five segments contradicts
// the relation found.
func TestCompareExhaustive(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	lits := []string{"a", "B", "b"}
	paths := allPaths([]string{"a", "b", "z", ""}, 5)
	for range 400 {
		p := mustCompile(t, randomPattern(rng, lits))
		q := mustCompile(t, randomPattern(rng, lits))
		c, err := compare(p, q, true)
		if err != nil {
			t.Fatal(err)
		}
		for _, segs := range paths {
			checkComparison(t, p, q, c, segs)
		}
	}
}

func TestCompareBounded(t *testing.T) {
	// "The 15th segment from the end is x": exponential automata.
	p := mustCompile(t, "/:a*/x"+strings.Repeat("/:b", 14))
	q := mustCompile(t, "/:a*/x"+strings.Repeat("/:b?", 14))
	if _, _, err := Compare(p, q); !errors.Is(err, ErrTooComplex) {
		t.Fatalf("Compare = %v, want ErrTooComplex", err)
	}
	var conflict *Conflict
	if _, err := Order([]*Pattern{mustCompile(t, "/x"), p, q}); !errors.As(err, &conflict) || conflict.A != 1 || conflict.B != 2 || !errors.Is(err, ErrTooComplex) {
		t.Fatalf("Order = %v", err)
	}
}

func TestOrder(t *testing.T) {
	srcs := []string{"/:path*", "/admin/:path*", "/api/:path+", "/admin/reports/:path*", "/api/public/:path*", "/profile", "/api/health", "/settings/:id"}
	var pats []*Pattern
	for _, s := range srcs {
		pats = append(pats, mustCompile(t, s))
	}
	ordered := func(pats []*Pattern) []string {
		order, err := Order(pats)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, i := range order {
			out = append(out, pats[i].String())
		}
		return out
	}
	want := ordered(pats)
	pos := func(s string) int { return slices.Index(want, s) }
	for _, pair := range [][2]string{
		{"/admin/reports/:path*", "/admin/:path*"}, {"/admin/:path*", "/:path*"},
		{"/api/public/:path*", "/api/:path+"}, {"/api/health", "/api/:path+"}, {"/profile", "/:path*"},
	} {
		if pos(pair[0]) > pos(pair[1]) {
			t.Errorf("%s should come before %s in %q", pair[0], pair[1], want)
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 50 {
		shuffled := slices.Clone(pats)
		rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		if got := ordered(shuffled); !slices.Equal(got, want) {
			t.Fatalf("order depends on input order: %q vs %q", got, want)
		}
	}
}

func TestOrderConflicts(t *testing.T) {
	for _, c := range []struct {
		pats []string
		a, b int
		same bool
		path string
	}{
		{[]string{"/x/:id", "/y", "/x/:name"}, 0, 2, true, "/x/a"},
		{[]string{"/x", "/x"}, 0, 1, true, "/x"},
		{[]string{"/admin", "/ADMIN/"}, 0, 1, true, "/admin"},
		{[]string{"/a/:x", "/:y/b"}, 0, 1, false, "/a/b"},
	} {
		var pats []*Pattern
		for _, s := range c.pats {
			pats = append(pats, mustCompile(t, s))
		}
		_, err := Order(pats)
		var conflict *Conflict
		if !errors.As(err, &conflict) {
			t.Fatalf("Order(%q) = %v, want a conflict", c.pats, err)
		}
		if conflict.A != c.a || conflict.B != c.b || conflict.Same != c.same || conflict.Path != c.path || conflict.Err != nil {
			t.Errorf("Order(%q) = %+v", c.pats, conflict)
		}
	}
}

func TestTranslateForeignSyntax(t *testing.T) {
	for in, want := range map[string]string{
		"/api/*":              "/api/:path*",
		"/api/**":             "/api/:path*",
		"/users/*path":        "/users/:path*",
		"/api/{id}":           "/api/:id",
		"/files/{rest...}":    "/files/:rest*",
		"/api/{$}":            "/api",
		"/{org}/repos/*":      "/:org/repos/:path*",
		"/api/{id}/items/{$}": "/api/:id/items",
	} {
		_, err := Compile(in)
		if !errors.Is(err, ErrPattern) || !strings.Contains(err.Error(), `use "`+want+`"`) {
			t.Errorf("Compile(%q) = %v, want a suggestion of %q", in, err, want)
		}
	}
	for _, in := range []string{"/api/{id:[0-9]+}", "/((?!api).*)", "/a*", "/{$}/x"} {
		if _, err := Compile(in); err == nil || strings.Contains(err.Error(), "use ") {
			t.Errorf("Compile(%q) = %v, want an error without a suggestion", in, err)
		}
	}
}

func FuzzCompare(f *testing.F) {
	f.Add("/admin/:path*", "/:path*", "/admin/x")
	f.Add("/x/:id", "/x/:name", "/x/1")
	f.Add("/a/:x", "/:y/b", "/a/b")
	f.Add("/:lang?/about", "/about", "/en/about")
	f.Add("/a/:x*/b", "/:y*/b/:z?", "/a/b/b")
	f.Add("/API/health", "/api/:path+", "/api/HEALTH")
	f.Fuzz(func(t *testing.T, ps, qs, path string) {
		p, err1 := Compile(ps)
		q, err2 := Compile(qs)
		if err1 != nil || err2 != nil {
			return
		}
		c, err := compare(p, q, true)
		if err != nil {
			if !errors.Is(err, ErrTooComplex) {
				t.Fatal(err)
			}
			return
		}
		checkComparison(t, p, q, c, Split(path))
		checkComparison(t, p, q, c, Split(Clean(path)))
		back, err := compare(q, p, true)
		if err != nil || back.relation() != inverse(c.relation()) {
			t.Fatalf("not symmetric: %v / %v (%v)", c.relation(), back.relation(), err)
		}
		order, err := Order([]*Pattern{p, q})
		switch c.relation() {
		case Equivalent, Overlapping:
			if err == nil {
				t.Fatalf("Order accepted %q and %q", ps, qs)
			}
		case MoreSpecific:
			if err != nil || order[0] != 0 {
				t.Fatalf("Order(%q, %q) = %v, %v", ps, qs, order, err)
			}
		case LessSpecific:
			if err != nil || order[0] != 1 {
				t.Fatalf("Order(%q, %q) = %v, %v", ps, qs, order, err)
			}
		}
	})
}

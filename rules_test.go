package edgeauth

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rulesManager builds a Manager with rules and the shared test secret.
func rulesManager(t testing.TB, rules ...Rule) (*Manager, error) {
	t.Helper()
	cfg := mwConfig(mwNow)
	cfg.Rules = rules
	return New(cfg)
}

var (
	adminOnly = []string{"admin"}
	// rulesUsers are the sessions each precedence case is tried with.
	rulesUsers = []string{"", "alice", "root"} // none, role user, role admin
)

// The examples of Rule's doc, in both orders.
func TestRulePrecedence(t *testing.T) {
	for _, c := range []struct {
		rules []Rule
		path  string
		want  string // the deciding pattern, "" for none
		// statuses for no session, role user, role admin
		none, user, admin int
	}{
		{[]Rule{{Pattern: "/api/:path*"}, {Pattern: "/api/admin/:path*", Roles: adminOnly}}, "/api/admin/stats", "/api/admin/:path*", 401, 403, 0},
		{[]Rule{{Pattern: "/api/:path*"}, {Pattern: "/api/admin/:path*", Roles: adminOnly}}, "/api/orders", "/api/:path*", 401, 0, 0},
		{[]Rule{{Pattern: "/api/:path*"}, {Pattern: "/api/health", Public: true}}, "/api/health", "/api/health", 0, 0, 0},
		{[]Rule{{Pattern: "/api/:path*"}, {Pattern: "/api/health", Public: true}}, "/api/HEALTH", "/api/:path*", 401, 0, 0},
		{[]Rule{{Pattern: "/admin/:path*", Roles: adminOnly}, {Pattern: "/admin/reports/:path*", Roles: []string{"user"}}}, "/admin/reports/q", "/admin/reports/:path*", 303, 0, 403},
		{[]Rule{{Pattern: "/:lang?/about"}, {Pattern: "/about", Public: true}}, "/about", "/about", 0, 0, 0},
		{[]Rule{{Pattern: "/:lang?/about"}, {Pattern: "/about", Public: true}}, "/en/about", "/:lang?/about", 303, 0, 0},
		{[]Rule{{Pattern: "/:path*"}, {Pattern: "/public/:path*", Public: true}}, "/public/x", "/public/:path*", 0, 0, 0},
		// The cleaned and the as-sent readings are each decided by their own
		// most specific rule: the public exception does not unguard "..".
		{[]Rule{{Pattern: "/:path*"}, {Pattern: "/public/:path*", Public: true}}, "/public/../admin", "/:path*", 303, 0, 0},
		{[]Rule{{Pattern: "/files/:path*"}, {Pattern: "/files/:name", Public: true}}, "/files/a", "/files/:name", 0, 0, 0},
		{[]Rule{{Pattern: "/files/:path*"}, {Pattern: "/files/:name", Public: true}}, "/files/a%2Fb", "/files/:path*", 303, 0, 0},
	} {
		for _, order := range [][]Rule{c.rules, reversed(c.rules)} {
			m, err := rulesManager(t, order...)
			require.NoError(t, err)
			for i, user := range rulesUsers {
				r := httptest.NewRequest("GET", c.path, nil)
				r.Header.Set("Accept", htmlAccept)
				if strings.HasPrefix(c.path, "/api") {
					r.Header.Set("Accept", jsonAccept)
				}
				if user != "" {
					r.AddCookie(&http.Cookie{Name: m.CookieName(), Value: mwSignIn(t, m, user)})
				}
				d := m.Check(r)
				want := []int{c.none, c.user, c.admin}[i]
				assert.Equal(t, want, d.Status, "%s as %q with %v", c.path, user, order)
				rule, ok := d.Rule()
				if c.want == "" {
					assert.False(t, ok)
				} else if assert.True(t, ok, c.path) {
					assert.Equal(t, c.want, rule.Pattern, "%s as %q with %v", c.path, user, order)
				}
			}
		}
	}
}

func reversed(rules []Rule) []Rule {
	out := slices.Clone(rules)
	slices.Reverse(out)
	return out
}

func TestRuleConflictsAndTeachingErrors(t *testing.T) {
	for _, c := range []struct {
		rules []Rule
		want  string
	}{
		{[]Rule{{Pattern: "/x/:id", Roles: adminOnly}, {Pattern: "/y"}, {Pattern: "/x/:name"}},
			`Rules[0] "/x/:id" and Rules[2] "/x/:name" match the same paths`},
		{[]Rule{{Pattern: "/x"}, {Pattern: "/x"}}, `Rules[0] "/x" and Rules[1] "/x" match the same paths`},
		{[]Rule{{Pattern: "/admin", Public: true}, {Pattern: "/ADMIN/"}}, `Rules[0] "/admin" and Rules[1] "/ADMIN/" match the same paths`},
		{[]Rule{{Pattern: "/a/:x"}, {Pattern: "/:y/b", Public: true}},
			`Rules[0] "/a/:x" and Rules[1] "/:y/b" both match "/a/b" and neither is more specific; rewrite one so that they share no path or one contains the other`},
		{[]Rule{{Pattern: "/api/*"}}, `Rules[0]: invalid pattern "/api/*": not Next.js matcher syntax; use "/api/:path*"`},
		{[]Rule{{Pattern: "/api/{id}"}}, `use "/api/:id"`},
		{[]Rule{{Pattern: "/users/*path"}}, `use "/users/:path*"`},
		{[]Rule{{Pattern: "/files/{rest...}"}}, `use "/files/:rest*"`},
	} {
		_, err := rulesManager(t, c.rules...)
		require.ErrorIs(t, err, ErrConfig)
		assert.Contains(t, err.Error(), c.want)
		_, err = rulesManager(t, reversed(c.rules)...)
		require.ErrorIs(t, err, ErrConfig, "reversed")
	}
	// Rewritten so that one contains the other, they are fine.
	_, err := rulesManager(t, Rule{Pattern: "/a/:x"}, Rule{Pattern: "/:y/b", Public: true}, Rule{Pattern: "/a/b"})
	assert.ErrorIs(t, err, ErrConfig, "a third rule does not resolve a conflict")
	_, err = rulesManager(t, Rule{Pattern: "/a/:x"}, Rule{Pattern: "/a/b", Public: true})
	assert.NoError(t, err)
}

// randomRules draws rule sets from a small alphabet so that rules often
// overlap, nest and conflict.
func randomRules(rng *rand.Rand) []Rule {
	segs := []string{"admin", "api", "x", "ADMIN", ":id", ":id?", ":rest*", ":rest+"}
	rules := make([]Rule, 1+rng.IntN(5))
	for i := range rules {
		var b strings.Builder
		for range rng.IntN(4) {
			b.WriteString("/" + segs[rng.IntN(len(segs))])
		}
		r := Rule{Pattern: b.String()}
		if r.Pattern == "" {
			r.Pattern = "/"
		}
		switch rng.IntN(3) {
		case 0:
			r.Public = true
		case 1:
			r.Roles = adminOnly
		}
		rules[i] = r
	}
	return rules
}

// rulesPaths are paths in every spelling the middleware reads differently.
var rulesPaths = []string{
	"/", "/admin", "/ADMIN", "/admin/x", "/api", "/api/x", "/x/admin", "/admin/api/x", "/api/admin", "/x",
	"/x/x/x", "//admin", "/x/../admin", "/admin/../x", "/admin%2Fx", "/x%2F..%2Fadmin", "/api/./x", `/admin\x`,
	"/admin/", "/Admin/api",
}

// decisionKey is everything a decision shows, as one comparable string.
func decisionKey(d Decision) string {
	rule := "-"
	if r, ok := d.Rule(); ok {
		rule = fmt.Sprintf("%s %v %v", r.Pattern, r.Public, r.Roles)
	}
	errText := ""
	if d.Err != nil {
		errText = d.Err.Error()
	}
	return fmt.Sprintf("%d %s %s %v %q", d.Status, d.Location, rule, d.API, errText)
}

// Property: for random rule sets, reordering the rules never changes
// whether New accepts them, nor any decision.
func TestRuleOrderNeverMatters(t *testing.T) {
	signer := mwNew(t, mwConfig(mwNow))
	tokens := map[string]string{}
	for _, u := range rulesUsers[1:] {
		tokens[u] = mwSignIn(t, signer, u)
	}
	rng := rand.New(rand.NewPCG(11, 12))
	accepted := 0
	for range 300 {
		rules := randomRules(rng)
		m, err := rulesManager(t, rules...)
		var want []string
		if err == nil {
			accepted++
			want = rulesDecisions(m, tokens)
		}
		for range 4 {
			shuffled := slices.Clone(rules)
			rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
			m2, err2 := rulesManager(t, shuffled...)
			require.Equal(t, err == nil, err2 == nil, "%v accepted, %v not (or the reverse): %v / %v", rules, shuffled, err, err2)
			if err2 == nil {
				require.Equal(t, want, rulesDecisions(m2, tokens), "%v vs %v", rules, shuffled)
			}
		}
	}
	// The generator must exercise both outcomes.
	assert.Greater(t, accepted, 50)
	assert.Less(t, accepted, 250)

	// The middleware's own rule set, reversed, decides every spec case the same.
	fwd := mwNew(t, mwConfig(mwNow))
	cfg := mwConfig(mwNow)
	cfg.Rules = reversed(mwRules)
	rev := mwNew(t, cfg)
	for u := range mwUsers {
		tokens[u] = mwSignIn(t, fwd, u)
	}
	for _, c := range mwCases {
		if c.mgr != "" {
			continue
		}
		assert.Equal(t, decisionKey(fwd.Check(c.request(t, tokens))), decisionKey(rev.Check(c.request(t, tokens))), c.name)
	}
}

func rulesDecisions(m *Manager, tokens map[string]string) []string {
	var out []string
	for _, p := range rulesPaths {
		for _, user := range rulesUsers {
			r := httptest.NewRequest("GET", p, nil)
			if tok := tokens[user]; tok != "" {
				r.AddCookie(&http.Cookie{Name: m.CookieName(), Value: tok})
			}
			out = append(out, p+" "+user+": "+decisionKey(m.Check(r)))
		}
	}
	return out
}

func FuzzRules(f *testing.F) {
	f.Add("/api/:path*", "/api/admin/:path*", "/api/health", uint8(0b010_100), "/api/admin/x")
	f.Add("/x/:id", "/x/:name", "/", uint8(0), "/x/1")
	f.Add("/a/:x", "/:y/b", "/a/b", uint8(0b001_000), "/a/b")
	f.Add("/:path*", "/public/:path*", "/:lang?/about", uint8(0b000_010), "/public/../x")
	signer := mwNew(f, mwConfig(mwNow))
	tok := mwSignIn(f, signer, "alice")
	f.Fuzz(func(t *testing.T, p1, p2, p3 string, flags uint8, path string) {
		rules := []Rule{{Pattern: p1}, {Pattern: p2}, {Pattern: p3}}
		for i := range rules {
			switch (flags >> (2 * i)) & 3 {
			case 1:
				rules[i].Public = true
			case 2:
				rules[i].Roles = adminOnly
			}
		}
		m, err := rulesManager(t, rules...)
		m2, err2 := rulesManager(t, reversed(rules)...)
		if (err == nil) != (err2 == nil) {
			t.Fatalf("order changes acceptance: %v / %v", err, err2)
		}
		if err != nil {
			return
		}
		r, err := http.NewRequest("GET", "http://h"+path, nil)
		if err != nil || !strings.HasPrefix(path, "/") {
			return
		}
		r.AddCookie(&http.Cookie{Name: m.CookieName(), Value: tok})
		if a, b := decisionKey(m.Check(r)), decisionKey(m2.Check(r)); a != b {
			t.Fatalf("order changes the decision for %q: %s / %s", path, a, b)
		}
	})
}

package edgeauth

import (
	"errors"
	"fmt"
	"net/url"
	"path"
	"slices"

	"github.com/edgeauth/edgeauth/internal/match"
)

// Rule protects the paths matching Pattern.
//
// Patterns use the Next.js matcher syntax of middleware.ts: literal segments
// ("/profile") and whole-segment parameters ":id" (one segment), ":id?" (zero
// or one), ":path*" (zero or more) and ":path+" (one or more). Custom regexps
// such as "/((?!api).*)" are rejected by [New]: carve exceptions out with
// Public rules instead. Other routers' wildcards ("/api/*", "/api/{id}",
// "/files/*path") are rejected with the Next.js pattern to use. Matching is
// segment-bounded ("/admin/:path*" covers "/admin" and "/admin/x", never
// "/adminx") and ASCII case-insensitive, so "/ADMIN" is protected too; this
// is stricter than Next.js, whose runtime match is case-sensitive. A Public
// rule matches case-exactly, so that an exception never grows beyond what it
// names.
//
// # Precedence
//
// As with net/http.ServeMux patterns (Go 1.22), the most specific matching
// rule decides, whatever the order of Config.Rules: a pattern is more
// specific than another when it matches a strict subset of the other's paths
// (case folded). Segment by segment, a literal is more specific than ":id",
// ":id" than ":id?" and ":id+", and those than ":id*"; but the set decides,
// so "/about" is more specific than "/:lang?/about" too.
//
//	rules (in any order)                       path               decided by
//	"/api/:path*", "/api/admin/:path*" admin   /api/admin/stats   "/api/admin/:path*": admins only
//	"/api/:path*", "/api/health" Public        /api/health        "/api/health": no session needed
//	                                           /api/HEALTH        "/api/:path*" (Public matches case-exactly)
//	"/admin/:path*", "/admin/reports/:path*"   /admin/reports/q   "/admin/reports/:path*"
//	"/:lang?/about", "/about" Public           /about             "/about"
//	                                           /en/about          "/:lang?/about"
//	"/x/:id", "/x/:name"                       -                  New fails: they match the same paths
//	"/a/:x", "/:y/b"                           -                  New fails: both match /a/b, neither is more specific
//
// Two rules that both match some path with neither more specific, identical
// patterns included, make [New] fail with an error naming both and a path
// they share, as ServeMux panics on such patterns: rewrite one so that the
// two share no path or one contains the other. So no order of the rules can
// widen access, and reordering them never changes a decision.
//
// A request is matched under every reading of its path (see
// [Manager.Handler]); each reading is decided by its own most specific rule,
// and the request must satisfy all of them.
type Rule struct {
	// Pattern is a Next.js matcher: "/dashboard/:path*", "/settings/:id", "/api/:path+".
	Pattern string
	// Roles, when not empty, admits only sessions whose role is one of them
	// (exact comparison; for a session with [Session.Roles], any of its roles).
	Roles []string
	// Public lets matching paths through without a session: an exception
	// carved out of a broader, less specific rule.
	Public bool
}

type compiledRule struct {
	Rule
	pat *match.Pattern
}

// compileRules checks rules and returns them most specific first, so that
// the first rule matching a path is the one that decides it.
func compileRules(rules []Rule) ([]compiledRule, error) {
	compiled := make([]compiledRule, 0, len(rules))
	pats := make([]*match.Pattern, 0, len(rules))
	for i, r := range rules {
		pat, err := match.Compile(r.Pattern)
		if err != nil {
			return nil, fmt.Errorf("%w: Rules[%d]: %w", ErrConfig, i, err)
		}
		if r.Public && len(r.Roles) > 0 {
			return nil, fmt.Errorf("%w: Rules[%d] %q: a Public rule cannot require roles", ErrConfig, i, r.Pattern)
		}
		if slices.Contains(r.Roles, "") {
			return nil, fmt.Errorf("%w: Rules[%d] %q: empty role", ErrConfig, i, r.Pattern)
		}
		pats = append(pats, pat)
		r.Roles = slices.Clone(r.Roles)
		if r.Public {
			// Guards fold case to fail closed; an exception must not widen.
			pat = pat.Exact()
		}
		compiled = append(compiled, compiledRule{Rule: r, pat: pat})
	}
	order, err := match.Order(pats)
	var conflict *match.Conflict
	if errors.As(err, &conflict) {
		a, b := rules[conflict.A], rules[conflict.B]
		names := fmt.Sprintf("Rules[%d] %q and Rules[%d] %q", conflict.A, a.Pattern, conflict.B, b.Pattern)
		switch {
		case conflict.Err != nil:
			return nil, fmt.Errorf("%w: %s: %w", ErrConfig, names, conflict.Err)
		case conflict.Same:
			return nil, fmt.Errorf("%w: %s match the same paths, so neither can take precedence; keep one", ErrConfig, names)
		}
		return nil, fmt.Errorf("%w: %s both match %q and neither is more specific; rewrite one so that they share no path or one contains the other",
			ErrConfig, names, conflict.Path)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: Rules: %w", ErrConfig, err)
	}
	sorted := make([]compiledRule, len(order))
	for j, i := range order {
		sorted[j] = compiled[i]
	}
	return sorted, nil
}

// pathViews returns the segments of every reading of the request path, the
// cleaned one first: cleaned, as sent, and (when RawPath is set) the escaped
// path as sent and cleaned, split on literal slashes only.
func pathViews(u *url.URL) [][]string {
	views := make([][]string, 0, 4)
	add := func(v []string) {
		for _, w := range views {
			if slices.Equal(w, v) {
				return
			}
		}
		views = append(views, v)
	}
	cleaned := match.Clean(u.Path)
	add(match.Split(cleaned))
	if cleaned != u.Path {
		add(match.Split(u.Path))
	}
	if u.RawPath != "" {
		add(unescapeSegments(match.Split(u.RawPath)))
		add(unescapeSegments(match.Split(path.Clean("/" + u.RawPath))))
	}
	return views
}

// onlyView appends to dst the segments of a path that every reading of
// pathViews reads alike (a clean path without RawPath, the common case), so
// that it costs no allocation; false for any other path.
func onlyView(u *url.URL, dst []string) ([]string, bool) {
	if u.RawPath != "" || match.Clean(u.Path) != u.Path {
		return nil, false
	}
	return match.AppendSplit(dst, u.Path), true
}

func unescapeSegments(segs []string) []string {
	for i, s := range segs {
		if d, err := url.PathUnescape(s); err == nil {
			segs[i] = d
		}
	}
	return segs
}

// matchRules returns the rule deciding each view, most specific first, once
// each: since mw.rules is sorted most specific first, the first rule that
// matches a view is the most specific of those that do.
func (mw *middleware) matchRules(views [][]string, buf *[1]*compiledRule) []*compiledRule {
	if len(views) == 1 { // the common case: a clean path, read one way
		for i := range mw.rules {
			if mw.rules[i].pat.MatchSegments(views[0]) {
				buf[0] = &mw.rules[i]
				return buf[:]
			}
		}
		return nil
	}
	var idx []int
	for _, v := range views {
		for i := range mw.rules {
			if mw.rules[i].pat.MatchSegments(v) {
				if !slices.Contains(idx, i) {
					idx = append(idx, i)
				}
				break
			}
		}
	}
	slices.Sort(idx)
	out := make([]*compiledRule, len(idx))
	for j, i := range idx {
		out[j] = &mw.rules[i]
	}
	return out
}

// admittedBy reports whether s holds one of roles, as Rule.Roles and
// Require compare them: exactly, and any role of Session.Roles when it is
// set. No roles admits every session.
func (s *Session) admittedBy(roles []string) bool {
	if len(roles) == 0 {
		return true
	}
	if s.Roles == nil {
		return slices.Contains(roles, s.Role)
	}
	for _, r := range s.Roles {
		if slices.Contains(roles, r) {
			return true
		}
	}
	return false
}

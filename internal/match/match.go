// Package match compiles and matches Next.js middleware matcher patterns
// ("/dashboard/:path*", "/settings/:id", "/api/:path+", "/profile").
//
// The subset is the one users copy from middleware.ts: literal segments and
// whole-segment parameters with an optional modifier. Custom parameter
// regexps, groups and partial-segment parameters are rejected rather than
// guessed at.
//
// Matching is segment-bounded and ASCII case-insensitive (but see [Pattern.Exact]). Next.js compiles
// the pattern with path-to-regexp's default sensitive:false but then keeps
// only the regexp source, so its runtime match is case-sensitive; folding
// here is deliberate: "/ADMIN" is protected by "/admin/:path*" (fail closed).
// Only ASCII letters fold, as in a JavaScript regexp without the u flag, so
// "ſ" never matches "s".
package match

import (
	"errors"
	"fmt"
	"path"
	"strings"
)

// ErrPattern is the class of every Compile error.
var ErrPattern = errors.New("invalid pattern")

// maxTokens bounds a pattern so that the matcher's state fits one uint64.
const maxTokens = 63

type kind uint8

const (
	literal  kind = iota // "admin"
	one                  // ":id"      exactly one segment
	optional             // ":id?"     zero or one segment
	many                 // ":path*"   zero or more segments
)

type token struct {
	kind kind
	lit  string
}

// Pattern is a compiled matcher. It is immutable and safe for concurrent use.
type Pattern struct {
	src  string
	toks []token
	// exact makes literals match case-sensitively (see [Pattern.Exact]).
	exact bool
}

// Exact returns a copy of p whose literal segments match case-sensitively,
// for exceptions (public routes), which must never grow beyond what they
// name: "/api/health" must not exempt "/api/HEALTH".
func (p *Pattern) Exact() *Pattern {
	c := *p
	c.exact = true
	return &c
}

// String returns the pattern as given to Compile.
func (p *Pattern) String() string { return p.src }

// Compile parses a Next.js matcher pattern. It must start with "/"; each
// segment is a literal or a parameter ":name" optionally followed by "?"
// (zero or one segment), "*" (zero or more) or "+" (one or more). A trailing
// slash is ignored, as path-to-regexp's non-strict mode does.
func Compile(pattern string) (*Pattern, error) {
	if !strings.HasPrefix(pattern, "/") {
		return nil, fmt.Errorf("%w %q: must start with /", ErrPattern, pattern)
	}
	if len(pattern) > 1024 {
		return nil, fmt.Errorf("%w: longer than 1024 bytes", ErrPattern)
	}
	body := strings.TrimSuffix(pattern[1:], "/")
	p := &Pattern{src: pattern}
	if body == "" {
		return p, nil
	}
	for _, seg := range strings.Split(body, "/") {
		if seg == "" {
			return nil, fmt.Errorf("%w %q: empty segment", ErrPattern, pattern)
		}
		if seg[0] == ':' {
			toks, err := param(seg)
			if err != nil {
				return nil, segmentError(pattern, err)
			}
			p.toks = append(p.toks, toks...)
		} else {
			if err := checkLiteral(seg); err != nil {
				return nil, segmentError(pattern, err)
			}
			p.toks = append(p.toks, token{kind: literal, lit: seg})
		}
		if len(p.toks) > maxTokens {
			return nil, fmt.Errorf("%w %q: more than %d segments", ErrPattern, pattern, maxTokens)
		}
	}
	return p, nil
}

// segmentError reports a bad segment and, for a pattern in another router's
// syntax, the Next.js matcher that means the same.
func segmentError(pattern string, err error) error {
	if fix, ok := translate(pattern); ok {
		return fmt.Errorf("%w %q: not Next.js matcher syntax; use %q", ErrPattern, pattern, fix)
	}
	return fmt.Errorf("%w %q: %s", ErrPattern, pattern, err)
}

// translate rewrites the wildcards of chi, gin, Echo and net/http.ServeMux
// patterns: "*" and "**" become ":path*", "*name" ":name*", "{name}"
// ":name", "{name...}" ":name*", and a final "{$}" is dropped. It reports
// false when nothing was rewritten or the result does not compile.
func translate(pattern string) (string, bool) {
	segs := strings.Split(strings.TrimPrefix(pattern, "/"), "/")
	changed := false
	for i, seg := range segs {
		inner, braced := strings.CutPrefix(seg, "{")
		if braced {
			if inner, braced = strings.CutSuffix(inner, "}"); !braced {
				return "", false
			}
		}
		switch {
		case seg == "*" || seg == "**":
			segs[i] = ":path*"
		case len(seg) > 1 && seg[0] == '*' && isName(seg[1:]):
			segs[i] = ":" + seg[1:] + "*"
		case braced && inner == "$" && i == len(segs)-1:
			segs[i] = ""
		case braced && strings.HasSuffix(inner, "...") && isName(strings.TrimSuffix(inner, "...")):
			segs[i] = ":" + strings.TrimSuffix(inner, "...") + "*"
		case braced && isName(inner):
			segs[i] = ":" + inner
		default:
			continue
		}
		changed = true
	}
	fix := "/" + strings.TrimSuffix(strings.Join(segs, "/"), "/")
	if !changed {
		return "", false
	}
	if _, err := Compile(fix); err != nil {
		return "", false
	}
	return fix, true
}

func isName(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return s != ""
}

func param(seg string) ([]token, error) {
	name, mod := seg[1:], byte(0)
	if n := len(name); n > 0 && strings.IndexByte("?*+", name[n-1]) >= 0 {
		name, mod = name[:n-1], name[n-1]
	}
	if name == "" {
		return nil, errors.New("parameter without a name")
	}
	if !isName(name) {
		return nil, fmt.Errorf("parameter %q: only whole-segment :name, :name?, :name* and :name+ are supported", seg)
	}
	switch mod {
	case '?':
		return []token{{kind: optional}}, nil
	case '*':
		return []token{{kind: many}}, nil
	case '+':
		return []token{{kind: one}, {kind: many}}, nil
	}
	return []token{{kind: one}}, nil
}

func checkLiteral(seg string) error {
	if seg == "." || seg == ".." {
		return errors.New("dot segment")
	}
	for i := 0; i < len(seg); i++ {
		c := seg[i]
		if c < 0x20 || c == 0x7f {
			return errors.New("control character")
		}
		if strings.IndexByte(`:*+?()[]{}\#%`, c) >= 0 {
			return fmt.Errorf("segment %q: %q is not supported in a literal (write paths decoded, without regexps)", seg, c)
		}
	}
	return nil
}

// Clean returns the canonical form of an URL path: rooted, backslashes read
// as slashes (as browsers and some servers do), dot segments resolved,
// duplicate and trailing slashes removed.
func Clean(p string) string {
	if isClean(p) {
		return p
	}
	if strings.IndexByte(p, '\\') >= 0 {
		p = strings.ReplaceAll(p, `\`, "/")
	}
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	return path.Clean(p) // no allocation when p is already clean
}

// isClean reports, for most clean paths and no other, that Clean would
// return p itself: rooted, without backslashes, empty segments, segments
// starting with a dot, or a trailing slash. It is cheaper than path.Clean.
func isClean(p string) bool {
	if p == "/" {
		return true
	}
	if p == "" || p[0] != '/' || p[len(p)-1] == '/' {
		return false
	}
	for i := 1; i < len(p); i++ {
		switch c := p[i]; {
		case c == '\\':
			return false
		case p[i-1] == '/' && (c == '/' || c == '.'):
			return false
		}
	}
	return true
}

// Split returns the segments of p after its leading slash, without
// cleaning: "/" and "" give none, "/a//b/" gives "a", "", "b", "".
func Split(p string) []string { return AppendSplit(nil, p) }

// AppendSplit appends the segments Split returns to dst, so that a caller
// with room for them allocates nothing.
func AppendSplit(dst []string, p string) []string {
	p = strings.TrimPrefix(p, "/")
	if p == "" {
		return dst
	}
	for {
		i := strings.IndexByte(p, '/')
		if i < 0 {
			return append(dst, p)
		}
		dst, p = append(dst, p[:i]), p[i+1:]
	}
}

// Match reports whether the cleaned form of path (see [Clean]) matches.
func (p *Pattern) Match(path string) bool {
	return p.MatchSegments(Split(Clean(path)))
}

// MatchSegments matches segments as given, without cleaning: a router that
// does not clean paths sees "..", "." and empty segments as ordinary ones,
// and so does this. Parameters match any segment, empty ones included. One
// trailing empty segment (a trailing slash) is ignored.
func (p *Pattern) MatchSegments(segs []string) bool {
	if n := len(segs); n > 0 && segs[n-1] == "" {
		segs = segs[:n-1]
	}
	n := len(p.toks)
	state := p.closure(1) // bit i: the first i tokens are matched
	for _, s := range segs {
		var next uint64
		for i := 0; i < n; i++ {
			if state&(1<<i) == 0 {
				continue
			}
			switch t := p.toks[i]; t.kind {
			case literal:
				if t.lit == s || (!p.exact && equalFoldASCII(t.lit, s)) {
					next |= 1 << (i + 1)
				}
			case one, optional:
				next |= 1 << (i + 1)
			case many:
				next |= 1 << i
			}
		}
		state = p.closure(next)
		if state == 0 {
			return false
		}
	}
	return state&(1<<n) != 0
}

// closure adds the states reachable by skipping optional and repeated tokens.
func (p *Pattern) closure(state uint64) uint64 {
	for i, t := range p.toks {
		if state&(1<<i) != 0 && (t.kind == optional || t.kind == many) {
			state |= 1 << (i + 1)
		}
	}
	return state
}

func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if lowerASCII(a[i]) != lowerASCII(b[i]) {
			return false
		}
	}
	return true
}

func lowerASCII(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

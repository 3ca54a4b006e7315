package match

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Relation says how the sets of paths matched by two patterns compare.
// Literals compare ASCII case-folded, whatever [Pattern.Exact] says: an
// exact pattern matches a subset of its folded form, so ranking by the
// folded forms never lets a less specific rule decide.
type Relation int

const (
	// Disjoint: no path matches both patterns.
	Disjoint Relation = iota
	// MoreSpecific: the first pattern matches a strict subset of the
	// second's paths.
	MoreSpecific
	// LessSpecific: the second pattern matches a strict subset of the
	// first's paths.
	LessSpecific
	// Equivalent: both match exactly the same paths ("/x/:id", "/x/:name").
	Equivalent
	// Overlapping: some paths match both, and each matches a path the
	// other does not ("/a/:x" and "/:y/b" both match "/a/b").
	Overlapping
)

func (r Relation) String() string {
	switch r {
	case Disjoint:
		return "disjoint"
	case MoreSpecific:
		return "more specific"
	case LessSpecific:
		return "less specific"
	case Equivalent:
		return "equivalent"
	case Overlapping:
		return "overlapping"
	}
	return fmt.Sprintf("Relation(%d)", int(r))
}

// ErrTooComplex reports two patterns whose comparison would visit more
// states than maxCompareStates. Patterns copied from middleware.ts are far
// below it; it bounds the time New spends on adversarial ones.
var ErrTooComplex = errors.New("patterns too complex to rank against each other")

// maxCompareStates bounds the product automaton Compare explores. Several
// parameters after a ":path*" can make it grow exponentially ("the 5th
// segment from the end is x"); no realistic rule set comes close.
const maxCompareStates = 1 << 12

// Compare reports how the paths p and q match relate and, unless they are
// Disjoint, a path both match (the shortest, for error messages).
func Compare(p, q *Pattern) (Relation, string, error) {
	c, err := compare(p, q, false)
	if err != nil {
		return 0, "", err
	}
	return c.relation(), c.both, nil
}

// comparison holds a witness path for each fact Compare establishes; ""
// means there is none ("/" is the witness of the empty path). Without
// witnesses asked for, those of disjoint patterns are only "/" placeholders.
type comparison struct {
	both  string // matched by p and q
	pOnly string // matched by p, not q
	qOnly string // matched by q, not p
}

func (c comparison) relation() Relation {
	switch {
	case c.both == "":
		return Disjoint
	case c.pOnly == "" && c.qOnly == "":
		return Equivalent
	case c.pOnly == "":
		return MoreSpecific
	case c.qOnly == "":
		return LessSpecific
	}
	return Overlapping
}

// compare explores the product of the two patterns' subset automata over
// an alphabet of segment classes: each literal of either pattern (folded),
// and one class for every other segment, which parameters alone match.
// Breadth first, so each witness is a shortest path.
func compare(p, q *Pattern, witnesses bool) (comparison, error) {
	disjoint := func(param string) comparison {
		if !witnesses {
			return comparison{pOnly: "/", qOnly: "/"}
		}
		return comparison{pOnly: p.shortest(param), qOnly: q.shortest(param)}
	}
	// Most rule pairs part at a leading literal ("/admin/…", "/api/…"):
	// disjoint without building anything.
	for i := 0; i < len(p.toks) && i < len(q.toks) && p.toks[i].kind == literal && q.toks[i].kind == literal; i++ {
		if !equalFoldASCII(p.toks[i].lit, q.toks[i].lit) {
			return disjoint("a"), nil
		}
	}
	var alphabet []string // folded literals; index len(alphabet) is "any other"
	index := map[string]int{}
	litIndex := func(pat *Pattern) []int {
		idx := make([]int, len(pat.toks))
		for i, t := range pat.toks {
			idx[i] = -1
			if t.kind == literal {
				f := foldASCII(t.lit)
				j, ok := index[f]
				if !ok {
					j = len(alphabet)
					index[f] = j
					alphabet = append(alphabet, f)
				}
				idx[i] = j
			}
		}
		return idx
	}
	pl, ql := litIndex(p), litIndex(q)
	other := len(alphabet)
	otherName := freeSegment(index)

	name := func(sym int) string {
		if sym == other {
			return otherName
		}
		return alphabet[sym]
	}

	// Overlap first, on the product of the two NFAs (at most 64×64 states):
	// most pairs of rules are disjoint, and proving it must not depend on
	// the size of either pattern's subset automaton.
	both, ok := overlap(p, q, pl, ql, other)
	if !ok {
		return disjoint(otherName), nil
	}

	type pair struct{ p, q uint64 }
	type node struct {
		pair
		parent int
		sym    int
	}
	start := pair{p.closure(1), q.closure(1)}
	nodes := []node{{start, -1, -1}}
	seen := map[pair]bool{start: true}
	accP, accQ := uint64(1)<<len(p.toks), uint64(1)<<len(q.toks)
	found := [2]int{-1, -1} // nodes reaching p only, q only
	for i := 0; i < len(nodes) && (found[0] < 0 || found[1] < 0); i++ {
		cur := nodes[i].pair
		inP, inQ := cur.p&accP != 0, cur.q&accQ != 0
		switch {
		case inP && !inQ && found[0] < 0:
			found[0] = i
		case inQ && !inP && found[1] < 0:
			found[1] = i
		}
		// "Any other segment" first, so that witnesses read like examples
		// ("/x/a" for "/x/:id") rather than repeat literals.
		for k := 0; k <= other; k++ {
			sym := (k + other) % (other + 1)
			next := pair{p.step(cur.p, pl, sym), q.step(cur.q, ql, sym)}
			// A dead side can only lead to "the other side only".
			if (next.p == 0 && (next.q == 0 || found[1] >= 0)) || (next.q == 0 && found[0] >= 0) || seen[next] {
				continue
			}
			if len(nodes) >= maxCompareStates {
				return comparison{}, fmt.Errorf("%w: %q and %q", ErrTooComplex, p.src, q.src)
			}
			seen[next] = true
			nodes = append(nodes, node{next, i, sym})
		}
	}
	witness := func(i int) string {
		if i < 0 {
			return ""
		}
		var segs []string
		for ; nodes[i].parent >= 0; i = nodes[i].parent {
			segs = append(segs, name(nodes[i].sym))
		}
		slices.Reverse(segs)
		return joinPath(segs)
	}
	var bothSegs []string
	for _, sym := range both {
		bothSegs = append(bothSegs, name(sym))
	}
	return comparison{both: joinPath(bothSegs), pOnly: witness(found[0]), qOnly: witness(found[1])}, nil
}

func joinPath(segs []string) string {
	return "/" + strings.Join(segs, "/")
}

// overlap returns the classes of the segments of a shortest path both p
// and q match, searching the product of their NFAs: a node is a pair of
// single states, each standing for its closure.
func overlap(p, q *Pattern, pl, ql []int, other int) ([]int, bool) {
	type node struct {
		i, j   int
		parent int
		sym    int
	}
	var seen [maxTokens + 1][maxTokens + 1]bool
	nodes := []node{{0, 0, -1, -1}}
	seen[0][0] = true
	for k := 0; k < len(nodes); k++ {
		cur := nodes[k]
		sp, sq := p.closure(1<<cur.i), q.closure(1<<cur.j)
		if sp&(1<<len(p.toks)) != 0 && sq&(1<<len(q.toks)) != 0 {
			var syms []int
			for ; nodes[k].parent >= 0; k = nodes[k].parent {
				syms = append(syms, nodes[k].sym)
			}
			slices.Reverse(syms)
			return syms, true
		}
		for n := 0; n <= other; n++ {
			sym := (n + other) % (other + 1)
			np, nq := p.advance(sp, pl, sym), q.advance(sq, ql, sym)
			for a := 0; np>>a != 0; a++ {
				if np&(1<<a) == 0 {
					continue
				}
				for b := 0; nq>>b != 0; b++ {
					if nq&(1<<b) != 0 && !seen[a][b] {
						seen[a][b] = true
						nodes = append(nodes, node{a, b, k, sym})
					}
				}
			}
		}
	}
	return nil, false
}

// shortest returns a shortest path p matches: its literals, one segment for
// each required parameter.
func (p *Pattern) shortest(param string) string {
	var segs []string
	for _, t := range p.toks {
		switch t.kind {
		case literal:
			segs = append(segs, foldASCII(t.lit))
		case one:
			segs = append(segs, param)
		}
	}
	return joinPath(segs)
}

// step advances the NFA state set over one segment of class sym; lits maps
// each literal token to its class.
func (p *Pattern) step(state uint64, lits []int, sym int) uint64 {
	return p.closure(p.advance(state, lits, sym))
}

// advance is step without the closure of the result.
func (p *Pattern) advance(state uint64, lits []int, sym int) uint64 {
	var next uint64
	for i, t := range p.toks {
		if state&(1<<i) == 0 {
			continue
		}
		switch t.kind {
		case literal:
			if lits[i] == sym {
				next |= 1 << (i + 1)
			}
		case one, optional:
			next |= 1 << (i + 1)
		case many:
			next |= 1 << i
		}
	}
	return next
}

// freeSegment names a segment equal to none of the literals, for witnesses.
func freeSegment(literals map[string]int) string {
	for c := 'a'; c <= 'z'; c++ {
		if _, taken := literals[string(c)]; !taken {
			return string(c)
		}
	}
	for i := 0; ; i++ {
		s := fmt.Sprintf("seg%d", i)
		if _, taken := literals[s]; !taken {
			return s
		}
	}
}

func foldASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		b[i] = lowerASCII(c)
	}
	return string(b)
}

// key is the canonical form of p: folded literals, parameters without
// names. Two patterns with the same key match the same paths.
func (p *Pattern) key() string {
	var b strings.Builder
	for _, t := range p.toks {
		b.WriteByte('/')
		switch t.kind {
		case literal:
			b.WriteString(foldASCII(t.lit))
		case one:
			b.WriteString(":")
		case optional:
			b.WriteString(":?")
		case many:
			b.WriteString(":*")
		}
	}
	return b.String()
}

// Conflict reports two patterns that both match Path with neither more
// specific than the other, or, with Err set, two that could not be compared.
type Conflict struct {
	A, B int    // indexes in the slice given to Order, A < B
	Same bool   // the two match exactly the same paths
	Path string // a path both match
	Err  error  // ErrTooComplex, or nil for a conflict
}

func (c *Conflict) Error() string {
	if c.Err != nil {
		return c.Err.Error()
	}
	if c.Same {
		return "patterns match the same paths"
	}
	return fmt.Sprintf("patterns overlap on %q with neither more specific", c.Path)
}

func (c *Conflict) Unwrap() error { return c.Err }

// Order returns the indexes of pats, most specific first: when pats[i]
// matches a strict subset of the paths pats[j] matches, i comes before j.
// The paths one pattern matches are then decided by the first pattern in
// this order that matches them, as in net/http.ServeMux (Go 1.22): the most
// specific one. Patterns that no path matches together keep the order of
// their canonical forms, so the result depends only on the set of patterns,
// never on their order in pats.
//
// Two patterns that both match some path with neither more specific are a
// *Conflict: the first such pair in pats order is reported.
func Order(pats []*Pattern) ([]int, error) {
	n := len(pats)
	after := make([][]int, n) // after[i]: the less specific patterns that follow i
	waiting := make([]int, n) // how many more specific patterns i must follow
	for j := 0; j < n; j++ {
		for i := 0; i < j; i++ {
			c, err := compare(pats[i], pats[j], false)
			if err != nil {
				return nil, &Conflict{A: i, B: j, Err: err}
			}
			switch rel := c.relation(); rel {
			case MoreSpecific:
				after[i] = append(after[i], j)
				waiting[j]++
			case LessSpecific:
				after[j] = append(after[j], i)
				waiting[i]++
			case Equivalent, Overlapping:
				return nil, &Conflict{A: i, B: j, Same: rel == Equivalent, Path: c.both}
			}
		}
	}
	keys := make([]string, n)
	for i, p := range pats {
		keys[i] = p.key()
	}
	placed := make([]bool, n)
	order := make([]int, 0, n)
	for len(order) < n {
		best := -1
		for i := 0; i < n; i++ {
			if !placed[i] && waiting[i] == 0 && (best < 0 || keys[i] < keys[best]) {
				best = i
			}
		}
		// Strict subsets cannot form a cycle, so some pattern is always ready.
		placed[best] = true
		order = append(order, best)
		for _, j := range after[best] {
			waiting[j]--
		}
	}
	return order, nil
}

// Package chunk splits a session value over several cookies and joins it
// back, as Auth.js's SessionStore does (@auth/core lib/utils/cookie.ts,
// next-auth v4 core/lib/cookie.js), with stricter reading rules.
//
// Auth.js writes a value of at most one chunk size under the cookie name
// itself, and a longer one as NAME.0 … NAME.(n-1). When the form changes it
// expires the cookies of the old form.
//
// Reading is stricter than Auth.js, which concatenates every cookie whose
// name merely starts with NAME, ordered by parseInt of the last dot-suffix:
//
//   - only the exact name and NAME.<i> with a canonical decimal index i
//     ("0", or 1–2 digits without a leading zero, so i <= MaxIndex) count;
//     look-alikes (NAME-x, NAMEx, NAME.01, NAME.-1, NAME.+1, NAME.0.1, other
//     letter case, NAME.100) are ignored and never carried;
//   - when the same name appears twice, the first occurrence wins, as in
//     net/http's Request.Cookie and the `cookie` npm package;
//   - a cookie with an empty value contributes nothing (as in Auth.js v5,
//     which skips empty values), but its name is carried;
//   - when the exact name has a value it wins over any chunks, which are only
//     carried: Auth.js never writes both forms, so the chunks are stale;
//   - chunks must be NAME.0 … NAME.(n-1) with no gap; a gap (for example .0
//     and .2, or .1 without .0) makes the set corrupt: ErrInvalid, no session;
//   - the chunk count and the total length are checked against Limits before
//     anything is concatenated.
package chunk

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// Chunk sizes of the two libraries: 4096 minus their estimate of an empty
// cookie's size (name and attributes).
const (
	SizeAuthJS = 4096 - 160 // 3936, @auth/core's CHUNK_SIZE
	SizeV4     = 4096 - 163 // 3933, next-auth v4
)

// MaxIndex is the largest chunk index recognised. Larger suffixes are not
// chunk names at all, which bounds what a request can make us carry (and
// later expire) to MaxIndex+2 names.
const MaxIndex = 99

// Defaults used by Read for zero Limits fields.
const (
	DefaultMaxChunks = 4
	// maxCookieLen bounds one cookie's value: browsers keep at most 4096
	// bytes of name and value.
	maxCookieLen = 4096
)

// Errors of Read. They are plain errors of this package; callers map them.
var (
	// ErrMissing: the request carries no non-empty session cookie.
	ErrMissing = errors.New("chunk: no session cookie")
	// ErrInvalid: the chunks present do not form NAME.0 … NAME.(n-1).
	ErrInvalid = errors.New("chunk: inconsistent session cookie chunks")
	// ErrTooLarge: more chunks than Limits.MaxChunks, or a total value longer
	// than Limits.MaxLen.
	ErrTooLarge = errors.New("chunk: session cookie too large")
)

// Split cuts value into pieces of at most size bytes, as SessionStore does:
// one piece when it fits, none for an empty value (SessionStore writes no
// cookie then). Auth.js counts UTF-16 code units; session tokens are ASCII,
// where bytes and code units agree. A size below 1 is treated as 1.
func Split(value string, size int) []string {
	if size < 1 {
		size = 1
	}
	if value == "" {
		return nil
	}
	pieces := make([]string, 0, (len(value)+size-1)/size)
	for len(value) > size {
		pieces = append(pieces, value[:size])
		value = value[size:]
	}
	return append(pieces, value)
}

// Names returns the cookie names for n pieces: name alone when n == 1, else
// name.0 … name.(n-1) (none when n < 1).
func Names(name string, n int) []string {
	if n < 1 {
		return nil
	}
	if n == 1 {
		return []string{name}
	}
	names := make([]string, n)
	for i := range names {
		names[i] = name + "." + strconv.Itoa(i)
	}
	return names
}

// Limits bounds what Read assembles. Zero fields mean DefaultMaxChunks and
// MaxChunks × 4096 bytes.
type Limits struct{ MaxChunks, MaxLen int }

func (l Limits) resolve() Limits {
	if l.MaxChunks <= 0 {
		l.MaxChunks = DefaultMaxChunks
	}
	if l.MaxLen <= 0 {
		l.MaxLen = l.MaxChunks * maxCookieLen
	}
	return l
}

// Index reports whether cookie belongs to the session cookie name: it
// returns -1, true for the exact name and i, true for a canonical chunk
// name NAME.i (i <= MaxIndex).
func Index(name, cookie string) (int, bool) {
	if cookie == name {
		return -1, true
	}
	if len(cookie) <= len(name)+1 || !strings.HasPrefix(cookie, name) || cookie[len(name)] != '.' {
		return 0, false
	}
	return parseIndex(cookie[len(name)+1:])
}

// parseIndex accepts "0" and 1–2 digit decimals without a leading zero.
func parseIndex(s string) (int, bool) {
	if s == "" || len(s) > 2 || (s[0] == '0' && len(s) > 1) {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// Read assembles the session value from the request's cookies, in header
// order (as r.Cookies() returns them). See the package documentation for the
// rules.
//
// carried lists, once each and in header order, every name of this session
// the request sent (the exact name and canonical NAME.i), so a later write
// can expire what it no longer uses. It is returned with every error too, so
// a corrupt or oversized set can be cleared.
func Read(cookies []*http.Cookie, name string, lim Limits) (value string, carried []string, err error) {
	if name == "" {
		return "", nil, ErrMissing
	}
	var a assembler
	for _, c := range cookies {
		if c != nil {
			a.add(name, c.Name, c.Value)
		}
	}
	return a.result(lim.resolve(), nil)
}

// Reader is Read over Cookie header lines, for one session name, without
// allocating when the request carries the session under its exact name.
type Reader struct {
	name  string
	lim   Limits
	exact []string // carried when only the exact name is: shared, never written
}

// NewReader returns a Reader of name's session within lim.
func NewReader(name string, lim Limits) *Reader {
	return &Reader{name: name, lim: lim.resolve(), exact: []string{name}}
}

// Read is Read(FromHeader(lines, name), name, lim). The carried slice may be
// shared between calls: callers must not modify it.
func (rd *Reader) Read(lines []string) (value string, carried []string, err error) {
	if rd.name == "" {
		return "", nil, ErrMissing
	}
	var a assembler
	eachCookie(lines, rd.name, func(name, value string, _ bool) { a.add(rd.name, name, value) })
	return a.result(rd.lim, rd.exact)
}

// assembler applies the reading rules to a session's cookies, in header order.
type assembler struct {
	plain     string
	havePlain bool
	// present[i]: NAME.i was seen (first occurrence decides its value).
	present [MaxIndex + 1]bool
	parts   [MaxIndex + 1]string
	nChunks int // distinct non-empty chunk indexes
	maxIdx  int // plus one: zero means none
	// The names carried: first, then rest, so that one name costs no slice.
	first   string
	rest    []string
	carries int
}

func (a *assembler) carry(cookie string) {
	if a.carries == 0 {
		a.first = cookie
	} else {
		if a.carries == 1 {
			a.rest = append(a.rest, a.first)
		}
		a.rest = append(a.rest, cookie)
	}
	a.carries++
}

func (a *assembler) add(name, cookie, value string) {
	i, ok := Index(name, cookie)
	if !ok {
		return
	}
	if i < 0 {
		if a.havePlain {
			return
		}
		a.havePlain, a.plain = true, value
		a.carry(cookie)
		return
	}
	if a.present[i] {
		return
	}
	a.present[i] = true
	a.carry(cookie)
	if value == "" {
		return
	}
	a.parts[i] = value
	a.nChunks++
	a.maxIdx = max(a.maxIdx, i+1)
}

// result returns the value and the names carried: exact itself when that is
// its one name.
func (a *assembler) result(lim Limits, exact []string) (string, []string, error) {
	carried := a.rest
	switch {
	case a.carries == 1 && len(exact) == 1 && a.first == exact[0]:
		carried = exact
	case a.carries == 1:
		carried = []string{a.first}
	}
	if a.plain != "" {
		if len(a.plain) > lim.MaxLen {
			return "", carried, ErrTooLarge
		}
		return a.plain, carried, nil
	}
	if a.nChunks == 0 {
		return "", carried, ErrMissing
	}
	if a.nChunks > lim.MaxChunks {
		return "", carried, ErrTooLarge
	}
	// nChunks distinct indexes all below nChunks are exactly 0 … nChunks-1.
	if a.maxIdx != a.nChunks {
		return "", carried, ErrInvalid
	}
	total := 0
	for _, p := range a.parts[:a.nChunks] {
		total += len(p)
		if total > lim.MaxLen {
			return "", carried, ErrTooLarge
		}
	}
	var b strings.Builder
	b.Grow(total)
	for _, p := range a.parts[:a.nChunks] {
		b.WriteString(p)
	}
	return b.String(), carried, nil
}

// Stale returns the carried names that keep does not list, once each and in
// carried order: the cookies a write of keep must expire so that no old
// chunk outlives the new set (single → chunked, chunked → single, fewer
// chunks). Sign-out is Stale(carried, nil).
func Stale(carried, keep []string) []string {
	var out []string
	for _, n := range carried {
		if !slices.Contains(keep, n) && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

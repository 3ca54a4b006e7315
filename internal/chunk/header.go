package chunk

import (
	"net/http"
	"strings"
)

// maxCookies mirrors net/http's default limit on cookies per request
// (GODEBUG httpcookiemaxnum): past it, net/http parses none.
const maxCookies = 3000

// FromHeader returns the cookies of a request's Cookie header lines that
// could belong to the session name (the name itself and name.<anything>),
// in header order, parsed exactly as (*http.Request).Cookies parses them.
// Unlike Cookies it does not parse or allocate for unrelated cookies, which
// made up most of the cost of a cached session check.
func FromHeader(lines []string, name string) []*http.Cookie {
	var cookies []*http.Cookie
	eachCookie(lines, name, func(n, v string, quoted bool) {
		cookies = append(cookies, &http.Cookie{Name: n, Value: v, Quoted: quoted})
	})
	return cookies
}

// eachCookie calls yield with FromHeader's cookies, in order, unallocated.
func eachCookie(lines []string, name string, yield func(name, value string, quoted bool)) {
	// Past maxCookies, net/http parses none. Counting takes a pass over the
	// lines, needed only when they have room for that many separators.
	count, size := 0, 0
	for _, line := range lines {
		size += len(line) + 1
	}
	if size > maxCookies {
		for _, line := range lines {
			count += strings.Count(line, ";") + 1
		}
	}
	if count > maxCookies {
		return
	}
	for _, line := range lines {
		line = trim(line)
		var part string
		for len(line) > 0 {
			part, line, _ = strings.Cut(line, ";")
			part = trim(part)
			if part == "" {
				continue
			}
			n, v, _ := strings.Cut(part, "=")
			n = trim(n)
			if !strings.HasPrefix(n, name) || (len(n) > len(name) && n[len(name)] != '.') || !isToken(n) {
				continue
			}
			v, quoted, ok := cookieValue(v)
			if !ok {
				continue
			}
			yield(n, v, quoted)
		}
	}
}

// trim is textproto.TrimString: ASCII space, tab, CR and LF.
func trim(s string) string {
	for len(s) > 0 && isSpace(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && isSpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

func isSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\n' || b == '\r' }

// cookieValue is net/http's parseCookieValue with double quotes allowed.
func cookieValue(raw string) (string, bool, bool) {
	quoted := false
	if len(raw) > 1 && raw[0] == '"' && raw[len(raw)-1] == '"' {
		raw, quoted = raw[1:len(raw)-1], true
	}
	if !validValue(raw) {
		return "", quoted, false
	}
	return raw, quoted, true
}

// validValue reports a value of valueBytes only. Session tokens make up
// most of a request's cookie bytes, so the three excluded bytes are found
// with IndexByte (vectorized) and the range is checked eight bytes at a
// time, branch-free: twice as fast as the table alone on a token.
func validValue(s string) bool {
	if strings.IndexByte(s, '"') >= 0 || strings.IndexByte(s, ';') >= 0 || strings.IndexByte(s, '\\') >= 0 {
		return false
	}
	const ones = 0x0101010101010101
	var high uint64 // the high bit of a byte below 0x20 or from 0x7f is set
	for ; len(s) >= 8; s = s[8:] {
		x := uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
			uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
		high |= (x-0x20*ones)&^x | (x + ones) | x
	}
	if high&(0x80*ones) != 0 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !valueBytes[s[i]] {
			return false
		}
	}
	return true
}

// valueBytes are the bytes net/http accepts in a cookie value.
var valueBytes = func() (t [256]bool) {
	for b := 0x20; b < 0x7f; b++ {
		t[b] = b != '"' && b != ';' && b != '\\'
	}
	return t
}()

// isToken reports an RFC 7230 token, as net/http's cookie name check.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 || !tokenChars[c] {
			return false
		}
	}
	return true
}

var tokenChars = func() (t [128]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()

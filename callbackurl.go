package edgeauth

import (
	"net/url"
	"strings"
)

// maxCallbackURL caps callbackUrl values; longer ones fall back to "/".
const maxCallbackURL = 2048

// SafeCallbackURL returns raw when it is a safe place to send a user after
// sign-in, and "/" otherwise. Accepted are:
//
//   - a path starting with a single "/" (never "//" or "/\"), and
//   - when origin (scheme://host[:port]) is not empty, an absolute URL on
//     exactly that origin, returned with the origin normalized to lower case.
//
// Everything else falls back to "/": protocol-relative and backslash forms,
// other schemes and hosts, userinfo tricks, values longer than 2048 bytes,
// empty or relative values ("evil.com", "./x"), and any byte outside
// printable ASCII (control characters, tabs and newlines, which browsers
// strip from URLs, spaces, raw non-ASCII: percent-encode it). Because a
// login page may decode the value again, every percent-decoded form must
// pass too: no encoded "//", "\", control characters, and no dot segments.
func SafeCallbackURL(raw, origin string) string {
	if raw == "" || len(raw) > maxCallbackURL {
		return "/"
	}
	for i := 0; i < len(raw); i++ {
		if c := raw[i]; c <= ' ' || c >= 0x7f {
			return "/"
		}
	}
	if raw[0] == '/' {
		if safeRelative(raw) {
			return raw
		}
		return "/"
	}
	o, ok := normalizeOrigin(origin)
	if !ok || len(raw) < len(o) || !strings.EqualFold(raw[:len(o)], o) {
		return "/"
	}
	rest := raw[len(o):]
	if rest == "" {
		return o + "/"
	}
	if rest[0] == '/' && safeRelative(rest) {
		return o + rest
	}
	return "/"
}

// safeRelative checks a path that starts with "/" and holds printable ASCII
// only, and each of its percent-decoded forms.
func safeRelative(s string) bool {
	for level := 0; level < 4; level++ {
		if s == "" || s[0] != '/' || (len(s) > 1 && s[1] == '/') || strings.ContainsRune(s, '\\') || hasCTL(s) {
			return false
		}
		p := s
		if i := strings.IndexAny(p, "?#"); i >= 0 {
			p = p[:i]
		}
		for _, seg := range strings.Split(p, "/") {
			if seg == "." || seg == ".." {
				return false
			}
		}
		d, err := url.PathUnescape(s)
		if err != nil {
			// A form we cannot decode is a form we cannot check; lenient
			// decoders elsewhere might still turn it into "//host".
			return false
		}
		if d == s {
			return true
		}
		s = d
	}
	return false
}

// normalizeOrigin returns origin as lower-case scheme://host[:port].
func normalizeOrigin(origin string) (string, bool) {
	if origin == "" {
		return "", false
	}
	u, err := url.Parse(strings.TrimSuffix(origin, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.User != nil || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.ForceQuery || u.Opaque != "" {
		return "", false
	}
	host := strings.ToLower(u.Host)
	for i := 0; i < len(host); i++ {
		c := host[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.IndexByte(".-:[]", c) >= 0) {
			return "", false
		}
	}
	return u.Scheme + "://" + host, true
}

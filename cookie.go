package edgeauth

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/edgeauth/edgeauth/internal/chunk"
)

// CookieConfig describes the session cookie. The zero value is Auth.js's
// default: "authjs.session-token", HttpOnly, SameSite=Lax, Path=/.
//
// A token longer than one cookie holds (3936 bytes for Auth.js, 3933 for
// next-auth v4) is split, as Auth.js does, over NAME.0 … NAME.(n-1).
//
// Cookie tossing: a page on a sibling subdomain (evil.example.com) can set a
// cookie of the same name for the parent domain (example.com). Browsers send
// both, listing longer Paths first, so a tossed cookie with a more specific
// Path arrives FIRST; edgeauth, like net/http's Request.Cookie and Auth.js's
// parser, uses the first occurrence of a name, so the tossed cookie shadows
// the real session (signing the victim into the attacker's account, or out
// of theirs): it cannot forge a token without the secret, but it can swap
// in the attacker's own valid session. Tossed chunks can likewise corrupt a
// chunked session (no session). A "__Host-" name (for example "__Host-authjs.session-token", with Secure and
// no Domain) prevents this: browsers only accept a __Host- cookie set by the
// host itself, Secure, with Path=/ and no Domain attribute, so no other
// subdomain can plant one. Auth.js must then be configured with the same
// cookie name (for Auth.js it is also the HKDF salt).
type CookieConfig struct {
	// Name is the cookie name. Auth.js also uses it as the HKDF salt of the
	// token keys; next-auth v4 does not (its salt is "").
	// "" means "authjs.session-token" ("__Secure-authjs.session-token" when
	// Secure), or for FormatNextAuthV4 "next-auth.session-token"
	// ("__Secure-next-auth.session-token"). It must be an RFC 6265 token and
	// must not end in ".<digits>", which would read as a chunk name.
	Name string
	// Secure sets the Secure attribute and selects the __Secure- default
	// name. Names starting with __Secure- or __Host- always get Secure.
	Secure bool
	// Domain is the Domain attribute; "" means host-only (required for __Host-).
	Domain string
	// Path is the Path attribute; "" means "/" (the only value for __Host-).
	Path string
	// SameSite is the SameSite attribute; 0 means Lax.
	// http.SameSiteDefaultMode omits the attribute; SameSiteNoneMode requires Secure.
	SameSite http.SameSite
	// MaxChunks is how many cookies a session may take; 0 means 4. Issuing a
	// token that needs more is an error, never cookies a browser drops;
	// reading more is rejected before they are joined.
	MaxChunks int
}

// maxChunksLimit is the most chunks any token Codec.Decode accepts can need.
const maxChunksLimit = (MaxTokenSize + chunk.SizeV4 - 1) / chunk.SizeV4

// cookieJar is a resolved, immutable CookieConfig: it reads, writes and
// clears the session cookies.
type cookieJar struct {
	name      string
	secure    bool
	domain    string
	path      string
	sameSite  http.SameSite
	maxChunks int
	chunkSize int
	limits    chunk.Limits
	reader    *chunk.Reader
}

// newCookieJar resolves the defaults of cfg and checks it; errors wrap ErrConfig.
func newCookieJar(cfg CookieConfig, format Format) (*cookieJar, error) {
	j := &cookieJar{
		name:      cfg.Name,
		secure:    cfg.Secure,
		domain:    cfg.Domain,
		path:      cfg.Path,
		sameSite:  cfg.SameSite,
		maxChunks: cfg.MaxChunks,
	}
	defaultName := DefaultCookieName
	switch format {
	case FormatAuthJS:
		j.chunkSize = chunk.SizeAuthJS
	case FormatNextAuthV4:
		j.chunkSize = chunk.SizeV4
		defaultName = DefaultCookieNameV4
	default:
		return nil, fmt.Errorf("%w: unknown format %d", ErrConfig, int(format))
	}
	if j.name == "" {
		j.name = defaultName
		if j.secure {
			j.name = "__Secure-" + defaultName
		}
	}
	if err := checkCookieName(j.name); err != nil {
		return nil, err
	}
	host := hasPrefixFold(j.name, "__Host-")
	if host || hasPrefixFold(j.name, "__Secure-") {
		j.secure = true
	}
	if j.path == "" {
		j.path = "/"
	}
	if !strings.HasPrefix(j.path, "/") {
		return nil, fmt.Errorf("%w: cookie Path must start with \"/\"", ErrConfig)
	}
	if host && (j.domain != "" || j.path != "/") {
		return nil, fmt.Errorf("%w: a __Host- cookie must have no Domain and Path \"/\"", ErrConfig)
	}
	switch j.sameSite {
	case 0:
		j.sameSite = http.SameSiteLaxMode
	case http.SameSiteDefaultMode, http.SameSiteLaxMode, http.SameSiteStrictMode:
	case http.SameSiteNoneMode:
		if !j.secure {
			return nil, fmt.Errorf("%w: SameSite=None requires Secure", ErrConfig)
		}
	default:
		return nil, fmt.Errorf("%w: unknown SameSite %d", ErrConfig, int(j.sameSite))
	}
	switch {
	case j.maxChunks == 0:
		j.maxChunks = chunk.DefaultMaxChunks
	case j.maxChunks < 0 || j.maxChunks > maxChunksLimit:
		return nil, fmt.Errorf("%w: MaxChunks must be between 1 and %d", ErrConfig, maxChunksLimit)
	}
	// net/http silently drops an invalid Domain or Path when writing; refuse
	// them here instead.
	if err := (&http.Cookie{Name: j.name, Value: "x", Path: j.path, Domain: j.domain}).Valid(); err != nil {
		return nil, fmt.Errorf("%w: cookie: %v", ErrConfig, err)
	}
	// Browsers keep at most 4096 bytes of name and value per cookie, and
	// the token can be no longer than MaxTokenSize.
	j.limits = chunk.Limits{MaxChunks: j.maxChunks, MaxLen: min(j.maxChunks*4096, MaxTokenSize)}
	j.reader = chunk.NewReader(j.name, j.limits)
	return j, nil
}

// checkCookieName requires an RFC 6265 cookie-name (an RFC 7230 token) that
// does not end in ".<digits>", so it cannot be mistaken for a chunk name.
func checkCookieName(name string) error {
	if name == "" || strings.EqualFold(name, "__Host-") || strings.EqualFold(name, "__Secure-") {
		return fmt.Errorf("%w: cookie name %q is empty", ErrConfig, name)
	}
	for i := 0; i < len(name); i++ {
		if !isTokenChar(name[i]) {
			return fmt.Errorf("%w: cookie name %q is not an RFC 6265 token", ErrConfig, name)
		}
	}
	if dot := strings.LastIndexByte(name, '.'); dot >= 0 && dot < len(name)-1 &&
		strings.Trim(name[dot+1:], "0123456789") == "" {
		return fmt.Errorf("%w: cookie name %q ends like a chunk name (.<digits>)", ErrConfig, name)
	}
	return nil
}

func isTokenChar(c byte) bool {
	if c <= ' ' || c >= 0x7f {
		return false
	}
	return !strings.ContainsRune(`()<>@,;:\"/[]?={}`, rune(c))
}

// hasPrefixFold matches cookie prefixes case-insensitively, as current
// browsers do (RFC 6265bis).
func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// Name returns the cookie name, which Auth.js also uses as the HKDF salt
// (next-auth v4 uses the salt "" whatever the cookie name).
func (j *cookieJar) Name() string { return j.name }

// read returns the session token of r and the names of every session cookie
// r carried, which it returns with errors too so that they can be cleared.
// No cookie is errNoCookie; a corrupt chunk set is ErrMalformed, an
// oversized one ErrTooLarge (both ErrInvalidToken).
func (j *cookieJar) read(r *http.Request) (token string, carried []string, err error) {
	token, carried, err = j.reader.Read(r.Header["Cookie"])
	switch {
	case err == nil:
		return token, carried, nil
	case errors.Is(err, chunk.ErrMissing):
		return "", carried, errNoCookie
	case errors.Is(err, chunk.ErrTooLarge):
		return "", carried, fmt.Errorf("%w: session cookies over the size limit", ErrTooLarge)
	default:
		return "", carried, fmt.Errorf("%w: inconsistent session cookie chunks", ErrMalformed)
	}
}

// write appends the Set-Cookie headers of token, split as Auth.js splits it,
// then expires every carried name the new set does not use. expires is the
// token's expiry (Expires and Max-Age, relative to now); a zero expires
// makes browser-session cookies. Nothing is written on error: a token that
// needs more than MaxChunks cookies is ErrSessionTooLarge; an empty one, one
// with bytes a cookie cannot hold or an expiry not after now is
// ErrInvalidSession, since what is written is the application's own session.
func (j *cookieJar) write(h http.Header, token string, expires, now time.Time, carried []string) error {
	if token == "" {
		return fmt.Errorf("%w: empty token", ErrInvalidSession)
	}
	for i := 0; i < len(token); i++ {
		if !isCookieOctet(token[i]) {
			return fmt.Errorf("%w: token is not a valid cookie value", ErrInvalidSession)
		}
	}
	pieces := chunk.Split(token, j.chunkSize)
	if len(pieces) > j.maxChunks {
		return fmt.Errorf("%w: it needs %d cookies, MaxChunks is %d", ErrSessionTooLarge, len(pieces), j.maxChunks)
	}
	maxAge := 0
	if !expires.IsZero() {
		// Max-Age rounds down so the cookie never outlives the token.
		maxAge = int(expires.Sub(now) / time.Second)
		if maxAge < 1 {
			return fmt.Errorf("%w: session cookie expiry is not after now", ErrInvalidSession)
		}
	}
	names := chunk.Names(j.name, len(pieces))
	for i, n := range names {
		c := j.cookie(n, pieces[i])
		if maxAge > 0 {
			c.Expires = expires.UTC()
			c.MaxAge = maxAge
		}
		h.Add("Set-Cookie", c.String())
	}
	j.expire(h, chunk.Stale(j.own(carried), names))
	return nil
}

// clear appends Set-Cookie headers expiring every carried session cookie and
// the plain name, carried or not.
func (j *cookieJar) clear(h http.Header, carried []string) {
	j.expire(h, chunk.Stale(append([]string{j.name}, j.own(carried)...), nil))
}

// own keeps the names that belong to this session, so that a caller's
// mistake can never expire unrelated cookies.
func (j *cookieJar) own(names []string) []string {
	var out []string
	for _, n := range names {
		if _, ok := chunk.Index(j.name, n); ok {
			out = append(out, n)
		}
	}
	return out
}

// expire writes deletions with the same Path, Domain, Secure and SameSite as
// the live cookies: browsers replace a cookie only when those match.
func (j *cookieJar) expire(h http.Header, names []string) {
	for _, n := range names {
		c := j.cookie(n, "")
		c.MaxAge = -1 // "Max-Age=0"
		c.Expires = time.Unix(0, 0).UTC()
		h.Add("Set-Cookie", c.String())
	}
}

func (j *cookieJar) cookie(name, value string) *http.Cookie {
	return &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     j.path,
		Domain:   j.domain,
		Secure:   j.secure,
		HttpOnly: true,
		SameSite: j.sameSite,
	}
}

// isCookieOctet reports an RFC 6265 cookie-octet, the bytes net/http writes
// unquoted and unaltered.
func isCookieOctet(c byte) bool {
	return c == 0x21 || (c >= 0x23 && c <= 0x2b) || (c >= 0x2d && c <= 0x3a) ||
		(c >= 0x3c && c <= 0x5b) || (c >= 0x5d && c <= 0x7e)
}

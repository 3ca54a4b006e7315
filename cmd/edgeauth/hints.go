package main

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/edgeauth/edgeauth"
	"github.com/edgeauth/edgeauth/internal/chunk"
)

// The hints below name the real problem behind a failed decode. They quote
// cookie names, header fields and times, never a value, a token or a secret.

// maxNamesShown bounds the cookie names a hint lists.
const maxNamesShown = 10

// decodeFailure explains why token did not decode with o's settings.
func (o *options) decodeFailure(token string, err error) string {
	if name, ok := cookiePasted(token); ok {
		return fmt.Sprintf("input is a cookie (%s=…), not a token: pass the Cookie header with --cookie", name)
	}
	h, segments := peekHeader(token)
	switch {
	case segments == 3:
		alg := ""
		if h != nil && isShortName(h.Alg) {
			alg = fmt.Sprintf(", alg %q", h.Alg)
		}
		return fmt.Sprintf("input is a signed JWT (JWS: 3 segments%s), not an Auth.js session token (JWE: 5 segments, encrypted)", alg)
	case errors.Is(err, edgeauth.ErrExpired), errors.Is(err, edgeauth.ErrNotYetValid):
		return o.timeFailure(token, err)
	case h == nil || segments != 5:
		return reason(err)
	case o.format == edgeauth.FormatNextAuthV4 && h.Enc == "A256CBC-HS512":
		return "this is an Auth.js v5 token (enc A256CBC-HS512), not a next-auth v4 one: decode without --v4"
	case o.format == edgeauth.FormatNextAuthV4 && h.Kid != nil && errors.Is(err, edgeauth.ErrDecrypt):
		return "decryption failed: the token names its key (kid) as Auth.js v5 does, next-auth v4 never does: decode without --v4"
	case o.format == edgeauth.FormatAuthJS && h.Enc == "A256GCM" && h.Kid == nil && errors.Is(err, edgeauth.ErrDecrypt):
		return "decryption failed (wrong secret or tampered); the token is A256GCM without kid, as next-auth v4 issues it: if it is, add --v4"
	}
	return reason(err)
}

// timeFailure says when the token expired (or becomes valid), read again
// with a clock tolerance wide enough to ignore its times.
func (o *options) timeFailure(token string, err error) string {
	now := clock(o.now)().UTC()
	lenient, cerr := edgeauth.NewCodec(edgeauth.CodecConfig{
		Secrets: o.secrets, Salt: o.salt, Format: o.format, Now: o.now,
		ClockTolerance: 1 << 62, // about 146 years either way
	})
	var t *edgeauth.Token
	if cerr == nil {
		t, cerr = lenient.Decode(token)
	}
	if cerr != nil {
		return reason(err)
	}
	if errors.Is(err, edgeauth.ErrExpired) {
		return fmt.Sprintf("token expired at %s (now %s)", t.Expires.UTC().Format(time.RFC3339), now.Format(time.RFC3339))
	}
	var nbf int64
	if ok, err := t.Claim("nbf", &nbf); ok && err == nil {
		return fmt.Sprintf("token not yet valid: nbf %s (now %s)", time.Unix(nbf, 0).UTC().Format(time.RFC3339), now.Format(time.RFC3339))
	}
	return reason(err)
}

// cookiePasted reports input that is a cookie or a Cookie header line
// rather than a token, and the first cookie's name.
func cookiePasted(input string) (string, bool) {
	if len(input) > 7 && strings.EqualFold(input[:7], "cookie:") {
		input = strings.TrimSpace(input[7:])
	}
	name, _, ok := strings.Cut(input, "=")
	name = strings.TrimSpace(name)
	// A JWE or JWS starts with its base64url header, "eyJ" ("{\"").
	if !ok || name == "" || strings.HasPrefix(name, "eyJ") || !isCookieName(name) {
		return "", false
	}
	return name, true
}

type joseHeader struct {
	Alg string  `json:"alg"`
	Enc string  `json:"enc"`
	Kid *string `json:"kid"`
}

// peekHeader returns the token's decoded protected header (nil when it does
// not decode) and its number of dot-separated segments.
func peekHeader(token string) (*joseHeader, int) {
	segments := strings.Count(token, ".") + 1
	first, _, _ := strings.Cut(token, ".")
	if len(first) > 2048 {
		return nil, segments
	}
	raw, err := base64.RawURLEncoding.DecodeString(first)
	if err != nil {
		return nil, segments
	}
	var h joseHeader
	if json.Unmarshal(raw, &h) != nil {
		return nil, segments
	}
	return &h, segments
}

// cookieFailure explains a --cookie header without the session cookie: the
// names it holds, and the flags that would read a known session cookie.
func (o *options) cookieFailure(header string, err error) string {
	if !errors.Is(err, errNoCookie) {
		return reason(err)
	}
	var names []string
	for _, c := range (&http.Request{Header: http.Header{"Cookie": {header}}}).Cookies() {
		if !slices.Contains(names, c.Name) {
			names = append(names, c.Name)
		}
	}
	msg := fmt.Sprintf("no session cookie %q in header", o.cookieName)
	if len(names) == 0 {
		return msg + " (it holds no cookies)"
	}
	shown := names[:min(len(names), maxNamesShown)]
	msg += " (cookies seen: " + strings.Join(shown, ", ")
	if more := len(names) - len(shown); more > 0 {
		msg += fmt.Sprintf(" and %d more", more)
	}
	msg += ")"
	for _, n := range names {
		for _, known := range []string{
			edgeauth.DefaultCookieName, "__Secure-" + edgeauth.DefaultCookieName,
			edgeauth.DefaultCookieNameV4, "__Secure-" + edgeauth.DefaultCookieNameV4,
		} {
			if _, ok := chunk.Index(known, n); !ok || known == o.cookieName {
				continue
			}
			switch {
			case strings.Contains(known, "next-auth"):
				return msg + fmt.Sprintf("; to read %s use --v4 --cookie-name %s", known, known)
			case o.format == edgeauth.FormatNextAuthV4:
				return msg + fmt.Sprintf("; to read %s (Auth.js v5) decode without --v4, with --salt %s", known, known)
			}
			return msg + fmt.Sprintf("; to read %s use --salt %s (Auth.js salts its keys with the cookie name)", known, known)
		}
	}
	return msg
}

func isCookieName(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || strings.IndexByte(`()<>@,;:\"/[]?={}`, c) >= 0 {
			return false
		}
	}
	return s != ""
}

// isShortName accepts an algorithm name worth quoting back: short, plain.
func isShortName(s string) bool {
	if s == "" || len(s) > 20 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '+' || c == '_') {
			return false
		}
	}
	return true
}

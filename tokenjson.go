package edgeauth

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/edgeauth/edgeauth/internal/jsonscan"
)

// UnmarshalJSON decodes a JSON object of claims. Numeric dates (iat, exp,
// nbf) must be finite numbers between 0 and year 9999, with no digits below
// the nanosecond (which a float64 can hold only before April 1970), so that
// MarshalJSON writes them back unchanged. As with JSON.parse, a repeated
// claim name takes its last value.
func (t *Token) UnmarshalJSON(data []byte) error {
	data = trimJSONSpace(data)
	if len(data) == 0 || data[0] != '{' {
		return fmt.Errorf("%w: payload is not a JSON object", ErrInvalidClaims)
	}
	// One pass validates (exactly as json.Valid) and finds the members; a
	// session's fit in room, on the stack.
	var room [16]jsonscan.Member
	members, ok := jsonscan.Object(data, room[:0])
	if !ok {
		return fmt.Errorf("%w: payload is not valid JSON", ErrInvalidClaims)
	}
	*t = Token{}
	// The strings the claims need share one allocation.
	var strs strings.Builder
	strs.Grow(stringBytes(members))
	for _, m := range members {
		if err := t.decodeClaim(&strs, m.Name, m.Value); err != nil {
			return err
		}
	}
	return nil
}

// stringBytes bounds the bytes of the strings decodeClaim makes: the names
// but the standard ones, and the values of the typed string claims.
func stringBytes(members []jsonscan.Member) int {
	n := 0
	for _, m := range members {
		switch string(m.Name) {
		case `"sub"`, `"name"`, `"email"`, `"picture"`, `"jti"`, `"sid"`:
			n += len(m.Value)
		case `"iat"`, `"exp"`, `"nbf"`, `"auth_time"`:
		default:
			n += len(m.Name)
		}
	}
	return n
}

// decodeClaim sets the claim of one member, given its raw name and value;
// strs holds the strings it makes.
func (t *Token) decodeClaim(strs *strings.Builder, rawKey, value []byte) error {
	key, err := claimName(strs, rawKey)
	if err != nil {
		return err
	}
	// A repeated name replaces the earlier value, typed or raw.
	if f := t.stringField(key); f != nil {
		// An empty string stays raw, so that encoding writes it back.
		if value[0] == '"' && len(value) > 2 {
			s, err := unquoteTo(strs, value)
			if err != nil {
				return fmt.Errorf("%w: claim %q", ErrInvalidClaims, key)
			}
			*f = s
			delete(t.Claims, key)
			return nil
		}
		*f = ""
	}
	if f := t.timeField(key); f != nil {
		tm, err := parseNumericDate(value)
		if err == nil {
			*f = tm
			delete(t.Claims, key)
			return nil
		}
		// jose checks iat and exp, not auth_time: an odd one stays raw.
		if key != "auth_time" {
			return fmt.Errorf("%w: claim %q: %v", ErrInvalidClaims, key, err)
		}
		*f = time.Time{}
	}
	if key == "nbf" {
		if _, err := parseNumericDate(value); err != nil {
			return fmt.Errorf("%w: claim %q: %v", ErrInvalidClaims, key, err)
		}
	}
	if t.Claims == nil {
		t.Claims = make(map[string]json.RawMessage, 4)
	}
	t.Claims[key] = value
	return nil
}

// trimJSONSpace trims the four whitespace bytes JSON allows, and no others
// (JSON.parse rejects a payload wrapped in, say, a vertical tab).
func trimJSONSpace(b []byte) []byte {
	for len(b) > 0 && isJSONSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isJSONSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

func isJSONSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// claimName decodes a member name into strs, without copying the standard ones.
func claimName(strs *strings.Builder, raw []byte) (string, error) {
	switch string(raw) {
	case `"sub"`:
		return "sub", nil
	case `"name"`:
		return "name", nil
	case `"email"`:
		return "email", nil
	case `"picture"`:
		return "picture", nil
	case `"iat"`:
		return "iat", nil
	case `"exp"`:
		return "exp", nil
	case `"jti"`:
		return "jti", nil
	case `"nbf"`:
		return "nbf", nil
	case `"sid"`:
		return "sid", nil
	case `"auth_time"`:
		return "auth_time", nil
	}
	key, err := unquoteTo(strs, raw)
	if err != nil {
		return "", fmt.Errorf("%w: claim name", ErrInvalidClaims)
	}
	return key, nil
}

// unquote decodes a JSON string literal, cheaply when it has no escapes
// and is valid UTF-8. Invalid bytes become U+FFFD as in encoding/json (the
// TextDecoder jose reads payloads with replaces them too): otherwise "\xff"
// and "\xfe" would be two claim names here and one in Auth.js.
func unquote(raw []byte) (string, error) { return unquoteTo(nil, raw) }

// unquoteTo is unquote appending the common case to strs, when not nil,
// instead of allocating: strings.Builder never moves what it has written
// while it has room, so the string stays valid.
func unquoteTo(strs *strings.Builder, raw []byte) (string, error) {
	if len(raw) >= 2 && bytes.IndexByte(raw, '\\') < 0 && utf8.Valid(raw) {
		if strs == nil {
			return string(raw[1 : len(raw)-1]), nil
		}
		start := strs.Len()
		strs.Write(raw[1 : len(raw)-1])
		return strs.String()[start:], nil
	}
	var s string
	err := json.Unmarshal(raw, &s)
	return s, err
}

// parseNumericDate checks the value as a float before converting, so that
// huge, negative or fractional-overflow values never reach an int cast.
//
// A fractional date is rounded to the nearest nanosecond (truncating would
// turn 1.2 into 1.199999999) and must encode back to the same float64, so
// that decoding and re-encoding keeps the claim as JSON.parse and
// JSON.stringify do. Only dates before 2^23 s (April 1970) with digits
// below the nanosecond fail that; they are rejected, not changed.
func parseNumericDate(raw json.RawMessage) (time.Time, error) {
	if len(raw) == 0 || (raw[0] != '-' && (raw[0] < '0' || raw[0] > '9')) {
		return time.Time{}, fmt.Errorf("not a number")
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return time.Time{}, fmt.Errorf("not a number")
	}
	if f < 0 || f > maxNumericDate {
		return time.Time{}, fmt.Errorf("out of range")
	}
	sec, frac := math.Modf(f)
	tm := time.Unix(int64(sec), int64(math.Round(frac*1e9))).UTC()
	if frac != 0 && numericDateSeconds(tm) != f {
		return time.Time{}, fmt.Errorf("finer than a nanosecond")
	}
	return tm, nil
}

// numericDateSeconds is tm as the float64 seconds that numericDate writes.
// Adding the parts, rather than dividing UnixNano, cannot overflow after 2262.
func numericDateSeconds(tm time.Time) float64 {
	return float64(tm.Unix()) + float64(tm.Nanosecond())/1e9
}

// MarshalJSON encodes every claim: the typed ones, then Claims in name order.
// A value in Claims that is not valid JSON is an ErrInvalidSession.
func (t *Token) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	first := true
	field := func(name string, value []byte) {
		if !first {
			b.WriteByte(',')
		}
		first = false
		b.Write(quote(name))
		b.WriteByte(':')
		b.Write(value)
	}
	for _, name := range stringClaims[:4] {
		if v := *t.stringField(name); v != "" {
			field(name, quote(v))
		} else if raw, ok := t.Claims[name]; ok {
			field(name, raw)
		}
	}
	// sid and auth_time sort among the other claims, typed or not.
	names := make([]string, 0, len(t.Claims)+2)
	if t.SessionID != "" {
		names = append(names, "sid")
	}
	if !t.AuthTime.IsZero() {
		names = append(names, "auth_time")
	}
	for name := range t.Claims {
		switch name {
		case "sub", "name", "email", "picture", "jti":
			continue // written with the typed claims
		case "sid":
			if t.SessionID != "" {
				continue
			}
		case "iat", "exp", "auth_time":
			if !t.timeField(name).IsZero() {
				continue
			}
		}
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		switch {
		case name == "sid" && t.SessionID != "":
			field(name, quote(t.SessionID))
			continue
		case name == "auth_time" && !t.AuthTime.IsZero():
			field(name, numericDate(t.AuthTime))
			continue
		}
		raw := t.Claims[name]
		if !json.Valid(raw) {
			return nil, fmt.Errorf("%w: claim %q is not valid JSON", ErrInvalidSession, name)
		}
		field(name, raw)
	}
	if !t.IssuedAt.IsZero() {
		field("iat", numericDate(t.IssuedAt))
	}
	if !t.Expires.IsZero() {
		field("exp", numericDate(t.Expires))
	}
	if t.ID != "" {
		field("jti", quote(t.ID))
	} else if raw, ok := t.Claims["jti"]; ok {
		field("jti", raw)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// numericDate encodes tm in seconds: an integer when it is whole, else the
// float64 as encoding/json writes it, which is what JSON.stringify writes.
func numericDate(tm time.Time) []byte {
	if tm.Nanosecond() == 0 {
		return strconv.AppendInt(nil, tm.Unix(), 10)
	}
	b, _ := json.Marshal(numericDateSeconds(tm)) // finite, so it always encodes
	return b
}

// quote encodes s as a JSON string without HTML escaping, as JSON.stringify does.
func quote(s string) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

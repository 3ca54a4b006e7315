package betterauth

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// object is a JSON object by exact member name; like JSON.parse, a repeated
// member keeps its last value.
type object map[string]json.RawMessage

// errShape is the cause wrapped when JSON is not of the expected shape.
var errShape = errors.New("unexpected JSON")

func decodeObject(raw []byte) (object, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return nil, errShape
	}
	var o object
	if err := json.Unmarshal(raw, &o); err != nil {
		return nil, errShape
	}
	return o, nil
}

// kind returns the JSON type of a raw value: '"', '{', '[', 't' (true or
// false), 'n' (null), '0' (number), or 0 when absent.
func kind(raw json.RawMessage) byte {
	if len(raw) == 0 {
		return 0
	}
	switch c := raw[0]; c {
	case '"', '{', '[', 'n':
		return c
	case 't', 'f':
		return 't'
	}
	return '0'
}

// str returns a member that must be a string.
func (o object) str(name string) (string, bool) {
	raw := o[name]
	if kind(raw) != '"' {
		return "", false
	}
	var s string
	return s, json.Unmarshal(raw, &s) == nil
}

// date returns a member that must be a date as Better Auth revives it.
func (o object) date(name string) (time.Time, bool) {
	s, ok := o.str(name)
	if !ok {
		return time.Time{}, false
	}
	return parseDate(s)
}

// optional reports whether member name is absent or of one of the kinds;
// kind 'd' is a date string.
func (o object) optional(name string, kinds string) bool {
	raw, ok := o[name]
	if !ok {
		return true
	}
	k := kind(raw)
	for i := 0; i < len(kinds); i++ {
		switch kinds[i] {
		case k:
			return true
		case 'd':
			if _, ok := o.date(name); ok {
				return true
			}
		}
	}
	return false
}

// record is the part of a session and its user that a Verifier needs.
type record struct {
	sessionJSON, userJSON json.RawMessage
	token                 string
	userID                string // user.id
	sessionUserID         string // session.userId, when a string
	expiresAt, createdAt  time.Time
	hasCreatedAt          bool
	user                  object
}

// parseRecord reads {"session":{…},"user":{…}} as the secondary storage and
// get-session hold it: session.token, session.expiresAt and user.id are
// required.
func parseRecord(top object) (*record, error) {
	sessionJSON, userJSON := top["session"], top["user"]
	session, err := decodeObject(sessionJSON)
	if err != nil {
		return nil, fmt.Errorf("session: %w", err)
	}
	user, err := decodeObject(userJSON)
	if err != nil {
		return nil, fmt.Errorf("user: %w", err)
	}
	r := &record{sessionJSON: sessionJSON, userJSON: userJSON, user: user}
	var ok bool
	if r.token, ok = session.str("token"); !ok {
		return nil, fmt.Errorf("session.token: %w", errShape)
	}
	if r.expiresAt, ok = session.date("expiresAt"); !ok {
		return nil, fmt.Errorf("session.expiresAt: %w", errShape)
	}
	if r.userID, ok = user.str("id"); !ok {
		return nil, fmt.Errorf("user.id: %w", errShape)
	}
	r.sessionUserID, _ = session.str("userId")
	r.createdAt, r.hasCreatedAt = session.date("createdAt")
	return r, nil
}

// parseCachePayload reads a cookie cache payload and checks it as Better
// Auth's schema does (cookies/cache.ts: the session and user schemas, loose,
// updatedAt a number, version an optional string); it returns the record and
// the payload's version ("1" when absent or empty, as Better Auth's
// `version || "1"`).
func parseCachePayload(top object) (*record, string, error) {
	r, err := parseRecord(top)
	if err != nil {
		return nil, "", err
	}
	session, _ := decodeObject(r.sessionJSON)
	for _, check := range []struct {
		o     object
		name  string
		kinds string
	}{
		{session, "id", `"`}, {session, "createdAt", "d"}, {session, "updatedAt", "d"},
		{session, "ipAddress", `"n`}, {session, "userAgent", `"n`},
		{r.user, "email", `"`}, {r.user, "name", `"`}, {r.user, "emailVerified", "t"},
		{r.user, "image", `"n`}, {r.user, "createdAt", "d"}, {r.user, "updatedAt", "d"},
		{top, "version", `"`},
	} {
		if !check.o.optional(check.name, check.kinds) {
			return nil, "", fmt.Errorf("%s: %w", check.name, errShape)
		}
	}
	// Required by the schema, though optional() above let absence pass.
	for _, req := range []struct {
		o    object
		name string
	}{{session, "id"}, {r.user, "email"}, {r.user, "name"}} {
		if _, ok := req.o[req.name]; !ok {
			return nil, "", fmt.Errorf("%s: %w", req.name, errShape)
		}
	}
	if kind(top["updatedAt"]) != '0' {
		return nil, "", fmt.Errorf("updatedAt: %w", errShape)
	}
	version, _ := top.str("version")
	return r, cmp.Or(version, DefaultVersion), nil
}

// newSession builds the Session of a verified record.
func (v *Verifier) newSession(r *record, src Source) *Session {
	role, _ := r.user.str(v.roleField)
	return &Session{
		UserID:      r.userID,
		Role:        role,
		ExpiresAt:   r.expiresAt,
		Source:      src,
		SessionJSON: r.sessionJSON,
		UserJSON:    r.userJSON,
	}
}

// parseDate reads a date as Better Auth's JSON reviver does
// (@better-auth/core utils/json.ts): a string matching
// ^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$ that JavaScript's Date
// accepts. Like V8, it takes days 1–31 in any month (rolling over), hour 24
// only as 24:00:00 with a zero fraction, and keeps milliseconds.
func parseDate(s string) (time.Time, bool) {
	if len(s) < 20 || s[len(s)-1] != 'Z' || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	num := func(from, to int) (int, bool) {
		n := 0
		for i := from; i < to; i++ {
			if s[i] < '0' || s[i] > '9' {
				return 0, false
			}
			n = n*10 + int(s[i]-'0')
		}
		return n, true
	}
	year, ok1 := num(0, 4)
	month, ok2 := num(5, 7)
	day, ok3 := num(8, 10)
	hour, ok4 := num(11, 13)
	minute, ok5 := num(14, 16)
	sec, ok6 := num(17, 19)
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || !ok6 {
		return time.Time{}, false
	}
	ms, fracZero := 0, true
	switch frac := s[19 : len(s)-1]; {
	case frac == "":
	case len(frac) < 2 || frac[0] != '.':
		return time.Time{}, false
	default:
		for i := 1; i < len(frac); i++ {
			c := frac[i]
			if c < '0' || c > '9' {
				return time.Time{}, false
			}
			if i <= 3 {
				ms = ms*10 + int(c-'0')
			}
			if c != '0' {
				fracZero = false
			}
		}
		for i := len(frac); i <= 3; i++ {
			ms *= 10
		}
	}
	if month < 1 || month > 12 || day < 1 || day > 31 || minute > 59 || sec > 59 ||
		hour > 24 || (hour == 24 && (minute != 0 || sec != 0 || !fracZero)) {
		return time.Time{}, false
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, ms*int(time.Millisecond), time.UTC), true
}

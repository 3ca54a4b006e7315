package betterauth

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// What V8's Date makes of the strings Better Auth's reviver matches
// (node -e 'new Date(s).toISOString()' on node 20).
func TestParseDate(t *testing.T) {
	for s, want := range map[string]string{
		"2024-13-01T00:00:00Z":           "",
		"2024-02-30T00:00:00Z":           "2024-03-01T00:00:00.000Z",
		"2023-02-29T00:00:00Z":           "2023-03-01T00:00:00.000Z",
		"2024-04-31T00:00:00Z":           "2024-05-01T00:00:00.000Z",
		"2024-01-01T24:00:00Z":           "2024-01-02T00:00:00.000Z",
		"2024-01-01T24:00:00.000Z":       "2024-01-02T00:00:00.000Z",
		"2024-01-01T24:00:00.001Z":       "",
		"2024-01-01T24:00:00.0001Z":      "",
		"2024-01-01T24:00:01Z":           "",
		"2024-01-01T23:59:60Z":           "",
		"2024-01-01T00:60:00Z":           "",
		"2024-00-01T00:00:00Z":           "",
		"2024-01-00T00:00:00Z":           "",
		"0000-01-01T00:00:00Z":           "0000-01-01T00:00:00.000Z",
		"2024-01-01T00:00:00.123456789Z": "2024-01-01T00:00:00.123Z",
		"2024-01-01T00:00:00.9999Z":      "2024-01-01T00:00:00.999Z",
		"2024-01-01T00:00:00.5Z":         "2024-01-01T00:00:00.500Z",
		"2024-01-31T00:00:00.Z":          "",
		"+002024-01-01T00:00:00Z":        "",
		"2024-01-01T00:00:00+00:00":      "",
		"2024-01-01 00:00:00Z":           "",
		"2024-1-01T00:00:00Z":            "",
		"":                               "",
	} {
		got, ok := parseDate(s)
		if want == "" {
			assert.False(t, ok, s)
			continue
		}
		require.True(t, ok, s)
		assert.Equal(t, want, got.UTC().Format("2006-01-02T15:04:05.000Z"), s)
	}
}

func FuzzParseDate(f *testing.F) {
	for _, seed := range []string{"2023-11-21T22:13:20.000Z", "2024-01-01T24:00:00Z", "9999-12-31T23:59:59.999999Z"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := parseDate(s)
		if !ok {
			return
		}
		// Without a rollover, the seconds and first three fraction digits survive.
		if s[8:10] <= "28" && s[11:13] != "24" {
			require.Equal(t, s[:19], got.Format("2006-01-02T15:04:05"))
			if len(s) >= 24 && s[19] == '.' {
				require.Equal(t, s[:23], got.Format("2006-01-02T15:04:05.000"))
			}
		}
	})
}

// FuzzParseAnswer: a get-session answer is a session bound to the token,
// "no session", or unusable; never a panic.
func FuzzParseAnswer(f *testing.F) {
	f.Add(`null`)
	f.Add(`{"session":{"token":"tok","expiresAt":"2099-01-01T00:00:00.000Z"},"user":{"id":"u"}}`)
	f.Add(`{"session":{"token":"other","expiresAt":"2099-01-01T00:00:00.000Z"},"user":{"id":"u"}}`)
	v, err := New(Config{Secrets: []string{"s"}, Now: func() time.Time { return time.Unix(1700000000, 0) }})
	require.NoError(f, err)
	f.Fuzz(func(t *testing.T, body string) {
		s, err := v.parseAnswer([]byte(body), "tok")
		if err != nil {
			require.ErrorIs(t, err, ErrNoSession)
			return
		}
		top, err := decodeObject(s.SessionJSON)
		require.NoError(t, err)
		token, _ := top.str("token")
		require.Equal(t, "tok", token)
	})
}

func TestDecodeURIComponent(t *testing.T) {
	for in, want := range map[string]string{
		"abc":        "abc",
		"a%2Bb%3D":   "a+b=",
		"a+b":        "a+b",
		"%zz":        "%zz",
		"%FF":        "%FF", // not UTF-8: JavaScript throws, the cookie parser keeps it
		"%E6%97%A5":  "日",
		"%ED%A0%80x": "%ED%A0%80x",
		"100%":       "100%",
		"%2F%2f":     "//",
	} {
		assert.Equal(t, want, decodeURIComponent(in), in)
	}
}

// The kid of a jwe cache minted by better-auth 1.7.25 is the SHA-256
// thumbprint of the key derived here: a known answer for the key schedule.
func TestJWEKeyKnownAnswer(t *testing.T) {
	const minted = "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2Q0JDLUhTNTEyIiwia2lkIjoiV2FUZl92a1A4eXJXY0lHemNvWVJMYTJDQTVtYXpnSG0xbDhzUHBhMTZiayJ9"
	h, err := protectedHeader(minted)
	require.NoError(t, err)
	kid, _ := h.str("kid")
	v, err := New(Config{Secrets: []string{"harness-secret-0123456789abcdef0123456789"}})
	require.NoError(t, err)
	assert.Equal(t, kid, v.jweKeys[0].kid)
}

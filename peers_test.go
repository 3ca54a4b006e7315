package edgeauth

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// peerVector is the common shape of the token vectors copied from other
// projects' test suites into testdata/peers (see its README for sources).
type peerVector struct {
	Secret          string                `json:"secret"`
	HKDF            struct{ Salt string } `json:"hkdf"`
	Token           string                `json:"token"`
	ValidCookies    map[string]string     `json:"valid_cookies"`
	TamperedCookies map[string]string     `json:"tampered_cookies_expect_decrypt_failure"`
	Expected        map[string]any        `json:"expected_payload"`
	ExpectedFields  map[string]any        `json:"expected_payload_fields"`
	NowValid        int64                 `json:"now_valid_unix"`
	NowExpired      int64                 `json:"now_expired_unix"`
}

func loadPeer(t *testing.T, path string) peerVector {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "peers", path))
	require.NoError(t, err)
	var v peerVector
	require.NoError(t, json.Unmarshal(data, &v))
	return v
}

// joinPeerCookies joins NAME.0, NAME.1, … (or takes the single cookie) of a vector.
func joinPeerCookies(cookies map[string]string) string {
	if len(cookies) == 1 {
		for _, v := range cookies {
			return v
		}
	}
	names := make([]string, 0, len(cookies))
	for n := range cookies {
		if strings.Contains(n, "session-token") {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		b.WriteString(cookies[n])
	}
	return b.String()
}

func claimsOf(t *testing.T, tok *Token) map[string]any {
	t.Helper()
	raw, err := tok.MarshalJSON()
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(raw, &m))
	return m
}

func TestPeerVectors(t *testing.T) {
	cases := []struct {
		file   string
		format Format
		salt   string
	}{
		{"fastapi-nextauth-jwt/v4.json", FormatNextAuthV4, ""},
		{"fastapi-nextauth-jwt/v5.json", FormatAuthJS, "authjs.session-token"},
		{"next-auth-session-token-decoder-ruby/v4.json", FormatNextAuthV4, ""},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			v := loadPeer(t, tc.file)
			require.Equal(t, tc.salt, v.HKDF.Salt)
			token := v.Token
			if token == "" {
				token = joinPeerCookies(v.ValidCookies)
			}
			expected := v.Expected
			if expected == nil {
				expected = v.ExpectedFields
			}
			now := v.NowValid
			if now == 0 {
				now = int64(expected["iat"].(float64)) + 1
			}
			codec := func(now int64, tolerance time.Duration) *Codec {
				c, err := NewCodec(CodecConfig{Secrets: []string{v.Secret}, Salt: tc.salt, Format: tc.format, Now: fixedClock(now), ClockTolerance: tolerance})
				require.NoError(t, err)
				return c
			}

			tok, err := codec(now, 0).Decode(token)
			require.NoError(t, err)
			got := claimsOf(t, tok)
			for k, want := range expected {
				assert.Equal(t, want, got[k], "claim %s", k)
			}

			// The peers check exp with no tolerance; Auth.js allows 15 s.
			exp := tok.Expires.Unix()
			if v.NowExpired != 0 {
				_, err = codec(v.NowExpired, -1).Decode(token)
				require.ErrorIs(t, err, ErrExpired, "peer semantics: no tolerance")
				if v.NowExpired < exp+15 {
					_, err = codec(v.NowExpired, 0).Decode(token)
					require.NoError(t, err, "Auth.js semantics: still inside the 15 s tolerance")
				}
			}
			_, err = codec(exp+16, 0).Decode(token)
			require.ErrorIs(t, err, ErrExpired)
			require.ErrorIs(t, err, ErrInvalidToken)

			if v.TamperedCookies != nil {
				_, err = codec(now, 0).Decode(joinPeerCookies(v.TamperedCookies))
				require.ErrorIs(t, err, ErrInvalidToken)
			}
			wrong, err := NewCodec(CodecConfig{Secrets: []string{"not-the-secret"}, Salt: tc.salt, Format: tc.format, Now: fixedClock(now)})
			require.NoError(t, err)
			_, err = wrong.Decode(token)
			require.ErrorIs(t, err, ErrInvalidToken)
			require.NotContains(t, err.Error(), "not-the-secret")
		})
	}
}

// testdata/peers/fastapi-nextauth-jwt/csrf.json is kept for attribution and
// completeness only: edgeauth does not implement Auth.js CSRF tokens.

// The manifest pins the peer vectors: every file it lists has that SHA-256,
// and every data file is listed.
func TestPeerManifest(t *testing.T) {
	root := filepath.Join("testdata", "peers")
	f, err := os.Open(filepath.Join(root, "MANIFEST.sha256"))
	require.NoError(t, err)
	defer f.Close()

	listed := map[string]bool{}
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		// sha256sum's text format: 64 hex digits, two spaces, the path.
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		require.True(t, ok, "line %d: want \"SUM  PATH\"", line)
		require.Len(t, sum, 64, "line %d", line)
		require.False(t, listed[name], "line %d: %s listed twice", line, name)
		listed[name] = true

		data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(name)))
		require.NoError(t, err, "line %d", line)
		got := sha256.Sum256(data)
		assert.Equal(t, sum, hex.EncodeToString(got[:]), "SHA-256 of %s", name)
	}
	require.NoError(t, sc.Err())
	require.NotEmpty(t, listed)

	var unlisted []string
	require.NoError(t, filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if rel != "README.md" && rel != "MANIFEST.sha256" && !listed[rel] {
			unlisted = append(unlisted, rel)
		}
		return nil
	}))
	assert.Empty(t, unlisted, "files under testdata/peers missing from MANIFEST.sha256")
}

// fastapi-nextauth-jwt's cookie-joining cases, read by the Manager's jar.
func TestPeerCookieChunks(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "peers", "fastapi-nextauth-jwt", "cookie_chunks.json"))
	require.NoError(t, err)
	var v struct {
		Cases map[string]struct {
			Cookies    map[string]string `json:"cookies"`
			CookieName string            `json:"cookie_name"`
		} `json:"cases"`
		Expected map[string]string `json:"expected"`
	}
	require.NoError(t, json.Unmarshal(data, &v))
	require.Len(t, v.Cases, 3)
	require.Len(t, v.Expected, len(v.Cases))

	for name, c := range v.Cases {
		want, ok := v.Expected[name]
		require.True(t, ok, "no expectation for %s", name)
		jar, err := newCookieJar(CookieConfig{Name: c.CookieName}, FormatNextAuthV4)
		require.NoError(t, err, name)

		// A JSON object has no order: the result must not depend on the
		// order the cookies arrive in.
		names := make([]string, 0, len(c.Cookies))
		for n := range c.Cookies {
			names = append(names, n)
		}
		slices.Sort(names)
		reversed := slices.Clone(names)
		slices.Reverse(reversed)
		orders := map[string][]string{"sorted": names, "reversed": reversed}
		for order, names := range orders {
			t.Run(name+"/"+order, func(t *testing.T) {
				r := httptest.NewRequest(http.MethodGet, "/", nil)
				for _, n := range names {
					r.AddCookie(&http.Cookie{Name: n, Value: c.Cookies[n]})
				}
				token, carried, err := jar.read(r)
				switch want {
				case "error: missing cookie":
					require.ErrorIs(t, err, errNoCookie)
					assert.Empty(t, token)
					assert.Empty(t, carried, "unrelated cookies are never carried")
				default:
					require.False(t, strings.HasPrefix(want, "error:"), "unknown expectation %q", want)
					require.NoError(t, err)
					assert.Equal(t, want, token)
					// Every session cookie is carried, so that it can be cleared.
					assert.ElementsMatch(t, names, carried)
				}
			})
		}
	}
}

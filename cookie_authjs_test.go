package edgeauth

import (
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeauth/edgeauth/internal/authjstest"
	"github.com/edgeauth/edgeauth/internal/chunk"
)

// Differential tests of the session cookies against Auth.js's own
// SessionStore (@auth/core 0.41.3 and next-auth 4.24.15), run by the harness.

const (
	harnessNow    = 1700000000
	harnessSecret = "cookie-test-secret"
)

type nodeCookie struct {
	Name    string         `json:"name"`
	Value   string         `json:"value"`
	Options map[string]any `json:"options"`
}

type nodeChunkResp struct {
	Cookies    []nodeCookie `json:"cookies"`
	SetCookies []string     `json:"setCookies"`
}

func libOf(f Format) string {
	if f == FormatNextAuthV4 {
		return "v4"
	}
	return "v5"
}

// codecSalt is the HKDF salt each library uses for the session token:
// the cookie name for Auth.js, "" for next-auth v4's encode/decode defaults.
func codecSalt(f Format, j *cookieJar) string {
	if f == FormatNextAuthV4 {
		return ""
	}
	return j.Name()
}

func fixedCodec(t *testing.T, f Format, salt string) *Codec {
	t.Helper()
	c, err := NewCodec(CodecConfig{
		Secrets: []string{harnessSecret}, Format: f, Salt: salt,
		Now: func() time.Time { return time.Unix(harnessNow, 0) },
	})
	require.NoError(t, err)
	return c
}

// blobFor returns a claim whose token needs about `chunks` cookies (the
// tests check the exact count Auth.js produced).
func blobFor(chunks int) string {
	target := float64(chunks)*chunk.SizeAuthJS - chunk.SizeAuthJS/2
	n := int((target-200)*3/4) - 150
	return strings.Repeat("0123456789abcdef", n/16+1)[:n]
}

// shuffledHeader mixes the cookies with unrelated ones in a random (seeded)
// order, as a browser's Cookie header may list them.
func shuffledHeader(rng *rand.Rand, cookies map[string]string) string {
	parts := []string{
		"theme=dark", "_ga=GA1.2.3.4", "authjs.csrf-token=abc%7Cdef",
		"next-auth.callback-url=http%3A%2F%2Flocalhost", "__Host-authjs.csrf-token=x",
	}
	for n, v := range cookies {
		parts = append(parts, n+"="+v)
	}
	rng.Shuffle(len(parts), func(i, j int) { parts[i], parts[j] = parts[j], parts[i] })
	return strings.Join(parts, "; ")
}

// (1) Cookies chunked by Auth.js's SessionStore, in any order among other
// cookies, are read by Go and decode to the claims Node encoded.
func TestAuthJSChunksReadByGo(t *testing.T) {
	h := authjstest.Start(t)
	rng := rand.New(rand.NewPCG(1, 2))
	for _, f := range []Format{FormatAuthJS, FormatNextAuthV4} {
		for _, secure := range []bool{false, true} {
			jar := mustJar(t, CookieConfig{Secure: secure}, f)
			codec := fixedCodec(t, f, codecSalt(f, jar))
			for _, chunks := range []int{1, 2, 3, 4} {
				claims := map[string]any{"sub": "user-1", "name": "Ada", "role": "admin", "blob": blobFor(chunks)}
				var enc struct {
					Token string `json:"token"`
				}
				require.NoError(t, h.Call(map[string]any{
					"op": "encode", "lib": libOf(f), "secret": harnessSecret, "salt": codecSalt(f, jar),
					"maxAge": 3600, "now": harnessNow, "token": claims,
				}, &enc))

				var out nodeChunkResp
				require.NoError(t, h.Call(map[string]any{
					"op": "chunk", "lib": libOf(f), "cookieName": jar.Name(), "secure": secure,
					"value": enc.Token, "expires": harnessNow + 3600, "now": harnessNow,
				}, &out))
				require.Len(t, out.Cookies, chunks, "%s: Auth.js chunk count for the test payload", libOf(f))
				sent := map[string]string{}
				var names []string
				for _, c := range out.Cookies {
					sent[c.Name] = c.Value
					names = append(names, c.Name)
				}
				assert.Equal(t, chunk.Names(jar.Name(), chunks), names)
				header := shuffledHeader(rng, sent)

				got, carried, err := jar.read(requestHeader(header))
				require.NoError(t, err, header[:min(len(header), 200)])
				require.Equal(t, enc.Token, got)
				assert.ElementsMatch(t, names, carried)

				// Auth.js itself agrees on the shuffled header.
				var rc struct {
					Value string `json:"value"`
				}
				require.NoError(t, h.Call(map[string]any{
					"op": "readChunks", "lib": libOf(f), "cookieName": jar.Name(), "cookieHeader": header,
				}, &rc))
				require.Equal(t, enc.Token, rc.Value)

				tok, err := codec.Decode(got)
				require.NoError(t, err)
				var dec struct {
					Payload map[string]any `json:"payload"`
				}
				require.NoError(t, h.Call(map[string]any{
					"op": "decode", "lib": libOf(f), "secret": harnessSecret, "salt": codecSalt(f, jar),
					"token": enc.Token, "now": harnessNow,
				}, &dec))
				assert.Equal(t, dec.Payload, claimsOf(t, tok))
				for k, v := range claims {
					assert.Equal(t, v, dec.Payload[k], k)
				}
			}
		}
	}
}

// (2) Cookies written by Go, chunked, are read back by @auth/core's getToken
// and by next-auth v4's SessionStore + decode, to the same claims.
func TestGoChunksReadByAuthJS(t *testing.T) {
	h := authjstest.Start(t)
	rng := rand.New(rand.NewPCG(3, 4))
	for _, tc := range []struct {
		format Format
		cfg    CookieConfig
	}{
		{FormatAuthJS, CookieConfig{}},
		{FormatAuthJS, CookieConfig{Secure: true}},
		{FormatAuthJS, CookieConfig{Name: "__Host-authjs.session-token"}},
		{FormatNextAuthV4, CookieConfig{}},
		{FormatNextAuthV4, CookieConfig{Secure: true}},
	} {
		jar := mustJar(t, tc.cfg, tc.format)
		codec := fixedCodec(t, tc.format, codecSalt(tc.format, jar))
		for _, chunks := range []int{1, 2, 3, 4} {
			tok := &Token{Subject: "user-2", Name: "Grace", Email: "grace@example.com"}
			require.NoError(t, tok.SetClaim("role", "editor"))
			require.NoError(t, tok.SetClaim("blob", blobFor(chunks)))
			raw, err := codec.Encode(tok)
			require.NoError(t, err)

			hdr := http.Header{}
			require.NoError(t, jar.write(hdr, raw, tok.Expires, time.Unix(harnessNow, 0), nil))
			cs := setCookies(t, hdr)
			require.Len(t, cs, chunks, "%s: Go chunk count for the test payload", libOf(tc.format))
			sent := map[string]string{}
			for _, c := range cs {
				sent[c.Name] = c.Value
			}
			header := shuffledHeader(rng, sent)
			want := claimsOf(t, tok)

			var rc struct {
				Value string `json:"value"`
			}
			require.NoError(t, h.Call(map[string]any{
				"op": "readChunks", "lib": libOf(tc.format), "cookieName": jar.Name(), "cookieHeader": header,
			}, &rc))
			require.Equal(t, raw, rc.Value)

			var dec struct {
				Payload map[string]any `json:"payload"`
			}
			if tc.format == FormatAuthJS {
				req := map[string]any{
					"op": "getToken", "secret": harnessSecret, "cookieHeader": header,
					"secureCookie": jar.secure, "now": harnessNow,
				}
				if tc.cfg.Name != "" {
					req["cookieName"] = jar.Name() // salt defaults to it
				}
				require.NoError(t, h.Call(req, &dec))
			} else {
				require.NoError(t, h.Call(map[string]any{
					"op": "decode", "lib": "v4", "secret": harnessSecret, "salt": "",
					"token": rc.Value, "now": harnessNow,
				}, &dec))
			}
			require.NotNil(t, dec.Payload, "Auth.js found no token")
			assert.Equal(t, want, dec.Payload)
		}
	}
}

// (3) For the same value and request cookies, Go writes the cookies
// SessionStore.chunk writes: same names and values, the same ones expired,
// the same scope attributes and expiry.
func TestCookieCleanupMatchesSessionStore(t *testing.T) {
	h := authjstest.Start(t)
	expires := time.Unix(harnessNow+3600, 0)
	for _, f := range []Format{FormatAuthJS, FormatNextAuthV4} {
		for _, secure := range []bool{false, true} {
			jar := mustJar(t, CookieConfig{Secure: secure}, f)
			n := jar.Name()
			size := jar.chunkSize
			carriedSets := map[string][]string{
				"none":             nil,
				"plain":            {n},
				"2 chunks":         chunk.Names(n, 2),
				"3 chunks":         chunk.Names(n, 3),
				"4 chunks":         chunk.Names(n, 4),
				"plain + 3 chunks": append([]string{n}, chunk.Names(n, 3)...),
			}
			for setName, carriedNames := range carriedSets {
				for _, length := range []int{10, size, size + 1, 2*size + 1, 4 * size} {
					var parts []string
					for i, cn := range carriedNames {
						parts = append(parts, cn+"=old"+strings.Repeat("x", i+1))
					}
					header := strings.Join(parts, "; ")
					value := token(length)

					var out nodeChunkResp
					require.NoError(t, h.Call(map[string]any{
						"op": "chunk", "lib": libOf(f), "cookieName": n, "secure": secure,
						"value": value, "cookieHeader": header, "expires": harnessNow + 3600, "now": harnessNow,
					}, &out))
					type result struct {
						value   string
						expired bool
					}
					want := map[string]result{}
					wantAttrs := map[string]*http.Cookie{}
					for i, c := range out.Cookies {
						want[c.Name] = result{c.Value, c.Options["maxAge"] == float64(0)}
						sc, err := http.ParseSetCookie(out.SetCookies[i])
						require.NoError(t, err)
						wantAttrs[c.Name] = sc
					}
					require.Len(t, want, len(out.Cookies), "Auth.js names are distinct")

					_, carried, _ := jar.read(requestHeader(header))
					hdr := http.Header{}
					require.NoError(t, jar.write(hdr, value, expires, time.Unix(harnessNow, 0), carried))
					got := map[string]result{}
					cs := setCookies(t, hdr)
					for _, c := range cs {
						got[c.Name] = result{c.Value, c.MaxAge < 0}
					}
					require.Len(t, got, len(cs), "Go names are distinct")
					require.Equal(t, want, got, "%s %s, %d bytes over %q", libOf(f), setName, length, header)

					for _, c := range cs {
						w := wantAttrs[c.Name]
						assert.Equal(t, w.Path, c.Path, c.Name)
						assert.Equal(t, w.Domain, c.Domain, c.Name)
						assert.Equal(t, w.Secure, c.Secure, c.Name)
						assert.Equal(t, w.HttpOnly, c.HttpOnly, c.Name)
						assert.Equal(t, w.SameSite, c.SameSite, c.Name)
						assert.Equal(t, w.MaxAge < 0, c.MaxAge < 0, c.Name)
						if c.MaxAge >= 0 {
							assert.True(t, w.Expires.Equal(c.Expires), "%s: Expires %v, Auth.js %v", c.Name, c.Expires, w.Expires)
						}
					}
				}
			}
		}
	}
}

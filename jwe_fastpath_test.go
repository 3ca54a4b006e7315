package edgeauth

import (
	"encoding/base64"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeauth/edgeauth/internal/jwefast"
	"github.com/edgeauth/edgeauth/internal/testenv"
)

// The fast path (internal/jwefast) must be indistinguishable from the
// general go-jose path it short-cuts: for every token, the same claims or an
// error of the same class with the same text.

// generalPath is c with a fast path that knows no header, so that every
// token takes go-jose's path: the reference.
func generalPath(t testing.TB, c *Codec) *Codec {
	t.Helper()
	g := *c
	var err error
	g.fast, err = jwefast.New(nil)
	require.NoError(t, err)
	return &g
}

// tokenErrors are the error classes of Decode, most specific first.
var tokenErrors = []error{ErrTooLarge, ErrMalformed, ErrNoMatchingSecret, ErrDecrypt, ErrInvalidClaims, ErrExpired, ErrNotYetValid}

func errorClass(err error) error {
	for _, class := range tokenErrors {
		if errors.Is(err, class) {
			return class
		}
	}
	return err
}

// sameOutcome reports how two decodes of one token differ, or "".
func sameOutcome(fastTok *Token, fastErr error, genTok *Token, genErr error) string {
	switch {
	case (fastErr == nil) != (genErr == nil):
		return fmt.Sprintf("fast path: %v; go-jose path: %v", fastErr, genErr)
	case fastErr != nil && errorClass(fastErr) != errorClass(genErr):
		return fmt.Sprintf("error class: fast path %v, go-jose path %v", errorClass(fastErr), errorClass(genErr))
	case fastErr != nil && fastErr.Error() != genErr.Error():
		return fmt.Sprintf("error text: fast path %q, go-jose path %q", fastErr, genErr)
	case !reflect.DeepEqual(fastTok, genTok):
		return fmt.Sprintf("token: fast path %+v, go-jose path %+v", fastTok, genTok)
	}
	return ""
}

// diffCodec is a codec and its general-path twin.
type diffCodec struct {
	name          string
	fast, general *Codec
}

func newDiffCodec(t testing.TB, name string, cfg CodecConfig) diffCodec {
	t.Helper()
	c := newTestCodec(t, cfg)
	return diffCodec{name, c, generalPath(t, c)}
}

// diffCodecs cover both formats, rotation and salts; their keys differ, so
// each one's tokens are wrong-key tokens for the others.
func diffCodecs(t testing.TB) []diffCodec {
	t.Helper()
	codecs := []diffCodec{
		newDiffCodec(t, "authjs", CodecConfig{Secrets: []string{"diff-secret"}}),
		newDiffCodec(t, "authjs rotated", CodecConfig{Secrets: []string{"diff-new", "diff-secret"}}),
		newDiffCodec(t, "authjs secure salt", CodecConfig{Secrets: []string{"diff-secret"}, Salt: "__Secure-authjs.session-token"}),
		newDiffCodec(t, "authjs same secret twice", CodecConfig{Secrets: []string{"diff-secret", "diff-secret"}}),
		newDiffCodec(t, "v4", CodecConfig{Secrets: []string{"diff-secret"}, Format: FormatNextAuthV4}),
		newDiffCodec(t, "v4 rotated", CodecConfig{Secrets: []string{"diff-new", "diff-secret"}, Format: FormatNextAuthV4}),
	}
	seen := map[string]bool{}
	for _, v := range goldenVectors(t) {
		if id := fmt.Sprint(v.config); !seen[id] {
			seen[id] = true
			codecs = append(codecs, diffCodec{"vector " + v.name, v.codec, generalPath(t, v.codec)})
		}
	}
	return codecs
}

type namedVector struct {
	name   string
	config CodecConfig
	codec  *Codec
	token  string
	valid  bool
}

func goldenVectors(t testing.TB) []namedVector {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(vectorsDir, "*.txt"))
	require.NoError(t, err)
	var out []namedVector
	for _, file := range files {
		data, err := os.ReadFile(file)
		require.NoError(t, err)
		v, err := parseVector(data)
		require.NoError(t, err, file)
		format := FormatAuthJS
		if v.lib == "v4" {
			format = FormatNextAuthV4
		}
		cfg := CodecConfig{Secrets: v.secrets, Salt: v.salt, Format: format, Now: fixedClock(v.now)}
		c, err := NewCodec(cfg)
		require.NoError(t, err)
		cfg.Now = nil // comparable below; the vector's time is in codec
		name := strings.TrimSuffix(filepath.Base(file), ".txt")
		out = append(out, namedVector{name, cfg, c, v.token, v.expect == "success"})
	}
	return out
}

// sealWith encrypts payload under a codec's key i with the given enc and,
// when withKid, that key's thumbprint: the four header forms.
func sealWith(t testing.TB, c *Codec, i int, enc jose.ContentEncryption, withKid bool, payload string) string {
	t.Helper()
	key, kid := c.keys[i].gcm, c.keys[i].gcmKid
	if enc == jose.A256CBC_HS512 {
		key, kid = c.keys[i].cbc, c.keys[i].cbcKid
	}
	if !withKid {
		kid = ""
	}
	return jweSeal(t, jose.DIRECT, enc, key, kid, nil, payload)
}

// diffPayloads reach every claims rule after decryption.
var diffPayloads = []string{
	`{"sub":"user-1","name":"Ada","role":"admin","iat":1799990000,"exp":1900000000,"jti":"j"}`,
	`{"sub":"user-1","exp":1700000000}`,
	`{"exp":1900000000,"nbf":1850000000}`,
	`{"exp":"1900000000"}`,
	`{"sub":"s"}`,
	"{\"exp\":1900000000,\"name\":\"\xff\"}",
	``,
	`[1]`,
	`{"exp":1900000000,"big":` + strings.Repeat("1", 3000) + `}`,
}

// baseTokens are valid and invalid tokens in every header form, sealed
// under the keys of the "authjs rotated" and "v4" codecs and a foreign key.
func baseTokens(t testing.TB) []string {
	t.Helper()
	sealers := []*Codec{
		newTestCodec(t, CodecConfig{Secrets: []string{"diff-new", "diff-secret"}}),
		newTestCodec(t, CodecConfig{Secrets: []string{"diff-secret"}, Format: FormatNextAuthV4}),
		newTestCodec(t, CodecConfig{Secrets: []string{"diff-foreign"}}),
	}
	var tokens []string
	for _, c := range sealers {
		for i := range c.keys {
			for _, payload := range diffPayloads {
				tokens = append(tokens, sealWith(t, c, i, jose.A256GCM, false, payload))
				if c.format == FormatAuthJS {
					tokens = append(tokens,
						sealWith(t, c, i, jose.A256CBC_HS512, true, payload),
						sealWith(t, c, i, jose.A256CBC_HS512, false, payload),
						sealWith(t, c, i, jose.A256GCM, true, payload))
				}
			}
		}
		tok, err := c.Encode(&Token{Subject: "encoded"})
		require.NoError(t, err)
		tokens = append(tokens, tok)
	}
	for _, v := range goldenVectors(t) {
		tokens = append(tokens, v.token)
	}
	return tokens
}

var b64url = base64.RawURLEncoding

const b64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// mutate returns a variation of token: most keep the header, so that the
// fast path's handling of the rest is what is compared.
func mutate(r *rand.Rand, token string, headers []string) string {
	p := strings.Split(token, ".")
	if len(p) != 5 {
		return token + "."
	}
	seg := 2 + r.IntN(3)
	recode := func(f func(iv, ct, tag []byte) ([]byte, []byte, []byte)) string {
		iv, _ := b64url.DecodeString(p[2])
		ct, _ := b64url.DecodeString(p[3])
		tag, _ := b64url.DecodeString(p[4])
		iv, ct, tag = f(iv, ct, tag)
		return strings.Join([]string{p[0], p[1], b64url.EncodeToString(iv), b64url.EncodeToString(ct), b64url.EncodeToString(tag)}, ".")
	}
	randBytes := func() []byte {
		b := make([]byte, r.IntN(40))
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return b
	}
	switch r.IntN(11) {
	case 0: // one character of IV, ciphertext or tag
		if p[seg] == "" {
			return token
		}
		b := []byte(p[seg])
		b[r.IntN(len(b))] = b64Alphabet[r.IntN(64)]
		p[seg] = string(b)
	case 1: // a character deleted or inserted anywhere
		i := r.IntN(len(token))
		if r.IntN(2) == 0 {
			return token[:i] + token[i+1:]
		}
		return token[:i] + string((b64Alphabet + ".")[r.IntN(65)]) + token[i:]
	case 2: // truncated
		return token[:r.IntN(len(token))]
	case 3: // bytes moved between ciphertext and tag
		n := 1 + r.IntN(3)
		return recode(func(iv, ct, tag []byte) ([]byte, []byte, []byte) {
			if r.IntN(2) == 0 && len(ct) >= n {
				return iv, ct[:len(ct)-n], append(append([]byte{}, ct[len(ct)-n:]...), tag...)
			}
			if len(tag) >= n {
				return iv, append(append([]byte{}, ct...), tag[:n]...), tag[n:]
			}
			return iv, ct, tag
		})
	case 4: // IV or tag replaced by random bytes of any length
		return recode(func(iv, ct, tag []byte) ([]byte, []byte, []byte) {
			if r.IntN(2) == 0 {
				return randBytes(), ct, tag
			}
			return iv, ct, randBytes()
		})
	case 5: // another header on this body
		p[0] = headers[r.IntN(len(headers))]
	case 6: // non-canonical last character of a segment
		if n := len(p[seg]); n%4 == 2 || n%4 == 3 {
			c := p[seg][n-1]
			p[seg] = p[seg][:n-1] + string(b64Alphabet[strings.IndexByte(b64Alphabet, c)^1])
		}
	case 7: // an encrypted key
		p[1] = "AAAA"
	case 8: // a segment dropped or added
		if r.IntN(2) == 0 {
			return strings.Join(append(p[:seg:seg], p[seg+1:]...), ".")
		}
		return token + ".AAAA"
	case 9: // characters outside base64url
		i := r.IntN(len(token))
		return token[:i] + string("=+/ \n\r\x00\xff"[r.IntN(8)]) + token[i:]
	default: // ciphertext blocks reordered or dropped
		return recode(func(iv, ct, tag []byte) ([]byte, []byte, []byte) {
			if len(ct) >= 32 {
				if r.IntN(2) == 0 {
					return iv, append(append([]byte{}, ct[16:32]...), ct[:16]...), tag
				}
				return iv, ct[16:], tag
			}
			return iv, ct, tag
		})
	}
	return strings.Join(p, ".")
}

// knownHeaders are the header segments the codecs route, and a few they do not.
func knownHeaders(codecs []diffCodec) []string {
	seen := map[string]bool{}
	var out []string
	for _, dc := range codecs {
		for _, r := range dc.fast.fastRoutes() {
			h := b64url.EncodeToString([]byte(r.Header()))
			if !seen[h] {
				seen[h] = true
				out = append(out, h)
			}
		}
	}
	return append(out,
		b64url.EncodeToString([]byte(`{"alg":"dir","enc":"A256GCM","kid":"x"}`)),
		b64url.EncodeToString([]byte(`{"enc":"A256GCM","alg":"dir"}`)),
		b64url.EncodeToString([]byte(`{"alg":"dir","enc":"A128GCM"}`)))
}

// TestDecodeFastPathMatchesGoJose is the differential test: valid tokens of
// both formats with and without kid, rotated secrets, wrong keys, every
// claims failure, golden vectors, thousands of mutations of them and random
// tokens under known headers, each decoded by the fast and the general path
// of every codec.
func TestDecodeFastPathMatchesGoJose(t *testing.T) {
	codecs := diffCodecs(t)
	headers := knownHeaders(codecs)
	r := rand.New(rand.NewPCG(12, 0))
	mutations := 12
	if testing.Short() {
		mutations = 2
	}
	tokens := baseTokens(t)
	for _, base := range tokens[:len(tokens):len(tokens)] {
		for range mutations {
			tokens = append(tokens, mutate(r, base, headers))
		}
	}
	for range 300 { // random segments under a known header
		seg := func() string {
			b := make([]byte, r.IntN(600))
			for i := range b {
				b[i] = byte(r.Uint32())
			}
			return b64url.EncodeToString(b)
		}
		tokens = append(tokens, strings.Join([]string{headers[r.IntN(len(headers))], "", seg(), seg(), seg()}, "."))
	}

	var fastTaken, fastOpened int
	for _, token := range tokens {
		for _, dc := range codecs {
			fastTok, fastErr := dc.fast.Decode(token)
			genTok, genErr := dc.general.Decode(token)
			if diff := sameOutcome(fastTok, fastErr, genTok, genErr); diff != "" {
				t.Fatalf("%s: %s\ntoken %q", dc.name, diff, token)
			}
			if checkCompactShape(token) == nil {
				if _, known, err := dc.fast.fast.Open(token); known {
					fastTaken++
					if err == nil {
						fastOpened++
					}
				}
			}
		}
	}
	t.Logf("%d tokens × %d codecs; the fast path took %d and opened %d", len(tokens), len(codecs), fastTaken, fastOpened)
	// The comparison means something only if the fast path did the work.
	assert.Greater(t, fastTaken, len(tokens))
	assert.Greater(t, fastOpened, 100)
}

// TestFastPathTakesLibraryHeaders: the header bytes the real libraries
// write (the golden vectors, made by @auth/core, next-auth v4 and the jose
// they use) take the fast path; the vectors that must not do not.
func TestFastPathTakesLibraryHeaders(t *testing.T) {
	notRouted := map[string]bool{
		"v5-malformed-alg": true, // alg A256KW
		"v5-wrong-secret":  true, // a kid of no configured secret
	}
	vectors := goldenVectors(t)
	require.GreaterOrEqual(t, len(vectors), minVectors)
	for _, v := range vectors {
		_, known, err := v.codec.fast.Open(v.token)
		assert.Equal(t, !notRouted[v.name], known, v.name)
		if v.valid {
			assert.NoError(t, err, v.name)
		}
	}
}

// TestDecodeForgedTokenAllocatesNothing: a token whose tag does not verify
// costs no allocation, whatever its header form.
func TestDecodeForgedTokenAllocatesNothing(t *testing.T) {
	if testenv.Race {
		t.Skip("allocation counts are meaningless under the race detector")
	}
	v5 := newTestCodec(t, CodecConfig{Secrets: []string{"diff-new", "diff-secret"}})
	v4 := newTestCodec(t, CodecConfig{Secrets: []string{"diff-new", "diff-secret"}, Format: FormatNextAuthV4})
	const payload = `{"sub":"user-1","exp":1900000000}`
	for name, tc := range map[string]struct {
		c     *Codec
		token string
	}{
		"cbc kid":     {v5, sealWith(t, v5, 1, jose.A256CBC_HS512, true, payload)},
		"cbc no kid":  {v5, sealWith(t, v5, 1, jose.A256CBC_HS512, false, payload)},
		"gcm no kid":  {v5, sealWith(t, v5, 1, jose.A256GCM, false, payload)},
		"gcm kid":     {v5, sealWith(t, v5, 1, jose.A256GCM, true, payload)},
		"next-auth 4": {v4, sealWith(t, v4, 1, jose.A256GCM, false, payload)},
	} {
		_, err := tc.c.Decode(tc.token)
		require.NoError(t, err, name)
		forged := flipTag(tc.token)
		_, err = tc.c.Decode(forged)
		require.ErrorIs(t, err, ErrDecrypt, name)
		assert.Zero(t, testing.AllocsPerRun(50, func() { _, _ = tc.c.Decode(forged) }), name)
	}
}

// FuzzDecodeFastPath is the differential test driven by the fuzzer, seeded
// with the golden vectors and every header form.
func FuzzDecodeFastPath(f *testing.F) {
	codecs := diffCodecs(f)
	for _, token := range baseTokens(f) {
		f.Add(token)
	}
	f.Fuzz(func(t *testing.T, token string) {
		for _, dc := range codecs {
			fastTok, fastErr := dc.fast.Decode(token)
			genTok, genErr := dc.general.Decode(token)
			if diff := sameOutcome(fastTok, fastErr, genTok, genErr); diff != "" {
				t.Fatalf("%s: %s", dc.name, diff)
			}
		}
	})
}

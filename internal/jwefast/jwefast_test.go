package jwefast

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha512"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"os"
	"strings"
	"sync"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
	josecipher "github.com/go-jose/go-jose/v4/cipher"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeauth/edgeauth/internal/testenv"
)

var b64 = base64.RawURLEncoding

// testKeys are two keys of each size; kids are arbitrary base64url strings.
var (
	cbcKey1 = bytes.Repeat([]byte{1}, 64)
	cbcKey2 = bytes.Repeat([]byte{2}, 64)
	gcmKey1 = bytes.Repeat([]byte{3}, 32)
	gcmKey2 = bytes.Repeat([]byte{4}, 32)
)

func testOpener(t testing.TB) *Opener {
	t.Helper()
	o, err := New([]Route{
		{Enc: A256CBCHS512, Kid: "cbc-1", Keys: [][]byte{cbcKey1}},
		{Enc: A256CBCHS512, Kid: "cbc-2", Keys: [][]byte{cbcKey2}},
		{Enc: A256GCM, Kid: "gcm-1", Keys: [][]byte{gcmKey1}},
		{Enc: A256CBCHS512, Keys: [][]byte{cbcKey1, cbcKey2}},
		{Enc: A256GCM, Keys: [][]byte{gcmKey1, gcmKey2}},
	})
	require.NoError(t, err)
	return o
}

// seal is go-jose's compact serialization: the reference the routes' header
// bytes must match.
func seal(t testing.TB, enc jose.ContentEncryption, key []byte, kid, payload string) string {
	t.Helper()
	e, err := jose.NewEncrypter(enc, jose.Recipient{Algorithm: jose.DIRECT, Key: key, KeyID: kid}, nil)
	require.NoError(t, err)
	obj, err := e.Encrypt([]byte(payload))
	require.NoError(t, err)
	s, err := obj.CompactSerialize()
	require.NoError(t, err)
	return s
}

// goJoseOpen is what the general path does with a route's keys: go-jose,
// given a tag of exactly the algorithm's length.
func goJoseOpen(token string, keys [][]byte) ([]byte, error) {
	obj, err := jose.ParseEncryptedCompact(token, []jose.KeyAlgorithm{jose.DIRECT},
		[]jose.ContentEncryption{jose.A256CBC_HS512, jose.A256GCM})
	if err != nil {
		return nil, err
	}
	tagSize := 16
	if h, _ := b64.DecodeString(token[:strings.IndexByte(token, '.')]); bytes.Contains(h, []byte(`"A256CBC-HS512"`)) {
		tagSize = 32
	}
	if tag, err := b64.DecodeString(token[strings.LastIndexByte(token, '.')+1:]); err != nil || len(tag) != tagSize {
		return nil, ErrDecrypt
	}
	for _, k := range keys {
		if p, err := obj.Decrypt(k); err == nil {
			return p, nil
		}
	}
	return nil, ErrDecrypt
}

func TestRouteHeaderIsGoJoseHeader(t *testing.T) {
	for _, tc := range []struct {
		enc jose.ContentEncryption
		key []byte
		r   Route
	}{
		{jose.A256CBC_HS512, cbcKey1, Route{Enc: A256CBCHS512, Kid: "cbc-1"}},
		{jose.A256CBC_HS512, cbcKey1, Route{Enc: A256CBCHS512}},
		{jose.A256GCM, gcmKey1, Route{Enc: A256GCM, Kid: "gcm-1"}},
		{jose.A256GCM, gcmKey1, Route{Enc: A256GCM}},
	} {
		token := seal(t, tc.enc, tc.key, tc.r.Kid, "{}")
		assert.Equal(t, b64.EncodeToString([]byte(tc.r.Header())), token[:strings.IndexByte(token, '.')])
	}
}

func TestNewRejects(t *testing.T) {
	for name, r := range map[string]Route{
		"unknown enc":   {Enc: Enc(7), Keys: [][]byte{gcmKey1}},
		"short key":     {Enc: A256CBCHS512, Keys: [][]byte{gcmKey1}},
		"long key":      {Enc: A256GCM, Keys: [][]byte{cbcKey1}},
		"kid to escape": {Enc: A256GCM, Kid: `a"b`, Keys: [][]byte{gcmKey1}},
	} {
		_, err := New([]Route{r})
		assert.Error(t, err, name)
	}
}

func TestOpenMatchesGoJose(t *testing.T) {
	o := testOpener(t)
	const payload = `{"sub":"user-1","exp":1900000000}`
	cases := []struct {
		name  string
		token string
		keys  [][]byte // the route's keys, for go-jose
	}{
		{"cbc kid 1", seal(t, jose.A256CBC_HS512, cbcKey1, "cbc-1", payload), [][]byte{cbcKey1}},
		{"cbc kid 2", seal(t, jose.A256CBC_HS512, cbcKey2, "cbc-2", payload), [][]byte{cbcKey2}},
		{"cbc kid names the other key", seal(t, jose.A256CBC_HS512, cbcKey2, "cbc-1", payload), [][]byte{cbcKey1}},
		{"cbc no kid, first key", seal(t, jose.A256CBC_HS512, cbcKey1, "", payload), [][]byte{cbcKey1, cbcKey2}},
		{"cbc no kid, second key", seal(t, jose.A256CBC_HS512, cbcKey2, "", payload), [][]byte{cbcKey1, cbcKey2}},
		{"cbc no kid, unknown key", seal(t, jose.A256CBC_HS512, bytes.Repeat([]byte{9}, 64), "", payload), [][]byte{cbcKey1, cbcKey2}},
		{"cbc empty payload", seal(t, jose.A256CBC_HS512, cbcKey1, "cbc-1", ""), [][]byte{cbcKey1}},
		{"cbc one block", seal(t, jose.A256CBC_HS512, cbcKey1, "cbc-1", "0123456789abcdef"), [][]byte{cbcKey1}},
		{"gcm kid", seal(t, jose.A256GCM, gcmKey1, "gcm-1", payload), [][]byte{gcmKey1}},
		{"gcm no kid, second key", seal(t, jose.A256GCM, gcmKey2, "", payload), [][]byte{gcmKey1, gcmKey2}},
		{"gcm no kid, unknown key", seal(t, jose.A256GCM, bytes.Repeat([]byte{9}, 32), "", payload), [][]byte{gcmKey1, gcmKey2}},
		{"gcm empty payload", seal(t, jose.A256GCM, gcmKey1, "", ""), [][]byte{gcmKey1, gcmKey2}},
		// Scratch larger than the pool keeps.
		{"cbc large", seal(t, jose.A256CBC_HS512, cbcKey2, "", strings.Repeat("l", 40<<10)), [][]byte{cbcKey1, cbcKey2}},
		{"gcm large", seal(t, jose.A256GCM, gcmKey2, "", strings.Repeat("l", 40<<10)), [][]byte{gcmKey1, gcmKey2}},
	}
	for _, tc := range cases {
		for name, token := range mutations(tc.token) {
			t.Run(tc.name+"/"+name, func(t *testing.T) {
				want, wantErr := goJoseOpen(token, tc.keys)
				got, known, err := o.Open(token)
				require.True(t, known)
				if wantErr != nil {
					assert.Error(t, err)
					assert.Nil(t, got)
					return
				}
				require.NoError(t, err)
				assert.Equal(t, string(want), string(got))
				assert.NotNil(t, got, "an empty plaintext is not nil")
			})
		}
	}
}

// mutations are token and spellings of it that keep the header and the
// shape (five canonical segments), so that only the cryptography decides.
func mutations(token string) map[string]string {
	p := strings.Split(token, ".")
	dec := func(s string) []byte { b, _ := b64.DecodeString(s); return b }
	iv, ct, tag := dec(p[2]), dec(p[3]), dec(p[4])
	join := func(iv, ct, tag []byte) string {
		return strings.Join([]string{p[0], "", b64.EncodeToString(iv), b64.EncodeToString(ct), b64.EncodeToString(tag)}, ".")
	}
	flip := func(b []byte, i int) []byte {
		b = bytes.Clone(b)
		b[i] ^= 1
		return b
	}
	out := map[string]string{"as sealed": token}
	if len(ct) > 0 {
		// go-jose alone would open these: it takes ciphertext||tag as one.
		out["ciphertext byte moved into tag"] = join(iv, ct[:len(ct)-1], append([]byte{ct[len(ct)-1]}, tag...))
		out["ciphertext flipped"] = join(iv, flip(ct, 0), tag)
		out["ciphertext truncated"] = join(iv, ct[:len(ct)-1], tag)
	}
	out["tag byte moved into ciphertext"] = join(iv, append(bytes.Clone(ct), tag[0]), tag[1:])
	out["tag flipped first"] = join(iv, ct, flip(tag, 0))
	out["tag flipped last"] = join(iv, ct, flip(tag, len(tag)-1))
	out["tag empty"] = join(iv, ct, nil)
	out["tag extended"] = join(iv, ct, append(bytes.Clone(tag), 0))
	out["iv flipped"] = join(flip(iv, 0), ct, tag)
	out["iv short"] = join(iv[1:], ct, tag)
	out["iv long"] = join(append(bytes.Clone(iv), 0), ct, tag)
	out["iv empty"] = join(nil, ct, tag)
	out["everything empty"] = join(nil, nil, nil)
	out["ciphertext and tag swapped"] = join(iv, tag, ct)
	return out
}

func TestOpenUnknownAndMalformed(t *testing.T) {
	o := testOpener(t)
	valid := seal(t, jose.A256CBC_HS512, cbcKey1, "cbc-1", "{}")
	p := strings.Split(valid, ".")
	for _, token := range []string{
		"",
		"no dots",
		p[0],
		seal(t, jose.A256CBC_HS512, cbcKey1, "other", "{}"),
		seal(t, jose.A256GCM, gcmKey1, "cbc-1", "{}"), // a CBC kid on a GCM header
		b64.EncodeToString([]byte(`{"enc":"A256CBC-HS512","alg":"dir","kid":"cbc-1"}`)) + "." + strings.Join(p[1:], "."),
		b64.EncodeToString([]byte(`{"alg":"dir","enc":"A256CBC-HS512","kid":"cbc-1"} `)) + "." + strings.Join(p[1:], "."),
		"." + strings.Join(p[1:], "."),
	} {
		got, known, err := o.Open(token)
		assert.False(t, known, token)
		assert.NoError(t, err)
		assert.Nil(t, got)
	}
	for _, token := range []string{
		p[0] + ".",
		p[0] + "..",
		p[0] + "...",
		strings.Join(p[:4], "."),
		valid + ".",
		valid + ".x",
		p[0] + ".AAAA." + strings.Join(p[2:], "."),
		p[0] + "..!!!!." + strings.Join(p[3:], "."),
		p[0] + ".." + p[2] + ".A." + p[4],
		valid[:len(valid)-1] + "=",
		strings.Replace(valid, "..", "..+", 1),
		valid[:len(valid)-1] + "\n" + valid[len(valid)-1:],
		strings.Replace(valid, "..", "..\r", 1),
	} {
		got, known, err := o.Open(token)
		assert.True(t, known, token)
		assert.ErrorIs(t, err, ErrMalformed, token)
		assert.Nil(t, got)
	}
}

// rfc7518B3 reads the Appendix B.3 known-answer vector.
func rfc7518B3(t *testing.T) map[string][]byte {
	t.Helper()
	data, err := os.ReadFile("testdata/rfc7518-b3.txt")
	require.NoError(t, err)
	v := map[string][]byte{}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		name, value, ok := strings.Cut(line, ": ")
		require.True(t, ok, line)
		v[name], err = hex.DecodeString(value)
		require.NoError(t, err, name)
	}
	for _, name := range []string{"K", "P", "IV", "A", "E", "T"} {
		require.NotEmpty(t, v[name], name)
	}
	return v
}

func TestRFC7518AppendixB3(t *testing.T) {
	v := rfc7518B3(t)
	k, err := newKey(A256CBCHS512, v["K"])
	require.NoError(t, err)
	s := &scratch{macs: make([]hash.Hash, 1), cbcs: make([]cipher.BlockMode, 1)}
	open := func(iv, e, tag, a []byte) ([]byte, bool) {
		return k.openCBC(s, 0, iv, append(bytes.Clone(e), tag...), len(tag), a)
	}

	p, ok := open(v["IV"], v["E"], v["T"], v["A"])
	require.True(t, ok)
	assert.Equal(t, v["P"], p)

	// The vector as go-jose seals it, so both implementations agree on it.
	aead, err := josecipher.NewCBCHMAC(v["K"], aes.NewCipher)
	require.NoError(t, err)
	assert.Equal(t, append(bytes.Clone(v["E"]), v["T"]...), aead.Seal(nil, v["IV"], v["P"], v["A"]))

	// Any flipped bit anywhere fails.
	for _, name := range []string{"IV", "E", "T", "A"} {
		for i := range len(v[name]) * 8 {
			m := map[string][]byte{"IV": v["IV"], "E": v["E"], "T": v["T"], "A": v["A"]}
			m[name] = bytes.Clone(v[name])
			m[name][i/8] ^= 1 << (i % 8)
			_, ok := open(m["IV"], m["E"], m["T"], m["A"])
			require.False(t, ok, "%s bit %d", name, i)
		}
	}
}

// sealBlocks encrypts already padded (or deliberately mispadded) blocks
// and tags them correctly, to reach the padding check behind the tag.
func sealBlocks(key, iv, blocks, aad []byte) (ciphertext, tag []byte) {
	block, _ := aes.NewCipher(key[32:])
	ciphertext = make([]byte, len(blocks))
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(ciphertext, blocks)
	mac := hmac.New(sha512.New, key[:32])
	mac.Write(aad)
	mac.Write(iv)
	mac.Write(ciphertext)
	mac.Write(binary.BigEndian.AppendUint64(nil, uint64(len(aad))*8))
	return ciphertext, mac.Sum(nil)[:32]
}

func TestPaddingEveryByte(t *testing.T) {
	k, err := newKey(A256CBCHS512, cbcKey1)
	require.NoError(t, err)
	s := &scratch{macs: make([]hash.Hash, 1), cbcs: make([]cipher.BlockMode, 1)}
	iv, aad := bytes.Repeat([]byte{7}, 16), []byte("aad")
	try := func(blocks []byte) ([]byte, bool) {
		ct, tag := sealBlocks(cbcKey1, iv, blocks, aad)
		return k.openCBC(s, 0, iv, append(ct, tag...), len(tag), aad)
	}
	for pad := 1; pad <= 16; pad++ {
		blocks := append(bytes.Repeat([]byte{'x'}, 32-pad), bytes.Repeat([]byte{byte(pad)}, pad)...)
		p, ok := try(blocks)
		require.True(t, ok, "pad %d", pad)
		assert.Equal(t, bytes.Repeat([]byte{'x'}, 32-pad), p)
		assert.Equal(t, len(p), cap(p), "appending to the plaintext must not expose the padding")
		for i := 32 - pad; i < 31; i++ {
			bad := bytes.Clone(blocks)
			bad[i] ^= 0x40
			_, ok := try(bad)
			assert.False(t, ok, "pad %d, byte %d wrong", pad, i)
		}
	}
	for name, last := range map[string]byte{"zero": 0, "seventeen": 17, "255": 255} {
		blocks := append(bytes.Repeat([]byte{last}, 31), last)
		_, ok := try(blocks)
		assert.False(t, ok, name)
	}
	// A 32-byte pad value in a 16-byte plaintext is longer than the text.
	_, ok := try(bytes.Repeat([]byte{32}, 16))
	assert.False(t, ok)
	// The tag verifies but there is no block at all.
	_, ok = try(nil)
	assert.False(t, ok)
}

func TestForgedTokensDoNotAllocate(t *testing.T) {
	if testenv.Race {
		t.Skip("allocation counts are meaningless under the race detector")
	}
	o := testOpener(t)
	for _, token := range []string{
		seal(t, jose.A256CBC_HS512, cbcKey1, "cbc-1", strings.Repeat("x", 500)),
		seal(t, jose.A256CBC_HS512, cbcKey1, "", strings.Repeat("x", 500)),
		seal(t, jose.A256GCM, gcmKey1, "", strings.Repeat("x", 500)),
		seal(t, jose.A256GCM, gcmKey1, "gcm-1", strings.Repeat("x", 500)),
	} {
		p := strings.Split(token, ".")
		forged := strings.Join(p[:4], ".") + "." + b64.EncodeToString(make([]byte, len(p[4])*3/4))
		_, _, err := o.Open(forged)
		require.ErrorIs(t, err, ErrDecrypt)
		assert.Zero(t, testing.AllocsPerRun(100, func() { _, _, _ = o.Open(forged) }), "forged")
		// A valid token allocates its plaintext and nothing else.
		assert.Equal(t, 1.0, testing.AllocsPerRun(100, func() { _, _, _ = o.Open(token) }), "valid")
	}
}

// TestOpenConcurrent shares one Opener between goroutines; under -race it
// checks that the pooled HMAC and CBC state are never shared by two calls.
func TestOpenConcurrent(t *testing.T) {
	o := testOpener(t)
	tokens := map[string]string{}
	for i := range 8 {
		payload := fmt.Sprintf(`{"n":%d}`, i)
		tokens[seal(t, jose.A256CBC_HS512, [][]byte{cbcKey1, cbcKey2}[i%2], "", payload)] = payload
		tokens[seal(t, jose.A256GCM, [][]byte{gcmKey1, gcmKey2}[i%2], "", payload)] = payload
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 50 {
				for token, want := range tokens {
					got, _, err := o.Open(token)
					if err != nil || string(got) != want {
						t.Errorf("got %q, %v; want %q", got, err, want)
						return
					}
				}
			}
		})
	}
	wg.Wait()
}

// FuzzOpen feeds arbitrary tokens to Open: it must not panic, must claim
// exactly the routes' headers, and must never open what go-jose does not.
func FuzzOpen(f *testing.F) {
	o := testOpener(f)
	headers := map[string]bool{}
	for _, r := range []Route{{Enc: A256CBCHS512, Kid: "cbc-1"}, {Enc: A256CBCHS512, Kid: "cbc-2"},
		{Enc: A256GCM, Kid: "gcm-1"}, {Enc: A256CBCHS512}, {Enc: A256GCM}} {
		headers[b64.EncodeToString([]byte(r.Header()))] = true
	}
	for _, token := range []string{
		seal(f, jose.A256CBC_HS512, cbcKey1, "cbc-1", `{"a":1}`),
		seal(f, jose.A256CBC_HS512, cbcKey2, "", `{"a":1}`),
		seal(f, jose.A256GCM, gcmKey1, "gcm-1", `{"a":1}`),
		seal(f, jose.A256GCM, gcmKey2, "", ``),
	} {
		for _, m := range mutations(token) {
			f.Add(m)
		}
	}
	allKeys := map[Enc][][]byte{A256CBCHS512: {cbcKey1, cbcKey2}, A256GCM: {gcmKey1, gcmKey2}}
	f.Fuzz(func(t *testing.T, token string) {
		got, known, err := o.Open(token)
		header, _, dot := strings.Cut(token, ".")
		if known != (dot && headers[header]) {
			t.Fatalf("known = %v for header %q", known, header)
		}
		if !known || err != nil {
			if got != nil {
				t.Fatal("plaintext with an error")
			}
			return
		}
		enc := A256GCM
		if h, _ := b64.DecodeString(header); bytes.Contains(h, []byte("CBC")) {
			enc = A256CBCHS512
		}
		want, err := goJoseOpen(token, allKeys[enc])
		if err != nil || !bytes.Equal(want, got) {
			t.Fatalf("opened %q; go-jose: %q, %v", got, want, err)
		}
		// What Open opens needs no shape check: five canonical segments.
		segments := strings.Split(token, ".")
		if len(segments) != 5 || segments[1] != "" {
			t.Fatalf("opened a token of %d segments", len(segments))
		}
		for _, seg := range segments[2:] {
			raw, err := b64.DecodeString(seg)
			if err != nil || b64.EncodeToString(raw) != seg {
				t.Fatalf("opened a non-canonical segment %q", seg)
			}
		}
	})
}

// The bench payload is the size of a typical Auth.js session.
func benchCBC(b *testing.B) (o *Opener, token string) {
	b.Helper()
	o = testOpener(b)
	return o, seal(b, jose.A256CBC_HS512, cbcKey1, "cbc-1", strings.Repeat("x", 420))
}

// BenchmarkOpen is the fast path alone: routing, base64, HMAC-SHA-512,
// AES-256-CBC and the plaintext allocation.
func BenchmarkOpen(b *testing.B) {
	o, token := benchCBC(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := o.Open(token); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpenForged is a token whose tag does not verify.
func BenchmarkOpenForged(b *testing.B) {
	o, token := benchCBC(b)
	i := strings.LastIndexByte(token, '.') + 1
	first := "A" // a different first character of the tag
	if token[i] == 'A' {
		first = "B"
	}
	forged := token[:i] + first + token[i+1:]
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := o.Open(forged); err == nil {
			b.Fatal("opened")
		}
	}
}

// BenchmarkGoJoseAEAD is the same decryption with go-jose's own
// A256CBC-HS512 AEAD, built once per key as Open builds its state, and the
// base64 decoding Open does: the alternative to composing RFC 7518 §5.2 from
// the standard library.
func BenchmarkGoJoseAEAD(b *testing.B) {
	_, token := benchCBC(b)
	aead, err := josecipher.NewCBCHMAC(cbcKey1, aes.NewCipher)
	if err != nil {
		b.Fatal(err)
	}
	p := strings.Split(token, ".")
	aad := []byte(p[0])
	b.ReportAllocs()
	for b.Loop() {
		iv, _ := b64.DecodeString(p[2])
		ct, _ := b64.DecodeString(p[3])
		tag, _ := b64.DecodeString(p[4])
		if _, err := aead.Open(nil, iv, append(ct, tag...), aad); err != nil {
			b.Fatal(err)
		}
	}
}

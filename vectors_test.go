package edgeauth

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The golden vectors in testdata/vectors are written by the real Auth.js
// libraries (testdata/authjs/gen-vectors.mjs); this test needs no Node.
const vectorsDir = "testdata/vectors"

// minVectors guards against a deleted or emptied directory passing vacuously.
const minVectors = 12

type goldenVector struct {
	lib     string
	origin  string
	secrets []string
	salt    string
	hasSalt bool
	now     int64
	expect  string
	claims  string
	token   string
}

var vectorExpectations = map[string]error{
	"success":            nil,
	"expired":            ErrExpired,
	"no matching secret": ErrNoMatchingSecret,
	"decryption failed":  ErrDecrypt,
	"malformed":          ErrMalformed,
	"invalid claims":     ErrInvalidClaims,
}

// parseVector reads a header of "key: value" lines, a blank line, then the
// token alone on the last line. Unknown or repeated keys are errors so that a
// typo cannot silently change what a vector tests.
func parseVector(data []byte) (*goldenVector, error) {
	head, body, ok := strings.Cut(string(data), "\n\n")
	if !ok {
		return nil, errors.New("no blank line after the header")
	}
	v := &goldenVector{token: strings.TrimSuffix(body, "\n")}
	if v.token == "" || strings.ContainsAny(v.token, "\n\r ") {
		return nil, errors.New("the body must be one token on one line")
	}
	seen := map[string]bool{}
	for _, line := range strings.Split(head, "\n") {
		key, value, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("header line %q is not key: value", line)
		}
		value = strings.TrimPrefix(value, " ")
		if key != "secret" && seen[key] {
			return nil, fmt.Errorf("header %q repeated", key)
		}
		seen[key] = true
		switch key {
		case "lib":
			v.lib = value
		case "origin":
			v.origin = value
		case "description":
		case "secret":
			v.secrets = append(v.secrets, value)
		case "salt":
			v.salt, v.hasSalt = value, true
		case "now":
			n, err := strconv.ParseInt(value, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("now: %w", err)
			}
			v.now = n
		case "expect":
			v.expect = value
		case "claims":
			v.claims = value
		default:
			return nil, fmt.Errorf("unknown header %q", key)
		}
	}
	switch {
	case v.lib != "v5" && v.lib != "v4":
		return nil, fmt.Errorf("lib %q", v.lib)
	case v.origin == "":
		return nil, errors.New("origin missing")
	case len(v.secrets) == 0:
		return nil, errors.New("secret missing")
	case !v.hasSalt:
		return nil, errors.New("salt missing")
	case v.now == 0:
		return nil, errors.New("now missing")
	}
	if _, ok := vectorExpectations[v.expect]; !ok {
		return nil, fmt.Errorf("expect %q", v.expect)
	}
	if (v.expect == "success") != (v.claims != "") {
		return nil, errors.New("claims is required for success and only for success")
	}
	return v, nil
}

func vectorFiles(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir(vectorsDir)
	require.NoError(t, err)
	var files []string
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".txt") {
			files = append(files, e.Name())
		}
	}
	return files
}

// exactJSON decodes a JSON object keeping numbers as written, so that a big
// integer or a float that lost precision shows up as a difference.
func exactJSON(t *testing.T, raw []byte) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	require.NoError(t, dec.Decode(&m), "%s", raw)
	return m
}

func TestVectors(t *testing.T) {
	for _, name := range vectorFiles(t) {
		t.Run(strings.TrimSuffix(name, ".txt"), func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(vectorsDir, name))
			require.NoError(t, err)
			v, err := parseVector(data)
			require.NoError(t, err)

			format := FormatAuthJS
			if v.lib == "v4" {
				format = FormatNextAuthV4
			}
			salt := v.salt
			if format == FormatAuthJS {
				require.NotEmpty(t, salt, "an empty v5 salt would mean the default to NewCodec")
			}
			c, err := NewCodec(CodecConfig{Secrets: v.secrets, Salt: salt, Format: format, Now: fixedClock(v.now)})
			require.NoError(t, err)

			tok, err := c.Decode(v.token)
			want := vectorExpectations[v.expect]
			if want != nil {
				require.ErrorIs(t, err, want)
				require.ErrorIs(t, err, ErrInvalidToken)
				assert.Nil(t, tok)
				for _, s := range v.secrets {
					assert.NotContains(t, err.Error(), s)
				}
				return
			}
			require.NoError(t, err)
			raw, err := tok.MarshalJSON()
			require.NoError(t, err)
			assert.Equal(t, exactJSON(t, []byte(v.claims)), exactJSON(t, raw))

			// Re-encoding keeps every claim but iat/exp/jti.
			again, err := c.Encode(tok.Clone())
			require.NoError(t, err)
			back, err := c.Decode(again)
			require.NoError(t, err)
			got, want2 := claimsOf(t, back), claimsOf(t, tok)
			for _, k := range []string{"iat", "exp", "jti"} {
				delete(got, k)
				delete(want2, k)
			}
			assert.Equal(t, want2, got)
		})
	}
}

// TestVectorsPresent fails when the vectors are missing, so TestVectors cannot
// pass by iterating over nothing.
func TestVectorsPresent(t *testing.T) {
	files := vectorFiles(t)
	require.GreaterOrEqual(t, len(files), minVectors, "testdata/vectors lost its golden files")

	libs := map[string]int{}
	expects := map[string]int{}
	chunked := false
	for _, name := range files {
		data, err := os.ReadFile(filepath.Join(vectorsDir, name))
		require.NoError(t, err)
		v, err := parseVector(data)
		require.NoError(t, err, name)
		libs[v.lib]++
		expects[v.expect]++
		chunked = chunked || len(v.token) > 4096
	}
	assert.Positive(t, libs["v5"])
	assert.Positive(t, libs["v4"])
	for e := range vectorExpectations {
		assert.Positive(t, expects[e], "no vector expects %q", e)
	}
	assert.True(t, chunked, "no vector is larger than one 4096-byte cookie chunk")
}

func TestParseVectorRejects(t *testing.T) {
	const ok = "lib: v5\norigin: x\nsecret: s\nsalt: authjs.session-token\nnow: 1\nexpect: expired\n\neyJ.a.b.c.d\n"
	_, err := parseVector([]byte(ok))
	require.NoError(t, err)
	for name, in := range map[string]string{
		"no blank line":      strings.Replace(ok, "\n\n", "\n", 1),
		"unknown key":        strings.Replace(ok, "lib: v5", "lib: v5\nlibb: v5", 1),
		"repeated key":       strings.Replace(ok, "now: 1", "now: 1\nnow: 2", 1),
		"bad lib":            strings.Replace(ok, "lib: v5", "lib: v6", 1),
		"bad expect":         strings.Replace(ok, "expect: expired", "expect: expire", 1),
		"success, no claims": strings.Replace(ok, "expect: expired", "expect: success", 1),
		"no salt":            strings.Replace(ok, "salt: authjs.session-token\n", "", 1),
		"two tokens":         ok + "eyJ.a.b.c.d\n",
	} {
		_, err := parseVector([]byte(in))
		assert.Error(t, err, name)
	}
}

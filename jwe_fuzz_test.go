package edgeauth

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// FuzzDecode feeds arbitrary tokens to Decode: it must never panic, and every
// failure must be an ErrInvalidToken. Seeds are the golden and peer vectors.
func FuzzDecode(f *testing.F) {
	for _, dir := range []string{"testdata/vectors", "testdata/peers"} {
		_ = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return nil
			}
			for _, field := range strings.FieldsFunc(string(data), func(r rune) bool {
				return r == '"' || r == '\n' || r == ' ' || r == ':'
			}) {
				if strings.HasPrefix(field, "eyJ") {
					f.Add(field)
				}
			}
			return nil
		})
	}
	f.Add("")
	f.Add("....")
	f.Add("eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0....")
	codecs := []*Codec{
		newTestCodec(f, CodecConfig{Secrets: []string{"y0uR_SuP3r_s3cr37_$3cr3t", "test-secret"}}),
		newTestCodec(f, CodecConfig{Secrets: []string{"6dDnFiDpUlKlbJciCusuFKNYmcf4WpIigldzX/Wb/FA=", "super-secret-key"}, Format: FormatNextAuthV4}),
	}
	// The golden vectors' own secrets and salts, so that their tokens
	// decrypt and the fuzzer mutates from inside the claims too.
	seen := map[string]bool{}
	files, _ := filepath.Glob("testdata/vectors/*.txt")
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			continue
		}
		var cfg CodecConfig
		for _, line := range strings.Split(string(data), "\n") {
			key, value, _ := strings.Cut(line, ": ")
			switch key {
			case "lib":
				if value == "v4" {
					cfg.Format = FormatNextAuthV4
				}
			case "secret":
				cfg.Secrets = append(cfg.Secrets, value)
			case "salt":
				cfg.Salt = value
			case "now":
				unix, _ := strconv.ParseInt(value, 10, 64)
				cfg.Now = fixedClock(unix)
			}
		}
		id := fmt.Sprint(cfg.Format, cfg.Secrets, cfg.Salt)
		if len(cfg.Secrets) > 0 && !seen[id] && (cfg.Salt != "" || cfg.Format == FormatNextAuthV4) {
			seen[id] = true
			codecs = append(codecs, newTestCodec(f, cfg))
		}
	}
	// The seeds must reach the claims parser, or the fuzzer only ever
	// exercises decryption failures.
	decoded := 0
	for _, file := range files {
		data, _ := os.ReadFile(file)
		_, token, _ := strings.Cut(string(data), "\n\n")
		for _, c := range codecs {
			if _, err := c.Decode(strings.TrimSpace(token)); err == nil {
				decoded++
				break
			}
		}
	}
	if decoded < 8 {
		f.Fatalf("only %d golden vectors decode with the fuzz codecs", decoded)
	}
	f.Fuzz(func(t *testing.T, token string) {
		for _, c := range codecs {
			tok, err := c.Decode(token)
			if err != nil {
				if !errors.Is(err, ErrInvalidToken) {
					t.Fatalf("error outside ErrInvalidToken: %v", err)
				}
				if tok != nil {
					t.Fatal("token returned with an error")
				}
				continue
			}
			if tok.Expires.IsZero() {
				t.Fatal("accepted a token without exp")
			}
		}
	})
}

// FuzzClaims checks the claim scanner against encoding/json: for any object
// encoding/json accepts, Token sees the same members with the same values
// (the last of a repeated name, as JSON.parse), and nothing else.
func FuzzClaims(f *testing.F) {
	f.Add(`{"sub":"a","name":null,"x":{"y":[1,"}",{"z":"\""}]},"exp":1900000000}`)
	f.Add(`{"\u0073ub":"escaped","sub":"last","a\"b":1,"iat":1.5}`)
	f.Add(` { "role" : "admin" , "nested" : [ ] } `)
	f.Add(`{"iat":1.2,"exp":9999999999.5,"nbf":1e-7}`)
	f.Add(`{"iat":1.2345678912345}`)
	f.Add("{\"\xb8\":\"\",\"\x96\":[],\"sub\":\"\xff\"}")
	f.Fuzz(func(t *testing.T, payload string) {
		var want map[string]json.RawMessage
		wantErr := json.Unmarshal([]byte(payload), &want)
		var tok Token
		err := tok.UnmarshalJSON([]byte(payload))
		if wantErr != nil || want == nil {
			if err == nil {
				t.Fatalf("accepted what encoding/json rejects: %q", payload)
			}
			return
		}
		if err != nil {
			// Only the numeric-date rules are stricter than JSON.
			_, iat := want["iat"]
			_, exp := want["exp"]
			_, nbf := want["nbf"]
			if !(iat || exp || nbf) || !errors.Is(err, ErrInvalidClaims) {
				t.Fatalf("rejected a valid claim set without numeric dates: %v (%q)", err, payload)
			}
			return
		}
		got, err := tok.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		var have map[string]json.RawMessage
		if err := json.Unmarshal(got, &have); err != nil {
			t.Fatalf("re-encoded claims are not JSON: %v", err)
		}
		if len(have) != len(want) {
			t.Fatalf("members: got %d want %d (%q)", len(have), len(want), payload)
		}
		for k, v := range want {
			var a, b any
			_ = json.Unmarshal(v, &a)
			_ = json.Unmarshal(have[k], &b)
			if ja, jb := mustMarshal(a), mustMarshal(b); ja != jb {
				t.Fatalf("claim %q: got %s want %s", k, jb, ja)
			}
		}
	})
}

func mustMarshal(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestNumericDatesRoundTrip pins what FuzzClaims checks at random: a numeric
// date decodes and encodes back to the number JSON.stringify(JSON.parse(x))
// writes, or is rejected; it is never changed.
func TestNumericDatesRoundTrip(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"1.2", "1.2"}, // not 1.199999999: rounded to the nanosecond, not truncated
		{"1700000000.123", "1700000000.123"},
		{"1700000000.999999", "1700000000.999999"},
		{"9999999999.5", "9999999999.5"}, // after 2262, beyond UnixNano
		{"253402300798.75", "253402300798.75"},
		{"0.000000001", "1e-9"},
		{"1e-7", "1e-7"},
		{"1.0", "1"},
		{"1e3", "1000"},
		{"-0", "0"},
		{"1.2345678912345", ""}, // digits below the nanosecond
		{"1e-10", ""},
		{"0.9999999999", ""},
	} {
		var tok Token
		err := tok.UnmarshalJSON([]byte(`{"iat":` + tc.in + `}`))
		if tc.want == "" {
			assert.ErrorIs(t, err, ErrInvalidClaims, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		got, err := tok.MarshalJSON()
		require.NoError(t, err)
		assert.Equal(t, `{"iat":`+tc.want+`}`, string(got), tc.in)
	}

	// From 2^23 s (April 1970) on, a float64 has no digits below the
	// nanosecond worth keeping: every value is accepted and kept exactly.
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20_000 {
		f := math.Ldexp(1, 23) + rng.Float64()*(maxNumericDate-math.Ldexp(1, 23))
		if rng.IntN(2) == 0 {
			f = math.Round(f*1000) / 1000 // milliseconds, as Date.now()/1000
		}
		in := strconv.FormatFloat(f, 'g', -1, 64)
		tm, err := parseNumericDate(json.RawMessage(in))
		require.NoError(t, err, in)
		back, err := strconv.ParseFloat(string(numericDate(tm)), 64)
		require.NoError(t, err)
		require.Equal(t, f, back, in)
	}
}

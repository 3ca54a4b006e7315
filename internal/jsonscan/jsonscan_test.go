package jsonscan

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// reference is what encoding/json makes of data: whether Object must accept
// it, and its members in order, from json.Decoder's token stream.
func reference(t *testing.T, data []byte) ([]Member, bool) {
	t.Helper()
	first := bytes.TrimLeft(data, " \t\r\n")
	if !json.Valid(data) || len(first) == 0 || first[0] != '{' {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if _, err := dec.Token(); err != nil { // '{'
		t.Fatal(err)
	}
	var members []Member
	for dec.More() {
		name, err := dec.Token()
		require.NoError(t, err)
		var value json.RawMessage
		require.NoError(t, dec.Decode(&value))
		quoted, err := json.Marshal(name)
		require.NoError(t, err)
		members = append(members, Member{Name: quoted, Value: value})
	}
	return members, true
}

// same compares members by meaning: names decoded, values as written.
func same(t *testing.T, want, got []Member) {
	t.Helper()
	require.Len(t, got, len(want))
	for i := range want {
		var a, b string
		require.NoError(t, json.Unmarshal(want[i].Name, &a))
		require.NoError(t, json.Unmarshal(got[i].Name, &b), "name %q", got[i].Name)
		assert.Equal(t, a, b)
		assert.Equal(t, string(want[i].Value), string(got[i].Value))
	}
}

func TestObjectMatchesEncodingJSON(t *testing.T) {
	for _, in := range []string{
		`{}`, ` { } `, "\t{\n}\r\n", `{"a":1}`, `{"a":1,"a":2}`, `{"":null}`,
		`{"a":[1,2,{"b":[]}],"c":{"d":{"e":"f"}}}`, `{"a" : true , "b":false}`,
		`{"s":"\"\\\/\b\f\n\r\t\u00e9\uD83D\uDE00"}`, `{"\u0073ub":"x"}`, "{\"a\":\"\xff\xfe\"}",
		`{"n":-0}`, `{"n":0.5e-7}`, `{"n":1E+2}`, `{"n":-12.34e56}`, `{"n":123456789012345678901234567890}`,
		// invalid
		``, ` `, `{`, `}`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{,}`, `{"a":1 "b":2}`, `{"a":1}x`, `{"a":1}{}`,
		`{'a':1}`, `{a:1}`, `{"a":01}`, `{"a":1.}`, `{"a":.5}`, `{"a":1e}`, `{"a":1e+}`, `{"a":-}`, `{"a":+1}`,
		`{"a":0x10}`, `{"a":NaN}`, `{"a":Infinity}`, `{"a":tru}`, `{"a":truex}`, `{"a":nul}`, `{"a":True}`,
		`{"a":"\x"}`, `{"a":"\u12"}`, `{"a":"\u12g4"}`, "{\"a\":\"\x01\"}", "{\"a\":\"\n\"}", `{"a":"`, `{"a":"\`,
		`{"a":[1,]}`, `{"a":[,1]}`, `{"a":[1 2]}`, `{"a":{"b"}}`, `{"a":{"b":1,}}`, `{"a":[}`, `{"a":{]}`,
		`{"a":[1]]}`, `{"a":1}}`, "\v{}", "{}\v", "\xef\xbb\xbf{}", `[{"a":1}]`, `"x"`, `1`, `null`,
	} {
		t.Run(in, func(t *testing.T) {
			want, wantOK := reference(t, []byte(in))
			got, ok := Object([]byte(in), nil)
			require.Equal(t, wantOK, ok)
			if ok {
				same(t, want, got)
			}
		})
	}
}

// TestObjectDepth: encoding/json accepts 10000 nested objects and arrays,
// the top-level object included, and no more.
func TestObjectDepth(t *testing.T) {
	for _, depth := range []int{9999, 10000, 10001} {
		for name, data := range map[string]string{
			"arrays":  `{"a":` + strings.Repeat("[", depth-1) + strings.Repeat("]", depth-1) + `}`,
			"objects": `{"a":` + strings.Repeat(`{"b":`, depth-2) + "{}" + strings.Repeat("}", depth-2) + `}`,
		} {
			_, ok := Object([]byte(data), nil)
			assert.Equal(t, json.Valid([]byte(data)), ok, "%s, depth %d", name, depth)
			assert.Equal(t, depth <= 10000, ok, "%s, depth %d", name, depth)
		}
	}
}

func TestObjectSharesMemoryWithCappedValues(t *testing.T) {
	data := []byte(`{"a":"xy","b":2}`)
	members, ok := Object(data, nil)
	require.True(t, ok)
	require.Len(t, members, 2)
	assert.Equal(t, len(members[0].Value), cap(members[0].Value))
	_ = append(members[0].Value, '!')
	assert.Equal(t, `{"a":"xy","b":2}`, string(data))
	members[1].Value[0] = '3'
	assert.Equal(t, `{"a":"xy","b":3}`, string(data))
}

func TestObjectAllocatesNothingWithRoom(t *testing.T) {
	data := []byte(`{"sub":"u","name":"Ada","n":[1,{"x":null}],"exp":1900000000}`)
	var buf [8]Member
	assert.Zero(t, testing.AllocsPerRun(100, func() { _, _ = Object(data, buf[:0]) }))
}

// FuzzObject is Object against encoding/json: the same verdict for every
// input, and the same members for every object.
func FuzzObject(f *testing.F) {
	f.Add(`{"sub":"a","name":null,"x":{"y":[1,"}",{"z":"\""}]},"exp":1900000000}`)
	f.Add(`{"\u0073ub":"escaped","sub":"last","a\"b":1,"iat":1.5}`)
	f.Add(` { "role" : "admin" , "nested" : [ ] } `)
	f.Add(`{"a":[[[[{"b":[true,false,null,-1.5e+3]}]]]]}`)
	f.Fuzz(func(t *testing.T, in string) {
		want, wantOK := reference(t, []byte(in))
		got, ok := Object([]byte(in), nil)
		if ok != wantOK {
			t.Fatalf("Object = %v, encoding/json = %v for %q", ok, wantOK, in)
		}
		if ok {
			same(t, want, got)
		}
	})
}

// session is a typical Auth.js claim set.
var session = []byte(`{"sub":"5f2b8c9e-1d4a-4b7e-9c3f-2a6d8e0b1c4f","name":"Ada Lovelace","email":"ada@example.com",` +
	`"picture":"https://avatars.example.com/u/1234567?v=4","role":"admin","id":"5f2b8c9e-1d4a-4b7e-9c3f-2a6d8e0b1c4f",` +
	`"iat":1764576000,"exp":1767168000,"jti":"1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed"}`)

func BenchmarkObject(b *testing.B) {
	var room [16]Member
	b.SetBytes(int64(len(session)))
	for b.Loop() {
		if _, ok := Object(session, room[:0]); !ok {
			b.Fatal("invalid")
		}
	}
}

// BenchmarkJSONValid is encoding/json's validation alone, which Object
// replaces together with a second scan for the members.
func BenchmarkJSONValid(b *testing.B) {
	b.SetBytes(int64(len(session)))
	for b.Loop() {
		if !json.Valid(session) {
			b.Fatal("invalid")
		}
	}
}

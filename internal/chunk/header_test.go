package chunk

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// reference is what FromHeader must equal: net/http's own parse, filtered.
func reference(lines []string, name string) []*http.Cookie {
	var out []*http.Cookie
	for _, c := range (&http.Request{Header: http.Header{"Cookie": lines}}).Cookies() {
		if c.Name == name || strings.HasPrefix(c.Name, name+".") {
			out = append(out, c)
		}
	}
	return out
}

func TestFromHeaderMatchesNetHTTP(t *testing.T) {
	const name = "authjs.session-token"
	cases := [][]string{
		nil,
		{""},
		{"a=1; authjs.session-token=abc; b=2"},
		{"authjs.session-token.1=b; x=y", "authjs.session-token.0=a"},
		{`authjs.session-token="quoted"`},
		{`authjs.session-token="half`},
		{"authjs.session-token=bad\\value; authjs.session-token=good"},
		{"authjs.session-tokenx=1; authjs.session-token-x=2; Authjs.session-token=3"},
		{" \tauthjs.session-token = spaced ;;; ;authjs.session-token.0=v"},
		{"authjs.session-token=a=b=c"},
		{"authjs.session-token"},
		{"authjs.session-token.=x; authjs.session-token.0.1=y; authjs.session-token.é=z"},
		{"authjs.session-token=\x7f; authjs.session-token=ok"},
		{strings.Repeat("x=1;", 3000) + "authjs.session-token=over-the-limit"},
		{strings.Repeat("x=1;", 2998) + "authjs.session-token=at-the-limit"},
	}
	for _, lines := range cases {
		got, want := FromHeader(lines, name), reference(lines, name)
		if len(got) == 0 && len(want) == 0 {
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%.80q:\n got %v\nwant %v", lines, got, want)
		}
	}
}

func FuzzFromHeader(f *testing.F) {
	f.Add("a=1; authjs.session-token=abc; b=2", "x=1")
	f.Add(`authjs.session-token.1="b"; authjs.session-token.0=a`, "authjs.session-token=c")
	f.Add("authjs.session-token=\\; authjs.session-token=ok", "")
	f.Fuzz(func(t *testing.T, line1, line2 string) {
		lines := []string{line1, line2}
		got, want := FromHeader(lines, "authjs.session-token"), reference(lines, "authjs.session-token")
		if len(got) == 0 && len(want) == 0 {
			return
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("got %v want %v", got, want)
		}
		const lim = 2 * 4096
		value, carried, err := Read(want, "authjs.session-token", Limits{MaxLen: lim})
		rvalue, rcarried, rerr := NewReader("authjs.session-token", Limits{MaxLen: lim}).Read(lines)
		if value != rvalue || !reflect.DeepEqual(carried, rcarried) || err != rerr {
			t.Fatalf("Reader: got %q %v %v, want %q %v %v", rvalue, rcarried, rerr, value, carried, err)
		}
	})
}

// TestValidValueMatchesTable checks the word-at-a-time test against the
// table, for every byte at every position of a word and of the tail.
func TestValidValueMatchesTable(t *testing.T) {
	for b := 0; b < 256; b++ {
		for pos := 0; pos < 19; pos++ {
			v := []byte(strings.Repeat("a", 19))
			v[pos] = byte(b)
			if got := validValue(string(v)); got != valueBytes[b] {
				t.Fatalf("byte %#x at %d: got %v, want %v", b, pos, got, valueBytes[b])
			}
		}
	}
}

package edgeauth

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/edgeauth/edgeauth/internal/chunk"
)

// FuzzChunks feeds raw Cookie headers to the chunk assembler (and the jar
// around it) and checks the result against a direct model of the rules: the
// first non-empty plain cookie, else NAME.0 … NAME.(n-1) by first occurrence
// with nothing non-empty beyond.
func FuzzChunks(f *testing.F) {
	const n = DefaultCookieName
	tok := token(2*chunk.SizeAuthJS + 17)
	var authjs []string
	for i, p := range chunk.Split(tok, chunk.SizeAuthJS) {
		authjs = append(authjs, n+"."+strconv.Itoa(i)+"="+p)
	}
	for _, seed := range []string{
		"",
		n + "=" + tok[:100],
		strings.Join(authjs, "; "),
		"theme=dark; " + authjs[2] + "; _ga=1; " + authjs[0] + "; " + authjs[1],
		n + ".0=a; " + n + ".2=c",
		n + ".1=b; " + n + ".2=c",
		n + ".0=a; " + n + ".1=; " + n + ".2=c",
		n + ".0=a; " + n + ".1=b; " + n + ".1=EVIL",
		n + "=first; " + n + "=second",
		n + ".0=a; " + n + "=plain; " + n + ".1=b",
		n + "=; " + n + ".0=a; " + n + ".1=b",
		n + ".01=x; " + n + ".-1=x; " + n + ".+1=x; " + n + ".x=x; " + n + ".0.1=x; " + n + "-x=x; " + n + "x=x",
		n + ".99999999999999999999=x; " + n + ".100=x; " + n + ".99=x",
		n + `.0="quoted"; ` + n + `.1=b`,
		n + ".0=a;" + n + ".1=b;;; ;" + n + ".2=c",
		"AUTHJS.SESSION-TOKEN=x; Authjs.session-token.0=y",
		n + ".0=a; " + n + ".1=b; " + n + ".2=c; " + n + ".3=d; " + n + ".4=e",
	} {
		f.Add(seed, uint8(0), uint16(0))
		f.Add(seed, uint8(3), uint16(300))
	}
	jar, err := newCookieJar(CookieConfig{}, FormatAuthJS)
	if err != nil {
		f.Fatal(err)
	}

	f.Fuzz(func(t *testing.T, header string, maxChunks uint8, maxLen uint16) {
		cookies := (&http.Request{Header: http.Header{"Cookie": {header}}}).Cookies()
		lim := chunk.Limits{MaxChunks: int(maxChunks % 20), MaxLen: int(maxLen)}
		value, carried, err := chunk.Read(cookies, n, lim)

		effChunks, effLen := lim.MaxChunks, lim.MaxLen
		if effChunks == 0 {
			effChunks = chunk.DefaultMaxChunks
		}
		if effLen == 0 {
			effLen = effChunks * 4096
		}
		if len(value) > effLen {
			t.Fatalf("value of %d bytes over MaxLen %d", len(value), effLen)
		}

		// carried: session names only, each once, each sent.
		first := map[string]string{}
		for _, c := range cookies {
			if _, ok := first[c.Name]; !ok {
				first[c.Name] = c.Value
			}
		}
		seen := map[string]bool{}
		for _, cn := range carried {
			if seen[cn] {
				t.Fatalf("%q carried twice", cn)
			}
			seen[cn] = true
			if _, sent := first[cn]; !sent {
				t.Fatalf("%q carried but not sent", cn)
			}
			if i, ok := chunk.Index(n, cn); !ok || (i >= 0 && cn != n+"."+strconv.Itoa(i)) {
				t.Fatalf("%q carried but not a session name", cn)
			}
		}

		// The model.
		want, wantOK := "", false
		if p := first[n]; p != "" {
			want, wantOK = p, len(p) <= effLen
		} else {
			var parts []string
			for i := 0; i <= chunk.MaxIndex; i++ {
				v := first[n+"."+strconv.Itoa(i)]
				if v == "" {
					break
				}
				parts = append(parts, v)
			}
			contiguous := true
			for i := len(parts) + 1; i <= chunk.MaxIndex; i++ {
				if first[n+"."+strconv.Itoa(i)] != "" {
					contiguous = false
				}
			}
			want = strings.Join(parts, "")
			wantOK = len(parts) > 0 && contiguous && len(parts) <= effChunks && len(want) <= effLen
		}
		switch {
		case wantOK && err != nil:
			t.Fatalf("rejected (%v) a valid set", err)
		case !wantOK && err == nil:
			t.Fatalf("accepted %d bytes from an invalid set", len(value))
		case err == nil && value != want:
			t.Fatalf("value differs from the canonical chunks")
		case err != nil && !errors.Is(err, chunk.ErrMissing) && !errors.Is(err, chunk.ErrInvalid) && !errors.Is(err, chunk.ErrTooLarge):
			t.Fatalf("untyped error %v", err)
		}

		// The jar maps every failure to errNoCookie or an ErrInvalidToken.
		r := &http.Request{Header: http.Header{"Cookie": {header}}}
		if _, _, err := jar.read(r); err != nil && !errors.Is(err, errNoCookie) && !errors.Is(err, ErrInvalidToken) {
			t.Fatalf("jar error %v is neither errNoCookie nor ErrInvalidToken", err)
		}
	})
}

package chunk

import (
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/edgeauth/edgeauth/internal/testenv"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const name = "authjs.session-token"

func parse(header string) []*http.Cookie {
	return (&http.Request{Header: http.Header{"Cookie": {header}}}).Cookies()
}

func TestSplitNamesBoundaries(t *testing.T) {
	for _, size := range []int{SizeAuthJS, SizeV4} {
		for _, tc := range []struct {
			n       int
			lengths []int
		}{
			{0, nil},
			{1, []int{1}},
			{size - 1, []int{size - 1}},
			{size, []int{size}},
			{size + 1, []int{size, 1}},
			{2 * size, []int{size, size}},
			{2*size + 1, []int{size, size, 1}},
			{4 * size, []int{size, size, size, size}},
		} {
			value := strings.Repeat("abcdefghij", tc.n/10+1)[:tc.n]
			pieces := Split(value, size)
			var lengths []int
			for _, p := range pieces {
				lengths = append(lengths, len(p))
			}
			assert.Equal(t, tc.lengths, lengths, "size %d, len %d", size, tc.n)
			assert.Equal(t, value, strings.Join(pieces, ""))

			// What Split and Names write, Read reads back.
			if len(pieces) > 0 {
				var cookies []*http.Cookie
				for i, n := range Names(name, len(pieces)) {
					cookies = append(cookies, &http.Cookie{Name: n, Value: pieces[i]})
				}
				got, carried, err := Read(cookies, name, Limits{MaxChunks: 4, MaxLen: 4 * size})
				require.NoError(t, err)
				assert.Equal(t, value, got)
				assert.Equal(t, Names(name, len(pieces)), carried)
			}
		}
	}
	assert.Equal(t, []string{"x"}, Split("x", 0), "size below 1 is 1")
}

func TestNames(t *testing.T) {
	assert.Nil(t, Names(name, 0))
	assert.Nil(t, Names(name, -1))
	assert.Equal(t, []string{name}, Names(name, 1))
	assert.Equal(t, []string{name + ".0", name + ".1", name + ".2"}, Names(name, 3))
	n := Names("a", 12)
	assert.Equal(t, "a.10", n[10])
	assert.Equal(t, "a.11", n[11])
}

func TestIndex(t *testing.T) {
	for cookie, want := range map[string]int{
		name:         -1,
		name + ".0":  0,
		name + ".7":  7,
		name + ".10": 10,
		name + ".99": 99,
	} {
		i, ok := Index(name, cookie)
		assert.True(t, ok, cookie)
		assert.Equal(t, want, i, cookie)
	}
	for _, suffix := range []string{
		".", ".01", ".00", ".-1", ".+1", ".x", ". 1", ".1 ", ".1a", ".0.1", ".100",
		".99999999999999999999", "-x", "x", "-0", "_0", ".٣", // Arabic-Indic digit
	} {
		_, ok := Index(name, name+suffix)
		assert.False(t, ok, suffix)
	}
	for _, other := range []string{"AUTHJS.SESSION-TOKEN", "Authjs.session-token.0", "authjs.session-toke", "", "x" + name} {
		_, ok := Index(name, other)
		assert.False(t, ok, other)
	}
}

func TestRead(t *testing.T) {
	big := strings.Repeat("A", 100)
	lim := Limits{MaxChunks: 4, MaxLen: 1000}
	tests := []struct {
		name    string
		header  string
		cookies []*http.Cookie // used instead of header when set
		lim     Limits
		want    string
		carried []string
		err     error
	}{
		{name: "no cookies", header: "", err: ErrMissing},
		{name: "unrelated only", header: "theme=dark; authjs.csrf-token=abc", err: ErrMissing},
		{name: "plain", header: "theme=dark; authjs.session-token=tok", want: "tok", carried: []string{name}},
		{name: "plain empty", header: "authjs.session-token=", err: ErrMissing, carried: []string{name}},
		{
			name:    "chunks in order",
			header:  "authjs.session-token.0=aa; authjs.session-token.1=bb; authjs.session-token.2=c",
			want:    "aabbc",
			carried: []string{name + ".0", name + ".1", name + ".2"},
		},
		{
			name:    "chunks shuffled among unrelated",
			header:  "x=1; authjs.session-token.2=c; y=2; authjs.session-token.0=aa; authjs.session-token.1=bb; z=3",
			want:    "aabbc",
			carried: []string{name + ".2", name + ".0", name + ".1"},
		},
		{name: "lone chunk 0", header: "authjs.session-token.0=solo", want: "solo", carried: []string{name + ".0"}},
		{
			name:    "indexes 10 and above sort numerically",
			header:  chunkHeader(11, "v"),
			lim:     Limits{MaxChunks: 11, MaxLen: 1000},
			want:    "v0v1v2v3v4v5v6v7v8v9v10",
			carried: Names(name, 11),
		},
		{
			name:    "gap is invalid",
			header:  "authjs.session-token.0=aa; authjs.session-token.2=c",
			err:     ErrInvalid,
			carried: []string{name + ".0", name + ".2"},
		},
		{
			name:    "missing chunk 0 is invalid",
			header:  "authjs.session-token.1=bb; authjs.session-token.2=c",
			err:     ErrInvalid,
			carried: []string{name + ".1", name + ".2"},
		},
		{
			name:    "empty middle chunk is a gap",
			header:  "authjs.session-token.0=aa; authjs.session-token.1=; authjs.session-token.2=c",
			err:     ErrInvalid,
			carried: []string{name + ".0", name + ".1", name + ".2"},
		},
		{
			name:    "empty trailing chunk contributes nothing but is carried",
			header:  "authjs.session-token.0=aa; authjs.session-token.1=bb; authjs.session-token.2=",
			want:    "aabb",
			carried: []string{name + ".0", name + ".1", name + ".2"},
		},
		{
			name:    "repeated chunk: first occurrence wins",
			header:  "authjs.session-token.0=aa; authjs.session-token.1=bb; authjs.session-token.1=EVIL",
			want:    "aabb",
			carried: []string{name + ".0", name + ".1"},
		},
		{
			name:    "repeated plain: first occurrence wins",
			header:  "authjs.session-token=first; authjs.session-token=second",
			want:    "first",
			carried: []string{name},
		},
		{
			name: "non-canonical and look-alike names never contribute",
			header: "authjs.session-token.0=aa; authjs.session-token.01=X; authjs.session-token.-1=X; " +
				"authjs.session-token.+1=X; authjs.session-token.x=X; authjs.session-token.1=bb; " +
				"authjs.session-token.99999999999999999999=X; authjs.session-token.100=X; " +
				"authjs.session-token.0.1=X; authjs.session-token-x=X; authjs.session-tokenx=X; " +
				"AUTHJS.SESSION-TOKEN.2=X; Authjs.session-token=X; authjs.session-token.=X",
			want:    "aabb",
			carried: []string{name + ".0", name + ".1"},
		},
		{
			name:   "look-alikes alone are no session",
			header: "authjs.session-token.01=X; authjs.session-token-x=X; authjs.session-token.0.1=X; AUTHJS.SESSION-TOKEN=X",
			err:    ErrMissing,
		},
		{
			name: "space in index (built directly, net/http drops such names)",
			cookies: []*http.Cookie{
				{Name: name + ". 1", Value: "X"}, {Name: name + ".0", Value: "aa"}, nil, {Name: name + ".1 ", Value: "X"},
			},
			want:    "aa",
			carried: []string{name + ".0"},
		},
		{
			name:    "plain wins over chunks, which are carried",
			header:  "authjs.session-token.0=aa; authjs.session-token=plain; authjs.session-token.1=bb",
			want:    "plain",
			carried: []string{name + ".0", name, name + ".1"},
		},
		{
			name:    "empty plain does not shadow chunks",
			header:  "authjs.session-token=; authjs.session-token.0=aa; authjs.session-token.1=bb",
			want:    "aabb",
			carried: []string{name, name + ".0", name + ".1"},
		},
		{
			name:    "more chunks than MaxChunks",
			header:  chunkHeader(5, "v"),
			err:     ErrTooLarge,
			carried: Names(name, 5),
		},
		{
			name:    "too many chunks is reported before a gap",
			header:  chunkHeader(5, "v") + "; authjs.session-token.9=v",
			err:     ErrTooLarge,
			carried: append(Names(name, 5), name+".9"),
		},
		{
			name:    "total over MaxLen",
			header:  "authjs.session-token.0=" + big + "; authjs.session-token.1=" + big,
			lim:     Limits{MaxChunks: 4, MaxLen: 199},
			err:     ErrTooLarge,
			carried: Names(name, 2),
		},
		{
			name:    "total exactly MaxLen",
			header:  "authjs.session-token.0=" + big + "; authjs.session-token.1=" + big,
			lim:     Limits{MaxChunks: 4, MaxLen: 200},
			want:    big + big,
			carried: Names(name, 2),
		},
		{
			name:    "plain over MaxLen",
			header:  "authjs.session-token=" + big,
			lim:     Limits{MaxChunks: 4, MaxLen: 99},
			err:     ErrTooLarge,
			carried: []string{name},
		},
		{
			name:    "zero limits default to 4 chunks",
			header:  chunkHeader(5, "v"),
			lim:     Limits{},
			err:     ErrTooLarge,
			carried: Names(name, 5),
		},
		{
			name:    "zero limits allow 4 chunks",
			header:  chunkHeader(4, "v"),
			lim:     Limits{},
			want:    "v0v1v2v3",
			carried: Names(name, 4),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cookies := tc.cookies
			if cookies == nil {
				cookies = parse(tc.header)
			}
			l := tc.lim
			if l == (Limits{}) && !strings.HasPrefix(tc.name, "zero limits") {
				l = lim
			}
			got, carried, err := Read(cookies, name, l)
			if tc.err != nil {
				require.ErrorIs(t, err, tc.err)
				assert.Empty(t, got)
			} else {
				require.NoError(t, err)
				assert.Equal(t, tc.want, got)
			}
			assert.Equal(t, tc.carried, carried)
			if tc.cookies == nil {
				rgot, rcarried, rerr := NewReader(name, l).Read([]string{tc.header})
				assert.Equal(t, got, rgot, "Reader")
				assert.Equal(t, carried, rcarried, "Reader")
				assert.Equal(t, err, rerr, "Reader")
			}
		})
	}
}

func TestReaderAllocatesNothingForOneCookie(t *testing.T) {
	if testenv.Race {
		t.Skip("allocation counts are meaningless under the race detector")
	}
	rd := NewReader(name, Limits{})
	lines := []string{"theme=dark; " + name + "=tok; _ga=GA1.2.3"}
	value, carried, err := rd.Read(lines)
	require.NoError(t, err)
	assert.Equal(t, "tok", value)
	assert.Equal(t, []string{name}, carried)
	assert.Zero(t, testing.AllocsPerRun(100, func() { _, _, _ = rd.Read(lines) }))
}

func TestReadEmptyName(t *testing.T) {
	_, _, err := Read(parse(".0=a"), "", Limits{})
	require.ErrorIs(t, err, ErrMissing)
	_, _, err = NewReader("", Limits{}).Read([]string{".0=a"})
	require.ErrorIs(t, err, ErrMissing)
}

// chunkHeader returns the Cookie header NAME.0=<prefix>0; …; NAME.(n-1)=<prefix>(n-1).
func chunkHeader(n int, prefix string) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = name + "." + strconv.Itoa(i) + "=" + prefix + strconv.Itoa(i)
	}
	return strings.Join(parts, "; ")
}

// Hostile sets are rejected before concatenation: rejecting 4 × 1 MiB of
// chunks (shared backing store, so the setup itself allocates little)
// allocates nowhere near their size.
func TestReadRejectsBeforeConcatenating(t *testing.T) {
	huge := strings.Repeat("A", 1<<20)
	var cookies []*http.Cookie
	for _, n := range Names(name, 4) {
		cookies = append(cookies, &http.Cookie{Name: n, Value: huge})
	}
	cookies = append(cookies, &http.Cookie{Name: name + ".4", Value: huge})
	for _, lim := range []Limits{{MaxChunks: 4, MaxLen: 64 << 10}, {MaxChunks: 8, MaxLen: 64 << 10}} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		const runs = 20
		for range runs {
			_, _, err := Read(cookies, name, lim)
			require.ErrorIs(t, err, ErrTooLarge)
		}
		runtime.ReadMemStats(&after)
		perRun := (after.TotalAlloc - before.TotalAlloc) / runs
		assert.Less(t, perRun, uint64(16<<10), "bytes allocated per rejected read")
	}
}

func TestStale(t *testing.T) {
	three := Names(name, 3)
	tests := []struct {
		name          string
		carried, keep []string
		want          []string
	}{
		{"3 chunks → 1: expire .0 .1 .2, keep plain", three, Names(name, 1), three},
		{"1 → 3: expire plain", []string{name}, three, []string{name}},
		{"3 → 2: expire .2", three, Names(name, 2), []string{name + ".2"}},
		{"2 → 3: nothing", Names(name, 2), three, nil},
		{
			"chunks and plain carried → 2 chunks",
			[]string{name + ".1", name, name + ".0", name + ".2"}, Names(name, 2),
			[]string{name, name + ".2"},
		},
		{
			"chunks and plain carried → plain",
			[]string{name + ".1", name, name + ".0"}, Names(name, 1),
			[]string{name + ".1", name + ".0"},
		},
		{"signed out → all", append([]string{name}, three...), nil, append([]string{name}, three...)},
		{"duplicates once", []string{name + ".5", name + ".5"}, nil, []string{name + ".5"}},
		{"nothing carried", nil, three, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, Stale(tc.carried, tc.keep))
		})
	}
}

// Package sessiontest holds the test helpers that the root package's tests
// and the tests of other modules of the workspace share: the one settable
// test clock and a cookie jar over recorded responses. It imports nothing of
// edgeauth, so that the root package's own tests can use it.
package sessiontest

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Clock is a settable test clock with one-second resolution, as JWT times have.
type Clock struct{ unix atomic.Int64 }

// NewClock returns a clock reading unix seconds.
func NewClock(unix int64) *Clock         { c := &Clock{}; c.unix.Store(unix); return c }
func (c *Clock) Now() time.Time          { return time.Unix(c.unix.Load(), 0) }
func (c *Clock) Advance(d time.Duration) { c.unix.Add(int64(d / time.Second)) }

// ResponseCookies returns the Set-Cookie headers of a response, parsed.
func ResponseCookies(h http.Header) []*http.Cookie {
	return (&http.Response{Header: h}).Cookies()
}

// RequestCarrying builds a request carrying the live cookies of previous responses.
func RequestCarrying(method, target string, responses ...http.Header) *http.Request {
	r := httptest.NewRequest(method, target, nil)
	jar := map[string]string{}
	var order []string
	for _, h := range responses {
		for _, c := range ResponseCookies(h) {
			if _, seen := jar[c.Name]; !seen {
				order = append(order, c.Name)
			}
			if c.MaxAge < 0 || c.Value == "" {
				delete(jar, c.Name)
				continue
			}
			jar[c.Name] = c.Value
		}
	}
	for _, n := range order {
		if v, ok := jar[n]; ok {
			r.AddCookie(&http.Cookie{Name: n, Value: v})
		}
	}
	return r
}

// AssertCleared asserts that a response only deletes cookies, exactly those named.
func AssertCleared(t *testing.T, h http.Header, names ...string) {
	t.Helper()
	var cleared []string
	for _, c := range ResponseCookies(h) {
		require.Equal(t, "", c.Value, "only deletions expected, got a live %s", c.Name)
		require.Equal(t, -1, c.MaxAge)
		cleared = append(cleared, c.Name)
	}
	assert.ElementsMatch(t, names, cleared)
}

package betterauth_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeauth/edgeauth/betterauth"
	"github.com/edgeauth/edgeauth/internal/redistest"
)

// tokenCookie signs token as better-call does and returns the Cookie header.
func tokenCookie(token string) string {
	m := hmac.New(sha256.New, []byte(harnessSecret))
	m.Write([]byte(token))
	return "better-auth.session_token=" + url.QueryEscape(token+"."+base64.StdEncoding.EncodeToString(m.Sum(nil)))
}

// answerFor is get-session's answer for token.
func answerFor(token string) string {
	return strings.ReplaceAll(storedSession, exampleToken, token)
}

// fakeApp answers get-session with handle and counts the calls.
type fakeApp struct {
	calls  atomic.Int64
	server *httptest.Server
}

func newFakeApp(t *testing.T, handle func(w http.ResponseWriter, r *http.Request)) *fakeApp {
	a := &fakeApp{}
	a.server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.calls.Add(1)
		handle(w, r)
	}))
	t.Cleanup(a.server.Close)
	return a
}

func (a *fakeApp) url() string { return a.server.URL + "/api/auth/get-session" }

// The request carries only the session token cookie, asks for the stored
// session without a refresh, and follows no redirect.
func TestEndpointRequest(t *testing.T) {
	var got *http.Request
	app := newFakeApp(t, func(w http.ResponseWriter, r *http.Request) {
		got = r
		fmt.Fprint(w, answerFor(exampleToken))
	})
	v := verifier(t, 1700000060, betterauth.Config{Strategy: betterauth.StrategyNone, SessionURL: app.url() + "?x=1"})
	s, err := verify(t, v, "theme=dark; "+exampleCookie+"; other=1")
	require.NoError(t, err)
	assert.Equal(t, betterauth.SourceEndpoint, s.Source)
	assert.Equal(t, http.MethodGet, got.Method)
	assert.Equal(t, "/api/auth/get-session", got.URL.Path)
	assert.Equal(t, url.Values{"x": {"1"}, "disableCookieCache": {"true"}, "disableRefresh": {"true"}}, got.URL.Query())
	assert.Equal(t, strings.Split(exampleCookie, "; ")[0], got.Header.Get("Cookie"))
	assert.Empty(t, got.Header.Get("Authorization"))
}

func TestEndpointAnswers(t *testing.T) {
	big := `{"session":{"token":"` + exampleToken + `","pad":"` + strings.Repeat("x", 300<<10) + `"}}`
	for _, tc := range []struct {
		name   string
		handle func(w http.ResponseWriter, r *http.Request)
		want   error
	}{
		{"null", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "null") }, betterauth.ErrRevoked},
		{"another session", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, answerFor("other")) }, betterauth.ErrUnavailable},
		{"status 500", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(500)
			fmt.Fprint(w, answerFor(exampleToken))
		}, betterauth.ErrUnavailable},
		{"status 401", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(401) }, betterauth.ErrUnavailable},
		{"redirect", func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/elsewhere" {
				http.Redirect(w, r, "/elsewhere", http.StatusFound)
				return
			}
			fmt.Fprint(w, answerFor(exampleToken))
		}, betterauth.ErrUnavailable},
		{"too large", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, big) }, betterauth.ErrUnavailable},
		{"not JSON", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "<html>") }, betterauth.ErrUnavailable},
		{"no user", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, `{"session":{"token":"`+exampleToken+`"}}`)
		}, betterauth.ErrUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app := newFakeApp(t, tc.handle)
			v := verifier(t, 1700000060, betterauth.Config{Strategy: betterauth.StrategyNone, SessionURL: app.url()})
			_, err := verify(t, v, exampleCookie)
			assert.ErrorIs(t, err, tc.want)
		})
	}
}

func TestEndpointTimeout(t *testing.T) {
	v := verifier(t, 1700000060, betterauth.Config{Strategy: betterauth.StrategyNone,
		SessionURL: "http://" + redistest.Unresponsive(t) + "/api/auth/get-session", LookupTimeout: 100 * time.Millisecond})
	_, err := verify(t, v, exampleCookie)
	assert.ErrorIs(t, err, betterauth.ErrUnavailable)
}

// A failed get-session call does not quote its URL: a query may carry a
// credential, and the error reaches logs.
func TestEndpointErrorHidesURL(t *testing.T) {
	v := verifier(t, 1700000060, betterauth.Config{Strategy: betterauth.StrategyNone,
		SessionURL: "http://" + redistest.Unresponsive(t) + "/api/auth/get-session?key=s3cr3t", LookupTimeout: 100 * time.Millisecond})
	_, err := verify(t, v, exampleCookie)
	require.ErrorIs(t, err, betterauth.ErrUnavailable)
	assert.NotContains(t, err.Error(), "s3cr3t")
	assert.NotContains(t, err.Error(), "get-session?")
}

// Answers are reused for LookupCacheTTL, per token, and concurrent requests
// for one token make one call.
func TestEndpointReuse(t *testing.T) {
	release := make(chan struct{})
	app := newFakeApp(t, func(w http.ResponseWriter, r *http.Request) {
		<-release
		token, _, _ := strings.Cut(strings.TrimPrefix(r.Header.Get("Cookie"), "better-auth.session_token="), ".")
		fmt.Fprint(w, answerFor(token))
	})
	var now atomic.Int64
	now.Store(1700000060)
	v, err := betterauth.New(betterauth.Config{Secrets: []string{harnessSecret}, Strategy: betterauth.StrategyNone,
		SessionURL: app.url(), LookupCacheTTL: 5 * time.Second, LookupCacheSize: 2,
		Now: func() time.Time { return time.Unix(now.Load(), 0) }})
	require.NoError(t, err)

	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := verify(t, v, exampleCookie)
			assert.NoError(t, err)
		}()
	}
	time.Sleep(50 * time.Millisecond) // let them queue behind the first call
	close(release)
	wg.Wait()
	assert.Equal(t, int64(1), app.calls.Load(), "one call for concurrent requests")

	_, err = verify(t, v, exampleCookie)
	require.NoError(t, err)
	assert.Equal(t, int64(1), app.calls.Load(), "reused within the TTL")
	now.Add(6)
	_, err = verify(t, v, exampleCookie)
	require.NoError(t, err)
	assert.Equal(t, int64(2), app.calls.Load(), "asked again after the TTL")

	// At most LookupCacheSize answers are kept: of three tokens asked twice
	// in turn, not all can be reused.
	for round := range 2 {
		for _, tok := range []string{"a", "b", "c"} {
			_, err := verify(t, v, tokenCookie(tok))
			require.NoError(t, err, "round %d token %s", round, tok)
		}
	}
	assert.Greater(t, app.calls.Load(), int64(2+3), "an answer was evicted")
}

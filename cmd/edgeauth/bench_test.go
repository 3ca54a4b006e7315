package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// stubTransport answers every upstream request at once, so that the
// benchmarks measure the proxies, not a network.
type stubTransport struct{}

func (stubTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return &http.Response{
		StatusCode: 200, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{"Content-Type": {"text/plain"}},
		Body:          io.NopCloser(strings.NewReader("ok\n")),
		ContentLength: 3, Request: r,
	}, nil
}

// benchRequest is a browser's request with a session cookie and a few
// usual headers.
func benchRequest(b *testing.B, cookie string) *http.Request {
	r := httptest.NewRequest("GET", "http://app.example.com/dashboard", nil)
	r.Header.Set("Cookie", "theme=dark; "+cookie)
	r.Header.Set("Accept", "text/html,application/xhtml+xml")
	r.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64)")
	r.Header.Set("Accept-Language", "en")
	r.RemoteAddr = "127.0.0.1:40000"
	return r
}

// BenchmarkBareReverseProxy is the baseline: httputil.ReverseProxy with
// the gateway's Rewrite, nothing else.
func BenchmarkBareReverseProxy(b *testing.B) {
	target, _ := url.Parse("http://127.0.0.1:3000")
	rp := &httputil.ReverseProxy{
		Rewrite:   func(pr *httputil.ProxyRequest) { pr.SetURL(target); pr.SetXForwarded() },
		Transport: stubTransport{},
	}
	r := benchRequest(b, sessionCookie(mint(b, gwSecret, alice)))
	b.ReportAllocs()
	for b.Loop() {
		rp.ServeHTTP(httptest.NewRecorder(), r)
	}
}

// BenchmarkGatewayProxy is the same request through the gateway: the
// session checked (a cache hit), identity headers set, metrics counted.
func BenchmarkGatewayProxy(b *testing.B) {
	path := filepath.Join(b.TempDir(), "edgeauth.yaml")
	if err := os.WriteFile(path, []byte(gwConfig), 0o600); err != nil {
		b.Fatal(err)
	}
	g, err := newGateway(path, proxyFlags{upstream: "http://127.0.0.1:3000"}, envOf(map[string]string{"AUTH_SECRET": gwSecret}), io.Discard)
	if err != nil {
		b.Fatal(err)
	}
	g.state.Load().rp.Transport = stubTransport{}
	r := benchRequest(b, sessionCookie(mint(b, gwSecret, alice)))
	w := httptest.NewRecorder()
	g.ServeHTTP(w, r)
	if w.Code != 200 {
		b.Fatalf("status %d", w.Code)
	}
	b.ReportAllocs()
	for b.Loop() {
		g.ServeHTTP(httptest.NewRecorder(), r)
	}
}

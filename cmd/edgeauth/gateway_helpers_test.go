package main

import (
	"bufio"
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/edgeauth/edgeauth"
)

// gwSecret is the AUTH_SECRET of the gateway tests.
const gwSecret = "gateway-test-secret-0123456789abcdef"

// gwConfig is the example configuration, forward-auth and reverse
// proxy alike (the upstream comes from a flag).
const gwConfig = `
loginURL: /login
apiPrefixes: [/api]
rules:
  - pattern: /dashboard/:path*
  - pattern: /admin/:path*
    roles: [admin]
  - pattern: /help
    public: true
  - pattern: /:path*
cookie:
  name: authjs.session-token
  secure: false
claimHeaders:
  x-user-email: email
`

// echoed is what the test upstream saw of a request.
type echoed struct {
	Method string              `json:"method"`
	URI    string              `json:"uri"`
	Host   string              `json:"host"`
	Header map[string][]string `json:"header"`
}

// upstream is the app behind the gateway (or behind nginx and Caddy): it
// echoes the request as JSON, and has a few special paths.
type upstream struct {
	*httptest.Server
	mu       sync.Mutex
	release  chan struct{} // closed to let /_sse and /_slow finish
	requests int
}

func startUpstream(t *testing.T) *upstream {
	t.Helper()
	u := &upstream{release: make(chan struct{})}
	u.Server = httptest.NewServer(http.HandlerFunc(u.serve))
	t.Cleanup(func() {
		u.releaseAll()
		u.Server.Close()
	})
	return u
}

func (u *upstream) releaseAll() {
	u.mu.Lock()
	defer u.mu.Unlock()
	select {
	case <-u.release:
	default:
		close(u.release)
	}
}

func (u *upstream) addr() string { return strings.TrimPrefix(u.URL, "http://") }

func (u *upstream) serve(w http.ResponseWriter, r *http.Request) {
	u.mu.Lock()
	u.requests++
	release := u.release
	u.mu.Unlock()
	switch r.URL.Path {
	case "/_ws":
		serveWebSocketEcho(w, r)
		return
	case "/_sse":
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprintf(w, "data: one %s\n\n", r.Header.Get("X-User-Id"))
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		fmt.Fprint(w, "data: two\n\n")
		return
	case "/_slow":
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
	case "/_setcookie":
		for _, c := range r.URL.Query()["c"] {
			w.Header().Add("Set-Cookie", c)
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(echoed{Method: r.Method, URI: r.RequestURI, Host: r.Host, Header: r.Header})
}

// serveWebSocketEcho completes a WebSocket handshake (RFC 6455), reports the
// identity it saw in X-Echo-User, and echoes one text frame.
func serveWebSocketEcho(w http.ResponseWriter, r *http.Request) {
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		http.Error(w, "want a websocket", http.StatusBadRequest)
		return
	}
	conn, rw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	fmt.Fprintf(rw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Accept: %s\r\nX-Echo-User: %s\r\n\r\n", wsAccept(r.Header.Get("Sec-WebSocket-Key")), r.Header.Get("X-User-Id"))
	if rw.Flush() != nil {
		return
	}
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	for {
		payload, err := readWSFrame(rw.Reader)
		if err != nil {
			return
		}
		if writeWSFrame(conn, payload, false) != nil {
			return
		}
	}
}

func wsAccept(key string) string {
	sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// writeWSFrame writes one final text frame, masked when a client sends it.
func writeWSFrame(w io.Writer, payload []byte, masked bool) error {
	if len(payload) > 125 {
		return fmt.Errorf("test frames are short")
	}
	frame := []byte{0x81, byte(len(payload))}
	data := append([]byte(nil), payload...)
	if masked {
		frame[1] |= 0x80
		mask := []byte{1, 2, 3, 4}
		frame = append(frame, mask...)
		for i := range data {
			data[i] ^= mask[i%4]
		}
	}
	_, err := w.Write(append(frame, data...))
	return err
}

func readWSFrame(r *bufio.Reader) ([]byte, error) {
	var head [2]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return nil, err
	}
	n := int(head[1] & 0x7f)
	if n > 125 {
		return nil, fmt.Errorf("test frames are short")
	}
	var mask [4]byte
	masked := head[1]&0x80 != 0
	if masked {
		if _, err := io.ReadFull(r, mask[:]); err != nil {
			return nil, err
		}
	}
	data := make([]byte, n)
	if _, err := io.ReadFull(r, data); err != nil {
		return nil, err
	}
	if masked {
		for i := range data {
			data[i] ^= mask[i%4]
		}
	}
	return data, nil
}

// testGateway is an "edgeauth proxy" served in-process on loopback.
type testGateway struct {
	g          *gateway
	url        string
	metricsURL string
	configPath string
	signals    chan os.Signal
	done       chan error
	logs       *lockedBuffer
}

// startGateway writes config to a file and serves it, with env as the
// environment (AUTH_SECRET defaults to gwSecret) and flags on top.
func startGateway(t *testing.T, config string, env map[string]string, flags proxyFlags) *testGateway {
	t.Helper()
	path := filepath.Join(t.TempDir(), "edgeauth.yaml")
	require.NoError(t, os.WriteFile(path, []byte(config), 0o600))
	if env == nil {
		env = map[string]string{}
	}
	if _, ok := env["AUTH_SECRET"]; !ok && env["AUTH_SECRET_FILE"] == "" {
		env["AUTH_SECRET"] = gwSecret
	}
	logs := &lockedBuffer{}
	g, err := newGateway(path, flags, func(k string) string { return env[k] }, logs)
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	mln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	tg := &testGateway{
		g: g, url: "http://" + ln.Addr().String(), metricsURL: "http://" + mln.Addr().String(),
		configPath: path, signals: make(chan os.Signal, 1), done: make(chan error, 1), logs: logs,
	}
	go func() { tg.done <- g.serve(ln, mln, tg.signals) }()
	t.Cleanup(func() { tg.stop(t) })
	return tg
}

func (tg *testGateway) stop(t *testing.T) {
	select {
	case <-tg.done:
		return
	default:
	}
	tg.signals <- syscall.SIGTERM
	select {
	case err := <-tg.done:
		if err != nil {
			t.Errorf("gateway: %v", err)
		}
		tg.done <- nil
	case <-time.After(30 * time.Second):
		t.Error("gateway did not stop")
	}
}

// lockedBuffer collects log output from several goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// logLines returns the JSON log records whose msg is msg.
func logLines(t *testing.T, logs, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		if line == "" {
			continue
		}
		var rec map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &rec), "log line %q", line)
		if rec["msg"] == msg {
			out = append(out, rec)
		}
	}
	return out
}

// mint seals claims with secret as Auth.js would, valid for an hour from now.
func mint(t testing.TB, secret string, claims map[string]any) string {
	t.Helper()
	return mintWith(t, edgeauth.CodecConfig{Secrets: []string{secret}}, claims)
}

// mintAt seals claims as if issued at iat, valid for an hour.
func mintAt(t testing.TB, secret string, claims map[string]any, iat time.Time) string {
	t.Helper()
	return mintWith(t, edgeauth.CodecConfig{Secrets: []string{secret}, Now: func() time.Time { return iat }}, claims)
}

// mintWith seals claims with the codec of cfg, valid for an hour.
func mintWith(t testing.TB, cfg edgeauth.CodecConfig, claims map[string]any) string {
	t.Helper()
	cfg.MaxAge = time.Hour
	c, err := edgeauth.NewCodec(cfg)
	require.NoError(t, err)
	raw, err := json.Marshal(claims)
	require.NoError(t, err)
	tok := new(edgeauth.Token)
	require.NoError(t, tok.UnmarshalJSON(raw))
	s, err := c.Encode(tok)
	require.NoError(t, err)
	return s
}

// noRedirect is a client that shows redirects instead of following them.
var noRedirect = &http.Client{
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	Timeout:       30 * time.Second,
}

// do sends a request with the given headers ("Cookie" included) and returns
// the response and its body.
func do(t *testing.T, method, url string, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	require.NoError(t, err)
	for k, v := range header {
		req.Header[k] = []string{v} // as given: spelling is part of some tests
	}
	res, err := noRedirect.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res, body
}

// upstreamSaw decodes an echoed request.
func upstreamSaw(t *testing.T, body []byte) echoed {
	t.Helper()
	var e echoed
	require.NoError(t, json.Unmarshal(body, &e), "upstream body %q", body)
	return e
}

// requireStatusSoon waits until a GET of path gets want: a revocation made
// through another Redis client reaches the gateway's local cache with
// Redis's invalidation, milliseconds later.
func requireStatusSoon(t *testing.T, base, path string, header map[string]string, want int) {
	t.Helper()
	require.Eventually(t, func() bool {
		res, _ := doRaw(t, "GET", base, path, header)
		return res.StatusCode == want
	}, 10*time.Second, 10*time.Millisecond, "GET %s never answered %d", path, want)
}

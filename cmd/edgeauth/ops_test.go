package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeauth/edgeauth/internal/redistest"
)

// procGateway is "edgeauth proxy" running as a subprocess of the real
// binary, on ports it chose itself (read from its startup log).
type procGateway struct {
	cmd         *exec.Cmd
	url         string
	metricsURL  string
	mu          sync.Mutex
	records     []map[string]any
	newRecord   chan struct{}
	done        chan struct{}
	exitErr     error
	stderrLines []string
}

func startProcGateway(t *testing.T, configPath string, env []string) *procGateway {
	t.Helper()
	bin := buildCommand(t)
	cmd := exec.Command(bin, "proxy", "--config", configPath, "--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0")
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, env...)
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	p := &procGateway{cmd: cmd, newRecord: make(chan struct{}, 1), done: make(chan struct{})}
	require.NoError(t, cmd.Start())
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var rec map[string]any
			p.mu.Lock()
			p.stderrLines = append(p.stderrLines, sc.Text())
			if json.Unmarshal(sc.Bytes(), &rec) == nil {
				p.records = append(p.records, rec)
			}
			p.mu.Unlock()
			select {
			case p.newRecord <- struct{}{}:
			default:
			}
		}
		p.exitErr = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGKILL)
		<-p.done
	})
	started := p.waitLog(t, "edgeauth proxy started")
	p.url = "http://" + started["listen"].(string)
	p.metricsURL = "http://" + started["metricsListen"].(string)
	return p
}

// waitLog waits for the next log record with msg (after those already
// returned for msg) and returns it.
func (p *procGateway) waitLog(t *testing.T, msg string) map[string]any {
	t.Helper()
	deadline := time.After(60 * time.Second)
	for {
		p.mu.Lock()
		for i, rec := range p.records {
			if rec["msg"] == msg {
				p.records = append(p.records[:i:i], p.records[i+1:]...)
				p.mu.Unlock()
				return rec
			}
		}
		lines := strings.Join(p.stderrLines, "\n")
		p.mu.Unlock()
		select {
		case <-p.newRecord:
		case <-p.done:
			p.mu.Lock()
			lines = strings.Join(p.stderrLines, "\n")
			p.mu.Unlock()
			t.Fatalf("gateway exited (%v) before logging %q:\n%s", p.exitErr, msg, lines)
		case <-deadline:
			t.Fatalf("gateway did not log %q:\n%s", msg, lines)
		}
	}
}

func (p *procGateway) wait(t *testing.T) error {
	t.Helper()
	select {
	case <-p.done:
		return p.exitErr
	case <-time.After(60 * time.Second):
		t.Fatal("gateway did not exit")
		return nil
	}
}

// TestReload: SIGHUP to the real binary reloads the configuration file and
// AUTH_SECRET_FILE; connections and in-flight streams survive it; an
// invalid file is logged and the running configuration kept.
func TestReload(t *testing.T) {
	up := startUpstream(t)
	dir := t.TempDir()
	configPath := filepath.Join(dir, "edgeauth.yaml")
	secretsPath := filepath.Join(dir, "secrets")
	const first, second = "reload-test-secret-first-0123456789", "reload-test-secret-second-012345678"
	write := func(path, body string) { require.NoError(t, os.WriteFile(path, []byte(body), 0o600)) }
	base := "upstream: " + up.URL + "\nrules:\n  - pattern: /dashboard/:path*\n"
	write(configPath, base)
	write(secretsPath, first+"\n")
	gw := startProcGateway(t, configPath, []string{"AUTH_SECRET_FILE=" + secretsPath})

	// One keep-alive connection for the whole test.
	client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 1, MaxIdleConnsPerHost: 1},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	var reused []bool
	get := func(path, cookie string) (*http.Response, echoed) {
		req, err := http.NewRequest("GET", gw.url+path, nil)
		require.NoError(t, err)
		if cookie != "" {
			req.Header.Set("Cookie", cookie)
		}
		req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
			GotConn: func(info httptrace.GotConnInfo) { reused = append(reused, info.Reused) },
		}))
		res, err := client.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		var e echoed
		if res.StatusCode == 200 {
			require.NoError(t, json.Unmarshal(body, &e))
		}
		return res, e
	}
	newCookie := sessionCookie(mint(t, second, alice))
	res, saw := get("/reports", newCookie)
	require.Equal(t, 200, res.StatusCode)
	assert.Empty(t, saw.Header["X-User-Id"], "the second secret is not known yet")

	// A stream in flight across the reload.
	sse, err := http.Get(gw.url + "/_sse")
	require.NoError(t, err)
	defer sse.Body.Close()
	sseBody := bufio.NewReader(sse.Body)
	line, err := sseBody.ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "data: one \n", line)

	write(configPath, base+"  - pattern: /reports/:path*\n    roles: [admin]\n")
	write(secretsPath, second+"\n"+first+"\n")
	require.NoError(t, gw.cmd.Process.Signal(syscall.SIGHUP))
	rec := gw.waitLog(t, "configuration reloaded")
	assert.Contains(t, rec["setup"], "2 rules")
	assert.Contains(t, rec["setup"], "secrets: 2 from AUTH_SECRET_FILE")

	res, saw = get("/reports", newCookie)
	require.Equal(t, 200, res.StatusCode)
	assert.Equal(t, []string{"alice"}, saw.Header["X-User-Id"], "the rotated secrets file is in force")
	res, _ = get("/reports", "")
	assert.Equal(t, 303, res.StatusCode, "the new rule is in force")
	res, _ = get("/reports", sessionCookie(mint(t, first, alice)))
	assert.Equal(t, 200, res.StatusCode, "the old secret still decodes")

	up.releaseAll()
	rest, err := readRest(sseBody)
	require.NoError(t, err)
	assert.Equal(t, "\ndata: two\n\n", rest, "a stream started before the reload finishes")

	// An invalid file: logged, and the running configuration stays.
	write(configPath, base+"  - pattern: /reports/(.*)\n")
	require.NoError(t, gw.cmd.Process.Signal(syscall.SIGHUP))
	rec = gw.waitLog(t, "reload failed; keeping the running configuration")
	assert.Contains(t, rec["error"], "rules[1].pattern")
	res, _ = get("/reports", "")
	assert.Equal(t, 303, res.StatusCode)
	write(secretsPath, "")
	require.NoError(t, gw.cmd.Process.Signal(syscall.SIGHUP))
	rec = gw.waitLog(t, "reload failed; keeping the running configuration")
	assert.Contains(t, rec["error"], "holds no secret")
	res, saw = get("/reports", newCookie)
	require.Equal(t, 200, res.StatusCode)
	assert.Equal(t, []string{"alice"}, saw.Header["X-User-Id"])

	assert.NotContains(t, reused[1:], false, "every request after the first reused the one connection")
	m := scrape(t, gw.metricsURL)
	assert.Equal(t, 1.0, m[`edgeauth_config_reloads_total{result="success"}`])
	assert.Equal(t, 2.0, m[`edgeauth_config_reloads_total{result="failure"}`])

	require.NoError(t, gw.cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, gw.wait(t))
}

// TestShutdown: SIGTERM stops accepting connections and lets an in-flight
// request finish; the process exits 0.
func TestShutdown(t *testing.T) {
	up := startUpstream(t)
	configPath := writeConfig(t, "upstream: "+up.URL+"\n")
	gw := startProcGateway(t, configPath, []string{"AUTH_SECRET=" + gwSecret})

	type answer struct {
		status int
		body   string
		err    error
	}
	inflight := make(chan answer, 1)
	go func() {
		res, err := http.Get(gw.url + "/_slow")
		if err != nil {
			inflight <- answer{err: err}
			return
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		inflight <- answer{res.StatusCode, string(b), err}
	}()
	waitFor(t, func() bool { return up.requestCount() == 1 }, "the slow request reaches the upstream")

	require.NoError(t, gw.cmd.Process.Signal(syscall.SIGTERM))
	gw.waitLog(t, "shutting down")
	waitFor(t, func() bool {
		c, err := net.DialTimeout("tcp", strings.TrimPrefix(gw.url, "http://"), time.Second)
		if err == nil {
			c.Close()
		}
		return err != nil
	}, "the listener closes")
	select {
	case a := <-inflight:
		t.Fatalf("the in-flight request ended before the upstream answered: %+v", a)
	default:
	}

	up.releaseAll()
	a := <-inflight
	require.NoError(t, a.err)
	assert.Equal(t, 200, a.status)
	assert.Contains(t, a.body, `"uri":"/_slow"`)
	require.NoError(t, gw.wait(t), "exit status 0")
	gw.waitLog(t, "edgeauth proxy stopped")
}

// TestShutdownBounded: a request still running at shutdownTimeout does not
// keep the process alive.
func TestShutdownBounded(t *testing.T) {
	up := startUpstream(t)
	configPath := writeConfig(t, "upstream: "+up.URL+"\nshutdownTimeout: 300ms\n")
	gw := startProcGateway(t, configPath, []string{"AUTH_SECRET=" + gwSecret})
	inflight := make(chan error, 1)
	go func() {
		res, err := http.Get(gw.url + "/_slow")
		if err == nil {
			_, err = io.ReadAll(res.Body)
			res.Body.Close()
		}
		inflight <- err
	}()
	waitFor(t, func() bool { return up.requestCount() == 1 }, "the slow request reaches the upstream")
	require.NoError(t, gw.cmd.Process.Signal(syscall.SIGINT))
	gw.waitLog(t, "shutdown timeout reached; closing the remaining connections")
	require.NoError(t, gw.wait(t))
	err := <-inflight
	require.Error(t, err, "the unfinished request was cut")
	assert.False(t, errors.Is(err, os.ErrDeadlineExceeded))
}

// waitFor polls cond (tests never assert on elapsed time, only that a
// state is reached).
func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestReadyz: /readyz answers for Redis, and a failing Redis is counted as
// revocation-store errors while requests with a session fail closed.
func TestReadyz(t *testing.T) {
	srv := redistest.StartServer(t)
	gw := startGateway(t, gwConfig, nil, proxyFlags{redis: "redis://" + srv.Addr() + "/0"})
	res, body := do(t, "GET", gw.metricsURL+"/readyz", nil)
	assert.Equal(t, 200, res.StatusCode)
	assert.Equal(t, "ok\n", string(body))
	cookie := map[string]string{"X-Original-URI": "/dashboard", "Cookie": sessionCookie(mint(t, gwSecret, alice))}
	res, _ = doRaw(t, "GET", gw.url, "/_edgeauth/auth", cookie)
	require.Equal(t, 200, res.StatusCode)

	srv.Stop(t)
	res, body = do(t, "GET", gw.metricsURL+"/readyz", nil)
	assert.Equal(t, 503, res.StatusCode)
	assert.Equal(t, "redis unavailable\n", string(body))
	res, _ = doRaw(t, "GET", gw.url, "/_edgeauth/auth", cookie)
	assert.Equal(t, 401, res.StatusCode, "fail closed")
	res, _ = do(t, "GET", gw.url+"/_edgeauth/healthz", nil)
	assert.Equal(t, 200, res.StatusCode, "healthz is about this process only")
	m := scrape(t, gw.metricsURL)
	assert.Equal(t, 1.0, m[`edgeauth_revocation_store_errors_total{op="check"}`])
	rejected := logLines(t, gw.logs.String(), "request rejected")
	require.NotEmpty(t, rejected)
	assert.Equal(t, "revocation_unavailable", rejected[len(rejected)-1]["reason"])

	// Metrics never leave the metrics listener.
	res, _ = do(t, "GET", gw.url+"/metrics", nil)
	assert.Equal(t, 404, res.StatusCode)
}

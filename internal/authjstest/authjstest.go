// Package authjstest runs the real Auth.js libraries (testdata/authjs/harness.mjs
// under Node) so tests can compare edgeauth against them differentially; with
// [StartIn] it runs another harness of the same protocol, such as Better
// Auth's in testdata/betterauth.
//
// One harness process per directory is shared per test binary; requests are
// serialized. The protocol (ops and their request/response shapes) is
// documented in each directory's README.md.
package authjstest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/internal/testenv"
)

const (
	callTimeout    = 30 * time.Second
	startTimeout   = 60 * time.Second
	installTimeout = 5 * time.Minute
	stderrTail     = 4096
)

// Error is an error reported by the harness itself (e.g. a jose decrypt
// failure), as opposed to a transport problem.
type Error struct {
	Message string // "<ErrorName>: <message>"
	Code    string // jose error code such as "ERR_JWE_DECRYPTION_FAILED", if any
}

func (e *Error) Error() string {
	if e.Code != "" {
		return "authjs: " + e.Message + " (" + e.Code + ")"
	}
	return "authjs: " + e.Message
}

// Harness is a running harness process. Safe for concurrent use.
type Harness struct {
	dir string
	mu  sync.Mutex
	p   *proc // nil after a transport failure; restarted on the next Call
	rid uint64

	timeout time.Duration // per call; zero means callTimeout
}

// started is the outcome of starting one directory's harness.
type started struct {
	once       sync.Once
	h          *Harness
	skipReason string
	err        error
}

var (
	startedMu sync.Mutex
	startedIn = map[string]*started{}
)

// Start returns the running Auth.js harness, or skips the test when node/npm
// are not on PATH and CI is unset. With CI set, missing node or a failed
// install fails the test (t.Fatal), never a skip.
func Start(t testing.TB) *Harness {
	t.Helper()
	return StartIn(t, "authjs")
}

// StartIn is Start for the harness in testdata/<name>.
func StartIn(t testing.TB, name string) *Harness {
	t.Helper()
	startedMu.Lock()
	s := startedIn[name]
	if s == nil {
		s = new(started)
		startedIn[name] = s
	}
	startedMu.Unlock()
	s.once.Do(func() { s.h, s.skipReason, s.err = start(name) })
	if s.skipReason != "" {
		testenv.Missing(t, "authjstest: %s", s.skipReason)
	}
	if s.err != nil {
		t.Fatalf("authjstest: %v", s.err)
	}
	return s.h
}

// Dir returns the absolute path of testdata/authjs.
func Dir() (string, error) { return DirOf("authjs") }

// DirOf returns the absolute path of testdata/<name>, found by walking up
// from the working directory to go.mod.
func DirOf(name string) (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return filepath.Join(d, "testdata", name), nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("authjstest: no go.mod above %s", wd)
		}
		d = parent
	}
}

func start(name string) (*Harness, string, error) {
	dir, err := DirOf(name)
	if err != nil {
		return nil, "", err
	}
	if _, err := os.Stat(filepath.Join(dir, "harness.mjs")); err != nil {
		return nil, "", fmt.Errorf("harness missing: %w", err)
	}
	if _, err := exec.LookPath("node"); err != nil {
		return nil, "node not found on PATH", nil
	}

	// Held until the harness has loaded its modules, so another test binary
	// cannot run npm over node_modules while we read it.
	unlock, err := lockFile(filepath.Join(dir, ".install.lock"))
	if err != nil {
		return nil, "", fmt.Errorf("lock: %w", err)
	}
	defer unlock()

	ok, err := installed(dir)
	if err != nil {
		return nil, "", err
	}
	if !ok {
		if _, err := exec.LookPath("npm"); err != nil {
			return nil, "npm not found on PATH (needed to install testdata/" + name + "/node_modules)", nil
		}
		if err := npmCI(dir); err != nil {
			return nil, "", err
		}
	}

	h := &Harness{dir: dir}
	p, err := startProc(dir)
	if err != nil {
		return nil, "", err
	}
	h.p = p
	return h, "", nil
}

// installed reports whether node_modules holds exactly the versions pinned in
// package.json (a stale tree after a pin bump counts as not installed).
func installed(dir string) (bool, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "package.json"))
	if err != nil {
		return false, err
	}
	var pkg struct {
		Dependencies map[string]string `json:"dependencies"`
	}
	if err := json.Unmarshal(raw, &pkg); err != nil {
		return false, fmt.Errorf("package.json: %w", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", ".package-lock.json")); err != nil {
		return false, nil
	}
	for name, want := range pkg.Dependencies {
		raw, err := os.ReadFile(filepath.Join(dir, "node_modules", filepath.FromSlash(name), "package.json"))
		if err != nil {
			return false, nil
		}
		var dep struct {
			Version string `json:"version"`
		}
		if json.Unmarshal(raw, &dep) != nil || dep.Version != want {
			return false, nil
		}
	}
	return true, nil
}

func npmCI(dir string) error {
	ctx, cancel := context.WithTimeout(context.Background(), installTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "npm_config_update_notifier=false")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("npm ci in %s: %w\n%s", dir, err, tail(out, stderrTail))
	}
	return nil
}

// Call sends one request and decodes the response into resp (which may be
// nil). A harness-reported {"error":...} is returned as *Error. The request
// must marshal to a JSON object; its "_rid" key is reserved.
func (h *Harness) Call(req any, resp any) error {
	body, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("authjstest: marshal request: %w", err)
	}
	body = bytes.TrimSpace(body)
	if len(body) < 2 || body[0] != '{' {
		return errors.New("authjstest: request must marshal to a JSON object")
	}

	h.mu.Lock()
	defer h.mu.Unlock()
	if h.p == nil {
		p, err := startProc(h.dir)
		if err != nil {
			return fmt.Errorf("authjstest: restart: %w", err)
		}
		h.p = p
	}
	h.rid++
	timeout := h.timeout
	if timeout == 0 {
		timeout = callTimeout
	}
	raw, err := h.p.roundTrip(h.rid, body, timeout)
	if err != nil {
		h.p.kill()
		h.p = nil
		return fmt.Errorf("authjstest: %w", err)
	}
	return decodeResponse(raw, resp)
}

func decodeResponse(raw []byte, resp any) error {
	var env struct {
		Error *string `json:"error"`
		Code  string  `json:"code"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		return fmt.Errorf("authjstest: bad response: %w", err)
	}
	if env.Error != nil {
		return &Error{Message: *env.Error, Code: env.Code}
	}
	if resp == nil {
		return nil
	}
	if err := json.Unmarshal(raw, resp); err != nil {
		return fmt.Errorf("authjstest: decode response: %w", err)
	}
	return nil
}

// proc is one node process speaking the line protocol over pipes. Pipes from
// os.Pipe support deadlines, so a stuck harness cannot hang a test.
type proc struct {
	cmd    *exec.Cmd
	in     *os.File
	out    *os.File
	r      *bufio.Reader
	stderr *tailBuffer
}

func startProc(dir string) (*proc, error) {
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return nil, err
	}
	cmd := exec.Command("node", "harness.mjs")
	cmd.Dir = dir
	cmd.Env = harnessEnv()
	cmd.Stdin = inR
	cmd.Stdout = outW
	stderr := &tailBuffer{max: stderrTail}
	cmd.Stderr = stderr
	err = cmd.Start()
	inR.Close()
	outW.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		return nil, fmt.Errorf("start node: %w", err)
	}
	// Reap the child; exits when node does (stdin EOF at binary exit).
	go func() { _ = cmd.Wait() }()

	p := &proc{cmd: cmd, in: inW, out: outR, r: bufio.NewReader(outR), stderr: stderr}
	var ping struct {
		OK bool `json:"ok"`
	}
	raw, err := p.roundTrip(0, []byte(`{"op":"ping"}`), startTimeout)
	if err == nil {
		err = decodeResponse(raw, &ping)
	}
	if err == nil && !ping.OK {
		err = errors.New("harness ping not ok")
	}
	if err != nil {
		p.kill()
		return nil, fmt.Errorf("harness did not start: %w", err)
	}
	return p, nil
}

// harnessEnv drops variables that Auth.js or Better Auth would read, so
// results depend only on the request.
func harnessEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "AUTH_") || strings.HasPrefix(kv, "NEXTAUTH_") || strings.HasPrefix(kv, "BETTER_AUTH_") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

func (p *proc) roundTrip(rid uint64, body []byte, timeout time.Duration) ([]byte, error) {
	line := make([]byte, 0, len(body)+32)
	line = fmt.Appendf(line, `{"_rid":%d`, rid)
	if len(body) > 2 {
		line = append(line, ',')
	}
	line = append(line, body[1:]...)
	line = append(line, '\n')

	deadline := time.Now().Add(timeout)
	if err := p.in.SetWriteDeadline(deadline); err != nil {
		return nil, err
	}
	if _, err := p.in.Write(line); err != nil {
		return nil, p.fail("write request", err)
	}
	if err := p.out.SetReadDeadline(deadline); err != nil {
		return nil, err
	}
	raw, err := p.r.ReadBytes('\n')
	if err != nil {
		return nil, p.fail("read response", err)
	}
	var env struct {
		Rid *uint64 `json:"_rid"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		return nil, p.fail("parse response", err)
	}
	if env.Rid == nil || *env.Rid != rid {
		return nil, p.fail("response out of step", errors.New(string(tail(raw, 200))))
	}
	return raw, nil
}

func (p *proc) fail(what string, err error) error {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		err = fmt.Errorf("no answer within the timeout: %w", err)
	}
	if s := strings.TrimSpace(p.stderr.String()); s != "" {
		return fmt.Errorf("harness %s: %w\nharness stderr (tail):\n%s", what, err, s)
	}
	return fmt.Errorf("harness %s: %w", what, err)
}

func (p *proc) kill() {
	_ = p.cmd.Process.Kill()
	p.in.Close()
	p.out.Close()
}

// tailBuffer keeps the last max bytes written (the harness's stderr).
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if len(b.buf) > b.max {
		b.buf = append(b.buf[:0], b.buf[len(b.buf)-b.max:]...)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// Command cachemem measures the memory that the session cache costs the
// example server when browsers carry many other cookies. It starts
// examples/basic on a loopback port, signs in -sessions times (each sign-in
// is a distinct session), sends each session's cookie once to a protected
// page beside -padding bytes of other cookies, as a browser with a crowded
// cookie jar does, and prints the server's resident memory from
// /proc/PID/status (VmRSS now, VmHWM its peak). Linux only.
//
//	go run ./scripts/cachemem [-sessions 12000] [-padding 32768] [-bin path/to/basic]
//
// Without -bin it builds ./examples/basic first (run it from the module
// root). It sends traffic to 127.0.0.1 only, and stops the server on exit.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	sessions := flag.Int("sessions", 12_000, "distinct sessions to send")
	padding := flag.Int("padding", 32<<10, "bytes of other cookies sent beside each session cookie")
	bin := flag.String("bin", "", "example server binary (default: go build ./examples/basic)")
	workers := flag.Int("workers", 4, "concurrent clients")
	flag.Parse()
	if err := run(*bin, *sessions, *padding, *workers); err != nil {
		fmt.Fprintln(os.Stderr, "cachemem:", err)
		os.Exit(1)
	}
}

func run(bin string, sessions, padding, workers int) error {
	dir, err := os.MkdirTemp("", "cachemem")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if bin == "" {
		bin = filepath.Join(dir, "basic")
		build := exec.Command("go", "build", "-o", bin, "./examples/basic")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("building the example: %w", err)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	server := exec.CommandContext(ctx, bin)
	server.Env = append(os.Environ(), "ADDR=127.0.0.1:0", "AUTH_SECRET=cachemem-secret-0123456789abcdef", "REDIS_URL=")
	logs, err := server.StderrPipe()
	if err != nil {
		return err
	}
	if err := server.Start(); err != nil {
		return err
	}
	defer func() { _ = server.Process.Kill(); _ = server.Wait() }()
	base, err := listeningURL(logs)
	if err != nil {
		return err
	}
	go func() { _, _ = io.Copy(io.Discard, logs) }()

	other := otherCookies(padding)
	var next, failed atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	start := time.Now()
	for range workers {
		wg.Go(func() {
			client := &http.Client{
				Timeout:       10 * time.Second,
				CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
			}
			for next.Add(1) <= int64(sessions) {
				if err := oneSession(client, base, other); err != nil {
					failed.Add(1)
					once.Do(func() { firstErr = err })
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if n := failed.Load(); n > 0 {
		return fmt.Errorf("%d of %d sessions failed, the first: %w", n, sessions, firstErr)
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", server.Process.Pid))
	if err != nil {
		return fmt.Errorf("reading the server's memory (Linux only): %w", err)
	}
	fmt.Printf("%d sessions, each sent beside %d bytes of other cookies, in %.1fs: server VmRSS %s, VmHWM (peak) %s\n",
		sessions, padding, elapsed.Seconds(), statusField(status, "VmRSS"), statusField(status, "VmHWM"))
	return nil
}

var listening = regexp.MustCompile(`msg="edgeauth example listening" url=(\S+)`)

// listeningURL reads the server's log until it says where it listens.
func listeningURL(logs io.Reader) (string, error) {
	lines := bufio.NewScanner(logs)
	for lines.Scan() {
		if m := listening.FindStringSubmatch(lines.Text()); m != nil {
			return strings.TrimSuffix(m[1], "/"), nil
		}
	}
	return "", errors.New("the server exited before listening")
}

// otherCookies is padding bytes of 4 KiB cookies, the most a browser keeps
// in one.
func otherCookies(padding int) string {
	var b strings.Builder
	for i := 0; b.Len() < padding; i++ {
		if i > 0 {
			b.WriteString("; ")
		}
		name := fmt.Sprintf("other%d=", i)
		b.WriteString(name)
		b.WriteString(strings.Repeat("x", max(min(4096-len(name), padding-b.Len()), 1)))
	}
	return b.String()
}

// oneSession signs in as alice and sends the new session to /dashboard once.
func oneSession(client *http.Client, base, other string) error {
	resp, err := client.PostForm(base+"/login", url.Values{"username": {"alice"}, "password": {"alice"}})
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		return fmt.Errorf("sign-in: status %d", resp.StatusCode)
	}
	cookie := other
	for _, c := range resp.Cookies() {
		if strings.HasPrefix(c.Name, "authjs.session-token") && c.Value != "" {
			cookie += "; " + c.Name + "=" + c.Value
		}
	}
	if cookie == other {
		return errors.New("sign-in set no session cookie")
	}
	req, err := http.NewRequest("GET", base+"/dashboard", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Cookie", cookie)
	resp, err = client.Do(req)
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"x-user-id":"alice"`) {
		return fmt.Errorf("/dashboard: status %d, the session did not reach the handler", resp.StatusCode)
	}
	return nil
}

func statusField(status []byte, name string) string {
	for line := range strings.SplitSeq(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, name+":"); ok {
			return strings.Join(strings.Fields(v), " ")
		}
	}
	return "?"
}

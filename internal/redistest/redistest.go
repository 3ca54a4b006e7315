// Package redistest runs a real, throwaway redis-server for tests.
package redistest

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/internal/testenv"
)

const (
	startTimeout = 10 * time.Second
	stopTimeout  = 10 * time.Second
)

// Server is a redis-server process bound to a fixed loopback port.
type Server struct {
	bin   string
	dir   string
	port  int
	extra []string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
	out  *syncBuffer
}

// Start starts a redis-server for the test and returns its address ("127.0.0.1:port").
// It is stopped when the test ends. config is extra redis-server arguments, such as
// "--maxmemory", "1mb".
func Start(t testing.TB, config ...string) string {
	t.Helper()
	return StartServer(t, config...).Addr()
}

// StartServer is Start returning the Server, for tests that stop and restart it.
// Without redis-server on PATH the test is skipped, or fails when CI is set.
func StartServer(t testing.TB, config ...string) *Server {
	t.Helper()
	return startServer(t, serverBin(t), freePort, config)
}

// serverBin finds redis-server: without it the test is skipped, or fails when CI is set.
func serverBin(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		testenv.Missing(t, "redis-server not found on PATH; install it (apt-get install redis-server) to run this test")
	}
	return bin
}

func startServer(t testing.TB, bin string, port func() (int, error), config []string) *Server {
	t.Helper()
	s := &Server{bin: bin, dir: t.TempDir(), extra: config}
	t.Cleanup(func() {
		if err := s.stop(); err != nil {
			t.Errorf("redistest: stopping redis-server: %v", err)
		}
	})
	// A port found free may be taken before redis binds it; retry with another.
	var lastErr error
	for range 5 {
		s.port, lastErr = port()
		if lastErr != nil {
			continue
		}
		if lastErr = s.start(); lastErr == nil {
			return s
		}
	}
	t.Fatalf("redistest: starting redis-server: %v", lastErr)
	return nil
}

// Addr returns "127.0.0.1:port"; it stays the same across Restart.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// Stop stops the server; the data is lost (no persistence).
func (s *Server) Stop(t testing.TB) {
	t.Helper()
	if err := s.stop(); err != nil {
		t.Fatalf("redistest: stopping redis-server: %v", err)
	}
}

// Restart starts a stopped server again on the same port, empty.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	if err := s.stop(); err != nil {
		t.Fatalf("redistest: stopping redis-server: %v", err)
	}
	if err := s.start(); err != nil {
		t.Fatalf("redistest: restarting redis-server: %v", err)
	}
}

func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := &syncBuffer{}
	args := []string{
		"--port", strconv.Itoa(s.port),
		"--bind", "127.0.0.1",
		"--save", "",
		"--appendonly", "no",
		"--dir", s.dir,
		"--daemonize", "no",
		"--logfile", "",
	}
	cmd := exec.Command(s.bin, append(args, s.extra...)...)
	cmd.Dir = s.dir
	cmd.Stdout = out
	cmd.Stderr = out
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	s.cmd, s.done, s.out = cmd, done, out

	deadline := time.Now().Add(startTimeout)
	for {
		select {
		case <-done:
			s.cmd = nil
			return fmt.Errorf("redis-server exited during startup: %s", out.String())
		default:
		}
		if ping(s.Addr()) == nil {
			return nil
		}
		if time.Now().After(deadline) {
			s.killLocked()
			return fmt.Errorf("redis-server did not answer PING within %v: %s", startTimeout, out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (s *Server) stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return nil
	}
	_ = s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.done:
		s.cmd = nil
		return nil
	case <-time.After(stopTimeout):
		s.killLocked()
		return fmt.Errorf("redis-server ignored SIGINT for %v, killed", stopTimeout)
	}
}

func (s *Server) killLocked() {
	_ = s.cmd.Process.Kill()
	<-s.done
	s.cmd = nil
}

// ping sends a RESP PING and expects +PONG.
func ping(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(time.Second)); err != nil {
		return err
	}
	if _, err := c.Write([]byte("*1\r\n$4\r\nPING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if line != "+PONG\r\n" {
		return fmt.Errorf("unexpected PING reply %q", line)
	}
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// syncBuffer collects the server's output for error messages.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Unresponsive returns the address of a loopback server that accepts
// connections and never answers, for tests of timeouts; it closes them all
// when the test ends.
func Unresponsive(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("redistest: listen: %v", err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		<-done
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return ln.Addr().String()
}

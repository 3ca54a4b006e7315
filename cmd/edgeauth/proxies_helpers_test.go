package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/edgeauth/edgeauth/internal/testenv"
)

// Addresses in the example configurations that the tests replace.
const (
	exampleGateway  = "127.0.0.1:4180"
	exampleUpstream = "127.0.0.1:3000"
)

// readExample returns a file of examples/gateway.
func readExample(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "examples", "gateway", name))
	require.NoError(t, err)
	return string(b)
}

// replaceAll replaces old in s, which must contain it: a test must never
// run a configuration other than the one it names.
func replaceAll(t *testing.T, s, old, new string) string {
	t.Helper()
	require.Contains(t, s, old, "the example no longer holds %q", old)
	return strings.ReplaceAll(s, old, new)
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// proxyProcess is an nginx or Caddy started by a test.
type proxyProcess struct {
	cmd  *exec.Cmd
	done chan struct{}
	out  *lockedBuffer
}

// startProxyProcess starts cmd, waits until addr accepts connections, and
// stops it (stop, then SIGKILL) when the test ends.
func startProxyProcess(t *testing.T, cmd *exec.Cmd, addr string, stop os.Signal) *proxyProcess {
	t.Helper()
	p := &proxyProcess{cmd: cmd, done: make(chan struct{}), out: &lockedBuffer{}}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	require.NoError(t, cmd.Start())
	go func() { _ = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(stop)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-p.done
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case <-p.done:
			t.Fatalf("%s exited during startup: %s", filepath.Base(cmd.Path), p.out.String())
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not listen on %s: %s", filepath.Base(cmd.Path), addr, p.out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// startNginx runs nginx with site (http-level configuration, such as
// examples/gateway/nginx.conf) in a temporary prefix, as any user: pid,
// logs and temp paths stay in the test's directory. It returns the
// address of site's "listen 8080".
func startNginx(t *testing.T, site string) string {
	t.Helper()
	bin, err := exec.LookPath("nginx")
	if err != nil {
		testenv.Missing(t, "nginx not found on PATH; install it (apt-get install nginx) to run this test")
	}
	dir := t.TempDir()
	// Workers may run as another user (nobody) when the tests run as root:
	// they must reach the temp paths.
	require.NoError(t, os.Chmod(filepath.Dir(dir), 0o755))
	require.NoError(t, os.Chmod(dir, 0o755))
	for _, d := range []string{"body", "proxy", "fastcgi", "uwsgi", "scgi"} {
		require.NoError(t, os.Mkdir(filepath.Join(dir, d), 0o777))
		require.NoError(t, os.Chmod(filepath.Join(dir, d), 0o777))
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t)))
	site = replaceAll(t, site, "listen 8080;", "listen "+addr+";")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "site.conf"), []byte(site), 0o644))
	conf := fmt.Sprintf(`worker_processes 1;
pid %[1]s/nginx.pid;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path %[1]s/body;
    proxy_temp_path %[1]s/proxy;
    fastcgi_temp_path %[1]s/fastcgi;
    uwsgi_temp_path %[1]s/uwsgi;
    scgi_temp_path %[1]s/scgi;
    include %[1]s/site.conf;
}
`, dir)
	confPath := filepath.Join(dir, "nginx.conf")
	require.NoError(t, os.WriteFile(confPath, []byte(conf), 0o644))
	cmd := exec.Command(bin, "-p", dir+"/", "-c", confPath, "-e", filepath.Join(dir, "error.log"), "-g", "daemon off;")
	startProxyProcess(t, cmd, addr, syscall.SIGQUIT)
	return addr
}

// startCaddy runs caddy with the Caddyfile's ":8080" site on a free
// loopback port, admin API off and its state in the test's directory. It
// returns the site's address.
func startCaddy(t *testing.T, caddyfile string) string {
	t.Helper()
	bin, err := exec.LookPath("caddy")
	if err != nil {
		testenv.Missing(t, "caddy not found on PATH; install it (apt-get install caddy) to run this test")
	}
	dir := t.TempDir()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t)))
	caddyfile = replaceAll(t, caddyfile, ":8080 {", "http://"+addr+" {")
	caddyfile = "{\n\tadmin off\n\tauto_https off\n}\n\n" + caddyfile
	path := filepath.Join(dir, "Caddyfile")
	require.NoError(t, os.WriteFile(path, []byte(caddyfile), 0o644))
	cmd := exec.Command(bin, "run", "--config", path, "--adapter", "caddyfile")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir,
		"XDG_DATA_HOME=" + filepath.Join(dir, "data"), "XDG_CONFIG_HOME=" + filepath.Join(dir, "config")}
	startProxyProcess(t, cmd, addr, syscall.SIGTERM)
	return addr
}

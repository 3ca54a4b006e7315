package redistest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStopRestart(t *testing.T) {
	s := StartServer(t)
	addr := s.Addr()
	require.NoError(t, ping(addr))

	s.Stop(t)
	assert.Error(t, ping(addr), "stopped server must not answer")
	s.Stop(t) // idempotent

	s.Restart(t)
	assert.Equal(t, addr, s.Addr(), "restart keeps the port")
	require.NoError(t, ping(addr))
}

func TestStartTwoServers(t *testing.T) {
	a, b := Start(t), Start(t)
	assert.NotEqual(t, a, b)
	require.NoError(t, ping(a))
	require.NoError(t, ping(b))
}

// recTB records how StartServer gives up; Skipf/Fatalf end its goroutine like the real ones.
type recTB struct {
	testing.TB
	skipped, failed string
}

func (r *recTB) Helper() {}
func (r *recTB) Skipf(format string, args ...any) {
	r.skipped = fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (r *recTB) Fatalf(format string, args ...any) {
	r.failed = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func runStart(t *testing.T) *recTB {
	r := &recTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		StartServer(r)
	}()
	<-done
	return r
}

func TestMissingBinary(t *testing.T) {
	t.Setenv("PATH", t.TempDir())

	t.Setenv("CI", "")
	r := runStart(t)
	assert.Contains(t, r.skipped, "redis-server not found")
	assert.Empty(t, r.failed)

	t.Setenv("CI", "true")
	r = runStart(t)
	assert.Contains(t, r.failed, "redis-server not found")
	assert.Empty(t, r.skipped)
}

func TestExtraConfig(t *testing.T) {
	s := StartServer(t, "--maxmemory", "3mb", "--maxmemory-policy", "allkeys-lru", "--rename-command", "CONFIG", "")
	require.NoError(t, ping(s.Addr()))
	// CONFIG is renamed away: the server must reject it, proving the arguments arrived.
	_, err := Do(s.Addr(), "CONFIG", "GET", "maxmemory")
	assert.ErrorContains(t, err, "unknown command")
	s.Restart(t)
	_, err = Do(s.Addr(), "CONFIG", "GET", "maxmemory")
	assert.ErrorContains(t, err, "unknown command", "Restart keeps the configuration")
}

func TestDo(t *testing.T) {
	addr := Start(t)
	for _, tc := range []struct{ args, want []string }{
		{[]string{"PING"}, []string{"PONG"}},
		{[]string{"SET", "k", "a\r\nb"}, []string{"OK"}},
		{[]string{"GET", "k"}, []string{"a\r\nb"}},
		{[]string{"INCR", "n"}, []string{"1"}},
		{[]string{"GET", "missing"}, nil},
	} {
		got, err := Do(addr, tc.args...)
		if tc.want == nil {
			assert.Error(t, err, "a nil reply is not supported")
			continue
		}
		require.NoError(t, err, tc.args)
		assert.Equal(t, tc.want[0], got, tc.args)
	}
	_, err := Do(addr, "NOSUCHCOMMAND")
	assert.ErrorContains(t, err, "unknown command")
}

func TestCluster(t *testing.T) {
	c := StartCluster(t, 3)
	require.Len(t, c.Nodes, 3)
	for _, addr := range c.Addrs() {
		info, err := Do(addr, "CLUSTER", "INFO")
		require.NoError(t, err)
		assert.Contains(t, info, "cluster_state:ok")
		assert.Contains(t, info, "cluster_known_nodes:3")
	}
	assert.Equal(t, "redis://"+c.Addrs()[0]+"?addr="+c.Addrs()[1]+"&addr="+c.Addrs()[2], c.URL())

	// Each node owns some slots: a key is refused by the nodes that do not own it.
	var moved int
	for _, addr := range c.Addrs() {
		if _, err := Do(addr, "SET", "k", "v"); err != nil {
			assert.Contains(t, err.Error(), "MOVED")
			moved++
		}
	}
	assert.Equal(t, 2, moved)

	// A stopped node is missing from the others' view; restarted, it rejoins with its slots.
	c.Nodes[1].Stop(t)
	assert.Error(t, c.ok())
	c.Nodes[1].Restart(t)
	c.WaitOK(t)
}

func TestClusterMissingCLI(t *testing.T) {
	bin := t.TempDir()
	server, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server not found")
	}
	require.NoError(t, os.Symlink(server, filepath.Join(bin, "redis-server")))
	t.Setenv("PATH", bin)
	t.Setenv("CI", "true")
	r := &recTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		StartCluster(r, 3)
	}()
	<-done
	assert.Contains(t, r.failed, "redis-cli not found")
}

func TestProxyFreeze(t *testing.T) {
	p := StartProxy(t, Start(t))
	got, err := Do(p.Addr(), "PING")
	require.NoError(t, err)
	assert.Equal(t, "PONG", got)

	p.Freeze()
	_, err = doWithin(p.Addr(), 200*time.Millisecond, "PING")
	var ne net.Error
	require.ErrorAs(t, err, &ne, "a frozen proxy must not answer")
	assert.True(t, ne.Timeout())

	p.Thaw()
	got, err = Do(p.Addr(), "PING")
	require.NoError(t, err)
	assert.Equal(t, "PONG", got)
}

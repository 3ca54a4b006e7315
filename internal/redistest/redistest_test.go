package redistest

import (
	"bufio"
	"fmt"
	"net"
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
	assert.Contains(t, command(t, s.Addr(), "CONFIG", "GET", "maxmemory"), "unknown command")
	s.Restart(t)
	assert.Contains(t, command(t, s.Addr(), "CONFIG", "GET", "maxmemory"), "unknown command", "Restart keeps the configuration")
}

// command sends one RESP command and returns the first reply line.
func command(t *testing.T, addr string, args ...string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, time.Second)
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.SetDeadline(time.Now().Add(time.Second)))
	req := fmt.Sprintf("*%d\r\n", len(args))
	for _, a := range args {
		req += fmt.Sprintf("$%d\r\n%s\r\n", len(a), a)
	}
	_, err = c.Write([]byte(req))
	require.NoError(t, err)
	line, err := bufio.NewReader(c).ReadString('\n')
	require.NoError(t, err)
	return line
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

	// A restarted node rejoins with its slots.
	c.Nodes[1].Restart(t)
	c.WaitOK(t)
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

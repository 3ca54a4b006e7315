package redistest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/internal/testenv"
)

const (
	// clusterBusOffset is how far above its port a cluster node listens for its peers.
	clusterBusOffset = 10000
	clusterTimeout   = 30 * time.Second
)

// Cluster is a Redis Cluster of real redis-server processes, masters only, each owning
// a third (for three) of the slots.
type Cluster struct {
	Nodes []*Server

	bin  string
	args []string
}

// StartCluster starts a Redis Cluster of masters nodes (at least 3, as redis-cli
// requires) and waits until every node reports cluster_state:ok. config is extra
// redis-server arguments for every node. Nodes keep their cluster configuration across
// Restart, so a restarted node rejoins with its slots (and without its data). Without
// redis-server or redis-cli the test is skipped, or fails when CI is set.
func StartCluster(t testing.TB, masters int, config ...string) *Cluster {
	t.Helper()
	bin := serverBin(t)
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		testenv.Missing(t, "redis-cli not found on PATH; install it (apt-get install redis-tools) to run this test")
	}
	args := append([]string{
		"--cluster-enabled", "yes",
		"--cluster-config-file", "nodes.conf",
		// A stopped node is not declared failed during a test: the others keep serving
		// their slots, and the node rejoins when restarted.
		"--cluster-node-timeout", "60000",
	}, config...)
	c := &Cluster{bin: bin, args: args}
	for range masters {
		c.Nodes = append(c.Nodes, startServer(t, bin, freeClusterPort, args))
	}
	ctx, cancel := context.WithTimeout(context.Background(), clusterTimeout)
	defer cancel()
	create := append([]string{"--cluster", "create"}, c.Addrs()...)
	create = append(create, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.CommandContext(ctx, cli, create...).CombinedOutput(); err != nil {
		t.Fatalf("redistest: redis-cli --cluster create: %v\n%s", err, out)
	}
	c.WaitOK(t)
	return c
}

// AddNode starts one more node, joins it to the cluster as a master without slots, and
// waits until every node knows it.
func (c *Cluster) AddNode(t testing.TB) *Server {
	t.Helper()
	s := startServer(t, c.bin, freeClusterPort, c.args)
	_, port, _ := net.SplitHostPort(s.Addr())
	if _, err := Do(c.Nodes[0].Addr(), "CLUSTER", "MEET", "127.0.0.1", port); err != nil {
		t.Fatalf("redistest: CLUSTER MEET: %v", err)
	}
	c.Nodes = append(c.Nodes, s)
	c.WaitOK(t)
	return s
}

// Addrs returns the nodes' addresses.
func (c *Cluster) Addrs() []string {
	addrs := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		addrs[i] = n.Addr()
	}
	return addrs
}

// URL returns the cluster in go-redis's cluster URL form,
// redis://first?addr=second&addr=third.
func (c *Cluster) URL() string {
	addrs := c.Addrs()
	u := "redis://" + addrs[0]
	for i, a := range addrs[1:] {
		sep := "&"
		if i == 0 {
			sep = "?"
		}
		u += sep + "addr=" + a
	}
	return u
}

// WaitOK waits until every node reports cluster_state:ok and the same slot map.
func (c *Cluster) WaitOK(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(clusterTimeout)
	for {
		err := c.ok()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("redistest: cluster not ready after %v: %v", clusterTimeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (c *Cluster) ok() error {
	var slots string
	for i, n := range c.Nodes {
		info, err := Do(n.Addr(), "CLUSTER", "INFO")
		if err != nil {
			return err
		}
		if !strings.Contains(info, "cluster_state:ok") {
			return fmt.Errorf("node %s: %s", n.Addr(), strings.TrimSpace(info))
		}
		// Every node must see every node as a connected master with its slots.
		nodes, err := Do(n.Addr(), "CLUSTER", "NODES")
		if err != nil {
			return err
		}
		view := slotView(nodes)
		if i == 0 {
			slots = view
		} else if view != slots {
			return fmt.Errorf("node %s sees %q, node %s %q", n.Addr(), view, c.Nodes[0].Addr(), slots)
		}
	}
	return nil
}

// slotView reduces CLUSTER NODES to the sorted masters with their slot ranges.
func slotView(nodes string) string {
	var lines []string
	for line := range strings.Lines(nodes) {
		f := strings.Fields(line)
		if len(f) < 8 || !strings.Contains(f[2], "master") || strings.Contains(f[2], "fail") || f[7] != "connected" {
			continue
		}
		addr, _, _ := strings.Cut(f[1], "@")
		lines = append(lines, addr+" "+strings.Join(f[8:], ","))
	}
	slices.Sort(lines)
	return strings.Join(lines, ";")
}

// freeClusterPort finds a free loopback port whose cluster bus port is free too.
func freeClusterPort() (int, error) {
	for range 20 {
		port, err := freePort()
		if err != nil {
			return 0, err
		}
		if port+clusterBusOffset > 65535 {
			continue
		}
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port+clusterBusOffset)))
		if err != nil {
			continue
		}
		_ = l.Close()
		return port, nil
	}
	return 0, errors.New("no free port with a free cluster bus port")
}

// Do sends one command to addr and returns its reply: a status, an integer, or a bulk
// string (a RESP error is returned as an error). Arrays are not supported.
func Do(addr string, args ...string) (string, error) {
	return doWithin(addr, 5*time.Second, args...)
}

func doWithin(addr string, timeout time.Duration, args ...string) (string, error) {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(timeout)); err != nil {
		return "", err
	}
	req := fmt.Sprintf("*%d\r\n", len(args))
	for _, a := range args {
		req += fmt.Sprintf("$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := c.Write([]byte(req)); err != nil {
		return "", err
	}
	rd := bufio.NewReader(c)
	line, err := rd.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimSuffix(line, "\r\n")
	if line == "" {
		return "", errors.New("empty reply")
	}
	switch line[0] {
	case '+', ':':
		return line[1:], nil
	case '-':
		return "", errors.New(line[1:])
	case '$':
		n, err := strconv.Atoi(line[1:])
		if err != nil || n < 0 {
			return "", fmt.Errorf("unexpected reply %q", line)
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(rd, buf); err != nil {
			return "", err
		}
		return string(buf[:n]), nil
	}
	return "", fmt.Errorf("unsupported reply %q", line)
}

// ScriptCalls returns how many scripts (EVAL, EVALSHA) the Redis at addr has
// run, as INFO commandstats reports them: a test compares two readings to
// see whether something between them reached Redis.
func ScriptCalls(t testing.TB, addr string) string {
	t.Helper()
	stats, err := Do(addr, "INFO", "commandstats")
	if err != nil {
		t.Fatalf("redistest: INFO commandstats: %v", err)
	}
	var out []string
	for line := range strings.Lines(stats) {
		if strings.HasPrefix(line, "cmdstat_eval") {
			name, rest, _ := strings.Cut(line, ":")
			calls, _, _ := strings.Cut(rest, ",")
			out = append(out, name+" "+calls)
		}
	}
	return strings.Join(out, "; ")
}

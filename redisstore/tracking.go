package redisstore

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// invalidationChannel is where Redis publishes tracking invalidations to a RESP2
// connection that redirects its tracking to itself.
const invalidationChannel = "__redis__:invalidate"

// sharedGroup is the cache group of the shared pool's key; user groups are hash tags
// (43 characters), so they cannot be equal to it.
const sharedGroup = "n"

const (
	// pingInterval is how long a tracking connection may be silent before it is pinged;
	// a ping unanswered for as long again ends the connection.
	pingInterval = 500 * time.Millisecond
	// staleIntervals is how many ping intervals of silence stop cache hits, whether or not
	// the tracking goroutine has noticed (it may be late on a loaded machine).
	staleIntervals = 3
	// minBackoff and maxBackoff bound the wait between attempts to re-establish tracking.
	minBackoff = 50 * time.Millisecond
	maxBackoff = 5 * time.Second
	// maintainInterval is how often expired entries are swept and, on Redis Cluster, the
	// masters are listed.
	maintainInterval = time.Second
	// topologyTimeout bounds one listing of the cluster's masters.
	topologyTimeout = 2 * time.Second
)

// tracking keeps one tracking connection per Redis node that holds keys (one for a
// single Redis, one per master on Redis Cluster), feeds their invalidations to the cache,
// and tells the cache whether all of them are established.
type tracking struct {
	cache   *localCache
	prefix  string
	logger  func() *slog.Logger
	cluster *redis.ClusterClient // nil for a single node

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{} // closed when maintain returns

	mu     sync.Mutex
	nodes  map[string]*nodeTracker // by address
	closed bool
}

// startTracking starts tracking for client's nodes, or returns nil for a client it cannot
// track (a Ring, or another UniversalClient implementation).
func startTracking(client redis.UniversalClient, prefix string, cache *localCache, logger func() *slog.Logger) *tracking {
	t := &tracking{
		cache:  cache,
		prefix: prefix,
		logger: logger,
		nodes:  make(map[string]*nodeTracker),
		done:   make(chan struct{}),
	}
	t.ctx, t.cancel = context.WithCancel(context.Background())
	switch c := client.(type) {
	case *redis.Client:
		t.mu.Lock()
		t.addNodeLocked(c.Options())
		t.mu.Unlock()
	case *redis.ClusterClient:
		t.cluster = c
	default:
		t.cancel()
		return nil
	}
	go t.maintain()
	return t
}

// maintain sweeps expired entries and, on Redis Cluster, follows the set of masters.
func (t *tracking) maintain() {
	defer close(t.done)
	ticker := time.NewTicker(maintainInterval)
	defer ticker.Stop()
	for {
		if t.cluster != nil {
			t.refreshTopology()
		}
		select {
		case <-t.ctx.Done():
			return
		case now := <-ticker.C:
			t.cache.sweep(now)
		}
	}
}

// refreshTopology tracks every master the cluster lists, with or without slots: a master
// that is importing a slot takes writes to it (ASK) before it owns any. Any change
// flushes the cache: a result read before a master was tracked may be stale.
func (t *tracking) refreshTopology() {
	ctx, cancel := context.WithTimeout(t.ctx, topologyTimeout)
	defer cancel()
	listed, err := t.cluster.ClusterNodes(ctx).Result()
	if err != nil {
		return // the trackers of unreachable masters are down already
	}
	masters := clusterMasters(listed)
	if len(masters) == 0 {
		return
	}
	t.mu.Lock()
	changed := len(masters) != len(t.nodes)
	for _, addr := range masters {
		if t.nodes[addr] == nil {
			changed = true
		}
	}
	t.mu.Unlock()
	if !changed {
		return
	}
	// Any node's client has the options (credentials, TLS, dialer) to reach the others.
	node, err := t.cluster.MasterForKey(ctx, t.prefix)
	if err != nil {
		return
	}
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return
	}
	var removed []*nodeTracker
	for addr, n := range t.nodes {
		if !slices.Contains(masters, addr) {
			removed = append(removed, n)
			delete(t.nodes, addr)
		}
	}
	for _, addr := range masters {
		if t.nodes[addr] == nil {
			opt := *node.Options()
			opt.Addr = addr
			t.addNodeLocked(&opt)
		}
	}
	t.cache.setLive(false)
	t.mu.Unlock()
	t.logger().LogAttrs(t.ctx, slog.LevelInfo, "edgeauth: tracking the redis cluster's masters for the local cache",
		slog.Int("masters", len(masters)))
	for _, n := range removed {
		n.stop()
	}
}

// clusterMasters returns the addresses of the masters in a CLUSTER NODES reply, but for
// those known to have failed (failed over, or gone) and those without an address yet.
func clusterMasters(nodes string) []string {
	var masters []string
	for line := range strings.Lines(nodes) {
		fields := strings.Fields(line)
		if len(fields) < 3 {
			continue
		}
		addr, _, _ := strings.Cut(fields[1], "@")
		flags := strings.Split(fields[2], ",")
		if !slices.Contains(flags, "master") || slices.Contains(flags, "fail") ||
			slices.Contains(flags, "noaddr") || slices.Contains(flags, "handshake") {
			continue
		}
		host, port, err := net.SplitHostPort(addr)
		if n, perr := strconv.Atoi(port); err != nil || host == "" || perr != nil || n <= 0 || n > 65535 {
			continue
		}
		masters = append(masters, addr)
	}
	slices.Sort(masters)
	return slices.Compact(masters)
}

// addNodeLocked starts tracking the node that base connects to.
func (t *tracking) addNodeLocked(base *redis.Options) {
	ctx, cancel := context.WithCancel(t.ctx)
	n := &nodeTracker{
		t:      t,
		addr:   base.Addr,
		ctx:    ctx,
		cancel: cancel,
		done:   make(chan struct{}),
	}
	n.client = redis.NewClient(trackingOptions(base, t.prefix, func() { n.connects.Add(1) }))
	t.nodes[n.addr] = n
	t.cache.setLive(false)
	go n.run()
}

// trackingOptions derives, from the options of a node's client, a client for one RESP2
// connection that tracks every key under prefix (BCAST) and receives the invalidations
// itself (REDIRECT to its own id, as a Pub/Sub subscriber of invalidationChannel).
// connected is called for each connection it makes.
func trackingOptions(base *redis.Options, prefix string, connected func()) *redis.Options {
	opt := *base
	opt.Protocol = 2
	opt.PoolSize = 1
	opt.MinIdleConns, opt.MaxIdleConns, opt.MaxActiveConns = 0, 0, 0
	opt.ContextTimeoutEnabled = true
	opt.Limiter = nil
	opt.ClientSideCacheConfig, opt.ClientSideCache = nil, nil
	opt.PushNotificationProcessor = nil
	opt.MaintNotificationsConfig = nil
	opt.AutoPipelineOptions = nil
	onConnect := base.OnConnect
	opt.OnConnect = func(ctx context.Context, cn *redis.Conn) error {
		connected()
		if onConnect != nil {
			if err := onConnect(ctx, cn); err != nil {
				return err
			}
		}
		id, err := cn.ClientID(ctx).Result()
		if err != nil {
			return err
		}
		return cn.Do(ctx, "CLIENT", "TRACKING", "ON", "REDIRECT", id, "BCAST", "PREFIX", prefix).Err()
	}
	return &opt
}

// up records that n's tracking is established; when every node's is, hits may be served.
func (t *tracking) up(n *nodeTracker) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed || t.nodes[n.addr] != n {
		return
	}
	n.live = true
	n.lastHeard = t.cache.since(time.Now())
	if t.allLiveLocked() {
		t.cache.setLive(true)
		t.extendLocked()
	}
}

// down records that n's tracking connection is gone: the cache is flushed.
func (t *tracking) down(n *nodeTracker) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.nodes[n.addr] == n {
		n.live = false
		t.cache.setLive(false)
	}
}

// heard records that n's connection answered, which extends the time hits are served.
func (t *tracking) heard(n *nodeTracker) {
	t.mu.Lock()
	defer t.mu.Unlock()
	n.lastHeard = t.cache.since(time.Now())
	t.extendLocked()
}

func (t *tracking) allLiveLocked() bool {
	for _, n := range t.nodes {
		if !n.live {
			return false
		}
	}
	return len(t.nodes) > 0
}

func (t *tracking) extendLocked() {
	if !t.allLiveLocked() {
		return
	}
	oldest := int64(-1)
	for _, n := range t.nodes {
		if oldest < 0 || n.lastHeard < oldest {
			oldest = n.lastHeard
		}
	}
	t.cache.extend(oldest + staleIntervals*int64(pingInterval))
}

// invalidated drops the cache groups of the keys Redis reports written, expired or
// evicted; a message it cannot read flushes everything.
func (t *tracking) invalidated(m *redis.Message) {
	if len(m.PayloadSlice) == 0 {
		t.cache.flush()
		return
	}
	for _, key := range m.PayloadSlice {
		group, ok := t.groupOf(key)
		if !ok {
			t.cache.flush()
			return
		}
		t.cache.invalidate(group)
	}
}

// groupOf is the cache group a key of the store belongs to (see the key layout).
func (t *tracking) groupOf(key string) (string, bool) {
	rest, ok := strings.CutPrefix(key, t.prefix)
	if !ok {
		return "", false
	}
	if rest == sharedGroup {
		return sharedGroup, true
	}
	if len(rest) > len("s:{}") && (rest[:3] == "s:{" || rest[:3] == "u:{") && rest[len(rest)-1] == '}' {
		return rest[3 : len(rest)-1], true
	}
	return "", false
}

// close stops every tracker and the maintenance loop, and disables the cache for good.
func (t *tracking) close() {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return
	}
	t.closed = true
	t.cache.setLive(false)
	nodes := make([]*nodeTracker, 0, len(t.nodes))
	for _, n := range t.nodes {
		nodes = append(nodes, n)
	}
	t.mu.Unlock()
	t.cancel()
	<-t.done
	for _, n := range nodes {
		n.stop()
	}
}

// nodeTracker keeps one tracking connection to one node, re-establishing it after any
// failure.
type nodeTracker struct {
	t      *tracking
	addr   string
	client *redis.Client
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{} // closed when run returns

	// Under t.mu.
	live      bool
	lastHeard int64 // ns on the cache's scale

	failing bool // the last attempt failed and was logged; used by run only

	connects atomic.Int64 // connections made, counted by trackingOptions' OnConnect

	mu      sync.Mutex
	pubsub  *redis.PubSub // the current connection, closed by stop
	stopped bool
}

func (n *nodeTracker) run() {
	defer close(n.done)
	backoff := minBackoff
	for {
		established, err := n.session()
		n.t.down(n)
		if n.ctx.Err() != nil {
			return
		}
		// A refusal (a Redis error rather than a lost connection) would be refused again:
		// back off as for a failure to connect.
		var refused redis.Error
		isRefused := errors.As(err, &refused)
		switch {
		case established && !isRefused:
			n.failing = true
			backoff = minBackoff
			n.t.logger().LogAttrs(n.ctx, slog.LevelWarn, "edgeauth: redis tracking connection lost; local cache flushed, checks ask redis until it is back",
				slog.String("addr", n.addr), slog.String("error", errorText(err)))
		case !n.failing:
			n.failing = true
			msg := "edgeauth: cannot establish redis tracking; checks ask redis until it can"
			if isRefused {
				msg = "edgeauth: redis refused client tracking (it needs Redis 6 and the permissions for CLIENT ID, CLIENT TRACKING, PING and SUBSCRIBE __redis__:invalidate); checks ask redis"
			}
			n.t.logger().LogAttrs(n.ctx, slog.LevelWarn, msg, slog.String("addr", n.addr), slog.String("error", errorText(err)))
		}
		timer := time.NewTimer(backoff)
		select {
		case <-n.ctx.Done():
			timer.Stop()
			return
		case <-timer.C:
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// session runs one tracking connection until it fails, and reports whether tracking was
// established on it.
func (n *nodeTracker) session() (established bool, err error) {
	ps := n.client.Subscribe(n.ctx) // no channel yet: no connection yet
	n.mu.Lock()
	if n.stopped {
		n.mu.Unlock()
		_ = ps.Close()
		return false, context.Canceled
	}
	n.pubsub = ps
	n.mu.Unlock()
	defer func() {
		n.mu.Lock()
		n.pubsub = nil
		n.mu.Unlock()
		_ = ps.Close()
	}()
	// Dialing runs trackingOptions' OnConnect, which turns tracking on before SUBSCRIBE.
	if err := ps.Subscribe(n.ctx, invalidationChannel); err != nil {
		return false, err
	}
	conn := n.connects.Load()
	pinged := false
	for {
		// go-redis may replace a Pub/Sub connection by itself; invalidations sent
		// meanwhile are lost, so this session ends with the connection it began with.
		if n.connects.Load() != conn {
			return established, errReconnected
		}
		msg, err := ps.ReceiveTimeout(n.ctx, pingInterval)
		if err != nil {
			if pinged || !isTimeout(err) {
				return established, err
			}
			if err := ps.Ping(n.ctx); err != nil {
				return established, err
			}
			pinged = true
			continue
		}
		pinged = false
		switch m := msg.(type) {
		case *redis.Subscription:
			if m.Kind == "subscribe" && m.Channel == invalidationChannel && !established {
				established = true
				n.t.up(n)
				if n.failing {
					n.failing = false
					n.t.logger().LogAttrs(n.ctx, slog.LevelInfo, "edgeauth: redis tracking re-established; local cache in use again",
						slog.String("addr", n.addr))
				}
			}
		case *redis.Message:
			if m.Channel == invalidationChannel {
				n.t.invalidated(m)
			}
		}
		n.t.heard(n)
	}
}

// stop ends the tracker and closes its client.
func (n *nodeTracker) stop() {
	n.cancel()
	n.mu.Lock()
	n.stopped = true
	ps := n.pubsub
	n.mu.Unlock()
	if ps != nil {
		_ = ps.Close() // ends a blocked receive
	}
	<-n.done
	_ = n.client.Close()
}

var errReconnected = errors.New("edgeauth: redis tracking connection replaced")

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func errorText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

package redisstore

import (
	"errors"
	"net"
	"testing"
)

// A URL, however malformed, gives a client or ErrInvalidURL, never a panic, and the
// error never repeats the URL's password.
func FuzzNewClientFromURL(f *testing.F) {
	for _, seed := range []string{
		"redis://127.0.0.1:6379/0",
		"rediss://user:secret@h:1/2?dial_timeout=3s&read_timeout=1s",
		"redis://:secret@h1:7000?addr=h2:7001&addr=h3:7002&max_redirects=5",
		"redis://h1:7000/3?addr=h2:7001",
		"redis://h:1?addr=nocolon",
		"unix:///tmp/redis.sock?db=1",
		"redis://user:hunter2@%zz",
		"",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		client, err := NewClientFromURL(raw)
		if err != nil {
			if !errors.Is(err, ErrInvalidURL) || err.Error() != ErrInvalidURL.Error() {
				t.Fatalf("error %v, want ErrInvalidURL alone", err)
			}
			return
		}
		_ = client.Close()
	})
}

// A CLUSTER NODES reply, however malformed, gives distinct host:port addresses.
func FuzzClusterMasters(f *testing.F) {
	f.Add("e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 127.0.0.1:30001@31001,hostname1 myself,master - 0 0 1 connected 0-5460\n" +
		"07c37dfeb235213a872192d90877d0cd55635b91 127.0.0.1:30004@31004 slave e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 0 1 4 connected\n" +
		"cccccccccccccccccccccccccccccccccccccccc :0@0 master,noaddr - 0 0 9 disconnected\n")
	f.Add("x [::1]:1@2 master\nx [::1]:1@2 master\n")
	f.Fuzz(func(t *testing.T, nodes string) {
		seen := map[string]bool{}
		for _, addr := range clusterMasters(nodes) {
			host, port, err := net.SplitHostPort(addr)
			if err != nil || host == "" || port == "" || seen[addr] {
				t.Fatalf("address %q of %q", addr, nodes)
			}
			seen[addr] = true
		}
	})
}

// Any key name gives a group only if it is one of the store's keys.
func FuzzGroupOfKey(f *testing.F) {
	s := New(nil, Options{})
	f.Add(s.userKeys("u")[0])
	f.Add(s.userKeys("u")[1])
	f.Add(s.sharedKey())
	f.Add("edgeauth:s:{}")
	f.Fuzz(func(t *testing.T, key string) {
		group, ok := (&tracking{prefix: s.prefix}).groupOf(key)
		if !ok {
			return
		}
		if group == sharedGroup && key == s.sharedKey() {
			return
		}
		if group == "" || (key != s.prefix+"s:{"+group+"}" && key != s.prefix+"u:{"+group+"}") {
			t.Fatalf("key %q gave group %q", key, group)
		}
	})
}

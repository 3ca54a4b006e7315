package redisstore

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeauth/edgeauth/internal/redistest"
)

func TestNewClientFromURL(t *testing.T) {
	t.Run("single", func(t *testing.T) {
		c, err := NewClientFromURL("redis://user:secret@127.0.0.1:6380/3?read_timeout=4s")
		require.NoError(t, err)
		t.Cleanup(func() { _ = c.Close() })
		client, ok := c.(*redis.Client)
		require.True(t, ok, "%T", c)
		opt := client.Options()
		assert.Equal(t, "127.0.0.1:6380", opt.Addr)
		assert.Equal(t, 3, opt.DB)
		assert.Equal(t, "secret", opt.Password)
		assert.Equal(t, 4*time.Second, opt.ReadTimeout)
		assert.True(t, opt.ContextTimeoutEnabled)
		assert.Equal(t, defaultDialTimeout, opt.DialTimeout)
		assert.Nil(t, opt.TLSConfig)

		c, err = NewClientFromURL("rediss://h:1?dial_timeout=7s")
		require.NoError(t, err)
		t.Cleanup(func() { _ = c.Close() })
		opt = c.(*redis.Client).Options()
		assert.NotNil(t, opt.TLSConfig)
		assert.Equal(t, 7*time.Second, opt.DialTimeout, "the URL's dial timeout wins")
	})

	t.Run("cluster", func(t *testing.T) {
		c, err := NewClientFromURL("redis://:secret@h1:7000?addr=h2:7001&addr=h3:7002&max_redirects=5")
		require.NoError(t, err)
		t.Cleanup(func() { _ = c.Close() })
		client, ok := c.(*redis.ClusterClient)
		require.True(t, ok, "%T", c)
		opt := client.Options()
		assert.Equal(t, []string{"h1:7000", "h2:7001", "h3:7002"}, opt.Addrs)
		assert.Equal(t, "secret", opt.Password)
		assert.Equal(t, 5, opt.MaxRedirects)
		assert.True(t, opt.ContextTimeoutEnabled)
		assert.Equal(t, defaultDialTimeout, opt.DialTimeout)

		for _, path := range []string{"", "/", "/0"} {
			c, err := NewClientFromURL("redis://h1:7000" + path + "?addr=h2:7001")
			require.NoError(t, err, path)
			_ = c.Close()
		}
	})

	for _, bad := range []string{
		"",
		"notredis://user:hunter2@127.0.0.1:1/",
		"redis://user:hunter2@127.0.0.1:notaport/",
		"redis://user:hunter2@h:1/0?no_such_option=1",
		"redis://user:hunter2@h:1?addr=nocolon",
		"redis://user:hunter2@h:1/2?addr=h:2",
		"redis://user:hunter2@h:1?addr=h:2&no_such_option=1",
		"http://user:hunter2@h:1?addr=h:2",
		"redis://user:hunter2@h:1/x",
		"redis://user:hunter2@%zz",
	} {
		_, err := NewClientFromURL(bad)
		require.ErrorIs(t, err, ErrInvalidURL, bad)
		assert.NotContains(t, err.Error(), "hunter2", "the error must not echo the URL")
	}
}

// Both forms reach a real server: a single Redis, and a Redis Cluster of three.
func TestNewClientFromURLConnects(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cluster := redistest.StartCluster(t, 3)
	for _, u := range []string{"redis://" + redistest.Start(t) + "/0", cluster.URL()} {
		c, err := NewClientFromURL(u)
		require.NoError(t, err)
		t.Cleanup(func() { _ = c.Close() })
		for _, key := range []string{"a", "b", "c", "d", "e"} {
			require.NoError(t, c.Set(ctx, key, "v", time.Minute).Err(), u)
		}
	}
}

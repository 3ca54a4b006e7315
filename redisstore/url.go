package redisstore

import (
	"errors"
	"net/url"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrInvalidURL is returned by NewClientFromURL for a URL it cannot use. It never
// includes the URL, which may hold a password.
var ErrInvalidURL = errors.New("edgeauth: invalid redis URL")

// defaultDialTimeout is the dial timeout of NewClientFromURL's clients when the URL sets
// none: a Redis (or Cluster node) that is down is given up on quickly, and the
// revocation timeout bounds every call anyway.
const defaultDialTimeout = 2 * time.Second

// NewClientFromURL returns a client for a Redis URL in go-redis's forms:
//
//   - redis://[[user]:password@]host[:port][/db][?option=value…] (rediss:// for TLS): a
//     single Redis, as [redis.ParseURL] reads it;
//   - redis://host1:port1?addr=host2:port2&addr=host3:port3[&option=value…]: a Redis
//     Cluster, reached through any of the listed nodes, as [redis.ParseClusterURL] reads
//     it. A URL with an addr parameter is a cluster URL; its database, if given, is 0.
//
// The client has ContextTimeoutEnabled set, so that a context deadline (the revocation
// timeout) bounds every call, and a 2 s dial timeout unless the URL sets dial_timeout.
// The caller closes it.
func NewClientFromURL(rawURL string) (redis.UniversalClient, error) {
	single, cluster, err := ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	if cluster != nil {
		return redis.NewClusterClient(cluster), nil
	}
	return redis.NewClient(single), nil
}

// ParseURL reads a Redis URL in NewClientFromURL's forms into go-redis's options, for a
// caller that sets more of them (a password kept out of the URL, say) before making the
// client: the cluster form gives ClusterOptions, any other Options, with the settings
// NewClientFromURL gives its clients. Its only error is ErrInvalidURL.
func ParseURL(rawURL string) (*redis.Options, *redis.ClusterOptions, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, nil, ErrInvalidURL
	}
	if u.Query().Has("addr") {
		if u.Path != "" && u.Path != "/" && u.Path != "/0" {
			return nil, nil, ErrInvalidURL // a cluster has database 0 only
		}
		opts, err := redis.ParseClusterURL(rawURL)
		if err != nil {
			return nil, nil, ErrInvalidURL
		}
		opts.ContextTimeoutEnabled = true
		if opts.DialTimeout == 0 {
			opts.DialTimeout = defaultDialTimeout
		}
		return nil, opts, nil
	}
	opts, err := redis.ParseURL(rawURL)
	if err != nil {
		return nil, nil, ErrInvalidURL
	}
	opts.ContextTimeoutEnabled = true
	if opts.DialTimeout == 0 {
		opts.DialTimeout = defaultDialTimeout
	}
	return opts, nil, nil
}

package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/edgeauth/edgeauth"
	"github.com/edgeauth/edgeauth/betterauth"
	"github.com/edgeauth/edgeauth/internal/match"
	"github.com/edgeauth/edgeauth/redisstore"
)

// Defaults of the gateway's own keys; the library's keys default as in
// edgeauth.Config.
const (
	defaultListen          = "127.0.0.1:4180"
	defaultUpstreamTimeout = 30 * time.Second
	defaultShutdownTimeout = 15 * time.Second
	// maxConfigFile bounds the configuration file before it is parsed.
	maxConfigFile = 1 << 20
)

// proxyConfig is the YAML configuration file of "edgeauth proxy". The keys
// that configure the library are edgeauth.Config's fields in lower camel
// case and mean the same; zero values mean the same defaults.
type proxyConfig struct {
	Listen                string        `yaml:"listen"`
	Upstream              string        `yaml:"upstream"`
	UpstreamTimeout       time.Duration `yaml:"upstreamTimeout"`
	PreserveHost          bool          `yaml:"preserveHost"`
	TrustForwardedHeaders bool          `yaml:"trustForwardedHeaders"`
	MetricsListen         string        `yaml:"metricsListen"`
	ShutdownTimeout       time.Duration `yaml:"shutdownTimeout"`
	LogFormat             string        `yaml:"logFormat"`
	LogLevel              string        `yaml:"logLevel"`

	Format         string        `yaml:"format"`
	Cookie         cookieKeys    `yaml:"cookie"`
	MaxAge         time.Duration `yaml:"maxAge"`
	ClockTolerance time.Duration `yaml:"clockTolerance"`
	UserIDClaim    string        `yaml:"userIDClaim"`
	RoleClaim      string        `yaml:"roleClaim"`
	AllowBearer    bool          `yaml:"allowBearer"`

	// BetterAuth holds the keys of format: better-auth.
	BetterAuth betterAuthKeys `yaml:"betterAuth"`

	Rules           []ruleKeys        `yaml:"rules"`
	LoginURL        string            `yaml:"loginURL"`
	UnauthorizedURL string            `yaml:"unauthorizedURL"`
	APIPrefixes     []string          `yaml:"apiPrefixes"`
	Origin          string            `yaml:"origin"`
	UserIDHeader    string            `yaml:"userIDHeader"`
	RoleHeader      string            `yaml:"roleHeader"`
	ClaimHeaders    map[string]string `yaml:"claimHeaders"`

	Redis              string        `yaml:"redis"`
	RedisPrefix        string        `yaml:"redisPrefix"`
	RevocationTimeout  time.Duration `yaml:"revocationTimeout"`
	RevocationFailOpen bool          `yaml:"revocationFailOpen"`
	CacheSize          int           `yaml:"cacheSize"`
}

type cookieKeys struct {
	Name      string `yaml:"name"`
	Secure    bool   `yaml:"secure"`
	Domain    string `yaml:"domain"`
	Path      string `yaml:"path"`
	SameSite  string `yaml:"sameSite"`
	MaxChunks int    `yaml:"maxChunks"`
}

type ruleKeys struct {
	Pattern string   `yaml:"pattern"`
	Roles   []string `yaml:"roles"`
	Public  bool     `yaml:"public"`
}

// proxyFlags are the command-line values that override the file; empty
// means "not given".
type proxyFlags struct {
	listen, upstream, metricsListen, redis, logFormat, logLevel string
}

func (f proxyFlags) apply(c *proxyConfig) {
	for _, o := range []struct {
		flag string
		key  *string
	}{
		{f.listen, &c.Listen},
		{f.upstream, &c.Upstream},
		{f.metricsListen, &c.MetricsListen},
		{f.redis, &c.Redis},
		{f.logFormat, &c.LogFormat},
		{f.logLevel, &c.LogLevel},
	} {
		if o.flag != "" {
			*o.key = o.flag
		}
	}
}

// gatewayConfig is a checked proxyConfig with everything parsed.
type gatewayConfig struct {
	file        proxyConfig
	upstream    *url.URL              // nil: forward-auth only
	redis       *redis.Options        // one Redis; nil for none or a cluster
	cluster     *redis.ClusterOptions // the redis key in go-redis's cluster form; nil otherwise
	logLevel    slog.Level
	lib         edgeauth.Config // without Store, Source, Logger and ErrorHandler
	secretsFrom string          // where the secrets came from, for the startup log
	// betterAuth is the Verifier's configuration with format: better-auth
	// (without Storage and Logger), nil otherwise.
	betterAuth *betterauth.Config
}

// configError names the file and the key of a configuration error.
type configError struct {
	file, key string
	err       error
}

func (e *configError) Error() string {
	where := "configuration"
	if e.file != "" {
		where = e.file
	}
	if e.key == "" {
		return fmt.Sprintf("%s: %v", where, e.err)
	}
	return fmt.Sprintf("%s: %s: %v", where, e.key, e.err)
}

func (e *configError) Unwrap() error { return e.err }

// loadGatewayConfig reads the file, applies flags and defaults, reads the
// secrets and checks everything the gateway and the library will use.
func loadGatewayConfig(path string, flags proxyFlags, env func(string) string) (*gatewayConfig, error) {
	data, err := readConfigFile(path)
	if err != nil {
		return nil, &configError{file: path, err: err}
	}
	var file proxyConfig
	if err := decodeYAML(data, &file); err != nil {
		return nil, &configError{file: path, err: err}
	}
	flags.apply(&file)
	cfg, key, err := resolveConfig(file, env)
	if err != nil {
		return nil, &configError{file: path, key: key, err: err}
	}
	return cfg, nil
}

func readConfigFile(path string) ([]byte, error) { return readBoundedFile(path, maxConfigFile) }

// readBoundedFile reads a file of at most max bytes, refusing larger ones
// before they are read whole.
func readBoundedFile(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, max)
	}
	return data, nil
}

// resolveConfig returns the checked configuration, or the key at fault and
// why.
func resolveConfig(file proxyConfig, env func(string) string) (*gatewayConfig, string, error) {
	c := &gatewayConfig{}
	if file.Listen == "" {
		file.Listen = defaultListen
	}
	if err := checkListen(file.Listen); err != nil {
		return nil, "listen", err
	}
	if file.MetricsListen != "" {
		if err := checkListen(file.MetricsListen); err != nil {
			return nil, "metricsListen", err
		}
		if file.MetricsListen == file.Listen && !strings.HasSuffix(file.Listen, ":0") {
			return nil, "metricsListen", errors.New("must differ from listen: metrics never share the public listener")
		}
	}
	if file.Upstream != "" {
		u, err := parseUpstream(file.Upstream)
		if err != nil {
			return nil, "upstream", err
		}
		c.upstream = u
	}
	for _, d := range []struct {
		key string
		val *time.Duration
		def time.Duration
	}{
		{"upstreamTimeout", &file.UpstreamTimeout, defaultUpstreamTimeout},
		{"shutdownTimeout", &file.ShutdownTimeout, defaultShutdownTimeout},
	} {
		if *d.val < 0 {
			return nil, d.key, errors.New("must not be negative")
		}
		if *d.val == 0 {
			*d.val = d.def
		}
	}
	for _, d := range []struct {
		key string
		val time.Duration
	}{{"maxAge", file.MaxAge}, {"revocationTimeout", file.RevocationTimeout}} {
		if d.val < 0 {
			return nil, d.key, errors.New("must not be negative")
		}
	}
	switch file.LogFormat {
	case "":
		file.LogFormat = "json"
	case "json", "text":
	default:
		return nil, "logFormat", fmt.Errorf("%q: want json or text", file.LogFormat)
	}
	if file.LogLevel == "" {
		file.LogLevel = "info"
	}
	if err := c.logLevel.UnmarshalText([]byte(file.LogLevel)); err != nil {
		return nil, "logLevel", fmt.Errorf("%q: want debug, info, warn or error", file.LogLevel)
	}
	if file.Redis != "" {
		var err error
		if c.redis, c.cluster, err = redisOptions(file.Redis, env); err != nil {
			return nil, "redis", err
		}
		// The store's keys carry per-user hash tags; a brace in the prefix
		// would split a user's keys over slots, and every check would fail.
		if c.cluster != nil && file.Format != formatBetterAuth && strings.ContainsAny(file.RedisPrefix, "{}") {
			return nil, "redisPrefix", errors.New("must not contain braces on a Redis Cluster")
		}
	} else if file.RedisPrefix != "" {
		return nil, "redisPrefix", errors.New("needs redis")
	}

	lib, key, err := libraryConfig(file)
	if err != nil {
		return nil, key, err
	}
	if file.Format == formatBetterAuth {
		if err := resolveBetterAuth(c, file, lib, env); err != nil {
			return nil, err.key, err.err
		}
		return c, "", nil
	}
	if file.BetterAuth != (betterAuthKeys{}) {
		return nil, "betterAuth", errors.New("applies to format: better-auth only")
	}
	secrets, err := gatewaySecrets(env)
	if err != nil {
		return nil, "", err
	}
	lib.Secrets = secrets
	c.secretsFrom = fmt.Sprintf("%d from the environment", len(secrets))
	if env("AUTH_SECRET_FILE") != "" {
		c.secretsFrom = fmt.Sprintf("%d from AUTH_SECRET_FILE", len(secrets))
	}
	// The gateway never re-issues sessions (the app behind it owns them), so
	// the library must never find a token old enough to roll.
	lib.UpdateAge = math.MaxInt64
	if _, err := edgeauth.New(lib); err != nil {
		key, err := explainLibraryError(lib, err)
		return nil, key, err
	}
	c.file, c.lib = file, lib
	return c, "", nil
}

func checkListen(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q: want host:port", addr)
	}
	if _, err := net.LookupPort("tcp", port); err != nil || strings.ContainsAny(host, "/ ") {
		return fmt.Errorf("%q: want host:port", addr)
	}
	return nil
}

func parseUpstream(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%q is not a URL", raw)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("%q: scheme must be http or https", raw)
	case u.Host == "" || u.Opaque != "":
		return nil, fmt.Errorf("%q: no host", raw)
	case u.User != nil:
		return nil, fmt.Errorf("%q: credentials do not belong in the upstream URL", raw)
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return nil, fmt.Errorf("%q: no query or fragment allowed", raw)
	}
	return u, nil
}

// redisOptions parses the redis key as redisstore.ParseURL does (redis://,
// rediss://, unix://, or with addr parameters a Redis Cluster).
// REDIS_PASSWORD, when set, keeps the password out of the file. Errors never
// quote the URL, which may hold a password.
func redisOptions(raw string, env func(string) string) (*redis.Options, *redis.ClusterOptions, error) {
	single, cluster, err := redisstore.ParseURL(raw)
	if err != nil {
		return nil, nil, errors.New("want redis://[user:password@]host:port/db, rediss://…, unix://path, or a cluster's redis://host1:port1?addr=host2:port2&addr=… (database 0 only)")
	}
	// ParseURL sets ContextTimeoutEnabled: without it go-redis ignores
	// context deadlines on socket I/O, and a hung Redis would hold requests
	// past revocationTimeout.
	if p := env("REDIS_PASSWORD"); p != "" {
		if cluster != nil {
			cluster.Password = p
		} else {
			single.Password = p
		}
	}
	return single, cluster, nil
}

// hasRedis reports a redis key.
func (c *gatewayConfig) hasRedis() bool { return c.redis != nil || c.cluster != nil }

// newRedisClient returns a client for the redis key; the caller closes it.
func (c *gatewayConfig) newRedisClient() redis.UniversalClient {
	if c.cluster != nil {
		return redis.NewClusterClient(c.cluster)
	}
	return redis.NewClient(c.redis)
}

// redisAddr says where the redis key points, for logs: never the password.
func (c *gatewayConfig) redisAddr() string {
	if c.cluster != nil {
		return "cluster " + strings.Join(c.cluster.Addrs, ",")
	}
	return c.redis.Addr
}

// libraryConfig maps the library's keys onto edgeauth.Config.
func libraryConfig(file proxyConfig) (edgeauth.Config, string, error) {
	lib := edgeauth.Config{
		MaxAge:             file.MaxAge,
		ClockTolerance:     file.ClockTolerance,
		UserIDClaim:        file.UserIDClaim,
		RoleClaim:          file.RoleClaim,
		AllowBearer:        file.AllowBearer,
		LoginURL:           file.LoginURL,
		UnauthorizedURL:    file.UnauthorizedURL,
		APIPrefixes:        file.APIPrefixes,
		Origin:             file.Origin,
		UserIDHeader:       file.UserIDHeader,
		RoleHeader:         file.RoleHeader,
		ClaimHeaders:       file.ClaimHeaders,
		RevocationTimeout:  file.RevocationTimeout,
		RevocationFailOpen: file.RevocationFailOpen,
		CacheSize:          file.CacheSize,
		Cookie: edgeauth.CookieConfig{
			Name:      file.Cookie.Name,
			Secure:    file.Cookie.Secure,
			Domain:    file.Cookie.Domain,
			Path:      file.Cookie.Path,
			MaxChunks: file.Cookie.MaxChunks,
		},
	}
	switch file.Format {
	case "", "authjs":
		lib.Format = edgeauth.FormatAuthJS
	case "nextauth-v4", "next-auth-v4": // the second as decode --format spells it
		lib.Format = edgeauth.FormatNextAuthV4
	case formatBetterAuth:
	default:
		return lib, "format", fmt.Errorf("%q: want authjs, nextauth-v4 (or next-auth-v4) or better-auth", file.Format)
	}
	switch strings.ToLower(file.Cookie.SameSite) {
	case "", "lax":
		lib.Cookie.SameSite = http.SameSiteLaxMode
	case "strict":
		lib.Cookie.SameSite = http.SameSiteStrictMode
	case "none":
		lib.Cookie.SameSite = http.SameSiteNoneMode
	default:
		return lib, "cookie.sameSite", fmt.Errorf("%q: want lax, strict or none", file.Cookie.SameSite)
	}
	for i, r := range file.Rules {
		lib.Rules = append(lib.Rules, edgeauth.Rule{Pattern: r.Pattern, Roles: r.Roles, Public: r.Public})
		if r.Pattern == "" {
			return lib, fmt.Sprintf("rules[%d].pattern", i), errors.New("missing")
		}
	}
	if file.Format == formatBetterAuth {
		// The Verifier takes clockTolerance; the cookies are Better Auth's
		// (authJSOnlyKey refuses the cookie keys).
		lib.ClockTolerance, lib.Cookie = 0, edgeauth.CookieConfig{}
	}
	return lib, "", nil
}

// explainLibraryError finds the key behind an error of edgeauth.New by
// checking each group of keys on its own. The library names its own fields;
// the file's user needs the file's keys.
func explainLibraryError(lib edgeauth.Config, err error) (string, error) {
	base := edgeauth.Config{Secrets: lib.Secrets, Format: lib.Format, Source: lib.Source}
	probes := []struct {
		key string
		set func(*edgeauth.Config)
	}{
		{"cookie", func(c *edgeauth.Config) { c.Cookie = lib.Cookie }},
		{"loginURL", func(c *edgeauth.Config) { c.LoginURL = lib.LoginURL }},
		{"origin", func(c *edgeauth.Config) { c.Origin = lib.Origin }},
		{"unauthorizedURL", func(c *edgeauth.Config) { c.UnauthorizedURL, c.Origin = lib.UnauthorizedURL, lib.Origin }},
		{"apiPrefixes", func(c *edgeauth.Config) { c.APIPrefixes = lib.APIPrefixes }},
		{"userIDHeader", func(c *edgeauth.Config) { c.UserIDHeader = lib.UserIDHeader }},
		{"roleHeader", func(c *edgeauth.Config) { c.RoleHeader = lib.RoleHeader }},
		{"claimHeaders", func(c *edgeauth.Config) { c.ClaimHeaders = lib.ClaimHeaders }},
		{"revocationTimeout", func(c *edgeauth.Config) { c.RevocationTimeout = lib.RevocationTimeout }},
		{"maxAge", func(c *edgeauth.Config) { c.MaxAge = lib.MaxAge }},
	}
	for i, r := range lib.Rules {
		key := fmt.Sprintf("rules[%d]", i)
		probes = append(probes, struct {
			key string
			set func(*edgeauth.Config)
		}{key, func(c *edgeauth.Config) { c.Rules = []edgeauth.Rule{r} }})
	}
	// Rules that are each fine may still conflict (two equally specific
	// patterns matching one path).
	probes = append(probes, struct {
		key string
		set func(*edgeauth.Config)
	}{"rules", func(c *edgeauth.Config) { c.Rules = lib.Rules }})
	for _, p := range probes {
		c := base
		p.set(&c)
		if _, perr := edgeauth.New(c); perr != nil {
			key := p.key
			if errors.Is(perr, match.ErrPattern) {
				key += ".pattern"
			}
			reason := libraryReason(perr)
			if strings.HasPrefix(key, "rules[") {
				// The probe held the rule at index 0; the key names the real index.
				reason.msg = strings.TrimPrefix(strings.TrimPrefix(reason.msg, "Rules[0]"), ":")
				reason.msg = strings.TrimSpace(reason.msg)
			}
			return key, reason
		}
	}
	if errors.Is(err, edgeauth.ErrNoSecret) {
		return "", errNoGatewaySecret
	}
	// Conflicts between keys (one header name twice, say).
	return "", libraryReason(err)
}

// libraryReason drops the library's "edgeauth: invalid configuration: "
// prefix, which the file's error already implies; errors.Is still sees the
// library's error.
func libraryReason(err error) *reasonError {
	return &reasonError{msg: strings.TrimPrefix(err.Error(), edgeauth.ErrConfig.Error()+": "), err: err}
}

type reasonError struct {
	msg string
	err error
}

func (e *reasonError) Error() string { return e.msg }
func (e *reasonError) Unwrap() error { return e.err }

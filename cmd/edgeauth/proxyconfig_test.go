package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeauth/edgeauth"
)

// fullConfig sets every key of the file.
const fullConfig = `
listen: 127.0.0.1:4181
upstream: http://127.0.0.1:3000/base
upstreamTimeout: 5s
preserveHost: true
trustForwardedHeaders: true
metricsListen: 127.0.0.1:9100
shutdownTimeout: 20s
logFormat: text
logLevel: debug
format: authjs
cookie:
  name: __Host-authjs.session-token
  secure: true
  domain: ""
  path: /
  sameSite: strict
  maxChunks: 6
maxAge: 86400
clockTolerance: 30s
userIDClaim: id
roleClaim: group
allowBearer: true
rules:
  - pattern: /dashboard/:path*
  - pattern: /admin/:path*
    roles: [admin, owner]
  - pattern: /help
    public: true
loginURL: /signin
unauthorizedURL: /denied
apiPrefixes: [/api, /trpc]
origin: https://app.example.com
userIDHeader: x-auth-user
roleHeader: x-auth-role
claimHeaders:
  x-auth-email: email
redis: redis://127.0.0.1:6379/2
redisPrefix: "app1:"
revocationTimeout: 250ms
revocationFailOpen: true
cacheSize: 500
`

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "edgeauth.yaml")
	require.NoError(t, os.WriteFile(path, []byte(body), 0o600))
	return path
}

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestConfigEveryKey(t *testing.T) {
	cfg, err := loadGatewayConfig(writeConfig(t, fullConfig), proxyFlags{}, envOf(map[string]string{"AUTH_SECRET": gwSecret}))
	require.NoError(t, err)
	f := cfg.file
	assert.Equal(t, "127.0.0.1:4181", f.Listen)
	assert.Equal(t, "http://127.0.0.1:3000/base", cfg.upstream.String())
	assert.Equal(t, 5*time.Second, f.UpstreamTimeout)
	assert.True(t, f.PreserveHost)
	assert.True(t, f.TrustForwardedHeaders)
	assert.Equal(t, "127.0.0.1:9100", f.MetricsListen)
	assert.Equal(t, 20*time.Second, f.ShutdownTimeout)
	assert.Equal(t, "text", f.LogFormat)
	assert.Equal(t, "DEBUG", cfg.logLevel.String())
	assert.Equal(t, "127.0.0.1:6379", cfg.redis.Addr)
	assert.Equal(t, 2, cfg.redis.DB)
	assert.True(t, cfg.redis.ContextTimeoutEnabled)
	assert.Equal(t, "app1:", f.RedisPrefix)

	lib := cfg.lib
	assert.Equal(t, []string{gwSecret}, lib.Secrets)
	assert.Equal(t, edgeauth.FormatAuthJS, lib.Format)
	assert.Equal(t, edgeauth.CookieConfig{Name: "__Host-authjs.session-token", Secure: true, Path: "/", SameSite: http.SameSiteStrictMode, MaxChunks: 6}, lib.Cookie)
	assert.Equal(t, 24*time.Hour, lib.MaxAge)
	assert.Equal(t, 30*time.Second, lib.ClockTolerance)
	assert.Equal(t, "id", lib.UserIDClaim)
	assert.Equal(t, "group", lib.RoleClaim)
	assert.True(t, lib.AllowBearer)
	assert.Equal(t, []edgeauth.Rule{
		{Pattern: "/dashboard/:path*"},
		{Pattern: "/admin/:path*", Roles: []string{"admin", "owner"}},
		{Pattern: "/help", Public: true},
	}, lib.Rules)
	assert.Equal(t, "/signin", lib.LoginURL)
	assert.Equal(t, "/denied", lib.UnauthorizedURL)
	assert.Equal(t, []string{"/api", "/trpc"}, lib.APIPrefixes)
	assert.Equal(t, "https://app.example.com", lib.Origin)
	assert.Equal(t, "x-auth-user", lib.UserIDHeader)
	assert.Equal(t, "x-auth-role", lib.RoleHeader)
	assert.Equal(t, map[string]string{"x-auth-email": "email"}, lib.ClaimHeaders)
	assert.Equal(t, 250*time.Millisecond, lib.RevocationTimeout)
	assert.True(t, lib.RevocationFailOpen)
	assert.Equal(t, 500, lib.CacheSize)
	assert.Equal(t, []string{"X-Auth-User", "X-Auth-Role", "X-Auth-Email"}, identityHeaders(f))
}

func TestConfigDefaultsAndFlags(t *testing.T) {
	path := writeConfig(t, "rules:\n  - pattern: /a\n")
	cfg, err := loadGatewayConfig(path, proxyFlags{}, envOf(map[string]string{"AUTH_SECRET": gwSecret}))
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1:4180", cfg.file.Listen)
	assert.Nil(t, cfg.upstream, "no upstream: forward-auth only")
	assert.Nil(t, cfg.redis)
	assert.Equal(t, 30*time.Second, cfg.file.UpstreamTimeout)
	assert.Equal(t, 15*time.Second, cfg.file.ShutdownTimeout)
	assert.Equal(t, "json", cfg.file.LogFormat)

	cfg, err = loadGatewayConfig(path, proxyFlags{listen: "127.0.0.1:1", upstream: "https://app:8443", metricsListen: "127.0.0.1:2",
		redis: "redis://:pw@127.0.0.1:6380/1", logFormat: "text", logLevel: "warn"},
		envOf(map[string]string{"AUTH_SECRET": gwSecret, "REDIS_PASSWORD": "from-env"}))
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1:1", cfg.file.Listen)
	assert.Equal(t, "https://app:8443", cfg.upstream.String())
	assert.Equal(t, "127.0.0.1:2", cfg.file.MetricsListen)
	assert.Equal(t, "from-env", cfg.redis.Password, "REDIS_PASSWORD keeps the password out of the file")
	assert.Equal(t, "text", cfg.file.LogFormat)
	assert.Equal(t, "WARN", cfg.logLevel.String())
}

// Every error names the key at fault (and the line, for the file's syntax),
// and never quotes a secret.
func TestConfigErrors(t *testing.T) {
	assertConfigErrors(t, "", map[string]string{"AUTH_SECRET": gwSecret}, []configErrorCase{
		{"unknown key", "listen: 127.0.0.1:1\nupstreams: http://x\n", nil, "upstreams (line 2): unknown key"},
		{"unknown nested key", "cookie:\n  nmae: x\n", nil, "cookie.nmae (line 2): unknown key"},
		{"unknown rule key", "rules:\n  - pattern: /a\n  - pattern: /b\n    role: [a]\n", nil, "rules[1].role (line 4): unknown key"},
		{"case matters", "Listen: 127.0.0.1:1\n", nil, "Listen (line 1): unknown key"},
		{"key twice", "listen: a:1\nlisten: b:2\n", nil, "listen (line 2): key given twice"},
		{"wrong kind", "rules: /a\n", nil, "rules (line 1): want a list"},
		{"bool", "allowBearer: yes\n", nil, "allowBearer (line 1): want true or false"},
		{"int", "cacheSize: lots\n", nil, "cacheSize (line 1): want an integer"},
		{"duration", "maxAge: 30d\n", nil, `maxAge (line 1): want a duration such as "30s" or "720h", or a number of seconds`},
		{"alias", "loginURL: &x /a\norigin: *x\n", nil, "loginURL (line 1): YAML anchors and aliases are not supported"},
		{"two documents", "listen: a:1\n---\nlisten: b:2\n", nil, "more than one YAML document"},
		{"syntax", "rules: [\n", nil, "not valid YAML: line 1: did not find expected node content"},
		{"bad pattern", "rules:\n  - pattern: /ok\n  - pattern: /dashboard/(.*)\n", nil, `rules[1].pattern: invalid pattern "/dashboard/(.*)"`},
		{"ambiguous rules", "rules:\n  - pattern: /a/:x\n  - pattern: /:y/b\n", nil, `rules: Rules[0] "/a/:x" and Rules[1] "/:y/b" both match "/a/b"`},
		{"empty pattern", "rules:\n  - roles: [a]\n", nil, "rules[0].pattern: missing"},
		{"public with roles", "rules:\n  - pattern: /a\n    public: true\n    roles: [x]\n", nil, `rules[0]: "/a": a Public rule cannot require roles`},
		{"upstream scheme", "upstream: ftp://files.example.com\n", nil, `upstream: "ftp://files.example.com": scheme must be http or https`},
		{"upstream without scheme", "upstream: 127.0.0.1:3000\n", nil, "upstream: "},
		{"upstream credentials", "upstream: http://u:p@app\n", nil, "upstream: "},
		{"listen", "listen: 4180\n", nil, `listen: "4180": want host:port`},
		{"metrics on the public listener", "listen: 127.0.0.1:1\nmetricsListen: 127.0.0.1:1\n", nil, "metricsListen: must differ from listen"},
		{"log format", "logFormat: xml\n", nil, `logFormat: "xml": want json or text`},
		{"log level", "logLevel: loud\n", nil, `logLevel: "loud"`},
		{"format", "format: v3\n", nil, `format: "v3": want authjs, nextauth-v4 (or next-auth-v4) or better-auth`},
		{"sameSite", "cookie:\n  sameSite: sometimes\n", nil, "cookie.sameSite"},
		{"cookie", "cookie:\n  name: __Host-x\n  domain: example.com\n", nil, "cookie: a __Host- cookie must have no Domain"},
		{"loginURL", "loginURL: login\n", nil, "loginURL: "},
		{"origin", "origin: app.example.com\n", nil, "origin: "},
		{"apiPrefixes", "apiPrefixes: [api]\n", nil, "apiPrefixes: "},
		{"claimHeaders", "claimHeaders:\n  cookie: email\n", nil, "claimHeaders: "},
		{"negative timeout", "upstreamTimeout: -1s\n", nil, "upstreamTimeout: must not be negative"},
		{"redis", "redis: http://:hunter2@127.0.0.1\n", nil, "redis: want redis://"},
		{"redisPrefix alone", "redisPrefix: x\n", nil, "redisPrefix: needs redis"},
		{"same header twice", "userIDHeader: x-a\nroleHeader: X_A\n", nil, "configured twice"},
		{"no secret", "", map[string]string{}, "no secret: set AUTH_SECRET"},
		{"secret file and env", "", map[string]string{"AUTH_SECRET": "s", "AUTH_SECRET_FILE": "/nonexistent"}, "both AUTH_SECRET_FILE and AUTH_SECRET"},
		{"missing secret file", "", map[string]string{"AUTH_SECRET_FILE": "/nonexistent/secrets"}, "AUTH_SECRET_FILE: open /nonexistent/secrets"},
	})
}

// configErrorCase is a configuration (after a common prefix) and the error
// it must give, with env instead of the test's default environment when set.
type configErrorCase struct {
	name, config string
	env          map[string]string
	want         string
}

func assertConfigErrors(t *testing.T, prefix string, env map[string]string, cases []configErrorCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			caseEnv := env
			if tc.env != nil {
				caseEnv = tc.env
			}
			path := writeConfig(t, prefix+tc.config)
			_, err := loadGatewayConfig(path, proxyFlags{}, envOf(caseEnv))
			require.Error(t, err)
			assert.Contains(t, err.Error(), path+": ")
			assert.Contains(t, err.Error(), tc.want)
			for _, secret := range env {
				assert.NotContains(t, err.Error(), secret)
			}
			assert.NotContains(t, err.Error(), "hunter2")
		})
	}
}

func TestSecretFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "secrets")
	require.NoError(t, os.WriteFile(path, []byte("  newest-secret-value  \r\n\n older-secret-value\nnewest-secret-value\n"), 0o600))
	got, err := gatewaySecrets(envOf(map[string]string{"AUTH_SECRET_FILE": path}))
	require.NoError(t, err)
	assert.Equal(t, []string{"newest-secret-value", "older-secret-value"}, got, "newest first, trimmed, once each")

	require.NoError(t, os.WriteFile(path, []byte("\n \n"), 0o600))
	_, err = gatewaySecrets(envOf(map[string]string{"AUTH_SECRET_FILE": path}))
	assert.ErrorContains(t, err, "holds no secret")

	require.NoError(t, os.WriteFile(path, []byte(strings.Repeat("s", maxSecretFile+1)), 0o600))
	_, err = gatewaySecrets(envOf(map[string]string{"AUTH_SECRET_FILE": path}))
	assert.ErrorContains(t, err, "larger than")

	got, err = gatewaySecrets(envOf(map[string]string{"AUTH_SECRET": "a", "AUTH_SECRET_1": "b", "AUTH_SECRET_3": "d"}))
	require.NoError(t, err)
	assert.Equal(t, []string{"d", "b", "a"}, got, "as Auth.js reads them: _3, _2, _1, then AUTH_SECRET")
}

func TestProxyCheck(t *testing.T) {
	path := writeConfig(t, gwConfig+"upstream: http://127.0.0.1:3000\n")
	env := map[string]string{"AUTH_SECRET": gwSecret}
	r := runCLI(t, env, "proxy", "--check", "--config", path)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Equal(t, path+": OK (reverse proxy to http://127.0.0.1:3000; 4 rules; cookie authjs.session-token; revocations in memory; secrets: 1 from the environment)\n", r.stdout)

	r = runCLI(t, env, "proxy", "--check", "--config", path, "--upstream", "gopher://x")
	assert.Equal(t, exitFail, r.code)
	assert.Equal(t, "edgeauth: "+path+`: upstream: "gopher://x": scheme must be http or https`+"\n", r.stderr)

	r = runCLI(t, map[string]string{}, "proxy", "--check", "--config", path)
	assert.Equal(t, exitFail, r.code)
	assert.Contains(t, r.stderr, "no secret")

	r = runCLI(t, env, "proxy", "--check")
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "proxy needs --config FILE")
	r = runCLI(t, env, "proxy", "--config", path, "extra")
	assert.Equal(t, exitUsage, r.code)
}

// runCLI is run with an environment, for commands whose arguments are file
// paths; it checks that no secret of env is printed.
func runCLI(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	var out, errb strings.Builder
	code := run(args, strings.NewReader(""), &out, &errb, envOf(env))
	for k, v := range env {
		if strings.Contains(k, "SECRET") || strings.Contains(k, "PASSWORD") {
			require.NotContains(t, out.String()+errb.String(), v)
		}
	}
	return result{code, out.String(), errb.String()}
}

// Every flag of proxy and revoke is in the help.
func TestHelpGatewayFlags(t *testing.T) {
	for _, tc := range []struct{ file, section string }{
		{"proxy.go", "\nproxy flags (each overrides its key in the YAML file):\n"},
		{"revoke.go", "\nrevoke flags (flags may follow the arguments):\n"},
	} {
		_, section, ok := strings.Cut(helpText, tc.section)
		require.True(t, ok, tc.section)
		section, _, _ = strings.Cut(section, "\n\n")
		for name := range flagsDefined(t, tc.file) {
			assert.Contains(t, section, "  --"+name+" ", "%s: flag --%s is not in the help", tc.file, name)
		}
	}
}

func FuzzDecodeYAML(f *testing.F) {
	f.Add([]byte(fullConfig))
	f.Add([]byte(gwConfig))
	f.Add([]byte("a: &x [*x]\n"))
	f.Add([]byte("rules: [{pattern: /a, roles: [a, b]}]\nclaimHeaders: {a: b}\nmaxAge: 1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var c proxyConfig
		_ = decodeYAML(data, &c)
	})
}

// Every example configuration loads.
func TestExampleConfigs(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("..", "..", "examples", "gateway", "*.yaml"))
	require.NoError(t, err)
	require.Len(t, paths, 3)
	for _, p := range paths {
		_, err := loadGatewayConfig(p, proxyFlags{}, envOf(map[string]string{"AUTH_SECRET": gwSecret}))
		assert.NoError(t, err, p)
	}
}

// The README's gateway session shows what the command prints.
func TestREADMEGateway(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	require.NoError(t, err)
	readme := string(raw)
	path := filepath.Join("..", "..", "examples", "gateway", "reverse-proxy.yaml")
	r := runCLI(t, map[string]string{"AUTH_SECRET": gwSecret}, "proxy", "--check", "--config", path)
	require.Equal(t, exitOK, r.code, r.stderr)
	out := strings.Replace(r.stdout, path, "reverse-proxy.yaml", 1)
	assert.Contains(t, readme, "$ edgeauth proxy --check --config reverse-proxy.yaml\n   "+out)
	assert.Regexp(t, `\$ edgeauth revoke user bob --redis redis://127.0.0.1:6379/0\n  revoked every session of user "bob" signed in up to \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\n`, readme)
}

// A redis URL with addr parameters is a Redis Cluster: its nodes, the
// password from REDIS_PASSWORD, deadlines honoured, and database 0 only.
func TestConfigRedisCluster(t *testing.T) {
	env := envOf(map[string]string{"AUTH_SECRET": gwSecret, "REDIS_PASSWORD": "from-env"})
	cfg, err := loadGatewayConfig(writeConfig(t, "redis: redis://10.0.0.1:7000?addr=10.0.0.2:7001&addr=10.0.0.3:7002\n"), proxyFlags{}, env)
	require.NoError(t, err)
	assert.Nil(t, cfg.redis)
	require.NotNil(t, cfg.cluster)
	assert.Equal(t, []string{"10.0.0.1:7000", "10.0.0.2:7001", "10.0.0.3:7002"}, cfg.cluster.Addrs)
	assert.Equal(t, "from-env", cfg.cluster.Password)
	assert.True(t, cfg.cluster.ContextTimeoutEnabled)
	assert.Equal(t, "cluster 10.0.0.1:7000,10.0.0.2:7001,10.0.0.3:7002", cfg.redisAddr())

	_, err = loadGatewayConfig(writeConfig(t, "redis: redis://10.0.0.1:7000/2?addr=10.0.0.2:7001\n"), proxyFlags{}, env)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "database 0 only")
	assert.NotContains(t, err.Error(), "10.0.0.1", "errors never quote the URL")

	_, err = loadGatewayConfig(writeConfig(t, "redis: redis://10.0.0.1:7000?addr=10.0.0.2:7001\nredisPrefix: \"app{1}:\"\n"), proxyFlags{}, env)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "redisPrefix")
	assert.Contains(t, err.Error(), "braces")
	_, err = loadGatewayConfig(writeConfig(t, "redis: redis://10.0.0.1:7000/0\nredisPrefix: \"app{1}:\"\n"), proxyFlags{}, env)
	assert.NoError(t, err, "one Redis has no slots to split")
}

// next-auth v4 is named as the command's decode names it too.
func TestConfigFormatNextAuthV4Spellings(t *testing.T) {
	env := envOf(map[string]string{"AUTH_SECRET": gwSecret})
	for _, name := range []string{"nextauth-v4", "next-auth-v4"} {
		cfg, err := loadGatewayConfig(writeConfig(t, "format: "+name+"\n"), proxyFlags{}, env)
		require.NoError(t, err, name)
		assert.Equal(t, edgeauth.FormatNextAuthV4, cfg.lib.Format, name)
	}
}

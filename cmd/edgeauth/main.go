// Command edgeauth creates secrets and encodes and decodes Auth.js session
// tokens (next-auth v5 / @auth/core, and next-auth v4) from the shell,
// verifies Better Auth cookie caches, runs the gateway that puts Auth.js or
// Better Auth sessions in front of any app, and revokes sessions in the gateway's shared
// store.
//
//	edgeauth secret
//	edgeauth encode [flags] < claims.json
//	edgeauth decode [flags] [TOKEN]
//	edgeauth decode --format better-auth [--secret S] --cookie HEADER
//	edgeauth proxy --config FILE [--check] [flags]
//	edgeauth revoke user ID [flags]
//	edgeauth revoke session [COOKIE-OR-TOKEN] [flags]
//
// Run "edgeauth help" for the flags. The gateway ("edgeauth proxy") is a
// reverse proxy (gateway.go, reverseproxy.go) and a forward-auth endpoint
// for nginx, Caddy, Traefik and Envoy (forwardauth.go), configured by a
// YAML file (proxyconfig.go, yamlstrict.go), with Prometheus metrics
// (metrics.go) and reloads and graceful shutdown (proxy.go).
package main

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/edgeauth/edgeauth"
)

// Exit codes.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

const (
	// maxStdin bounds what is read from stdin (a token or a claim set).
	maxStdin = 1 << 20
	// maxUnix is 9999-12-31T23:59:59Z, the latest numeric date the codec accepts.
	maxUnix = 253402300799
	// maxAgeSecs keeps --max-age within a time.Duration (about 292 years).
	maxAgeSecs = math.MaxInt64 / int64(time.Second)
)

const shortUsage = `usage: edgeauth secret
       edgeauth encode [flags] < claims.json
       edgeauth decode [flags] [TOKEN]
       edgeauth proxy --config FILE [--check] [flags]
       edgeauth revoke user ID [flags]
       edgeauth revoke session [COOKIE-OR-TOKEN] [flags]
run "edgeauth help" for the flags
`

const helpText = `edgeauth creates secrets and encodes and decodes Auth.js session tokens
(next-auth v5 / @auth/core by default, next-auth v4 with --v4), runs a gateway
that checks Auth.js (or Better Auth) sessions in front of any app, and revokes
sessions.

usage:
  edgeauth secret                        print a new random secret (32 bytes, base64)
  edgeauth encode [flags] < claims.json  seal a JSON object of claims; print the token
  edgeauth decode [flags] [TOKEN]        verify a token (from stdin if absent); print its claims
  edgeauth proxy --config FILE [flags]   run the gateway (reverse proxy and forward-auth)
  edgeauth revoke user ID [flags]        end every session of a user (sign out everywhere, ban)
  edgeauth revoke session [COOKIE-OR-TOKEN] [flags]
                                         end one session, given its token or a Cookie
                                         header value (from stdin if absent or "-")

encode and decode flags:
  --secret S       secret; repeat for key rotation: the first encodes, all decode
                   (default: $AUTH_SECRET_3, $AUTH_SECRET_2, $AUTH_SECRET_1, $AUTH_SECRET)
  --salt NAME      HKDF salt, the session cookie name
                   (default "authjs.session-token"; "" with --v4)
  --v4             next-auth v4 format
  --max-age SECS   encode: lifetime in seconds (default 2592000, 30 days)
  --now UNIX       the clock, in Unix seconds (default: the system clock)
  --cookie HEADER  decode: take the token from a Cookie header value, joining
                   chunked cookies NAME.0, NAME.1, ...
  --cookie-name N  decode: the session cookie name for --cookie
                   (default: the salt; with --v4 "next-auth.session-token")
  --format F       decode: "authjs" (the default), "next-auth-v4" (as --v4) or
                   "better-auth": verify the Better Auth session token and
                   cookie cache in --cookie and print {"session":…,"user":…};
                   its secrets default to BETTER_AUTH_SECRETS, then
                   BETTER_AUTH_SECRET or AUTH_SECRET

encode sets iat, exp and jti as Auth.js does. decode checks exp and nbf with
Auth.js's 15 s clock tolerance.

proxy flags (each overrides its key in the YAML file):
  --config FILE          the configuration file (required)
  --check                validate the configuration and the secrets, then exit
  --listen ADDR          listen (default 127.0.0.1:4180)
  --upstream URL         upstream (none: forward-auth only)
  --metrics-listen ADDR  metricsListen: /metrics and /readyz
  --redis URL            redis: the shared revocation store
  --log-format F         logFormat: json (default) or text
  --log-level L          logLevel: debug, info (default), warn or error

  Secrets come from AUTH_SECRET (AUTH_SECRET_1..3 when rotating; with
  format: better-auth, BETTER_AUTH_SECRETS, then BETTER_AUTH_SECRET or
  AUTH_SECRET) or from the file named by AUTH_SECRET_FILE (one per line,
  newest first); REDIS_PASSWORD sets the Redis password. A Redis URL may name
  a Redis Cluster: redis://host1:port1?addr=host2:port2&addr=host3:port3.
  SIGHUP reloads the file and AUTH_SECRET_FILE; SIGTERM and SIGINT shut down
  gracefully.

revoke flags (flags may follow the arguments):
  --redis URL            the revocation store (required unless in --config)
  --config FILE          take redis, redisPrefix, cookie, format and maxAge from
                         the gateway's file
  --cookie-name N        the session cookie name (default "authjs.session-token")
  --v4                   next-auth v4 tokens
  --max-age SECS         the apps' session lifetime (default 2592000): how long a
                         revocation is kept

  revoke session needs the secrets, from the environment as for proxy.

Exit status: 0 ok, 1 failure, 2 usage error.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv))
}

// run is the whole command; env looks up environment variables.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer, env func(string) string) int {
	if len(args) == 0 {
		return usageError(stderr, "missing command")
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "secret":
		if len(rest) > 0 {
			return usageError(stderr, "secret takes no arguments")
		}
		return runSecret(stdout, stderr)
	case "encode", "decode":
		o, code := parseFlags(cmd, rest, stdout, stderr, env)
		if o == nil {
			return code
		}
		if cmd == "encode" {
			return runEncode(o, stdin, stdout, stderr)
		}
		if o.betterAuth {
			return runDecodeBetterAuth(o, stdout, stderr)
		}
		return runDecode(o, stdin, stdout, stderr)
	case "proxy":
		return runProxy(rest, stdout, stderr, env)
	case "revoke":
		return runRevoke(rest, stdin, stdout, stderr, env)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, helpText)
		return exitOK
	default:
		return usageError(stderr, "unknown command "+strconv.Quote(cmd))
	}
}

func usageError(stderr io.Writer, msg string) int {
	fmt.Fprintf(stderr, "edgeauth: %s\n%s", msg, shortUsage)
	return exitUsage
}

// fail prints the one-line failure report. msg must never hold a secret or a token.
func fail(stderr io.Writer, msg string) int {
	fmt.Fprintf(stderr, "edgeauth: %s\n", msg)
	return exitFail
}

func runSecret(stdout, stderr io.Writer) int {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return fail(stderr, "reading random bytes: "+err.Error())
	}
	fmt.Fprintln(stdout, base64.StdEncoding.EncodeToString(b[:]))
	return exitOK
}

// options are the parsed flags of encode and decode.
type options struct {
	secrets    []string
	format     edgeauth.Format
	salt       string
	maxAge     time.Duration
	now        func() time.Time // nil: the system clock
	token      string           // decode: the TOKEN argument
	hasToken   bool
	cookie     string
	hasCookie  bool
	cookieName string
	betterAuth bool // decode --format better-auth
}

// parseFlags returns nil options and the exit code when the command is done
// (usage error or help).
func parseFlags(cmd string, args []string, stdout, stderr io.Writer, env func(string) string) (*options, int) {
	fs := flag.NewFlagSet("edgeauth "+cmd, flag.ContinueOnError)
	// Errors are reported by usageError, in one format.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}

	o := new(options)
	var v4, saltSet, cookieNameSet bool
	fs.Func("secret", "", func(s string) error {
		if s == "" {
			return errors.New("must not be empty")
		}
		// A repeated secret adds nothing; skipping it keeps decode from trying it twice.
		if !slices.Contains(o.secrets, s) {
			o.secrets = append(o.secrets, s)
		}
		return nil
	})
	fs.Func("salt", "", func(s string) error { o.salt, saltSet = s, true; return nil })
	fs.BoolVar(&v4, "v4", false, "")
	fs.Func("now", "", func(s string) error {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 || n > maxUnix {
			return fmt.Errorf("must be an integer number of Unix seconds between 0 and %d", maxUnix)
		}
		t := time.Unix(n, 0)
		o.now = func() time.Time { return t }
		return nil
	})
	maxAge := int64(edgeauth.DefaultMaxAge / time.Second)
	if cmd == "encode" {
		fs.Func("max-age", "", func(s string) error {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil || n <= 0 || n > maxAgeSecs {
				return fmt.Errorf("must be a positive integer number of seconds, at most %d", maxAgeSecs)
			}
			maxAge = n
			return nil
		})
	} else {
		fs.Func("cookie", "", func(s string) error { o.cookie, o.hasCookie = s, true; return nil })
		fs.Func("cookie-name", "", func(s string) error {
			if s == "" {
				return errors.New("must not be empty")
			}
			o.cookieName, cookieNameSet = s, true
			return nil
		})
		fs.Func("format", "", func(s string) error {
			switch s {
			case "authjs":
			case "next-auth-v4":
				v4 = true
			case "better-auth":
				o.betterAuth = true
			default:
				return errors.New(`must be "authjs", "next-auth-v4" or "better-auth"`)
			}
			return nil
		})
	}

	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, helpText)
			return nil, exitOK
		}
		// flag's messages quote the offending value; never echo a secret.
		return nil, usageError(stderr, redactFlagError(err, o.secrets))
	}

	switch rest := fs.Args(); {
	case cmd == "encode" && len(rest) > 0:
		return nil, usageError(stderr, "encode reads the claims from stdin and takes no arguments")
	case len(rest) > 1:
		return nil, usageError(stderr, "decode takes at most one TOKEN (flags go before it)")
	case len(rest) == 1:
		if o.hasCookie {
			return nil, usageError(stderr, "give either TOKEN or --cookie, not both")
		}
		o.token, o.hasToken = rest[0], true
	}
	if cookieNameSet && !o.hasCookie {
		return nil, usageError(stderr, "--cookie-name needs --cookie")
	}
	if o.betterAuth {
		return betterAuthOptions(o, v4 || saltSet || cookieNameSet, stderr, env)
	}

	if v4 {
		o.format = edgeauth.FormatNextAuthV4
	} else {
		o.format = edgeauth.FormatAuthJS
		if !saltSet {
			o.salt = edgeauth.DefaultCookieName
		} else if o.salt == "" {
			// The codec reads an empty v5 salt as the default; refuse rather than
			// silently use another key.
			return nil, usageError(stderr, `--salt "" needs --v4 (Auth.js v5 salts are the cookie name)`)
		}
	}
	if !cookieNameSet {
		// v4's salt is "" by default while its cookie keeps its own name.
		o.cookieName = o.salt
		if o.cookieName == "" {
			o.cookieName = edgeauth.DefaultCookieNameV4
		}
	}

	if cmd == "encode" && clock(o.now)().Unix()+maxAge > maxUnix {
		return nil, usageError(stderr, "--now plus --max-age is past the year 9999")
	}
	o.maxAge = time.Duration(maxAge) * time.Second
	if len(o.secrets) == 0 {
		o.secrets = secretsFromEnv(env)
	}
	return o, exitOK
}

// redactFlagError drops the quoted value from a flag error that might hold a secret.
func redactFlagError(err error, secrets []string) string {
	msg := err.Error()
	// flag reports `invalid value "VALUE" for flag -NAME: REASON` and
	// `invalid boolean value "VALUE" for -NAME: REASON`.
	if q := strings.IndexByte(msg, '"'); q > 0 && strings.HasPrefix(msg, "invalid ") {
		if i := strings.LastIndex(msg, " for "); i > q {
			msg = strings.TrimSpace(msg[:q]) + msg[i:]
		}
	}
	for _, s := range secrets {
		msg = strings.ReplaceAll(msg, s, "[secret]")
	}
	return msg
}

func clock(now func() time.Time) func() time.Time {
	if now == nil {
		return time.Now
	}
	return now
}

// secretsFromEnv is edgeauth.SecretsFromEnv over an injectable environment.
func secretsFromEnv(env func(string) string) []string {
	var secrets []string
	for _, name := range []string{"AUTH_SECRET_3", "AUTH_SECRET_2", "AUTH_SECRET_1", "AUTH_SECRET"} {
		if s := env(name); s != "" && !slices.Contains(secrets, s) {
			secrets = append(secrets, s)
		}
	}
	return secrets
}

func (o *options) codec() (*edgeauth.Codec, error) {
	return edgeauth.NewCodec(edgeauth.CodecConfig{
		Secrets: o.secrets,
		Salt:    o.salt,
		Format:  o.format,
		MaxAge:  o.maxAge,
		Now:     o.now,
	})
}

func runEncode(o *options, stdin io.Reader, stdout, stderr io.Writer) int {
	c, err := o.codec()
	if err != nil {
		return fail(stderr, reason(err))
	}
	in, err := readBounded(stdin)
	if err != nil {
		return fail(stderr, err.Error())
	}
	t, err := parseClaims(in)
	if err != nil {
		return fail(stderr, err.Error())
	}
	token, err := c.Encode(t)
	if err != nil {
		return fail(stderr, reason(err))
	}
	fmt.Fprintln(stdout, token)
	return exitOK
}

// parseClaims reads one JSON object. iat, exp and jti are dropped first:
// encode replaces them, as Auth.js does, so their old values need not parse.
func parseClaims(in []byte) (*edgeauth.Token, error) {
	in = bytes.TrimSpace(in)
	if len(in) == 0 {
		return nil, errors.New("no claims on stdin (want a JSON object)")
	}
	dec := json.NewDecoder(bytes.NewReader(in))
	var claims map[string]json.RawMessage
	if err := dec.Decode(&claims); err != nil || claims == nil {
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			return nil, fmt.Errorf("claims are not valid JSON: %v", err)
		}
		return nil, errors.New("claims must be a JSON object")
	}
	if dec.More() {
		return nil, errors.New("claims must be a single JSON object")
	}
	delete(claims, "iat")
	delete(claims, "exp")
	delete(claims, "jti")
	// Without HTML escaping, as JSON.stringify, so the claims stay byte-for-byte.
	var raw bytes.Buffer
	enc := json.NewEncoder(&raw)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(claims); err != nil {
		return nil, fmt.Errorf("claims are not valid JSON: %v", err)
	}
	t := new(edgeauth.Token)
	if err := t.UnmarshalJSON(raw.Bytes()); err != nil {
		// The claims are the user's own input, so the detail is safe to show;
		// they are not a token, whatever the error's class says.
		return nil, errors.New(strings.TrimPrefix(err.Error(), edgeauth.ErrInvalidToken.Error()+": "))
	}
	return t, nil
}

func runDecode(o *options, stdin io.Reader, stdout, stderr io.Writer) int {
	c, err := o.codec()
	if err != nil {
		return fail(stderr, reason(err))
	}
	var token string
	switch {
	case o.hasCookie:
		if token, err = fromCookieHeader(o.cookie, o.cookieName); err != nil {
			return fail(stderr, o.cookieFailure(o.cookie, err))
		}
	case o.hasToken:
		token = strings.TrimSpace(o.token)
	default:
		in, err := readBounded(stdin)
		if err != nil {
			return fail(stderr, err.Error())
		}
		token = string(bytes.TrimSpace(in))
	}
	if token == "" {
		return fail(stderr, "no token given")
	}
	t, err := c.Decode(token)
	if err != nil {
		return fail(stderr, o.decodeFailure(token, err))
	}
	out, err := t.MarshalJSON()
	if err == nil {
		// Claims keep the issuer's raw JSON, which may span lines.
		var buf bytes.Buffer
		if err = json.Compact(&buf, out); err == nil {
			out = buf.Bytes()
		}
	}
	if err != nil {
		return fail(stderr, "invalid claims")
	}
	stdout.Write(append(out, '\n'))
	return exitOK
}

// errStdinTooLarge reports stdin over maxStdin.
var errStdinTooLarge = fmt.Errorf("input too large (over %d bytes)", maxStdin)

func readBounded(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxStdin+1))
	if err != nil {
		return nil, fmt.Errorf("reading stdin: %v", err)
	}
	if len(b) > maxStdin {
		return nil, errStdinTooLarge
	}
	return b, nil
}

// reason names why an operation failed, from the sentinel errors only: the
// errors' details may quote parts of the token.
func reason(err error) string {
	switch {
	case errors.Is(err, edgeauth.ErrExpired):
		return "token expired"
	case errors.Is(err, edgeauth.ErrNotYetValid):
		return "token not yet valid"
	case errors.Is(err, edgeauth.ErrNoMatchingSecret):
		return "no matching secret (token sealed with another secret or salt)"
	case errors.Is(err, edgeauth.ErrDecrypt):
		return "decryption failed (wrong secret or tampered)"
	case errors.Is(err, edgeauth.ErrTooLarge):
		return "token too large"
	case errors.Is(err, edgeauth.ErrMalformed):
		return "malformed token"
	case errors.Is(err, edgeauth.ErrInvalidClaims):
		return "invalid claims"
	case errors.Is(err, edgeauth.ErrNoSecret):
		return "no secret configured (use --secret or set AUTH_SECRET)"
	case errors.Is(err, errNoCookie), errors.Is(err, errCookieChunks):
		return err.Error()
	case errors.Is(err, edgeauth.ErrInvalidToken):
		return "invalid token"
	case errors.Is(err, edgeauth.ErrInvalidSession):
		return "claims cannot be issued as a token"
	case errors.Is(err, edgeauth.ErrConfig):
		return "invalid configuration"
	}
	return "failed"
}

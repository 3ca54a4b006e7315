// Package betterauth verifies Better Auth sessions in Go, so that a Go
// service beside a Better Auth app knows who is signed in.
//
// Better Auth keeps a session in a database or a secondary storage; the
// browser carries a signed opaque session token
// (better-auth.session_token) and, when the app enables it, a short-lived
// cookie cache of the session (better-auth.session_data). A [Verifier]
// built by [New] from one [Config] checks the token's signature, then
// proves the session from whichever source can:
//
//   - the cookie cache, without a round trip ([SourceCookieCache]), in each
//     of Better Auth's strategies: compact, jwt and jwe;
//   - Better Auth's secondary storage ([Storage]; the redisstore package
//     reads @better-auth/redis-storage), where a sign-out or revocation takes
//     effect at once ([SourceStorage]);
//   - the app's own GET /api/auth/get-session ([SourceEndpoint]), with a
//     timeout, only the session token forwarded, and answers reused briefly.
//
// A Verifier is also an edgeauth.Source ([Verifier.Session]): set it as
// edgeauth.Config.Source and one edgeauth.Manager's rules, roles, identity
// headers, Require and FromContext decide on Better Auth sessions, as they
// do on Auth.js's; the edgeauth command's gateway does so with
// "format: better-auth".
//
// # Compatibility
//
// The formats are those of better-auth 1.7.25, tested against the real
// package by the harness in testdata/betterauth. The session token cookie is
// encodeURIComponent(token + "." + base64(HMAC-SHA256(secret, token))). The
// compact cache is base64url JSON {session, expiresAt, signature} whose
// signature is an unpadded base64url HMAC-SHA256 over the session JSON with
// expiresAt added; the jwt cache is HS256 over the secret; the jwe cache is
// "dir" with A256CBC-HS512 under HKDF-SHA256(secret, salt
// "better-auth-session", info "BetterAuth.js Generated Encryption Key", 64
// bytes), its kid the key's RFC 7638 thumbprint hashed with SHA-256. Caches
// past about 4 KB are chunked as NAME.0, NAME.1, … A cache is used only when
// its session.token is the session token, its version is Config.Version,
// and neither it nor the session has expired.
//
// # Key rotation
//
// Config.Secrets lists secrets current first, as BETTER_AUTH_SECRETS does
// ([SecretsFromEnv] reads it, then BETTER_AUTH_SECRET or AUTH_SECRET). Better
// Auth checks the session token and the compact and jwt caches with the
// current secret only, so rotating its secret ends every session signed
// with the old one; the Verifier does the same. Jwe caches open with any
// listed secret, picked by kid.
//
// # Revocation
//
// A cookie cache cannot see a sign-out: it stays valid until it expires
// (session.cookieCache.maxAge, five minutes by default). Where a sign-out
// must take effect at once, set [StrategyNone] and a Storage or SessionURL,
// so every session is looked up.
//
// # Security
//
//   - Every error of [Verifier.Verify] satisfies errors.Is(err,
//     [ErrNoSession]), and one of the narrower classes says why. Errors and
//     logs never contain secrets or tokens.
//   - Algorithms are allow-listed (HS256 for jwt; "dir" with A256CBC-HS512 for
//     jwe); sizes are bounded before anything is parsed; secrets and
//     signatures are compared in constant time.
//   - Nothing reaches a lookup before the session token's signature
//     verifies, and a failed or slow lookup means no session (fail closed).
package betterauth

// Package edgeauth reads, refreshes, revokes and issues the session cookies
// of Auth.js (next-auth v5, @auth/core) and next-auth v4, so that a Go
// service beside a Next.js front end shares its sessions: stateless JWT
// sessions, encrypted as Auth.js encrypts them.
//
// A [Manager] built by [New] from one [Config] does everything HTTP:
// [Manager.SignIn], [Manager.Update], [Manager.SignOut], [Manager.Load],
// [Manager.Refresh] (rolling expiry), [Manager.SessionHandler] (the
// /api/auth/session endpoint), [Manager.Handler], net/http middleware with
// route rules (the most specific [Rule] decides, as with http.ServeMux
// patterns), roles and identity headers, and [Manager.Require], a guard for
// single routes. A [Codec] encodes and decodes tokens without HTTP.
//
// # Map of the package
//
// A request's session cookie takes this path, one file for each step:
//
//   - cookie.go: the cookie jar; a token longer than one cookie is split into
//     NAME.0, NAME.1, … chunks and joined again (internal/chunk).
//   - codec.go: the [Codec] API (NewCodec, Encode, Decode); jwe.go the compact
//     JWE under it, with the hardening of each segment; internal/keys the HKDF keys,
//     internal/jwefast the decode fast path.
//   - token.go: the [Token] and its claims; tokenjson.go its JSON, on the scanner
//     in internal/jsonscan.
//   - callbacks.go: the jwt and session callbacks and the events.
//   - cache.go: verified tokens, kept until they expire (internal/expiry
//     holds the exp rule it shares with the codec).
//   - revoke.go: revocation (denylist, sign-out-everywhere, token versions) over a
//     [Store]; memstore.go the [MemoryStore].
//   - rules.go: route rules and roles (internal/match reads the patterns);
//     middleware.go the [Manager.Handler] and [Manager.Check] decision;
//     require.go the per-route guard.
//   - identity.go: identity headers, client copies stripped; context.go the
//     session in a request's context; callbackurl.go [SafeCallbackURL].
//
// Around it: config.go holds [Config] and every Default* constant, manager.go
// the [Manager] and its load path, session.go the [Session], signin.go sign-in,
// update, sign-out and refresh, sessionendpoint.go the /api/auth/session
// endpoint, diagnose.go the explanations of rejections, errors.go every error.
// source.go is the seam for sessions another library proves: with
// Config.Source, a [Source] replaces the cookie, codec and cache steps above,
// and the rules, roles, identity headers and context decide on its sessions
// unchanged. The betterauth package's Verifier is one, for Better Auth's
// sessions. The edgeauth command (cmd/edgeauth, a module of its own) is the
// gateway in front of any upstream, and redisstore (also its own module) the
// [Store] on Redis.
//
// # Beside a Next.js app
//
// When a Next.js app signs users in with Auth.js and a Go API on the same
// site serves its data, the Go side shares AUTH_SECRET and reads the app's
// cookie: set Config.ReadOnly, so that the Manager never writes Set-Cookie
// (the app's jwt callback stays the only place tokens are re-issued), use
// the cookie name Auth.js uses for the app's scheme (CookieConfig.Secure for
// https), put [Manager.Handler] in front of the router and [Manager.Require]
// on the routes. With Config.Logger and Config.LogRejections, every refused
// request is logged with its reason, and a cookie under another Auth.js name
// is reported.
//
// # Compatibility
//
// Tokens are compact JWE with alg "dir". Auth.js (the default,
// [FormatAuthJS]) encrypts with A256CBC-HS512 under a 64-byte key,
// HKDF-SHA256(secret, salt = cookie name, info "Auth.js Generated Encryption
// Key (<salt>)"), and names the key in a "kid" header (its RFC 7638
// thumbprint); it also decodes A256GCM with the 32-byte key of the same
// schedule. next-auth v4 ([FormatNextAuthV4]) uses A256GCM, info "NextAuth.js
// Generated Encryption Key", and an empty salt. Encoding adds iat, exp and a
// random jti, as both libraries do; exp and nbf are checked with Auth.js's
// 15 s clock tolerance. Cookies are named and chunked as Auth.js's
// SessionStore does (authjs.session-token, __Secure-authjs.session-token,
// next-auth.session-token; NAME.0, NAME.1, … past 3936 bytes, 3933 for v4).
//
// All of this is tested against the real @auth/core 0.41.3 and next-auth
// 4.24.15, in both directions, by the harness in testdata/authjs.
//
// # Key rotation
//
// Config.Secrets lists secrets newest first, like Auth.js's AUTH_SECRET
// array ([SecretsFromEnv] reads AUTH_SECRET_3, AUTH_SECRET_2, AUTH_SECRET_1,
// AUTH_SECRET in that order). The first secret encodes; decoding picks the
// secret whose thumbprint matches the token's kid, and tries each secret in
// turn for a token without kid (Auth.js tries only the first). To rotate,
// put the new secret first, keep the old one until MaxAge has passed, then
// drop it. Keys and thumbprints are derived once, in the constructor.
//
// # Revocation
//
// A stateless session stays valid until it expires. With Config.Store set
// (a [MemoryStore] for one instance, the redisstore package for many), the
// Manager checks every verified token against three remedies: a denylist of
// sessions ([Manager.RevokeToken]; [Manager.SignOut] revokes the session it
// clears), a per-user cutoff that rejects every session signed in before it
// ([Manager.RevokeUser]: sign out everywhere, or ban), and token versions
// (Config.TokenVersion). Checks happen after the token decrypts, so garbage
// never reaches the store, and a failing or slow store fails closed unless
// Config.RevocationFailOpen says otherwise.
//
// Auth.js re-encodes a cookie with a fresh jti and iat each time its session
// endpoint reads it, so revocations key on two claims that stay: the session
// id "sid" ([Token.SessionID]) and the sign-in time "auth_time"
// ([Token.AuthTime]). [Manager.SignIn] sets both after the jwt callback;
// every re-issue keeps those of the verified token. A revoked session is
// then refused in every copy, whoever re-encoded it, and neither an Auth.js
// read nor an instance whose clock runs ahead can renew a banned one. A
// Next.js app adds both in its jwt callback (the README has the lines). For
// a token without them, the denylist falls back to the jti, which Auth.js
// re-encodes do not keep, and a user's cutoff rejects it whatever its age
// for as long as the cutoff is stored. Revocations hold where edgeauth
// checks sessions; the README says what the Next.js side must do to honour
// them too.
//
// # Security
//
//   - Every failure caused by a token is an error that satisfies
//     errors.Is(err, [ErrInvalidToken]); every failure of [Manager.Load] one
//     that satisfies errors.Is(err, [ErrNoSession]). A session the
//     application asks to issue that cannot become a token and its cookies
//     fails with [ErrInvalidSession] instead, never [ErrInvalidToken].
//     Errors never contain secrets or tokens, and the middleware never
//     writes error text to clients.
//   - Algorithms are allow-listed ("dir" with A256CBC-HS512 or A256GCM); zip,
//     crit, JWS and JSON serialization are rejected, and token size, chunk
//     count and header size are bounded before anything is parsed.
//   - Callbacks that fail or panic end the request as "no session": no
//     cookie is half set.
//   - Identity headers (x-user-id, x-user-role) are removed from every
//     incoming request and set only from a verified session.
//   - The session cookie is HttpOnly and SameSite=Lax. A "__Host-" cookie
//     name protects against cookie tossing from sibling subdomains (see
//     [CookieConfig]).
package edgeauth

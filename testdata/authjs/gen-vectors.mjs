// Writes the golden token vectors in ../vectors (or the directory given as
// the first argument) with the REAL libraries: @auth/core 0.41.3 (v5) and
// next-auth 4.24.15 (v4). Run from anywhere: `node gen-vectors.mjs`.
//
// Output is reproducible: the clock is fixed and the randomness the libraries
// draw (IVs, jti) comes from a SHA-256 stream seeded with the case name, so a
// rerun rewrites identical files. Every vector is checked against the issuing
// library's own decode before it is written.
//
// File format (one file per case, in the style of age's testkit):
//
//   lib: v5 | v4
//   origin: who produced the token
//   description: free text
//   secret: S          (repeatable, in order: the decoder's secret list)
//   salt: S            (may be empty)
//   now: UNIX          (seconds to decode at; Auth.js's 15 s tolerance applies)
//   expect: success | expired | no matching secret | decryption failed | malformed | invalid claims
//   claims: {...}      (success only: the full claim set, one line of JSON)
//
//   <token>

import nodeCrypto from "node:crypto"
import { createRequire } from "node:module"
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { isDeepStrictEqual } from "node:util"

const here = dirname(fileURLToPath(import.meta.url))
const outDir = resolve(process.argv[2] ?? join(here, "..", "vectors"))

// ---- deterministic randomness --------------------------------------------
// Patched before the libraries load: uuid (next-auth v4) captures
// crypto.randomUUID at load time.

let rngSeed = ""
let rngCounter = 0
let rngPool = Buffer.alloc(0)

function reseed(name) {
  rngSeed = `edgeauth golden vectors: ${name}`
  rngCounter = 0
  rngPool = Buffer.alloc(0)
}

function randomBytes(n) {
  if (rngSeed === "") throw new Error("randomness used outside a vector")
  while (rngPool.length < n) {
    const block = nodeCrypto.createHash("sha256").update(`${rngSeed}/${rngCounter++}`).digest()
    rngPool = Buffer.concat([rngPool, block])
  }
  const out = rngPool.subarray(0, n)
  rngPool = rngPool.subarray(n)
  return Buffer.from(out)
}

function fill(view) {
  const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength)
  bytes.set(randomBytes(bytes.length))
  return view
}

function uuid4() {
  const b = randomBytes(16)
  b[6] = (b[6] & 0x0f) | 0x40
  b[8] = (b[8] & 0x3f) | 0x80
  const h = b.toString("hex")
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}

nodeCrypto.randomFillSync = (buf) => fill(buf)
nodeCrypto.randomUUID = uuid4
Object.defineProperty(globalThis.crypto, "getRandomValues", { value: fill, configurable: true })
Object.defineProperty(globalThis.crypto, "randomUUID", { value: uuid4, configurable: true })

// ---- fixed clock -----------------------------------------------------------

const RealDate = globalThis.Date

async function at(now, fn) {
  const ms = now * 1000
  globalThis.Date = new Proxy(RealDate, {
    construct(target, args, newTarget) {
      return Reflect.construct(target, args.length === 0 ? [ms] : args, newTarget)
    },
    apply() {
      return new RealDate(ms).toString()
    },
    get(target, prop, receiver) {
      if (prop === "now") return () => ms
      return Reflect.get(target, prop, receiver)
    },
  })
  try {
    return await fn()
  } finally {
    globalThis.Date = RealDate
  }
}

// ---- libraries ---------------------------------------------------------------

const require = createRequire(import.meta.url)
const coreRequire = createRequire(join(here, "node_modules", "@auth", "core", "package.json"))
const version = (pkgJSON) => JSON.parse(readFileSync(pkgJSON, "utf8")).version

const v5 = await import("@auth/core/jwt")
const v4 = require("next-auth/jwt")
// The jose and hkdf that @auth/core itself imports, for the A256GCM vector.
const jose = await import(coreRequire.resolve("jose"))
const { hkdf } = await import(coreRequire.resolve("@panva/hkdf"))

const CORE = `@auth/core ${version(join(here, "node_modules/@auth/core/package.json"))}`
const NEXTAUTH = `next-auth ${version(join(here, "node_modules/next-auth/package.json"))}`
const JOSE = `jose ${version(join(here, "node_modules/jose/package.json"))}`
if (CORE !== "@auth/core 0.41.3" || NEXTAUTH !== "next-auth 4.24.15") {
  throw new Error(`unexpected library versions: ${CORE}, ${NEXTAUTH} (run npm ci)`)
}

// ---- cases -------------------------------------------------------------------

const T0 = 1700000000 // issue time
const LONG = 10 * 365 * 24 * 3600 // maxAge for vectors that must stay valid
const SHORT = 3600
const V5_SALT = "authjs.session-token"
const SECURE_SALT = "__Secure-authjs.session-token"
const S5 = "edgeauth-vector-secret-v5-0123456789"
const S5_OLD = "edgeauth-vector-secret-v5-old"
const S5_NEW = "edgeauth-vector-secret-v5-new"
const S4 = "edgeauth-vector-secret-v4-0123456789"

const basic = {
  sub: "user-123",
  name: "Ada Lovelace",
  email: "ada@example.com",
  picture: "https://example.com/ada.png",
  role: "admin",
  id: "123",
}

// Shapes Auth.js writes (null picture), custom claims, and text that trips
// encoders: non-BMP emoji, ZWJ sequences, combining marks, RTL, HTML, U+2028.
const unicode = {
  sub: "user-ünï",
  name: "Zoë 👩🏽‍💻 Ådá",
  email: "zoë@exämple.com",
  picture: null,
  role: "admin",
  id: "42",
  rtl: "שלום مرحبا",
  combining: "e\u0301a\u0308n\u0303",
  astral: "𝄞🚀🀄",
  html: "<script>alert('x')</script> & \"q\" </b>",
  separators: "a\u2028b\u2029c",
  nested: { a: [1, 2, { b: null, c: [true, false] }], empty: {}, list: [] },
  big: 9007199254740991,
  neg: -1.5,
}

// Over one 4096-byte cookie chunk once sealed.
const large = {
  sub: "user-large",
  name: "Large Token",
  email: "large@example.com",
  picture: null,
  permissions: Array.from({ length: 200 }, (_, i) => `perm:${String(i).padStart(3, "0")}:read-write`),
  note: Array.from({ length: 40 }, (_, i) => `line ${i}: the quick brown fox ✓`).join("\n"),
}

function flipMiddle(token, segment) {
  const parts = token.split(".")
  const s = parts[segment]
  const i = s.length >> 1
  parts[segment] = s.slice(0, i) + (s[i] === "A" ? "B" : "A") + s.slice(i + 1)
  return parts.join(".")
}

// The last ciphertext byte moved to the front of the tag: ciphertext||tag
// is unchanged, only the split between the segments moves.
function moveIntoTag(token) {
  const parts = token.split(".")
  const ct = Buffer.from(parts[3], "base64url")
  const tag = Buffer.from(parts[4], "base64url")
  parts[3] = ct.subarray(0, ct.length - 1).toString("base64url")
  parts[4] = Buffer.concat([ct.subarray(ct.length - 1), tag]).toString("base64url")
  return parts.join(".")
}

function withHeader(token, change) {
  const parts = token.split(".")
  const header = JSON.parse(Buffer.from(parts[0], "base64url").toString("utf8"))
  parts[0] = Buffer.from(JSON.stringify({ ...header, ...change })).toString("base64url")
  return parts.join(".")
}

const v5encode = (secret, salt, maxAge, token) => () => v5.encode({ token, secret, salt, maxAge })
const v4encode = (secret, salt, maxAge, token) => () => v4.encode({ token, secret, salt, maxAge })

// A v5 token without kid, from the jose and HKDF schedule @auth/core uses:
// A256GCM (32-byte key), which Auth.js's decoder accepts but its encoder
// never writes, or A256CBC-HS512 (64-byte key), as @auth/core 0.23 wrote it
// before it named keys (0.24).
const v5noKid = (enc) => (secret, salt, maxAge, token) => async () => {
  const key = await hkdf("sha256", secret, salt, `Auth.js Generated Encryption Key (${salt})`, enc === "A256GCM" ? 32 : 64)
  return await new jose.EncryptJWT(token)
    .setProtectedHeader({ alg: "dir", enc })
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + maxAge)
    .setJti(crypto.randomUUID())
    .encrypt(key)
}

// A v5-keyed token whose payload the caller writes verbatim.
const v5raw = (secret, salt, payload) => async () => {
  const key = await hkdf("sha256", secret, salt, `Auth.js Generated Encryption Key (${salt})`, 64)
  const kid = await jose.calculateJwkThumbprint({ kty: "oct", k: jose.base64url.encode(key) }, "sha512")
  return await new jose.CompactEncrypt(new TextEncoder().encode(payload))
    .setProtectedHeader({ alg: "dir", enc: "A256CBC-HS512", kid })
    .encrypt(key)
}

const cases = [
  {
    name: "v5-basic",
    description: "default salt, one secret",
    lib: "v5", origin: CORE,
    make: v5encode(S5, V5_SALT, LONG, basic),
    secrets: [S5], salt: V5_SALT, now: T0 + 60, expect: "success",
  },
  {
    name: "v5-secure-salt",
    description: "salt of the HTTPS cookie name",
    lib: "v5", origin: CORE,
    make: v5encode(S5, SECURE_SALT, LONG, basic),
    secrets: [S5], salt: SECURE_SALT, now: T0 + 60, expect: "success",
  },
  {
    name: "v5-rotation",
    description: "sealed with the old secret, decoded with [new, old]: the kid selects old",
    lib: "v5", origin: CORE,
    make: v5encode(S5_OLD, V5_SALT, LONG, basic),
    secrets: [S5_NEW, S5_OLD], salt: V5_SALT, now: T0 + 60, expect: "success",
  },
  {
    name: "v5-a256gcm",
    description: "A256GCM without kid (32-byte key of the same HKDF schedule), which @auth/core decodes but never encodes",
    lib: "v5", origin: `${JOSE} (the jose and @panva/hkdf @auth/core uses)`,
    make: v5noKid("A256GCM")(S5, V5_SALT, LONG, basic),
    secrets: [S5], salt: V5_SALT, now: T0 + 60, expect: "success",
  },
  {
    name: "v5-cbc-no-kid",
    description: "A256CBC-HS512 without kid, as @auth/core 0.23 wrote, which @auth/core still decodes",
    lib: "v5", origin: `${JOSE} (the jose and @panva/hkdf @auth/core uses)`,
    make: v5noKid("A256CBC-HS512")(S5, V5_SALT, LONG, basic),
    secrets: [S5], salt: V5_SALT, now: T0 + 60, expect: "success",
  },
  {
    name: "v5-unicode",
    description: "null, nested, big integer, non-BMP, combining, RTL, HTML and U+2028 claims",
    lib: "v5", origin: CORE,
    make: v5encode(S5, V5_SALT, LONG, unicode),
    secrets: [S5], salt: V5_SALT, now: T0 + 60, expect: "success",
  },
  {
    name: "v5-large",
    description: "about 8 KB, more than one 4096-byte cookie chunk",
    lib: "v5", origin: CORE,
    make: v5encode(S5, V5_SALT, LONG, large),
    secrets: [S5], salt: V5_SALT, now: T0 + 60, expect: "success",
    check: (token) => token.length > 7500 && token.length < 9000,
  },
  {
    name: "v5-exp-tolerance",
    description: "decoded at exp+14: inside the 15 s clock tolerance",
    lib: "v5", origin: CORE,
    make: v5encode(S5, V5_SALT, SHORT, basic),
    secrets: [S5], salt: V5_SALT, now: T0 + SHORT + 14, expect: "success",
  },
  {
    name: "v5-expired",
    description: "decoded at exp+15: just past the 15 s clock tolerance",
    lib: "v5", origin: CORE,
    make: v5encode(S5, V5_SALT, SHORT, basic),
    secrets: [S5], salt: V5_SALT, now: T0 + SHORT + 15, expect: "expired",
  },
  {
    name: "v5-wrong-secret",
    description: "sealed with another secret: its kid matches none of ours",
    lib: "v5", origin: CORE,
    make: v5encode(S5_OLD, V5_SALT, LONG, basic),
    secrets: [S5], salt: V5_SALT, now: T0 + 60, expect: "no matching secret",
  },
  {
    name: "v5-tampered",
    description: "one ciphertext character changed",
    lib: "v5", origin: CORE,
    make: v5encode(S5, V5_SALT, LONG, basic), mutate: (t) => flipMiddle(t, 3),
    secrets: [S5], salt: V5_SALT, now: T0 + 60, expect: "decryption failed",
  },
  {
    name: "v5-tag-moved",
    description: "a ciphertext byte moved into the tag: the same ciphertext||tag, another split",
    lib: "v5", origin: CORE,
    make: v5encode(S5, V5_SALT, LONG, basic), mutate: moveIntoTag,
    secrets: [S5], salt: V5_SALT, now: T0 + 60, expect: "decryption failed",
  },
  {
    name: "v5-malformed-alg",
    description: 'header alg rewritten to "A256KW"',
    lib: "v5", origin: CORE,
    make: v5encode(S5, V5_SALT, LONG, basic), mutate: (t) => withHeader(t, { alg: "A256KW" }),
    secrets: [S5], salt: V5_SALT, now: T0 + 60, expect: "malformed",
  },
  {
    name: "v5-invalid-claims",
    description: "exp is a string",
    lib: "v5", origin: `${JOSE} (the jose and @panva/hkdf @auth/core uses)`,
    make: v5raw(S5, V5_SALT, JSON.stringify({ sub: "user-123", iat: T0, exp: String(T0 + LONG) })),
    secrets: [S5], salt: V5_SALT, now: T0 + 60, expect: "invalid claims",
  },
  {
    name: "v4-basic",
    description: "next-auth v4 default: empty salt, A256GCM, no kid",
    lib: "v4", origin: NEXTAUTH,
    make: v4encode(S4, "", LONG, basic),
    secrets: [S4], salt: "", now: T0 + 60, expect: "success",
  },
  {
    name: "v4-custom-salt",
    description: "next-auth v4 with a salt (info gets the salt suffix)",
    lib: "v4", origin: NEXTAUTH,
    make: v4encode(S4, "my-app.custom-salt", LONG, basic),
    secrets: [S4], salt: "my-app.custom-salt", now: T0 + 60, expect: "success",
  },
  {
    name: "v4-unicode",
    description: "null, nested, big integer, non-BMP, combining, RTL, HTML and U+2028 claims",
    lib: "v4", origin: NEXTAUTH,
    make: v4encode(S4, "", LONG, unicode),
    secrets: [S4], salt: "", now: T0 + 60, expect: "success",
  },
  {
    name: "v4-expired",
    description: "decoded at exp+15: just past the 15 s clock tolerance",
    lib: "v4", origin: NEXTAUTH,
    make: v4encode(S4, "", SHORT, basic),
    secrets: [S4], salt: "", now: T0 + SHORT + 15, expect: "expired",
  },
  {
    name: "v4-wrong-secret",
    description: "sealed with another secret",
    lib: "v4", origin: NEXTAUTH,
    make: v4encode("edgeauth-vector-secret-v4-other", "", LONG, basic),
    secrets: [S4], salt: "", now: T0 + 60, expect: "decryption failed",
  },
  {
    name: "v4-tampered",
    description: "one tag character changed",
    lib: "v4", origin: NEXTAUTH,
    make: v4encode(S4, "", LONG, basic), mutate: (t) => flipMiddle(t, 4),
    secrets: [S4], salt: "", now: T0 + 60, expect: "decryption failed",
  },
  {
    name: "v4-tag-moved",
    description: "a ciphertext byte moved into the tag: the same ciphertext||tag, another split",
    lib: "v4", origin: NEXTAUTH,
    make: v4encode(S4, "", LONG, basic), mutate: moveIntoTag,
    secrets: [S4], salt: "", now: T0 + 60, expect: "decryption failed",
  },
]

// ---- verification and output -------------------------------------------------

function outcome(err) {
  const code = err?.code
  if (code === "ERR_JWT_EXPIRED") return "expired"
  if (err?.message === "no matching decryption secret") return "no matching secret"
  if (code === "ERR_JWE_DECRYPTION_FAILED") return "decryption failed"
  if (["ERR_JWE_INVALID", "ERR_JOSE_ALG_NOT_ALLOWED", "ERR_JOSE_NOT_SUPPORTED"].includes(code)) return "malformed"
  if (["ERR_JWT_CLAIM_VALIDATION_FAILED", "ERR_JWT_INVALID"].includes(code)) return "invalid claims"
  throw new Error(`unclassified error: ${err?.name}: ${err?.message} (${code})`)
}

async function decodeWithLib(c, token) {
  return await at(c.now, () =>
    c.lib === "v5"
      ? v5.decode({ token, secret: c.secrets, salt: c.salt })
      : v4.decode({ token, secret: c.secrets[0], salt: c.salt }),
  )
}

// One line of JSON; U+2028/U+2029 escaped so no editor sees a line break.
const oneLine = (v) => JSON.stringify(v).replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029")

function render(c, token, claims) {
  const lines = [`lib: ${c.lib}`, `origin: ${c.origin}`, `description: ${c.description}`]
  for (const s of c.secrets) lines.push(`secret: ${s}`)
  lines.push(`salt: ${c.salt}`, `now: ${c.now}`, `expect: ${c.expect}`)
  if (claims !== undefined) lines.push(`claims: ${oneLine(claims)}`)
  return lines.map((l) => l.trimEnd()).join("\n") + "\n\n" + token + "\n"
}

mkdirSync(outDir, { recursive: true })
const written = new Set()
for (const c of cases) {
  reseed(c.name)
  let token = await at(T0, c.make)
  if (c.mutate) token = c.mutate(token)
  if (c.check && !c.check(token)) throw new Error(`${c.name}: check failed (token length ${token.length})`)
  if (!token.startsWith("eyJ") || token.split(".").length !== 5) throw new Error(`${c.name}: not a compact JWE`)

  let got, claims
  try {
    claims = await decodeWithLib(c, token)
    got = "success"
  } catch (err) {
    got = outcome(err)
  }
  if (got !== c.expect) throw new Error(`${c.name}: the library says ${got}, the case expects ${c.expect}`)
  if (got === "success") {
    if (!isDeepStrictEqual(JSON.parse(oneLine(claims)), claims)) throw new Error(`${c.name}: claims do not survive JSON`)
  }
  const file = `${c.name}.txt`
  writeFileSync(join(outDir, file), render(c, token, got === "success" ? claims : undefined))
  written.add(file)
  rngSeed = ""
}
for (const f of readdirSync(outDir)) {
  if (f.endsWith(".txt") && !written.has(f)) rmSync(join(outDir, f))
}
console.log(`wrote ${written.size} vectors to ${outDir}`)

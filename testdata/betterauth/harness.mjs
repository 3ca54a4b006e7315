// Differential-test harness: runs the real Better Auth (better-auth,
// @better-auth/redis-storage over ioredis) behind the newline-delimited JSON
// protocol of ../harness-protocol.mjs. See README.md for the ops.

// First, so that nothing the libraries print reaches stdout.
import { serve } from "../harness-protocol.mjs"
import { createServer } from "node:http"
import { readFileSync } from "node:fs"

const { betterAuth } = await import("better-auth")
const { memoryAdapter } = await import("better-auth/adapters/memory")
const { toNodeHandler } = await import("better-auth/node")
const { signJWT, symmetricEncodeJWT } = await import("better-auth/crypto")
const { redisStorage } = await import("@better-auth/redis-storage")
const { Redis } = await import("ioredis")
const { serializeSignedCookie } = await import("better-call")
const { createHMAC } = await import("@better-auth/utils/hmac")
const { base64Url } = await import("@better-auth/utils/base64")

const pkgVersion = (rel) =>
  JSON.parse(readFileSync(new URL(`./node_modules/${rel}/package.json`, import.meta.url), "utf8")).version

// ---- Better Auth instances ----------------------------------------------------

// Instances by the request's "instance" name, so that sign-up, sign-out and
// get-session of one test share a database.
const instances = new Map()
const databases = new Map()
const redisClients = new Map()
const servers = []

function database(name) {
  const fresh = () => ({ user: [], session: [], account: [], verification: [] })
  if (name === undefined) return fresh()
  if (!databases.has(name)) databases.set(name, fresh())
  return databases.get(name)
}

function redisClient(addr) {
  let c = redisClients.get(addr)
  if (!c) {
    c = new Redis(`redis://${addr}`, { maxRetriesPerRequest: 1, connectTimeout: 2000 })
    c.on("error", (e) => console.error("[harness] redis:", e.message))
    redisClients.set(addr, c)
  }
  return c
}

// options builds betterAuth's options from a request's "config":
//   secret          BETTER_AUTH_SECRET (default "harness-secret-…")
//   secrets         BETTER_AUTH_SECRETS, "2:new,1:old"
//   authSecret      AUTH_SECRET
//   strategy        cookie cache strategy, "compact" | "jwt" | "jwe"; absent: no cache
//                   (stateless instances get Better Auth's own default)
//   maxAge, version cookieCache.maxAge (seconds) and cookieCache.version
//   expiresIn       session.expiresIn (seconds)
//   secure          https baseURL, so cookies get the __Secure- prefix
//   stateless       no database and no secondary storage
//   redis           "host:port": secondaryStorage = redisStorage on that server
//   keyPrefix       redisStorage keyPrefix
//   cookiePrefix    advanced.cookiePrefix
//   db              a name: instances naming the same one share their memory database
function options(config) {
  const baseURL = config.secure ? "https://localhost:3000" : "http://localhost:3000"
  const o = {
    baseURL,
    emailAndPassword: { enabled: true },
    telemetry: { enabled: false },
    logger: { disabled: true },
    user: { additionalFields: { role: { type: "string", required: false, defaultValue: "user", input: true } } },
    session: {},
    advanced: {},
  }
  if (!config.stateless) o.database = memoryAdapter(database(config.db))
  if (config.redis) o.secondaryStorage = redisStorage({ client: redisClient(config.redis), keyPrefix: config.keyPrefix })
  if (config.strategy) {
    o.session.cookieCache = { enabled: true, strategy: config.strategy }
    if (config.maxAge) o.session.cookieCache.maxAge = config.maxAge
    if (config.version) o.session.cookieCache.version = config.version
  }
  if (config.expiresIn) o.session.expiresIn = config.expiresIn
  if (config.cookiePrefix) o.advanced.cookiePrefix = config.cookiePrefix
  return o
}

// withEnv sets the secret variables while Better Auth reads them (it reads
// the environment when its context is created).
async function withEnv(config, fn) {
  const vars = {
    BETTER_AUTH_SECRET: config.secret ?? (config.secrets || config.authSecret ? undefined : "harness-secret-0123456789abcdef0123456789"),
    BETTER_AUTH_SECRETS: config.secrets,
    AUTH_SECRET: config.authSecret,
  }
  const saved = {}
  for (const [k, v] of Object.entries(vars)) {
    saved[k] = process.env[k]
    if (v === undefined) delete process.env[k]
    else process.env[k] = v
  }
  try {
    return await fn()
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
    }
  }
}

async function instance(req) {
  if (typeof req.instance !== "string" || req.instance === "") throw new TypeError('"instance" must name an instance')
  let inst = instances.get(req.instance)
  if (!inst) {
    const config = req.config ?? {}
    const auth = betterAuth(options(config))
    const ctx = await withEnv(config, () => auth.$context)
    inst = { auth, ctx, baseURL: ctx.options.baseURL }
    instances.set(req.instance, inst)
  }
  return inst
}

async function call(inst, method, path, { cookieHeader, body } = {}) {
  const headers = { origin: inst.baseURL }
  if (cookieHeader) headers.cookie = cookieHeader
  if (body !== undefined) headers["content-type"] = "application/json"
  const res = await inst.auth.handler(
    new Request(inst.baseURL + "/api/auth" + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    }),
  )
  const text = await res.text()
  let parsed = null
  try {
    parsed = text === "" ? null : JSON.parse(text)
  } catch {
    parsed = { text }
  }
  const setCookies = res.headers.getSetCookie()
  return { status: res.status, body: parsed, setCookies, cookies: cookieJar(setCookies) }
}

// cookieJar maps the names a response set to their values (as sent, still
// URL-encoded); expired cookies map to "".
function cookieJar(setCookies) {
  const jar = {}
  for (const sc of setCookies) {
    const pair = sc.split(";")[0]
    const eq = pair.indexOf("=")
    const expired = /;\s*max-age=0(;|$)/i.test(sc)
    jar[pair.slice(0, eq)] = expired ? "" : pair.slice(eq + 1)
  }
  return jar
}

const user = (req) => ({
  email: req.email ?? "ada@example.com",
  password: req.password ?? "correct-horse-battery",
  name: req.name ?? "Ada",
  ...(req.role !== undefined && { role: req.role }),
})

// ---- ops ------------------------------------------------------------------------

const ops = {
  ping() {
    return {
      ok: true,
      node: process.version,
      versions: Object.fromEntries(
        ["better-auth", "@better-auth/redis-storage", "ioredis", "better-call"].map((p) => [p, pkgVersion(p)]),
      ),
    }
  },

  async signUp(req) {
    return call(await instance(req), "POST", "/sign-up/email", { body: user(req) })
  },

  async signIn(req) {
    const { email, password } = user(req)
    return call(await instance(req), "POST", "/sign-in/email", { body: { email, password } })
  },

  async getSession(req) {
    const q = req.query ? "?" + new URLSearchParams(req.query) : ""
    return call(await instance(req), "GET", "/get-session" + q, { cookieHeader: req.cookieHeader })
  },

  async signOut(req) {
    return call(await instance(req), "POST", "/sign-out", { cookieHeader: req.cookieHeader, body: {} })
  },

  async revokeSessions(req) {
    return call(await instance(req), "POST", "/revoke-sessions", { cookieHeader: req.cookieHeader, body: {} })
  },

  // serve answers HTTP on a loopback port with the instance's handler.
  async serve(req) {
    const inst = await instance(req)
    const server = createServer(toNodeHandler(inst.auth))
    await new Promise((resolve, reject) => {
      server.once("error", reject)
      server.listen(0, "127.0.0.1", resolve)
    })
    servers.push(server)
    return { url: `http://127.0.0.1:${server.address().port}` }
  },

  // sign produces cookie values with Better Auth's own primitives, for
  // payloads no endpoint would write:
  //   kind "token":   better-call's signed cookie value of token, with secret
  //   kind "compact": the compact cache of data, expiring at expiresAt (ms)
  //                   (better-auth cookies/index.ts setCookieCache)
  //   kind "jwt":     signJWT(data, secret, maxAge)
  //   kind "jwe":     symmetricEncodeJWT(data, secret or secrets, "better-auth-session", maxAge)
  async sign(req) {
    switch (req.kind) {
      case "token": {
        const cookie = await serializeSignedCookie("n", req.token, req.secret)
        return { value: cookie.slice(2).split(";")[0] }
      }
      case "compact": {
        const signature = await createHMAC("SHA-256", "base64urlnopad").sign(
          req.secret,
          JSON.stringify({ ...req.data, expiresAt: req.expiresAt }),
        )
        const value = base64Url.encode(
          JSON.stringify({ session: req.data, expiresAt: req.expiresAt, signature }),
          { padding: false },
        )
        return { value }
      }
      case "jwt":
        return { value: await signJWT(req.data, req.secret, req.maxAge ?? 300) }
      case "jwe": {
        const secret = req.secrets
          ? {
              keys: new Map(req.secrets.map((s) => [s.version, s.value])),
              currentVersion: req.secrets[0].version,
              legacySecret: req.legacySecret,
            }
          : req.secret
        return { value: await symmetricEncodeJWT(req.data, secret, "better-auth-session", req.maxAge ?? 300) }
      }
    }
    throw new TypeError(`unknown kind ${JSON.stringify(req.kind)}`)
  },

  sleep(req) {
    return new Promise((resolve) => setTimeout(() => resolve({ ok: true }), req.ms))
  },
}

await serve(ops)
for (const s of servers) s.close()
for (const c of redisClients.values()) c.disconnect()
process.exit(0)

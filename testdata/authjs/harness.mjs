// Differential-test harness: runs the real Auth.js libraries (@auth/core,
// next-auth v4, jose) behind a newline-delimited JSON protocol.
//
// stdin:  one JSON request per line.
// stdout: exactly one JSON response line per request, nothing else ever.
// stderr: anything the libraries log.
//
// A request's "_rid" (if present) is echoed back so a client can pair
// responses with requests. See README.md for the ops.

// First, so that nothing the libraries print reaches stdout.
import { serve } from "../harness-protocol.mjs"
import { createRequire } from "node:module"
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"

const here = (p) => new URL(p, import.meta.url)
const require = createRequire(import.meta.url)

const { Auth } = await import("@auth/core")
const { default: Credentials } = await import("@auth/core/providers/credentials")
const sidCallback = await import("./sid-callback.mjs")
const articleConfig = (await import("./auth.config.mjs")).default
const v5jwt = await import("@auth/core/jwt")
// Not in @auth/core's exports map, so import by file path.
const v5cookie = await import(here("./node_modules/@auth/core/lib/utils/cookie.js"))
const v5vendoredCookie = await import(here("./node_modules/@auth/core/lib/vendored/cookie.js"))
const jose = await import("jose")

const v4jwt = require("next-auth/jwt")
const v4cookie = require(fileURLToPath(here("./node_modules/next-auth/core/lib/cookie.js")))
// next-auth v4 parses/serializes cookies with its own `cookie` dependency.
const v4requireFrom = createRequire(fileURLToPath(here("./node_modules/next-auth/package.json")))
const v4cookieLib = v4requireFrom("cookie")

const pkgVersion = (rel) =>
  JSON.parse(readFileSync(here(`./node_modules/${rel}/package.json`), "utf8")).version

const silentLogger = { error() {}, warn() {}, debug() {} }

// ---- helpers ---------------------------------------------------------------

function firstSecret(secret) {
  return Array.isArray(secret) ? secret[0] : secret
}

function toDate(v) {
  if (v === undefined || v === null) return undefined
  if (typeof v === "number") return new Date(v * 1000)
  return new Date(v)
}

function lib(req) {
  if (req.lib !== "v5" && req.lib !== "v4") throw new TypeError('"lib" must be "v5" or "v4"')
  return req.lib
}

function parseCookieHeader(which, header) {
  return which === "v5" ? v5vendoredCookie.parse(header) : v4cookieLib.parse(header)
}

function requestCookies(which, req) {
  if (typeof req.cookieHeader === "string") return parseCookieHeader(which, req.cookieHeader)
  return req.requestCookies ?? {}
}

function sessionCookieOption(which, name, secure) {
  const defaults = which === "v5" ? v5cookie.defaultCookies(!!secure) : v4cookie.defaultCookies(!!secure)
  return { name, options: { ...defaults.sessionToken.options } }
}

function newSessionStore(which, req) {
  if (typeof req.cookieName !== "string" || req.cookieName === "") {
    throw new TypeError('"cookieName" must be a non-empty string')
  }
  const option = sessionCookieOption(which, req.cookieName, req.secure)
  const cookies = requestCookies(which, req)
  if (which === "v5") return new v5cookie.SessionStore(option, cookies, silentLogger)
  // v4 takes the request-ish object and reads its .cookies
  return new v4cookie.SessionStore(option, { cookies }, silentLogger)
}

function serializeSetCookie(which, c) {
  return which === "v5"
    ? v5vendoredCookie.serialize(c.name, c.value, c.options)
    : v4cookieLib.serialize(c.name, c.value, c.options)
}

function headersObject(headers) {
  const out = {}
  for (const [k, v] of headers) {
    if (k === "set-cookie") continue // see setCookies
    out[k] = v
  }
  return out
}

function collectingLogger(logs) {
  return {
    error(e) {
      const name = e?.type ?? e?.name ?? "Error"
      const entry = { level: "error", name, message: String(e?.message ?? e) }
      const cause = e?.cause?.err ?? e?.cause
      if (cause instanceof Error) {
        entry.cause = `${cause.name}: ${cause.message}`
        if (cause.code) entry.causeCode = cause.code
      }
      logs.push(entry)
    },
    warn(code) {
      logs.push({ level: "warn", name: String(code) })
    },
    debug() {},
  }
}

// mergeCookies applies Set-Cookie lines to a Cookie header, as a browser
// does for one site (deleted cookies dropped).
function mergeCookies(header, setCookies) {
  const jar = new Map()
  for (const part of (header ?? "").split(";")) {
    const i = part.indexOf("=")
    if (i > 0) jar.set(part.slice(0, i).trim(), part.slice(i + 1).trim())
  }
  for (const line of setCookies) {
    const pair = line.split(";")[0]
    const i = pair.indexOf("=")
    const name = pair.slice(0, i).trim()
    const value = pair.slice(i + 1).trim()
    if (value === "" || /;\s*max-age=0/i.test(line)) jar.delete(name)
    else jar.set(name, value)
  }
  return [...jar].map(([k, v]) => `${k}=${v}`).join("; ")
}

// flowResult is what the signIn and signOut ops answer; cookie is the Cookie
// header the request carried.
function flowResult(res, cookie, logs) {
  const setCookies = res.headers.getSetCookie()
  return {
    status: res.status,
    location: res.headers.get("location"),
    setCookies,
    cookieHeader: mergeCookies(cookie, setCookies),
    logs,
  }
}

// ---- ops -------------------------------------------------------------------

const ops = {
  async ping() {
    return {
      ok: true,
      node: process.version,
      versions: {
        "@auth/core": pkgVersion("@auth/core"),
        "next-auth": pkgVersion("next-auth"),
        jose: pkgVersion("jose"),
        "next-auth/jose": pkgVersion("next-auth/node_modules/jose"),
      },
    }
  },

  // For testing the client's timeout handling.
  async sleep(req) {
    await new Promise((resolve) => setTimeout(resolve, Number(req.ms) || 0))
    return { ok: true }
  },

  async encode(req) {
    const which = lib(req)
    if (which === "v5") {
      const token = await v5jwt.encode({
        token: req.token,
        secret: req.secret,
        salt: req.salt,
        maxAge: req.maxAge,
      })
      return { token }
    }
    const token = await v4jwt.encode({
      token: req.token,
      secret: firstSecret(req.secret),
      salt: req.salt,
      maxAge: req.maxAge,
    })
    return { token }
  },

  async decode(req) {
    const which = lib(req)
    const payload =
      which === "v5"
        ? await v5jwt.decode({ token: req.token, secret: req.secret, salt: req.salt })
        : await v4jwt.decode({ token: req.token, secret: firstSecret(req.secret), salt: req.salt })
    return { payload: payload ?? null }
  },

  async header(req) {
    return { header: jose.decodeProtectedHeader(req.token) }
  },

  async chunk(req) {
    const which = lib(req)
    if (typeof req.value !== "string") throw new TypeError('"value" must be a string')
    const store = newSessionStore(which, req)
    const opts = {}
    const expires = toDate(req.expires)
    if (expires) opts.expires = expires
    const cookies = store.chunk(req.value, opts)
    return {
      cookies: cookies.map((c) => ({ name: c.name, value: c.value, options: c.options })),
      setCookies: cookies.map((c) => serializeSetCookie(which, c)),
    }
  },

  async readChunks(req) {
    const which = lib(req)
    const store = newSessionStore(which, req)
    return { value: store.value }
  },

  async parseCookies(req) {
    const which = lib(req)
    const parsed = parseCookieHeader(which, String(req.cookieHeader ?? ""))
    return { cookies: { ...parsed } }
  },

  async getToken(req) {
    const headers = new Headers()
    if (typeof req.cookieHeader === "string") headers.set("cookie", req.cookieHeader)
    if (typeof req.authorization === "string") headers.set("authorization", req.authorization)
    const params = {
      req: new Request("http://localhost:3000/", { headers }),
      secret: req.secret,
      secureCookie: !!req.secureCookie,
      raw: !!req.raw,
      logger: silentLogger,
    }
    if (req.salt !== undefined) params.salt = req.salt
    if (req.cookieName !== undefined) params.cookieName = req.cookieName
    const result = await v5jwt.getToken(params)
    return req.raw ? { raw: result ?? null } : { payload: result ?? null }
  },

  async session(req) {
    const logs = []
    const config = authConfig(req, logs)
    const headers = new Headers()
    const url = req.url ?? `${authBase}/session`
    let init = { headers }
    if (req.data !== undefined) {
      // update(data): a POST with a CSRF token, as the React client sends it.
      const csrf = await csrfToken(config)
      headers.set("content-type", "application/json")
      init = { method: "POST", headers, body: JSON.stringify({ csrfToken: csrf.token, data: req.data }) }
      headers.set("cookie", joinCookies(csrf.cookie, req.cookieHeader))
    } else if (typeof req.cookieHeader === "string") {
      headers.set("cookie", req.cookieHeader)
    }
    const res = await Auth(new Request(url, init), config)
    const text = await res.text()
    let body = null
    let bodyText
    try {
      body = text === "" ? null : JSON.parse(text)
    } catch {
      bodyText = text
    }
    const out = {
      status: res.status,
      headers: headersObject(res.headers),
      setCookies: res.headers.getSetCookie(),
      body,
      logs,
    }
    if (bodyText !== undefined) out.bodyText = bodyText
    return out
  },

  // A sign-in through the Credentials provider, as a browser does it: GET
  // /csrf, then POST /callback/credentials with the token and its cookie.
  async signIn(req) {
    const user = req.user
    if (user === null || typeof user !== "object" || typeof user.id !== "string") {
      throw new TypeError('"user" must be an object with a string "id"')
    }
    const origin = req.origin ?? defaultOrigin
    const logs = []
    const config = authConfig(req, logs)
    config.providers = [Credentials({ credentials: { username: {} }, authorize: () => ({ ...user }) })]
    const csrf = await csrfToken(config, origin)
    const body = new URLSearchParams({ csrfToken: csrf.token, username: user.id, callbackUrl: `${origin}/` })
    const cookie = joinCookies(csrf.cookie, req.cookieHeader)
    const headers = new Headers({ "content-type": "application/x-www-form-urlencoded", cookie })
    const res = await Auth(new Request(`${origin}/api/auth/callback/credentials`, { method: "POST", headers, body }), config)
    return flowResult(res, cookie, logs)
  },

  // A sign-out as a browser does it: GET /csrf, then POST /signout with the
  // token, its cookie and the session cookies of req.cookieHeader.
  async signOut(req) {
    const origin = req.origin ?? defaultOrigin
    const logs = []
    const config = authConfig(req, logs)
    const csrf = await csrfToken(config, origin)
    const cookie = joinCookies(csrf.cookie, req.cookieHeader)
    const headers = new Headers({ "content-type": "application/x-www-form-urlencoded", cookie })
    const body = new URLSearchParams({ csrfToken: csrf.token })
    const res = await Auth(new Request(`${origin}/api/auth/signout`, { method: "POST", headers, body }), config)
    return flowResult(res, cookie, logs)
  },
}

// defaultOrigin is the app's origin when a request names none; an https
// origin makes Auth.js use __Secure- and __Host- cookie names.
const defaultOrigin = "http://localhost:3000"
const authBase = `${defaultOrigin}/api/auth`

// authConfig is the Auth.js configuration the session, signIn and signOut
// ops share.
function authConfig(req, logs) {
  const session = { strategy: "jwt" }
  if (req.maxAge !== undefined) session.maxAge = req.maxAge
  if (req.updateAge !== undefined) session.updateAge = req.updateAge
  const config = {
    providers: [],
    secret: req.secret,
    trustHost: true,
    basePath: "/api/auth",
    session,
    logger: collectingLogger(logs),
  }
  if (req.secureCookie !== undefined) config.useSecureCookies = !!req.secureCookie
  if (req.callbacks === "article") {
    config.callbacks = { ...articleConfig.callbacks }
  } else if (req.callbacks === "sid") {
    config.callbacks = { ...sidCallback.callbacks }
  } else if (req.callbacks !== undefined && req.callbacks !== "default") {
    throw new TypeError('"callbacks" must be "article", "sid" or absent')
  }
  return config
}

// csrfToken asks the app at origin for a CSRF token; cookie is the
// "name=value" pair to send back.
async function csrfToken(config, origin = defaultOrigin) {
  const res = await Auth(new Request(`${origin}/api/auth/csrf`), config)
  const { csrfToken: token } = await res.json()
  const cookie = res.headers
    .getSetCookie()
    .map((c) => c.split(";")[0])
    .join("; ")
  return { token, cookie }
}

function joinCookies(...headers) {
  return headers.filter((h) => typeof h === "string" && h !== "").join("; ")
}

await serve(ops)

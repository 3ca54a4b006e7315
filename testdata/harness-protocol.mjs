// The line protocol shared by the reference harnesses (authjs/harness.mjs,
// betterauth/harness.mjs): one JSON request per line on stdin, exactly one
// JSON response line per request on stdout, library logging on stderr.
//
// Import this module before any library, so nothing a library prints at
// load time reaches stdout.

import { Console } from "node:console"
import { createInterface } from "node:readline"

// Keep stdout for protocol lines only: libraries log via console.log/debug
// (Auth.js debug logger, SessionStore chunk logging).
const writeLine = process.stdout.write.bind(process.stdout)
const errConsole = new Console({ stdout: process.stderr, stderr: process.stderr })
for (const key of Object.keys(console)) {
  if (typeof console[key] === "function" && typeof errConsole[key] === "function") {
    console[key] = errConsole[key].bind(errConsole)
  }
}
process.stdout.write = (...args) => process.stderr.write(...args)

// ---- fake clock ----------------------------------------------------------

const RealDate = globalThis.Date

export async function withClock(now, fn) {
  if (now === undefined || now === null) return await fn()
  if (typeof now !== "number" || !Number.isFinite(now)) {
    throw new TypeError('"now" must be a finite number of Unix seconds')
  }
  const ms = now * 1000
  // Proxy rather than subclass so `Date()` (call) and instanceof keep working.
  const FakeDate = new Proxy(RealDate, {
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
  const realNow = RealDate.now
  globalThis.Date = FakeDate
  RealDate.now = () => ms // for code holding a reference to the real Date
  try {
    return await fn()
  } finally {
    globalThis.Date = RealDate
    RealDate.now = realNow
  }
}

// ---- main loop ---------------------------------------------------------------

function errorResponse(e) {
  const name = e?.name ?? "Error"
  const out = { error: `${name}: ${e?.message ?? String(e)}` }
  if (typeof e?.code === "string") out.code = e.code
  return out
}

async function handle(ops, line) {
  let req
  try {
    req = JSON.parse(line)
  } catch (e) {
    return errorResponse(e)
  }
  if (req === null || typeof req !== "object" || Array.isArray(req)) {
    return errorResponse(new TypeError("request must be a JSON object"))
  }
  const rid = req._rid
  let out
  try {
    const op = Object.hasOwn(ops, req.op) ? ops[req.op] : undefined
    if (!op) throw new TypeError(`unknown op ${JSON.stringify(req.op)}`)
    out = await withClock(req.now, () => op(req))
  } catch (e) {
    out = errorResponse(e)
  }
  return rid === undefined ? out : { _rid: rid, ...out }
}

// serve answers each request with ops[req.op](req), under the fake clock of
// req.now, one at a time and in order, until stdin closes.
export async function serve(ops) {
  process.on("uncaughtException", (e) => console.error("[harness] uncaught:", e))
  process.on("unhandledRejection", (e) => console.error("[harness] unhandled rejection:", e))

  const rl = createInterface({ input: process.stdin, crlfDelay: Infinity })
  for await (const line of rl) {
    if (line.trim() === "") continue
    const out = await handle(ops, line)
    let text
    try {
      text = JSON.stringify(out)
    } catch (e) {
      text = JSON.stringify({ ...(out?._rid !== undefined && { _rid: out._rid }), ...errorResponse(e) })
    }
    writeLine(text + "\n")
  }
}

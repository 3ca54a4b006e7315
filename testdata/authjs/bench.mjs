// Measures @auth/core's and next-auth v4's decode against edgeauth's, on the
// same tokens and secret, in one run, and prints the comparison.
//
//   cd testdata/authjs && npm ci && node bench.mjs
//
// The tokens are made by @auth/core (A256CBC-HS512 with kid) and next-auth v4
// (A256GCM) themselves; the Go benchmarks receive them through
// EDGEAUTH_BENCH_SECRET, EDGEAUTH_BENCH_TOKEN and EDGEAUTH_BENCH_TOKEN_V4.
// Node is timed before and after the Go benchmarks, the Go benchmarks run in
// interleaved rounds, and every figure is the best of its rounds, so that a
// change in the machine's load during the run favours no side.
import { execFileSync } from "node:child_process"
import { createRequire } from "node:module"
import { fileURLToPath } from "node:url"
import path from "node:path"
import { encode, decode } from "@auth/core/jwt"

const require = createRequire(import.meta.url)
const v4 = require("next-auth/jwt")

const here = path.dirname(fileURLToPath(import.meta.url))
const root = path.resolve(here, "../..")
const secret = "bench-secret-0123456789abcdefghij"
const salt = "authjs.session-token"
const claims = {
  sub: "5f2b8c9e-1d4a-4b7e-9c3f-2a6d8e0b1c4f",
  name: "Ada Lovelace",
  email: "ada@example.com",
  picture: "https://avatars.example.com/u/1234567?v=4",
  role: "admin",
  id: "5f2b8c9e-1d4a-4b7e-9c3f-2a6d8e0b1c4f",
}
const token = await encode({ secret, salt, token: claims })
const tokenV4 = await v4.encode({ secret, token: claims })

async function nodeNsPerOp(decodeOnce) {
  for (let i = 0; i < 500; i++) await decodeOnce() // warm up the JIT
  let best = Infinity
  for (let round = 0; round < 5; round++) {
    const n = 2000
    const start = process.hrtime.bigint()
    for (let i = 0; i < n; i++) await decodeOnce()
    best = Math.min(best, Number(process.hrtime.bigint() - start) / n)
  }
  return best
}

const authjsDecode = () => decode({ token, secret, salt })
const v4Decode = () => v4.decode({ token: tokenV4, secret })

// Five rounds of every benchmark once, rather than each benchmark five
// times in a row, so that a burst of load on the machine hits all of them.
function goNsPerOp() {
  const best = {}
  for (let round = 0; round < 5; round++) {
    const out = execFileSync(
      "go",
      [
        "test", "-run", "^$", "-benchmem", "-count", "1", ".",
        "-bench", "^Benchmark(Decode|DecodeGCM|DecodeGoJose|CryptoFloor|CryptoFloorGCM|GoJoseFloor|MiddlewareWarm)$",
      ],
      {
        cwd: root,
        env: { ...process.env, EDGEAUTH_BENCH_SECRET: secret, EDGEAUTH_BENCH_TOKEN: token, EDGEAUTH_BENCH_TOKEN_V4: tokenV4 },
        encoding: "utf8",
      },
    )
    for (const line of out.split("\n")) {
      const m = line.match(/^Benchmark(\w+)-\d+\s+\d+\s+([\d.]+) ns\/op/)
      if (m) best[m[1]] = Math.min(best[m[1]] ?? Infinity, Number(m[2]))
    }
  }
  return best
}

let authjs = await nodeNsPerOp(authjsDecode)
let nextauth = await nodeNsPerOp(v4Decode)
const go = goNsPerOp()
authjs = Math.min(authjs, await nodeNsPerOp(authjsDecode))
nextauth = Math.min(nextauth, await nodeNsPerOp(v4Decode))

const us = (ns) => (ns / 1000).toFixed(2) + " µs"
const x = (a, b) => (a / b).toFixed(1) + "×"
console.log(`@auth/core decode ${us(authjs)}/op [A256CBC-HS512 token, ${token.length} bytes, node ${process.version}]`)
console.log(
  `  edgeauth Decode ${us(go.Decode)}/op: ${x(authjs, go.Decode)} faster, ${x(go.Decode, go.CryptoFloor)} the crypto floor (${us(go.CryptoFloor)}/op)`,
)
console.log(`  go-jose path (DecodeGoJose) ${us(go.DecodeGoJose)}/op: ${x(authjs, go.DecodeGoJose)} faster; go-jose parse + decrypt alone ${us(go.GoJoseFloor)}/op`)
if (go.MiddlewareWarm) {
  console.log(`  warm middleware ${us(go.MiddlewareWarm)}/op: ${x(authjs, go.MiddlewareWarm)} faster, ${x(go.MiddlewareWarm, go.CryptoFloor)} the crypto floor`)
}
console.log(`next-auth v4 decode ${us(nextauth)}/op [A256GCM token, ${tokenV4.length} bytes]`)
console.log(
  `  edgeauth Decode ${us(go.DecodeGCM)}/op: ${x(nextauth, go.DecodeGCM)} faster, ${x(go.DecodeGCM, go.CryptoFloorGCM)} the crypto floor (${us(go.CryptoFloorGCM)}/op)`,
)

// Measures @auth/core's decode and edgeauth's, on the same token and secret,
// in one run, and prints one comparison line.
//
//   cd testdata/authjs && npm ci && node bench.mjs
//
// The token is made by @auth/core itself; the Go benchmarks receive it
// through EDGEAUTH_BENCH_SECRET / EDGEAUTH_BENCH_TOKEN.
import { execFileSync } from "node:child_process"
import { fileURLToPath } from "node:url"
import path from "node:path"
import { encode, decode } from "@auth/core/jwt"

const here = path.dirname(fileURLToPath(import.meta.url))
const root = path.resolve(here, "../..")
const secret = "bench-secret-0123456789abcdefghij"
const salt = "authjs.session-token"
const token = await encode({
  secret,
  salt,
  token: {
    sub: "5f2b8c9e-1d4a-4b7e-9c3f-2a6d8e0b1c4f",
    name: "Ada Lovelace",
    email: "ada@example.com",
    picture: "https://avatars.example.com/u/1234567?v=4",
    role: "admin",
    id: "5f2b8c9e-1d4a-4b7e-9c3f-2a6d8e0b1c4f",
  },
})

async function nodeNsPerOp() {
  for (let i = 0; i < 500; i++) await decode({ token, secret, salt }) // warm up the JIT
  let best = Infinity
  for (let round = 0; round < 5; round++) {
    const n = 2000
    const start = process.hrtime.bigint()
    for (let i = 0; i < n; i++) await decode({ token, secret, salt })
    best = Math.min(best, Number(process.hrtime.bigint() - start) / n)
  }
  return best
}

function goNsPerOp() {
  const out = execFileSync(
    "go",
    ["test", "-run", "^$", "-bench", "^Benchmark(Decode|CryptoFloor|GoJoseFloor|MiddlewareWarm)$", "-benchmem", "-count", "3", "."],
    { cwd: root, env: { ...process.env, EDGEAUTH_BENCH_SECRET: secret, EDGEAUTH_BENCH_TOKEN: token }, encoding: "utf8" },
  )
  const best = {}
  for (const line of out.split("\n")) {
    const m = line.match(/^Benchmark(\w+)-\d+\s+\d+\s+([\d.]+) ns\/op/)
    if (m) best[m[1]] = Math.min(best[m[1]] ?? Infinity, Number(m[2]))
  }
  return best
}

const node = await nodeNsPerOp()
const go = goNsPerOp()
const us = (ns) => (ns / 1000).toFixed(2) + " µs"
const parts = [
  `@auth/core decode ${us(node)}/op`,
  `edgeauth Decode ${us(go.Decode)}/op (${(node / go.Decode).toFixed(1)}× faster)`,
]
if (go.MiddlewareWarm) parts.push(`warm middleware ${us(go.MiddlewareWarm)}/op (${(node / go.MiddlewareWarm).toFixed(0)}× faster)`)
if (go.GoJoseFloor) parts.push(`go-jose alone ${us(go.GoJoseFloor)}/op (${(node / go.GoJoseFloor).toFixed(1)}× faster)`)
if (go.CryptoFloor) parts.push(`crypto floor ${us(go.CryptoFloor)}/op`)
console.log(parts.join("; ") + ` [token ${token.length} bytes, node ${process.version}]`)

#!/usr/bin/env bash
# Runs every fuzz target of the workspace (the library and its nested
# modules: redisstore, cmd/edgeauth, examples) for a few seconds, one after the
# other, so that what a fuzzer finds within seconds fails CI instead of
# landing. Targets are discovered, not listed: every func FuzzXxx(*testing.F)
# in the test files of every package, so a new target runs without an edit.
#
#   scripts/fuzz.sh [seconds per target, default 5]
#
# A finding fails the script (after the other targets have run). go test
# writes the input to the package's testdata/fuzz/FuzzXxx/; keep it there,
# once fixed, as a seed that every `go test` replays.
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-5}"

targets=()
while IFS=$'\t' read -r dir pkg files; do
  [ -n "${files// /}" ] || continue
  # shellcheck disable=SC2086 # Go file names have no spaces
  for name in $(cd "$dir" && sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*\*testing\.F).*/\1/p' $files </dev/null); do
    targets+=("$pkg $name")
  done
done < <(go list -f '{{.Dir}}{{"\t"}}{{.ImportPath}}{{"\t"}}{{join .TestGoFiles " "}} {{join .XTestGoFiles " "}}' github.com/edgeauth/edgeauth/...)
if [ ${#targets[@]} -eq 0 ]; then
  echo "no fuzz targets found" >&2
  exit 1
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
fuzz() { go test -run='^$' -fuzz="^$2\$" -fuzztime="${secs}s" "$1" >"$log" 2>&1; }
# Before Go 1.27 the coordinator can report its own -fuzztime deadline as a
# failure, with no input written (go.dev/issue/75804). That, and only that,
# is retried once; a real finding always writes its input.
deadline_race() {
  grep -qx '[[:space:]]*context deadline exceeded' "$log" && ! grep -q 'Failing input written' "$log"
}
failed=()
for target in "${targets[@]}"; do
  read -r pkg name <<<"$target"
  start=$SECONDS
  if fuzz "$pkg" "$name" || { deadline_race && echo "retry $name: go.dev/issue/75804" && fuzz "$pkg" "$name"; }; then
    execs=$(grep -o 'execs: [0-9]*' "$log" | tail -n 1 || true)
    echo "ok   $name ($pkg, $((SECONDS - start))s)${execs:+: $execs}"
  else
    cat "$log"
    echo "FAIL $name ($pkg)"
    failed+=("$name")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzzing found failures in: ${failed[*]}" >&2
  exit 1
fi
echo "${#targets[@]} fuzz targets, ${secs}s each: no findings"

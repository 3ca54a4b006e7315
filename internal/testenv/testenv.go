// Package testenv decides, in one place, what tests do when something they
// need (node, redis-server, the go command) is missing: skip on a developer's
// machine, fail in CI, and skip by design on platforms that cannot start
// processes (GOOS=wasip1 and js, where the root package's tests also run).
package testenv

import (
	"os"
	"runtime"
	"strings"
	"testing"
)

// CI reports whether the tests run in CI: the CI variable is set to anything
// but "", "0" or "false".
func CI() bool {
	switch strings.ToLower(strings.TrimSpace(os.Getenv("CI"))) {
	case "", "0", "false":
		return false
	}
	return true
}

// CanStartProcesses reports whether this platform can run the programs
// tests depend on: WebAssembly hosts (wasip1, js) cannot.
func CanStartProcesses() bool {
	return runtime.GOOS != "wasip1" && runtime.GOOS != "js"
}

// Missing skips t because a dependency is missing, or fails it in CI, where
// a missing dependency must never pass as a skip. Where no process can be
// started, the dependency cannot exist: t skips, in CI too, and says so.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	missing(t, CanStartProcesses(), format, args...)
}

func missing(t testing.TB, canStartProcesses bool, format string, args ...any) {
	t.Helper()
	switch {
	case !canStartProcesses:
		t.Skipf(format+" (skipped by design: GOOS=%s cannot start processes)", append(args, runtime.GOOS)...)
	case CI():
		t.Fatalf(format+" (required when CI is set)", args...)
	default:
		t.Skipf(format, args...)
	}
}

// Package testenv decides, in one place, what tests do when something they
// need (node, redis-server, the go command) is missing: skip on a developer's
// machine, fail in CI.
package testenv

import (
	"os"
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

// Missing skips t because a dependency is missing, or fails it in CI, where
// a missing dependency must never pass as a skip.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	if CI() {
		t.Fatalf(format+" (required when CI is set)", args...)
		return
	}
	t.Skipf(format, args...)
}

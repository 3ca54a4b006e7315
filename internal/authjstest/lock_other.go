//go:build !unix

package authjstest

// lockFile is a no-op where flock is unavailable; concurrent installs are
// then the caller's problem.
func lockFile(string) (func(), error) { return func() {}, nil }

//go:build race

package testenv

// Race reports a build with the race detector, under which sync.Pool drops
// items at random: allocation counts mean nothing there.
const Race = true

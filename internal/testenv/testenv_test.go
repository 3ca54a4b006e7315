package testenv

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
)

func TestCI(t *testing.T) {
	for value, want := range map[string]bool{"": false, "0": false, "false": false, " FALSE ": false,
		"1": true, "true": true, "yes": true} {
		t.Setenv("CI", value)
		if CI() != want {
			t.Errorf("CI=%q: got %v", value, !want)
		}
	}
}

// recorder captures what Missing does to a test.
type recorder struct {
	testing.TB
	skipped, failed bool
	msg             string
}

func (r *recorder) Helper() {}
func (r *recorder) Skipf(format string, args ...any) {
	r.skipped, r.msg = true, fmt.Sprintf(format, args...)
}
func (r *recorder) Fatalf(string, ...any) { r.failed = true }

func TestMissingFailsInCI(t *testing.T) {
	t.Setenv("CI", "true")
	r := &recorder{TB: t}
	missing(r, true, "node not found")
	if !r.failed || r.skipped {
		t.Fatalf("in CI a missing dependency must fail: failed=%v skipped=%v", r.failed, r.skipped)
	}
	t.Setenv("CI", "")
	r = &recorder{TB: t}
	missing(r, true, "node not found")
	if r.failed || !r.skipped {
		t.Fatalf("outside CI it skips: failed=%v skipped=%v", r.failed, r.skipped)
	}
}

func TestMissingSkipsWithoutProcesses(t *testing.T) {
	for _, ci := range []string{"true", ""} {
		t.Setenv("CI", ci)
		r := &recorder{TB: t}
		missing(r, false, "node not found")
		if r.failed || !r.skipped || !strings.Contains(r.msg, "skipped by design") {
			t.Fatalf("CI=%q: without processes it skips and says why: failed=%v skipped=%v %q", ci, r.failed, r.skipped, r.msg)
		}
	}
}

// Natively, CI still fails: only WebAssembly hosts skip by design.
func TestMissingOnThisPlatform(t *testing.T) {
	t.Setenv("CI", "true")
	r := &recorder{TB: t}
	Missing(r, "node not found")
	wasm := runtime.GOOS == "wasip1" || runtime.GOOS == "js"
	if r.failed == wasm || r.skipped != wasm {
		t.Fatalf("GOOS=%s, CI set: failed=%v skipped=%v", runtime.GOOS, r.failed, r.skipped)
	}
}

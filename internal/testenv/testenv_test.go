package testenv

import (
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
}

func (r *recorder) Helper()               {}
func (r *recorder) Skipf(string, ...any)  { r.skipped = true }
func (r *recorder) Fatalf(string, ...any) { r.failed = true }

func TestMissingFailsInCI(t *testing.T) {
	t.Setenv("CI", "true")
	r := &recorder{TB: t}
	Missing(r, "node not found")
	if !r.failed || r.skipped {
		t.Fatalf("in CI a missing dependency must fail: failed=%v skipped=%v", r.failed, r.skipped)
	}
	t.Setenv("CI", "")
	r = &recorder{TB: t}
	Missing(r, "node not found")
	if r.failed || !r.skipped {
		t.Fatalf("outside CI it skips: failed=%v skipped=%v", r.failed, r.skipped)
	}
}

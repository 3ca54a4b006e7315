package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeauth/edgeauth/internal/testenv"
)

var (
	buildOnce sync.Once
	builtDir  string
	builtBin  string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if builtDir != "" {
		os.RemoveAll(builtDir)
	}
	os.Exit(code)
}

// buildCommand builds the real command once per test binary and returns
// its path.
func buildCommand(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		testenv.Missing(t, "go not found on PATH")
	}
	buildOnce.Do(func() {
		if builtDir, buildErr = os.MkdirTemp("", "edgeauth-bin-"); buildErr != nil {
			return
		}
		builtBin = filepath.Join(builtDir, "edgeauth")
		out, err := exec.Command(goTool, "build", "-o", builtBin, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v: %s", err, out)
		}
	})
	require.NoError(t, buildErr)
	return builtBin
}

// TestBinary builds the real command and runs it as a subprocess, so main,
// os.Getenv and the exit status are exercised too.
func TestBinary(t *testing.T) {
	bin := buildCommand(t)

	// Only what the command needs: no AUTH_* from the test's environment.
	env := []string{"PATH=" + os.Getenv("PATH"), "AUTH_SECRET=" + secretNew}

	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, "secret")
	cmd.Env, cmd.Stdout, cmd.Stderr = env, &stdout, &stderr
	require.NoError(t, cmd.Run())
	secret, err := base64.StdEncoding.DecodeString(strings.TrimSuffix(stdout.String(), "\n"))
	require.NoError(t, err)
	assert.Len(t, secret, 32)
	assert.Empty(t, stderr.String())

	// encode | decode, the secret from AUTH_SECRET.
	enc := exec.Command(bin, "encode", "--now", at(now), "--max-age", "60")
	dec := exec.Command(bin, "decode", "--now", at(now+1))
	enc.Env, dec.Env = env, env
	enc.Stdin = strings.NewReader(`{"sub":"user-1","role":"admin"}`)
	pipe, err := enc.StdoutPipe()
	require.NoError(t, err)
	dec.Stdin = pipe
	var decOut, encErr, decErr bytes.Buffer
	enc.Stderr, dec.Stdout, dec.Stderr = &encErr, &decOut, &decErr
	require.NoError(t, enc.Start())
	require.NoError(t, dec.Start())
	require.NoError(t, enc.Wait(), encErr.String())
	require.NoError(t, dec.Wait(), decErr.String())
	got := parseLine(t, decOut.String())
	assert.Equal(t, "user-1", got["sub"])
	assert.Equal(t, "admin", got["role"])
	assert.Equal(t, json.Number(at(now+60)), got["exp"])

	// Failures: exit 1 with one line; usage: exit 2.
	for _, tc := range []struct {
		args   []string
		stdin  string
		code   int
		stderr string
	}{
		{[]string{"decode", "--now", at(now)}, "not.a.valid.token", 1, "edgeauth: malformed token\n"},
		{[]string{"decode", "--secret", "other-secret-value", "--now", at(now + 1000)}, "", 1, "edgeauth: no token given\n"},
		{[]string{"frobnicate"}, "", 2, "edgeauth: unknown command \"frobnicate\"\n" + shortUsage},
	} {
		cmd := exec.Command(bin, tc.args...)
		var so, se bytes.Buffer
		cmd.Env, cmd.Stdin, cmd.Stdout, cmd.Stderr = env, strings.NewReader(tc.stdin), &so, &se
		err := cmd.Run()
		var exit *exec.ExitError
		require.True(t, errors.As(err, &exit), "%v: %v", tc.args, err)
		assert.Equal(t, tc.code, exit.ExitCode(), tc.args)
		assert.Equal(t, tc.stderr, se.String())
		assert.Empty(t, so.String())
		assert.NotContains(t, se.String(), secretNew)
	}
}

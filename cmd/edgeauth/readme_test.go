package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The README's CLI session, run: every output it shows is what the command
// prints (the jti is random).
func TestREADMECLI(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	require.NoError(t, err)
	readme := string(raw)
	env := map[string]string{"AUTH_SECRET": secretNew}
	shown := func(command, output string) {
		t.Helper()
		assert.Contains(t, readme, "$ "+command+"\n"+output, "README's output of %q", command)
	}

	r := cli(t, env, `{"sub":"user-1","name":"Ada","role":"admin"}`+"\n", "encode", "--now", "1700000000", "--max-age", "3600")
	require.Equal(t, exitOK, r.code, r.stderr)
	token := strings.TrimSpace(r.stdout)
	assert.Contains(t, readme, `$ echo '{"sub":"user-1","name":"Ada","role":"admin"}' | edgeauth encode --now 1700000000 --max-age 3600 > token`)

	r = cli(t, env, token, "decode", "--now", "1700000010")
	readmeJTI := regexp.MustCompile(`"jti":"[0-9a-f-]{36}"`).FindString(readme)
	require.NotEmpty(t, readmeJTI)
	shown("edgeauth decode --now 1700000010 < token", regexp.MustCompile(`"jti":"[^"]+"`).ReplaceAllString(r.stdout, readmeJTI))

	r = cli(t, env, token, "decode", "--now", "1700003615")
	shown("edgeauth decode --now 1700003615 < token", r.stderr)

	r = cli(t, env, "", "decode", "--now", "1700000010", "--cookie", "theme=dark; __Secure-authjs.session-token="+token)
	shown(`edgeauth decode --now 1700000010 --cookie "theme=dark; __Secure-authjs.session-token=…"`, r.stderr)
}

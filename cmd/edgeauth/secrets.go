package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"slices"
)

// maxSecretFile bounds AUTH_SECRET_FILE: a few secrets, one per line.
const maxSecretFile = 64 << 10

// errNoGatewaySecret reports that neither the environment nor a secrets
// file holds a secret.
var errNoGatewaySecret = errors.New("no secret: set AUTH_SECRET (and AUTH_SECRET_1..3 when rotating) or AUTH_SECRET_FILE")

// gatewaySecrets returns the secrets of the gateway and of the revoke
// command, newest first: from the file named by AUTH_SECRET_FILE (one secret
// per line, newest first, blank lines ignored), or else from AUTH_SECRET_3,
// _2, _1 and AUTH_SECRET as Auth.js reads them. Setting both is an error, so
// that a stale variable cannot silently add a key. Errors never quote the
// file's content.
func gatewaySecrets(env func(string) string) ([]string, error) {
	fromEnv := secretsFromEnv(env)
	path := env("AUTH_SECRET_FILE")
	if path == "" {
		if len(fromEnv) == 0 {
			return nil, errNoGatewaySecret
		}
		return fromEnv, nil
	}
	if len(fromEnv) > 0 {
		return nil, errors.New("both AUTH_SECRET_FILE and AUTH_SECRET/AUTH_SECRET_1..3 are set; use one")
	}
	secrets, err := readSecretFile(path)
	if err != nil {
		return nil, fmt.Errorf("AUTH_SECRET_FILE: %w", err)
	}
	return secrets, nil
}

func readSecretFile(path string) ([]string, error) {
	data, err := readBoundedFile(path, maxSecretFile)
	if err != nil {
		return nil, err
	}
	var secrets []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), maxSecretFile)
	for sc.Scan() {
		s := string(bytes.TrimSpace(sc.Bytes()))
		if s != "" && !slices.Contains(secrets, s) {
			secrets = append(secrets, s)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if len(secrets) == 0 {
		return nil, fmt.Errorf("%s holds no secret", path)
	}
	return secrets, nil
}

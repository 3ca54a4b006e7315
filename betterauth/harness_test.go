package betterauth_test

import (
	"github.com/edgeauth/edgeauth/internal/betterauthtest"
)

// harnessSecret is the harness's default BETTER_AUTH_SECRET.
const harnessSecret = betterauthtest.Secret

// mintNow is the clock of minted sessions, Unix seconds.
const mintNow = betterauthtest.MintNow

var (
	newBA = betterauthtest.New
	sign  = betterauthtest.Sign
)

// verifier and verify are the harness's (internal/betterauthtest), shared
// with the redisstore module's tests.
var (
	verifier = betterauthtest.Verifier
	verify   = betterauthtest.Verify
)

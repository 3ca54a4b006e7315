package betterauth_test

import (
	"github.com/edgeauth/edgeauth/internal/betterauthtest"
)

// harnessSecret is the harness's default BETTER_AUTH_SECRET.
const harnessSecret = betterauthtest.Secret

// mintNow is the clock of minted sessions, Unix seconds.
const mintNow = betterauthtest.MintNow

type response = betterauthtest.Response

var (
	newBA = betterauthtest.New
	sign  = betterauthtest.Sign
)

// request, verifier and verify are the harness's (internal/betterauthtest),
// shared with the redisstore module's tests.
var (
	request  = betterauthtest.Request
	verifier = betterauthtest.Verifier
	verify   = betterauthtest.Verify
)

package betterauth_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeauth/edgeauth/betterauth"
)

// mapStorage is a secondary storage in memory; a value "!" fails the read.
type mapStorage map[string]string

func (m mapStorage) Get(ctx context.Context, key string) (string, error) {
	v, ok := m[key]
	switch {
	case !ok:
		return "", betterauth.ErrNotFound
	case v == "!":
		return "", errors.New("connection refused")
	}
	return v, ctx.Err()
}

const (
	exampleToken  = "t5RFUa8L9XYtwNoclGr4cevHwEq6PLlQ"
	exampleUser   = "66seXgIfzCeIba7zNZrTjWOWJ3N1ifBd"
	storedSession = `{"session":{"id":"s1","expiresAt":"2023-11-21T22:13:20.000Z","userId":"` + exampleUser + `","token":"` + exampleToken + `","createdAt":"2023-11-14T22:13:20.000Z","updatedAt":"2023-11-14T22:13:20.000Z"},"user":{"id":"` + exampleUser + `","name":"Ada","email":"ada@example.com","role":"admin"}}`
)

func TestStorageRules(t *testing.T) {
	mark := "revoked-sessions-before-" + exampleUser
	for _, tc := range []struct {
		name    string
		storage mapStorage
		inDB    bool
		want    error // nil: a session
	}{
		{"stored", mapStorage{exampleToken: storedSession}, false, nil},
		{"signed out", mapStorage{}, false, betterauth.ErrRevoked},
		{"missing, maybe in the database", mapStorage{}, true, betterauth.ErrNeedsLookup},
		{"read fails", mapStorage{exampleToken: "!"}, false, betterauth.ErrUnavailable},
		{"corrupt", mapStorage{exampleToken: "{"}, false, betterauth.ErrUnavailable},
		{"another session's value", mapStorage{exampleToken: strings.ReplaceAll(storedSession, exampleToken, "other")}, false, betterauth.ErrUnavailable},
		{"expired", mapStorage{exampleToken: strings.ReplaceAll(storedSession, "2023-11-21T22:13:20.000Z", "2023-11-14T22:13:20.000Z")}, false, betterauth.ErrExpired},
		{"revoked after creation", mapStorage{exampleToken: storedSession, mark: "1700000000001"}, false, betterauth.ErrRevoked},
		{"revoked at creation", mapStorage{exampleToken: storedSession, mark: "1700000000000"}, false, nil},
		{"mark not a number", mapStorage{exampleToken: storedSession, mark: "soon"}, false, betterauth.ErrUnavailable},
		{"mark read fails", mapStorage{exampleToken: storedSession, mark: "!"}, false, betterauth.ErrUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := verifier(t, 1700000060, betterauth.Config{Strategy: betterauth.StrategyNone, Storage: tc.storage, StoreSessionInDatabase: tc.inDB})
			s, err := verify(t, v, exampleCookie)
			if tc.want == nil {
				require.NoError(t, err)
				assert.Equal(t, exampleUser, s.UserID)
				assert.Equal(t, "admin", s.Role)
				assert.Equal(t, betterauth.SourceStorage, s.Source)
				return
			}
			assert.ErrorIs(t, err, tc.want)
			assert.ErrorIs(t, err, betterauth.ErrNoSession)
		})
	}
}

package edgeauth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSessionClaimsAreTyped(t *testing.T) {
	var tok Token
	require.NoError(t, tok.UnmarshalJSON([]byte(`{"sub":"u","sid":"s-1","auth_time":1700000000,"x":1,"iat":1700000005}`)))
	assert.Equal(t, "s-1", tok.SessionID)
	assert.Equal(t, int64(1700000000), tok.AuthTime.Unix())
	assert.NotContains(t, tok.Claims, "sid")
	assert.NotContains(t, tok.Claims, "auth_time")
	assert.Equal(t, "s-1", tok.StringClaim("sid"))
	var at int64
	ok, err := tok.Claim("auth_time", &at)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, int64(1700000000), at)
	out, err := tok.MarshalJSON()
	require.NoError(t, err)
	// Typed or not, they sort among the other claims, as before they were typed.
	assert.Equal(t, `{"sub":"u","auth_time":1700000000,"sid":"s-1","x":1,"iat":1700000005}`, string(out))

	require.NoError(t, tok.SetClaim("sid", "s-2"))
	require.NoError(t, tok.SetClaim("auth_time", 1700000001))
	assert.Equal(t, "s-2", tok.SessionID)
	assert.Equal(t, int64(1700000001), tok.AuthTime.Unix())
	tok.DeleteClaim("sid")
	tok.DeleteClaim("auth_time")
	assert.Empty(t, tok.SessionID)
	assert.True(t, tok.AuthTime.IsZero())

	// Values that do not fit the types are kept as they are, not rejected:
	// jose checks iat and exp, not auth_time. Such a token has no sign-in time.
	for _, payload := range []string{
		`{"sid":42,"auth_time":"yesterday"}`,
		`{"sid":"","auth_time":-1}`,
		`{"sid":null,"auth_time":1e300}`,
	} {
		var odd Token
		require.NoError(t, odd.UnmarshalJSON([]byte(payload)), payload)
		assert.Empty(t, odd.SessionID, payload)
		assert.True(t, odd.AuthTime.IsZero(), payload)
		out, err := odd.MarshalJSON()
		require.NoError(t, err)
		assert.JSONEq(t, payload, string(out))
	}
}

func TestSignInStartsANewSession(t *testing.T) {
	var seen *Token
	m, clk := newTestManager(t, Config{
		// A callback cannot choose the session claims: SignIn sets them after it.
		Callbacks: Callbacks{
			JWT: func(_ context.Context, p JWTParams) (*Token, error) {
				_ = p.Token.SetClaim("sid", "chosen-by-callback")
				_ = p.Token.SetClaim("auth_time", 1)
				return p.Token, nil
			},
			Session: func(_ context.Context, p SessionParams) (*Session, error) {
				seen = p.Token
				return p.Session, nil
			},
		},
	})
	sids := map[string]bool{}
	for range 3 {
		h := signIn(t, m, &User{ID: "alice"})
		tok, err := m.Codec().Decode(responseCookies(h)[0].Value)
		require.NoError(t, err)
		raw, err := base64.RawURLEncoding.Strict().DecodeString(tok.SessionID)
		require.NoError(t, err, "sid %q is unpadded base64url", tok.SessionID)
		assert.Len(t, raw, 16, "128 random bits")
		assert.False(t, sids[tok.SessionID], "a new session id on every sign-in")
		sids[tok.SessionID] = true
		assert.Equal(t, clk.Now().Unix(), tok.AuthTime.Unix())
		assert.Equal(t, tok.SessionID, seen.SessionID, "the session callback sees the session id")
		clk.Advance(time.Second)
	}
}

// Every re-issue continues the session: the jwt callback, Update data and
// the client cannot change sid or auth_time, and cannot add them.
func TestReissueKeepsSessionIdentity(t *testing.T) {
	// mischief writes whatever it is given (Update data) or, otherwise,
	// its own values into the session claims, or removes them.
	mischief := func(_ context.Context, p JWTParams) (*Token, error) {
		switch data := p.Data.(type) {
		case map[string]any:
			for k, v := range data {
				if err := p.Token.SetClaim(k, v); err != nil {
					return nil, err
				}
			}
		default:
			if p.Trigger == TriggerRefresh {
				p.Token.DeleteClaim("sid")
				_ = p.Token.SetClaim("auth_time", 4102444800)
			}
		}
		return p.Token, nil
	}
	m, clk := newTestManager(t, Config{UpdateAge: -1, Callbacks: Callbacks{JWT: mischief}})
	decode := func(h http.Header) *Token {
		t.Helper()
		cookies := responseCookies(h)
		require.Len(t, cookies, 1)
		tok, err := m.Codec().Decode(cookies[0].Value)
		require.NoError(t, err)
		return tok
	}

	start := signIn(t, m, &User{ID: "bob"})
	first := decode(start)
	require.NotEmpty(t, first.SessionID)
	reissues := map[string]func(h http.Header) http.Header{
		"refresh": func(h http.Header) http.Header {
			w := httptest.NewRecorder()
			_, err := m.Refresh(w, requestCarrying("GET", "/", h))
			require.NoError(t, err)
			return w.Header()
		},
		"update": func(h http.Header) http.Header {
			w := httptest.NewRecorder()
			_, err := m.Update(w, requestCarrying("POST", "/", h),
				map[string]any{"sid": "attacker", "auth_time": 4102444800, "theme": "dark"})
			require.NoError(t, err)
			return w.Header()
		},
		"session endpoint": func(h http.Header) http.Header {
			w := httptest.NewRecorder()
			m.SessionHandler().ServeHTTP(w, requestCarrying("GET", "/api/auth/session", h))
			require.Equal(t, http.StatusOK, w.Code)
			return w.Header()
		},
	}
	for name, reissue := range reissues {
		clk.Advance(2 * time.Second)
		tok := decode(reissue(start))
		assert.Equal(t, first.SessionID, tok.SessionID, name)
		assert.Equal(t, first.AuthTime, tok.AuthTime, name)
		assert.True(t, tok.IssuedAt.After(first.IssuedAt), "%s re-issued", name)
	}

	// A session minted without them (by a Next.js app without the callback)
	// stays without them: re-issues continue sessions, never start them.
	// One whose sid is not a string keeps it as it is.
	for _, claims := range []map[string]json.RawMessage{nil, {"sid": json.RawMessage(`42`)}} {
		raw, err := m.Codec().Encode(&Token{Subject: "carol", Claims: claims})
		require.NoError(t, err)
		minted := http.Header{"Set-Cookie": {(&http.Cookie{Name: m.CookieName(), Value: raw}).String()}}
		for name, reissue := range reissues {
			tok := decode(reissue(minted))
			assert.Empty(t, tok.SessionID, name)
			assert.True(t, tok.AuthTime.IsZero(), name)
			assert.Equal(t, string(claims["sid"]), string(tok.Claims["sid"]), name)
			assert.NotContains(t, tok.Claims, "auth_time", name)
		}
	}
}

func TestRevocationKeys(t *testing.T) {
	assert.Equal(t, "sid-1", revocationID(&Token{SessionID: "sid-1", ID: "jti-1"}))
	assert.Equal(t, "jti-1", revocationID(&Token{ID: "jti-1"}), "without sid, the jti")

	cutoff := time.Unix(1700000001, 0)
	assert.False(t, revokedByCutoff(time.Unix(1700000000, 0), time.Time{}), "no cutoff")
	assert.True(t, revokedByCutoff(time.Unix(1700000000, 0), cutoff))
	assert.False(t, revokedByCutoff(time.Unix(1700000001, 0), cutoff))
	assert.True(t, revokedByCutoff(time.Time{}, cutoff), "no sign-in time: refused while a cutoff exists")
}

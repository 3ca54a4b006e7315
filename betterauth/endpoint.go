package betterauth

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// maxResponseSize bounds a get-session answer; a session and its user are a
// few KiB.
const maxResponseSize = 256 << 10

// endpoint asks the app's get-session, reusing answers for a short time and
// sending one request per token however many arrive at once.
type endpoint struct {
	url        string
	client     *http.Client
	timeout    time.Duration
	cookieName string
	ttl        time.Duration // <= 0: no reuse
	maxEntries int

	mu       sync.Mutex
	answers  map[[32]byte]answer
	inflight map[[32]byte]*flight
}

// answer is a settled lookup: a session, or ErrRevoked.
type answer struct {
	s     *Session
	err   error
	until time.Time
}

type flight struct {
	done chan struct{}
	a    answer
}

func newEndpoint(cfg Config, timeout time.Duration, cookieName string) (*endpoint, error) {
	u, err := sessionURL(cfg.SessionURL)
	if err != nil {
		return nil, err
	}
	e := &endpoint{
		url:        u,
		timeout:    timeout,
		cookieName: cookieName,
		ttl:        cfg.LookupCacheTTL,
		maxEntries: cfg.LookupCacheSize,
		answers:    map[[32]byte]answer{},
		inflight:   map[[32]byte]*flight{},
	}
	if e.ttl == 0 {
		e.ttl = DefaultLookupCacheTTL
	}
	if e.maxEntries == 0 {
		e.maxEntries = DefaultLookupCacheSize
	} else if e.maxEntries < 0 {
		return nil, fmt.Errorf("%w: LookupCacheSize must not be negative", ErrConfig)
	}
	client := http.Client{}
	if cfg.HTTPClient != nil {
		client = *cfg.HTTPClient
	}
	// A redirect would carry the session cookie elsewhere and answer for another URL.
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	e.client = &client
	return e, nil
}

// lookup returns get-session's answer for the session token cookie raw.
func (e *endpoint) lookup(ctx context.Context, v *Verifier, token, raw string) (*Session, error) {
	key := sha256.Sum256([]byte(raw))
	now := v.now()
	e.mu.Lock()
	if a, ok := e.answers[key]; ok {
		if now.Before(a.until) {
			e.mu.Unlock()
			return a.s, a.err
		}
		delete(e.answers, key)
	}
	f, leader := e.inflight[key], false
	if f == nil {
		f, leader = &flight{done: make(chan struct{})}, true
		e.inflight[key] = f
	}
	e.mu.Unlock()

	if leader {
		// Detached from this caller, so its cancellation does not fail the others.
		f.a = e.fetch(context.WithoutCancel(ctx), v, token, raw)
		e.mu.Lock()
		delete(e.inflight, key)
		if e.ttl > 0 && (f.a.s != nil || errors.Is(f.a.err, ErrRevoked)) {
			f.a.until = now.Add(e.ttl)
			if f.a.s != nil && f.a.s.ExpiresAt.Before(f.a.until) {
				f.a.until = f.a.s.ExpiresAt
			}
			e.remember(key, f.a)
		}
		e.mu.Unlock()
		close(f.done)
	} else {
		select {
		case <-f.done:
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: %w", ErrUnavailable, ctx.Err())
		}
	}
	return f.a.s, f.a.err
}

// remember stores an answer; when full, an arbitrary entry makes room (map
// iteration order), which needs no bookkeeping on the hit path.
func (e *endpoint) remember(key [32]byte, a answer) {
	if len(e.answers) >= e.maxEntries {
		for k := range e.answers {
			delete(e.answers, k)
			break
		}
	}
	e.answers[key] = a
}

// fetch calls get-session with only the session token cookie. Anything but
// a 200 with a session bound to token, or with null, fails closed.
func (e *endpoint) fetch(ctx context.Context, v *Verifier, token, raw string) answer {
	ctx, cancel := context.WithTimeout(ctx, e.timeout)
	defer cancel()
	fail := func(format string, args ...any) answer {
		return answer{err: fmt.Errorf("%w: get-session: "+format, append([]any{ErrUnavailable}, args...)...)}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.url, nil)
	if err != nil {
		return fail("%v", err)
	}
	req.Header.Set("Cookie", e.cookieName+"="+raw)
	req.Header.Set("Accept", "application/json")
	resp, err := e.client.Do(req)
	if err != nil {
		// url.Error quotes the URL, whose query may hold a credential.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fail("%w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseSize+1))
	if err != nil {
		return fail("reading the answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return fail("status %d", resp.StatusCode)
	}
	if len(body) > maxResponseSize {
		return fail("answer over %d bytes", maxResponseSize)
	}
	s, err := v.parseAnswer(body, token)
	if err != nil {
		return answer{err: err}
	}
	return answer{s: s}
}

// parseAnswer reads get-session's JSON: null for no session, else
// {"session":…,"user":…} whose session.token must be token.
func (v *Verifier) parseAnswer(body []byte, token string) (*Session, error) {
	if bytes.Equal(bytes.TrimSpace(body), []byte("null")) {
		return nil, ErrRevoked
	}
	top, err := decodeObject(body)
	var r *record
	if err == nil {
		r, err = parseRecord(top)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: get-session answer: %w", ErrUnavailable, err)
	}
	if subtle.ConstantTimeCompare([]byte(r.token), []byte(token)) != 1 {
		return nil, fmt.Errorf("%w: get-session answered for another session", ErrUnavailable)
	}
	if v.expired(r.expiresAt) {
		return nil, ErrExpired
	}
	return v.newSession(r, SourceEndpoint), nil
}

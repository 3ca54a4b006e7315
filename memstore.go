package edgeauth

import (
	"container/heap"
	"context"
	"crypto/sha256"
	"slices"
	"sync"
	"time"

	"github.com/edgeauth/edgeauth/internal/revocation"
)

// memorySweepEvery bounds how often inserts pay for a full sweep of expired entries.
const memorySweepEvery = time.Minute

// MemoryStoreConfig configures NewMemoryStore.
type MemoryStoreConfig struct {
	// MaxEntries caps all entries: denylisted sessions plus user cutoffs;
	// <= 0 means DefaultMemoryStoreMaxEntries.
	MaxEntries int
	// MaxSessionsPerUser caps the denylisted sessions of one user; revoking one more
	// replaces them with a cutoff. <= 0 means DefaultMaxSessionsPerUser.
	MaxSessionsPerUser int
	// MaxSessionsWithoutUser caps the denylisted sessions of tokens without a user id,
	// which share one pool inside MaxEntries; <= 0 means a tenth of MaxEntries.
	MaxSessionsWithoutUser int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// MemoryStore is an in-process Store for a single instance (revocations are not shared
// between processes and are lost on restart). It is safe for concurrent use.
//
// Entries expire by themselves: reads ignore expired entries and inserts periodically sweep
// them out; no background goroutine is used, so there is nothing to close.
//
// Entries are accounted per user, so that one account can neither fill the store nor push
// out anybody else's revocations:
//
//   - A user holds at most MaxSessionsPerUser denylisted sessions. Revoking one more
//     collapses them into the user's cutoff: every session of the user that signed in
//     up to now is rejected (the denylisted ones, the new one, and the user's other
//     sessions too). This is stricter than the denylist, never weaker, and the cutoff
//     lasts as long as the longest of the entries it replaces.
//   - When MaxEntries is reached, expired entries are dropped first; then the user with
//     the most entries is collapsed (the flooding account, not its victims). When every
//     user holds a single entry, a user's further revocations fold into its own cutoff,
//     and only a new user's revocation fails, with ErrStoreFull.
//   - Sessions without a user id share a pool of MaxSessionsWithoutUser entries; when it
//     is full of live entries, such a revocation fails with ErrStoreFull and users are
//     not affected.
//
// A live revocation is never silently forgotten, because that would re-admit a revoked
// token. IDs are stored as SHA-256 digests, so an entry has a fixed size whatever the
// length of the IDs.
type MemoryStore struct {
	now            func() time.Time
	maxEntries     int
	maxPerUser     int
	maxWithoutUser int

	mu          sync.RWMutex
	users       map[userDigest]*userRevocations
	byEntries   userHeap                    // users by entry count, largest first
	withoutUser map[sessionDigest]time.Time // session -> exp, for tokens without a user id
	entries     int                         // sessions of both kinds plus cutoffs, expired ones included
	minExpiry   time.Time                   // no entry expires before this; may be stale-early, never late
	lastSweep   time.Time
}

type userDigest [sha256.Size]byte

func userKey(id string) userDigest { return digest(id) }

// sessionDigest is half a SHA-256: plenty among one user's sessions (a collision would
// only revoke more), and half the memory.
type sessionDigest [sha256.Size / 2]byte

func sessionKey(id string) sessionDigest {
	sum := digest(id)
	return sessionDigest(sum[:sha256.Size/2])
}

// digest hashes id without allocating for ids of usual length (a check runs on every
// request).
func digest(id string) [sha256.Size]byte {
	var buf [64]byte
	return sha256.Sum256(append(buf[:0], id...))
}

// userRevocations is one user's denylisted sessions and cutoff. The sessions are a slice,
// searched linearly: at most MaxSessionsPerUser long, and far smaller than a map for the
// many users with one or two.
type userRevocations struct {
	sessions    []sessionEntry
	cutoff      int64     // Unix seconds, already rounded up
	cutoffUntil time.Time // zero: no cutoff
	heapIndex   int
}

type sessionEntry struct {
	id  sessionDigest
	exp time.Time
}

// find returns the index of the session, or -1.
func (u *userRevocations) find(id sessionDigest) int {
	for i := range u.sessions {
		if u.sessions[i].id == id {
			return i
		}
	}
	return -1
}

func (u *userRevocations) entryCount() int {
	n := len(u.sessions)
	if !u.cutoffUntil.IsZero() {
		n++
	}
	return n
}

var _ Store = (*MemoryStore)(nil)

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore(cfg MemoryStoreConfig) *MemoryStore {
	if cfg.MaxEntries <= 0 {
		cfg.MaxEntries = DefaultMemoryStoreMaxEntries
	}
	if cfg.MaxSessionsPerUser <= 0 {
		cfg.MaxSessionsPerUser = DefaultMaxSessionsPerUser
	}
	if cfg.MaxSessionsWithoutUser <= 0 {
		cfg.MaxSessionsWithoutUser = max(cfg.MaxEntries/10, 1)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &MemoryStore{
		now:            cfg.Now,
		maxEntries:     cfg.MaxEntries,
		maxPerUser:     cfg.MaxSessionsPerUser,
		maxWithoutUser: cfg.MaxSessionsWithoutUser,
		users:          make(map[userDigest]*userRevocations),
		withoutUser:    make(map[sessionDigest]time.Time),
	}
}

// size reports the number of stored entries, including expired ones not yet swept.
func (s *MemoryStore) size() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.entries
}

// RevokeSession implements Store. An exp already in the past is a no-op: the session is
// expired anyway. It may raise the user's cutoff instead of adding an entry (see
// MemoryStore).
func (s *MemoryStore) RevokeSession(ctx context.Context, userID, sessionID string, exp time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if sessionID == "" || exp.IsZero() {
		return ErrInvalidRevocation
	}
	now := s.now()
	if !now.Before(exp) {
		return nil
	}
	session := sessionKey(sessionID)
	var user userDigest
	if userID != "" {
		user = userKey(userID)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if userID == "" {
		return s.revokeWithoutUserLocked(now, session, exp)
	}
	u := s.liveUserLocked(user, now)
	if u != nil {
		if i := u.find(session); i >= 0 {
			if exp.After(u.sessions[i].exp) {
				u.sessions[i].exp = exp
			}
			return nil
		}
		if len(u.sessions) >= s.maxPerUser {
			s.collapseLocked(u, now, exp)
			return nil
		}
	}
	if !s.roomLocked(now, u) {
		if u == nil {
			return ErrStoreFull
		}
		// u is the heaviest user: it pays, and the collapse covers this session.
		s.collapseLocked(u, now, exp)
		return nil
	}
	if u == nil {
		u = s.addUserLocked(user)
	}
	u.sessions = append(u.sessions, sessionEntry{session, exp})
	s.addedLocked(u, exp)
	return nil
}

func (s *MemoryStore) revokeWithoutUserLocked(now time.Time, session sessionDigest, exp time.Time) error {
	if cur, ok := s.withoutUser[session]; ok {
		if exp.After(cur) {
			s.withoutUser[session] = exp
		}
		return nil
	}
	if len(s.withoutUser) >= s.maxWithoutUser && !now.Before(s.minExpiry) {
		s.sweepLocked(now)
	}
	if len(s.withoutUser) >= s.maxWithoutUser || !s.roomLocked(now, nil) {
		return ErrStoreFull
	}
	s.withoutUser[session] = exp
	s.addedLocked(nil, exp)
	return nil
}

// RevokeUser implements Store. before is recorded rounded up to the next whole second, as
// sign-in times have whole seconds. A keepUntil already in the past is a no-op.
func (s *MemoryStore) RevokeUser(ctx context.Context, userID string, before, keepUntil time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if userID == "" || before.IsZero() || keepUntil.IsZero() {
		return ErrInvalidRevocation
	}
	now := s.now()
	if !now.Before(keepUntil) {
		return nil
	}
	user := userKey(userID)
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.liveUserLocked(user, now)
	if u == nil || u.cutoffUntil.IsZero() {
		if !s.roomLocked(now, u) {
			if u == nil {
				return ErrStoreFull
			}
			// u is the heaviest user: collapsing it creates the cutoff raised below.
			s.collapseLocked(u, now, keepUntil)
		} else if u == nil {
			u = s.addUserLocked(user)
		}
	}
	s.raiseCutoffLocked(u, now, cutoffSecond(before), keepUntil)
	return nil
}

// Check implements Store. An empty sessionID or userID means "not revoked" for that part;
// a session without a user id is looked up in the shared pool.
func (s *MemoryStore) Check(ctx context.Context, sessionID, userID string) (bool, time.Time, error) {
	if err := ctx.Err(); err != nil {
		return false, time.Time{}, err
	}
	revoked, cutoff, _ := s.CheckCached(sessionID, userID)
	return revoked, cutoff, nil
}

// CheckCached implements [CachedChecker]: Check without a context, since a MemoryStore
// always answers from memory (ok is always true).
func (s *MemoryStore) CheckCached(sessionID, userID string) (revoked bool, cutoff time.Time, ok bool) {
	if sessionID == "" && userID == "" {
		return false, time.Time{}, true
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	// Most checks find nothing: a digest is computed only where a lookup
	// can find an entry, and the clock read only when one is found.
	if userID == "" {
		if len(s.withoutUser) == 0 {
			return false, time.Time{}, true
		}
		exp, found := s.withoutUser[sessionKey(sessionID)]
		return found && s.now().Before(exp), time.Time{}, true
	}
	if len(s.users) == 0 {
		return false, time.Time{}, true
	}
	u := s.users[userKey(userID)]
	if u == nil {
		return false, time.Time{}, true
	}
	now := s.now()
	if sessionID != "" {
		if i := u.find(sessionKey(sessionID)); i >= 0 && now.Before(u.sessions[i].exp) {
			revoked = true
		}
	}
	if now.Before(u.cutoffUntil) {
		cutoff = time.Unix(u.cutoff, 0)
	}
	return revoked, cutoff, true
}

// liveUserLocked returns the user's entries with expired ones dropped, or nil when none
// are left. The cost is bounded by MaxSessionsPerUser.
func (s *MemoryStore) liveUserLocked(user userDigest, now time.Time) *userRevocations {
	u := s.users[user]
	if u == nil {
		return nil
	}
	before := u.entryCount()
	u.sessions = slices.DeleteFunc(u.sessions, func(e sessionEntry) bool { return !now.Before(e.exp) })
	if !u.cutoffUntil.IsZero() && !now.Before(u.cutoffUntil) {
		u.cutoff, u.cutoffUntil = 0, time.Time{}
	}
	if n := u.entryCount(); n != before {
		s.entries -= before - n
		if n == 0 {
			heap.Remove(&s.byEntries, u.heapIndex)
			delete(s.users, user)
			return nil
		}
		heap.Fix(&s.byEntries, u.heapIndex)
	}
	return u
}

func (s *MemoryStore) addUserLocked(user userDigest) *userRevocations {
	u := &userRevocations{}
	s.users[user] = u
	heap.Push(&s.byEntries, u)
	return u
}

// addedLocked accounts for one new entry (of u, or of the shared pool when u is nil).
func (s *MemoryStore) addedLocked(u *userRevocations, exp time.Time) {
	if u != nil {
		heap.Fix(&s.byEntries, u.heapIndex)
	}
	s.entries++
	s.noteExpiryLocked(exp)
}

// raiseCutoffLocked merges a cutoff into u's: the cutoff never decreases and its
// expiry never shortens. An expired cutoff counts as none.
func (s *MemoryStore) raiseCutoffLocked(u *userRevocations, now time.Time, cutoff int64, until time.Time) {
	switch {
	case u.cutoffUntil.IsZero():
		u.cutoff, u.cutoffUntil = cutoff, until
		s.addedLocked(u, until)
		return
	case !now.Before(u.cutoffUntil):
		u.cutoff, u.cutoffUntil = cutoff, until
	default:
		u.cutoff = max(u.cutoff, cutoff)
		if until.After(u.cutoffUntil) {
			u.cutoffUntil = until
		}
	}
	s.noteExpiryLocked(until)
}

// collapseLocked replaces u's denylisted sessions with a cutoff that rejects every session
// of u signed in up to now, kept as long as the longest of them (and at least until
// keepUntil, the expiry of a revocation folded into it).
func (s *MemoryStore) collapseLocked(u *userRevocations, now, keepUntil time.Time) {
	for _, e := range u.sessions {
		if e.exp.After(keepUntil) {
			keepUntil = e.exp
		}
	}
	s.entries -= len(u.sessions)
	u.sessions = nil
	heap.Fix(&s.byEntries, u.heapIndex)
	s.raiseCutoffLocked(u, now, revocation.CollapseCutoff(now), keepUntil)
}

// roomLocked reports whether one new entry fits, making room if it must: expired entries
// go first (a full sweep, which the full-and-nothing-expired case skips in O(1)), then the
// user with the most entries is collapsed. A requester that is itself the heaviest (or
// the only user that could free space) is left to its caller, which folds the new
// revocation into its collapse.
func (s *MemoryStore) roomLocked(now time.Time, requester *userRevocations) bool {
	full := s.entries >= s.maxEntries
	due := now.Sub(s.lastSweep) >= memorySweepEvery
	if (full || due) && !now.Before(s.minExpiry) {
		s.sweepLocked(now)
		full = s.entries >= s.maxEntries
	}
	if !full {
		return true
	}
	if len(s.byEntries) == 0 {
		return false
	}
	heaviest := s.byEntries[0]
	if heaviest == requester || heaviest.entryCount() < 2 {
		return false
	}
	s.collapseLocked(heaviest, now, time.Time{})
	return true
}

func (s *MemoryStore) sweepLocked(now time.Time) {
	var minExp time.Time
	note := func(exp time.Time) {
		if minExp.IsZero() || exp.Before(minExp) {
			minExp = exp
		}
	}
	for id, exp := range s.withoutUser {
		if !now.Before(exp) {
			delete(s.withoutUser, id)
			s.entries--
		} else {
			note(exp)
		}
	}
	for id := range s.users {
		u := s.liveUserLocked(id, now)
		if u == nil {
			continue
		}
		for _, e := range u.sessions {
			note(e.exp)
		}
		if !u.cutoffUntil.IsZero() {
			note(u.cutoffUntil)
		}
	}
	s.minExpiry = minExp
	s.lastSweep = now
}

func (s *MemoryStore) noteExpiryLocked(exp time.Time) {
	if s.entries == 1 || exp.Before(s.minExpiry) {
		s.minExpiry = exp
	}
}

// userHeap orders users by entry count, largest first (container/heap).
type userHeap []*userRevocations

func (h userHeap) Len() int           { return len(h) }
func (h userHeap) Less(i, j int) bool { return h[i].entryCount() > h[j].entryCount() }
func (h userHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].heapIndex, h[j].heapIndex = i, j
}

func (h *userHeap) Push(x any) {
	u := x.(*userRevocations)
	u.heapIndex = len(*h)
	*h = append(*h, u)
}

func (h *userHeap) Pop() any {
	old := *h
	u := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return u
}

package edgeauth

import (
	"net/http"

	"github.com/edgeauth/edgeauth/internal/nostore"
)

// SessionHandler serves GET requests as Auth.js's /api/auth/session does:
// the session JSON, or the JSON null when signed out, with no-cache headers.
// Like Auth.js it re-issues the token on every read (TriggerRefresh), and
// clears the cookies of a bad or ended session; with Config.ReadOnly it only
// reads, as [Manager.Load] does.
func (m *Manager) SessionHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "application/json")
		nostore.Set(h)
		h.Set("Expires", "0")
		h.Set("Pragma", "no-cache")
		body := []byte("null")
		if s, err := m.readForEndpoint(w, r); err == nil {
			if b, err := s.MarshalJSON(); err == nil {
				body = b
				if m.events.Session != nil {
					m.fireEvent(r.Context(), "session", func() { m.events.Session(r.Context(), s) })
				}
			}
		}
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(body)
	})
}

func (m *Manager) readForEndpoint(w http.ResponseWriter, r *http.Request) (*Session, error) {
	if m.readOnly {
		return m.Load(r)
	}
	l, err := m.verify(r)
	if err != nil {
		m.clearDead(w, &l, err)
		return nil, err
	}
	if l.bearer {
		return m.runSession(r.Context(), l.token)
	}
	tok, err := m.reissue(w, r, &l, JWTParams{Token: l.token, Trigger: TriggerRefresh})
	if err != nil {
		return nil, err
	}
	return m.runSession(r.Context(), tok)
}

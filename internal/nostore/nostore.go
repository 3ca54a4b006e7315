// Package nostore keeps responses out of caches: every response that sets or
// clears a session cookie, or that answers for a session, carries the same
// Cache-Control.
package nostore

import "net/http"

// Value is the Cache-Control of such responses, as Auth.js writes it.
const Value = "private, no-cache, no-store"

// Set sets Cache-Control on h.
func Set(h http.Header) { h.Set("Cache-Control", Value) }

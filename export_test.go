package edgeauth

// Internals that the package's external tests (package edgeauth_test) use.

// TestNow is testNow for the external tests.
const TestNow = testNow

// CheckMemoryStoreInvariants is checkInvariants for the external tests.
var CheckMemoryStoreInvariants = checkInvariants

// MemoryStoreSize is MemoryStore.size for the external tests.
func MemoryStoreSize(s *MemoryStore) int { return s.size() }

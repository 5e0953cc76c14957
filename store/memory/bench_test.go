package memory_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/store/memory"
)

// benchStore returns a store holding n sessions, IDs "s0" … and their IDs.
func benchStore(b *testing.B, n int) (*memory.Store, []string) {
	b.Helper()
	st := memory.New()
	ids := make([]string, n)
	for i := range n {
		ids[i] = fmt.Sprintf("%064x", i) // as long as a hex SHA-256
		if err := st.CreateSession(b.Context(), newSession(ids[i], fmt.Sprintf("org%d", i%100), session.MethodSSO, t0.Add(time.Hour))); err != nil {
			b.Fatal(err)
		}
	}
	return st, ids
}

// BenchmarkSession measures Session, the lookup behind every authenticated
// request.
func BenchmarkSession(b *testing.B) {
	st, ids := benchStore(b, 10_000)
	ctx := b.Context()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := st.Session(ctx, ids[i%len(ids)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkSessionParallel measures Session under concurrent readers.
func BenchmarkSessionParallel(b *testing.B) {
	st, ids := benchStore(b, 10_000)
	ctx := b.Context()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := st.Session(ctx, ids[i%len(ids)]); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
}

// t0 is the instant the benchmarks' sessions expire from.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func newSession(id, orgID, method string, expires time.Time) *session.Session {
	return &session.Session{
		ID: id, OrgID: orgID, UserID: "user-" + id, Method: method,
		CreatedAt: expires.Add(-time.Hour), ExpiresAt: expires,
	}
}

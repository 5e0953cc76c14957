package session_test

import (
	"context"
	"testing"
	"time"

	"github.com/orgsso/orgsso/session"
)

func benchManager(b *testing.B) (*session.Manager, string) {
	b.Helper()
	st := newFakeStore()
	st.spy = false
	m := session.NewManager(st, session.WithClock(func() time.Time { return t0 }))
	// A realistic table: many sessions, one looked up.
	var tok string
	for range 10_000 {
		var err error
		if _, tok, err = m.Create(context.Background(), "org1", "user1", session.MethodSSO, time.Hour); err != nil {
			b.Fatal(err)
		}
	}
	return m, tok
}

// BenchmarkValidate measures Manager.Validate on a map-backed store. The
// target is at most 1 µs/op; the allocations are the session ID handed to
// the Store (it escapes through the interface) and the store's copy of the
// session.
func BenchmarkValidate(b *testing.B) {
	m, tok := benchManager(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Validate(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkValidateParallel is BenchmarkValidate from GOMAXPROCS goroutines
// (the fake store has one mutex, so this mostly measures contention on it).
func BenchmarkValidateParallel(b *testing.B) {
	m, tok := benchManager(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := m.Validate(ctx, tok); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkValidateMalformed: a garbage cookie is refused without the store.
func BenchmarkValidateMalformed(b *testing.B) {
	m, _ := benchManager(b)
	ctx := context.Background()
	bad := "not a token, but of the right length: 43.."
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Validate(ctx, bad); err == nil {
			b.Fatal("accepted")
		}
	}
}

// BenchmarkCreate measures Create with crypto/rand.
func BenchmarkCreate(b *testing.B) {
	st := newFakeStore()
	st.spy = false
	m := session.NewManager(st)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := m.Create(ctx, "org1", "user1", session.MethodSSO, time.Hour); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHashToken measures the token → ID hash alone.
func BenchmarkHashToken(b *testing.B) {
	tok := "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY"
	b.ReportAllocs()
	for b.Loop() {
		_ = session.HashToken(tok)
	}
}

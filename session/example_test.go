package session_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/orgsso/orgsso/session"
)

// A session's life: Create at sign-in, Validate on every request, Revoke at
// sign-out. The clock and randomness are fixed so the output is stable; real
// code omits WithClock and WithRand (time.Now, crypto/rand) and uses a real
// Store such as store/memory or store/sqlite.
func Example() {
	ctx := context.Background()
	now := time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)
	m := session.NewManager(newFakeStore(),
		session.WithClock(func() time.Time { return now }),
		session.WithRand(bytes.NewReader(make([]byte, 32))), // tests only!
	)

	s, token, err := m.Create(ctx, "org_acme", "user_42", session.MethodSSO, 12*time.Hour)
	if err != nil {
		fmt.Println("create:", err)
		return
	}
	// The token goes into the host's cookie, never into a log; the store
	// holds only its hash, the session ID.
	fmt.Println("token length:", len(token))
	fmt.Println("ID is HashToken(token):", s.ID == session.HashToken(token))
	fmt.Println("expires:", s.ExpiresAt)

	got, err := m.Validate(ctx, token)
	fmt.Println("validate:", got.UserID, got.OrgID, got.Method, err)

	fmt.Println("revoke:", m.Revoke(ctx, token))
	_, err = m.Validate(ctx, token)
	fmt.Println("after revoke:", errors.Is(err, session.ErrUnknownSession))
	// Output:
	// token length: 43
	// ID is HashToken(token): true
	// expires: 2026-01-03 03:04:05 +0000 UTC
	// validate: user_42 org_acme sso <nil>
	// revoke: <nil>
	// after revoke: true
}

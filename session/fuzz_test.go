package session_test

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/orgsso/orgsso/session"
)

// FuzzValidate: Validate never panics, consults the store exactly for
// well-formed tokens (43 characters of strict base64url, as
// encoding/base64 judges them), and accepts only the one real token.
func FuzzValidate(f *testing.F) {
	for _, seed := range []string{
		"", "A", strings.Repeat("A", 43), strings.Repeat("A", 42) + "B",
		strings.Repeat("_", 42) + "8", strings.Repeat("+", 43), strings.Repeat("A", 44),
		"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY", "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
		"\x00\xff" + strings.Repeat("A", 41),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, token string) {
		ctx := context.Background()
		st := newFakeStore()
		st.spy = false
		m := session.NewManager(st, session.WithRand(seqRand()))
		_, real := mustCreate(t, m, "o", "u", session.MethodSSO)
		before := st.callCount()

		s, err := m.Validate(ctx, token)
		consulted := st.callCount() > before
		raw, decErr := base64.RawURLEncoding.Strict().DecodeString(token)
		wellFormed := len(token) == 43 && decErr == nil && len(raw) == 32
		if consulted != wellFormed {
			t.Errorf("Validate(%q) consulted store = %v; want %v", token, consulted, wellFormed)
		}
		if token == real {
			if err != nil || s == nil {
				t.Errorf("Validate(real) = %v, %v; want session", s, err)
			}
			return
		}
		if s != nil || !errors.Is(err, session.ErrUnknownSession) {
			t.Errorf("Validate(%q) = %v, %v; want nil, ErrUnknownSession", token, s, err)
		}
	})
}

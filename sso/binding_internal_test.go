package sso

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgsso/orgsso/session"
)

// nopStore is a Store testResult never calls.
type nopStore struct{ Store }

func TestIsAESCBC(t *testing.T) {
	tests := []struct {
		uri  string
		want bool
	}{
		{"http://www.w3.org/2001/04/xmlenc#aes128-cbc", true},
		{"http://www.w3.org/2001/04/xmlenc#aes192-cbc", true},
		{"http://www.w3.org/2001/04/xmlenc#aes256-cbc", true},
		{"http://www.w3.org/2009/xmlenc11#aes128-gcm", false},
		{"http://www.w3.org/2009/xmlenc11#aes256-gcm", false},
		{"http://www.w3.org/2001/04/xmlenc#tripledes-cbc", false},
		{"aes128-cbc", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := isAESCBC(tt.uri); got != tt.want {
			t.Errorf("isAESCBC(%q) = %t; want %t", tt.uri, got, tt.want)
		}
	}
}

// TestTestSSOWarnsAboutAESCBC: a Test SSO whose assertion came encrypted
// with AES-CBC lists a problem saying how to switch to AES-GCM; GCM or a
// clear assertion lists none about encryption.
func TestTestSSOWarnsAboutAESCBC(t *testing.T) {
	svc, err := New(Config{BaseURL: "https://app.example.com", Store: nopStore{}, Sessions: session.NewManager(nil)})
	require.NoError(t, err)
	org := &Organization{ID: "o", SSOName: "acme", OwnerID: "u"}
	id := Identity{Email: "a@acme.example", FirstName: "A", LastName: "B"}
	tests := []struct {
		method string
		warn   bool
	}{
		{"http://www.w3.org/2001/04/xmlenc#aes128-cbc", true},
		{"http://www.w3.org/2001/04/xmlenc#aes256-cbc", true},
		{"http://www.w3.org/2009/xmlenc11#aes256-gcm", false},
		{"", false},
	}
	for _, tt := range tests {
		conn, _ := org.connectionView(PrimaryConnection)
		res := svc.testResult(context.Background(), org, &conn, id, samlTestProblems(time.Now(), &conn, &Assertion{EncryptionMethod: tt.method}))
		problems := strings.Join(res.Test.Problems, "\n")
		if tt.warn {
			assert.Contains(t, problems, "AES-CBC", tt.method)
			assert.Contains(t, problems, "AES-256-GCM (aes256-gcm)", tt.method)
			assert.Contains(t, problems, "assertion encryption algorithm in the IdP", tt.method)
		} else {
			assert.Empty(t, res.Test.Problems, tt.method)
		}
	}
}

// TestFailureLimiter: per key, the first unverified failure of a window is
// admitted and the rest counted; a verified failure is always admitted and
// carries the count; a clock that goes back opens no window.
func TestFailureLimiter(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	l := newFailureLimiter(time.Minute)
	a, b := failureKey{"org-a", "xml"}, failureKey{"org-b", "xml"}
	steps := []struct {
		name     string
		k        failureKey
		verified bool
		at       time.Duration
		ok       bool
		n        int
	}{
		{"first of a", a, false, 0, true, 0},
		{"second of a", a, false, time.Second, false, 0},
		{"third of a", a, false, 2 * time.Second, false, 0},
		{"first of b", b, false, 3 * time.Second, true, 0},
		{"clock back", a, false, -time.Hour, false, 0},
		{"verified a carries the count", a, true, 4 * time.Second, true, 3},
		{"unverified a still in its window", a, false, 5 * time.Second, false, 0},
		{"a after the window", a, false, time.Minute, true, 1},
		{"verified, unknown key", failureKey{"org-c", "denied"}, true, time.Minute, true, 0},
	}
	for _, s := range steps {
		ok, n := l.admit(s.k, s.verified, t0.Add(s.at))
		if ok != s.ok || n != s.n {
			t.Errorf("%s: admit() = %t, %d; want %t, %d", s.name, ok, n, s.ok, s.n)
		}
	}
	_, known := l.entries[failureKey{"org-c", "denied"}]
	assert.False(t, known, "a verified failure of an unknown key takes no memory")
}

// TestFailureLimiterBounded: however many organizations fail, the limiter
// holds at most maxFailureKeys keys (+ the overflow key), and keys beyond it
// share one window; once windows pass, new keys get their own again.
func TestFailureLimiterBounded(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	l := newFailureLimiter(time.Minute)
	admitted := 0
	for i := range 3 * maxFailureKeys {
		if ok, _ := l.admit(failureKey{"org-" + strconv.Itoa(i), "xml"}, false, t0); ok {
			admitted++
		}
	}
	assert.LessOrEqual(t, len(l.entries), maxFailureKeys+1)
	assert.Equal(t, maxFailureKeys+1, admitted, "each key until full, then one overflow")
	ok, _ := l.admit(failureKey{"org-new", "xml"}, false, t0.Add(time.Minute))
	assert.True(t, ok, "after the window, a sweep makes room")
	_, own := l.entries[failureKey{"org-new", "xml"}]
	assert.True(t, own, "the new key has its own window")
	assert.LessOrEqual(t, len(l.entries), maxFailureKeys+1)
}

package storetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
)

// The MFA after SSO part of the suite (sso.MFAStore): pending sign-ins,
// enrollments, attempt windows; each atomic step raced.
var mfaTests = []test{
	{"PendingRoundTrip", testMFAPendingRoundTrip},
	{"PendingAttempts", testMFAPendingAttempts},
	{"PendingConsume", testMFAPendingConsume},
	{"PendingConsumeConcurrently", testMFAPendingConsumeConcurrently},
	{"PendingAttemptsConcurrently", testMFAPendingAttemptsConcurrently},
	{"EnrollmentRoundTrip", testMFAEnrollmentRoundTrip},
	{"EnrollmentCreateConcurrently", testMFAEnrollmentCreateConcurrently},
	{"UseStep", testMFAUseStep},
	{"UseStepConcurrently", testMFAUseStepConcurrently},
	{"RecoveryCode", testMFARecoveryCode},
	{"RecoveryCodeConcurrently", testMFARecoveryCodeConcurrently},
	{"RestoreStep", testMFARestoreStep},
	{"RestoreRecoveryCode", testMFARestoreRecoveryCode},
	{"RestoreRecoveryCodeVsReset", testMFARestoreRecoveryCodeVsReset},
	{"Attempts", testMFAAttempts},
	{"AttemptsConcurrently", testMFAAttemptsConcurrently},
	{"DeleteExpired", testMFADeleteExpired},
	{"FixturesFullyPopulated", testMFAFixturesFullyPopulated},
	{"InvalidValues", testMFAInvalidValues},
	{"KeyBounds", testMFAKeyBounds},
	{"CancelledContext", testMFACancelledContext},
}

// hashOf is a token or code hash for tests: 64 hex digits, distinct per
// seed.
func hashOf(seed string) string {
	sum := sha256.Sum256([]byte("mfa " + seed))
	return hex.EncodeToString(sum[:])
}

// fullPending returns a pending sign-in with every field set.
func fullPending(seed, orgID, userID string) *sso.MFAPending {
	return &sso.MFAPending{
		TokenHash: hashOf(seed), OrgID: orgID, UserID: userID, Email: "Ada.Lovelace@example.com", Connection: "okta",
		Epoch: -7, SessionTTL: 8*time.Hour + time.Nanosecond, ReturnTo: "/dash?tab=1&é=ü",
		ExpiresAt: t0.Add(10*time.Minute + time.Nanosecond), Attempts: 2, Secret: "orgsso-sealed:v1:c2VjcmV0",
	}
}

// fullEnrollment returns an enrollment with every field set.
func fullEnrollment(orgID, userID string) *sso.MFAEnrollment {
	return &sso.MFAEnrollment{
		OrgID: orgID, UserID: userID, Secret: "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", LastStep: 59_000_000,
		RecoverySalt:   hashOf("salt-" + userID)[:32],
		RecoveryHashes: []string{hashOf("c1"), hashOf("c2"), hashOf("c3")},
		CreatedAt:      t0.Add(-time.Hour + time.Nanosecond),
	}
}

func normPending(p *sso.MFAPending) *sso.MFAPending {
	if p == nil {
		return nil
	}
	c := *p
	c.ExpiresAt = normTime(c.ExpiresAt)
	return &c
}

func normEnrollment(e *sso.MFAEnrollment) *sso.MFAEnrollment {
	if e == nil {
		return nil
	}
	c := *e
	c.CreatedAt = normTime(c.CreatedAt)
	return &c
}

func testMFAFixturesFullyPopulated(t *testing.T, _ context.Context, _ Store) {
	for name, v := range map[string]any{
		"MFAPending":    fullPending("p", "o", "u"),
		"MFAEnrollment": fullEnrollment("o", "u"),
	} {
		if zero := zeroFields(reflect.ValueOf(v), name); len(zero) > 0 {
			t.Errorf("storetest fixture leaves %v zero; set every field so round trips test it", zero)
		}
	}
}

// testMFAPendingRoundTrip: a pending sign-in reads back as stored, every
// field, and is a copy; token hashes are unique and case-sensitive.
func testMFAPendingRoundTrip(t *testing.T, ctx context.Context, st Store) {
	want := fullPending("p1", "org1", "user1")
	if err := st.CreateMFAPending(ctx, want); err != nil {
		t.Fatalf("CreateMFAPending() err = %v", err)
	}
	kept := normPending(want)
	want.Email = "changed" // the store keeps its own copy
	got, err := st.MFAPending(ctx, kept.TokenHash)
	if err != nil || !reflect.DeepEqual(normPending(got), kept) {
		t.Fatalf("MFAPending() = %+v, %v; want %+v", got, err, kept)
	}
	got.Attempts = 99
	if again, _ := st.MFAPending(ctx, kept.TokenHash); again == nil || again.Attempts != kept.Attempts {
		t.Errorf("changing a returned pending sign-in changed the stored one: %+v", again)
	}
	if err := st.CreateMFAPending(ctx, fullPending("p1", "org2", "user2")); !errors.Is(err, session.ErrDuplicateID) {
		t.Errorf("CreateMFAPending(same hash) err = %v; want ErrDuplicateID", err)
	}
	for _, h := range []string{hashOf("p2"), strings.ToUpper(kept.TokenHash), ""} {
		if _, err := st.MFAPending(ctx, h); !errors.Is(err, sso.ErrNotFound) {
			t.Errorf("MFAPending(%q) err = %v; want ErrNotFound", h, err)
		}
	}
	// Zero values round-trip too (no secret yet, no connection, epoch 0).
	min := &sso.MFAPending{TokenHash: hashOf("p3"), OrgID: "org1", UserID: "user1", ExpiresAt: t0}
	if err := st.CreateMFAPending(ctx, min); err != nil {
		t.Fatal(err)
	}
	if got, err := st.MFAPending(ctx, min.TokenHash); err != nil || !reflect.DeepEqual(normPending(got), normPending(min)) {
		t.Errorf("MFAPending(minimal) = %+v, %v; want %+v", got, err, min)
	}

	// The enrollment secret: set, replaced; not on an unknown hash.
	for _, secret := range []string{"FIRSTSECRET", "orgsso-sealed:v1:second", ""} {
		if err := st.SetMFAPendingSecret(ctx, min.TokenHash, secret); err != nil {
			t.Fatalf("SetMFAPendingSecret(%q) err = %v", secret, err)
		}
		got, err := st.MFAPending(ctx, min.TokenHash)
		want := *normPending(min)
		want.Secret = secret
		if err != nil || !reflect.DeepEqual(normPending(got), &want) {
			t.Errorf("after SetMFAPendingSecret(%q): %+v, %v; want %+v", secret, got, err, &want)
		}
	}
	if err := st.SetMFAPendingSecret(ctx, hashOf("nope"), "x"); !errors.Is(err, sso.ErrNotFound) {
		t.Errorf("SetMFAPendingSecret(unknown) err = %v; want ErrNotFound", err)
	}
}

// testMFAPendingAttempts: attempts are counted up to the limit, then the
// token gives nothing; the count is stored.
func testMFAPendingAttempts(t *testing.T, ctx context.Context, st Store) {
	p := fullPending("p1", "org1", "user1")
	p.Attempts = 0
	if err := st.CreateMFAPending(ctx, p); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		got, err := st.AttemptMFAPending(ctx, p.TokenHash, 3)
		want := *normPending(p)
		want.Attempts = i
		if err != nil || !reflect.DeepEqual(normPending(got), &want) {
			t.Fatalf("attempt %d: %+v, %v; want %+v", i, got, err, &want)
		}
	}
	if _, err := st.AttemptMFAPending(ctx, p.TokenHash, 3); !errors.Is(err, sso.ErrNotFound) {
		t.Errorf("attempt past the limit: err = %v; want ErrNotFound", err)
	}
	if got, err := st.AttemptMFAPending(ctx, p.TokenHash, 4); err != nil || got.Attempts != 4 {
		t.Errorf("attempt with a higher limit: %+v, %v; want Attempts 4", got, err)
	}
	for _, limit := range []int{0, -1} {
		if _, err := st.AttemptMFAPending(ctx, p.TokenHash, limit); !errors.Is(err, sso.ErrNotFound) {
			t.Errorf("AttemptMFAPending(limit %d) err = %v; want ErrNotFound", limit, err)
		}
	}
	if got, _ := st.MFAPending(ctx, p.TokenHash); got == nil || got.Attempts != 4 {
		t.Errorf("stored Attempts = %+v; want 4", got)
	}
	if _, err := st.AttemptMFAPending(ctx, hashOf("nope"), 5); !errors.Is(err, sso.ErrNotFound) {
		t.Errorf("AttemptMFAPending(unknown) err = %v; want ErrNotFound", err)
	}
}

// testMFAPendingConsume: consuming returns the pending sign-in (expired or
// not, attempts left or not) once, and removes it.
func testMFAPendingConsume(t *testing.T, ctx context.Context, st Store) {
	p := fullPending("p1", "org1", "user1")
	p.ExpiresAt = t0.Add(-time.Hour)
	p.Attempts = 5
	other := fullPending("p2", "org1", "user1")
	for _, x := range []*sso.MFAPending{p, other} {
		if err := st.CreateMFAPending(ctx, x); err != nil {
			t.Fatal(err)
		}
	}
	got, err := st.ConsumeMFAPending(ctx, p.TokenHash)
	if err != nil || !reflect.DeepEqual(normPending(got), normPending(p)) {
		t.Fatalf("ConsumeMFAPending() = %+v, %v; want %+v", got, err, p)
	}
	if _, err := st.ConsumeMFAPending(ctx, p.TokenHash); !errors.Is(err, sso.ErrNotFound) {
		t.Errorf("ConsumeMFAPending() again err = %v; want ErrNotFound", err)
	}
	if _, err := st.MFAPending(ctx, p.TokenHash); !errors.Is(err, sso.ErrNotFound) {
		t.Errorf("MFAPending(consumed) err = %v; want ErrNotFound", err)
	}
	if _, err := st.AttemptMFAPending(ctx, p.TokenHash, 10); !errors.Is(err, sso.ErrNotFound) {
		t.Errorf("AttemptMFAPending(consumed) err = %v; want ErrNotFound", err)
	}
	if err := st.SetMFAPendingSecret(ctx, p.TokenHash, "x"); !errors.Is(err, sso.ErrNotFound) {
		t.Errorf("SetMFAPendingSecret(consumed) err = %v; want ErrNotFound", err)
	}
	if _, err := st.MFAPending(ctx, other.TokenHash); err != nil {
		t.Errorf("the other pending sign-in: err = %v", err)
	}
	if err := st.CreateMFAPending(ctx, p); err != nil {
		t.Errorf("CreateMFAPending(consumed hash) err = %v; want nil", err)
	}
}

func testMFAPendingConsumeConcurrently(t *testing.T, ctx context.Context, st Store) {
	p := fullPending("p1", "org1", "user1")
	if err := st.CreateMFAPending(ctx, p); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var got []*sso.MFAPending
	errs := race(func(int) error {
		x, err := st.ConsumeMFAPending(ctx, p.TokenHash)
		if err == nil {
			mu.Lock()
			got = append(got, x)
			mu.Unlock()
		}
		return err
	})
	checkOneWinner(t, "ConsumeMFAPending", errs, sso.ErrNotFound)
	if len(got) == 1 && !reflect.DeepEqual(normPending(got[0]), normPending(p)) {
		t.Errorf("the winner got %+v; want %+v", got[0], p)
	}
}

// testMFAPendingAttemptsConcurrently: of racers concurrent attempts, no
// more than the limit are counted.
func testMFAPendingAttemptsConcurrently(t *testing.T, ctx context.Context, st Store) {
	p := fullPending("p1", "org1", "user1")
	p.Attempts = 0
	if err := st.CreateMFAPending(ctx, p); err != nil {
		t.Fatal(err)
	}
	const limit = 5
	var mu sync.Mutex
	seen := map[int]bool{}
	errs := race(func(int) error {
		x, err := st.AttemptMFAPending(ctx, p.TokenHash, limit)
		if err == nil {
			mu.Lock()
			seen[x.Attempts] = true
			mu.Unlock()
		}
		return err
	})
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, sso.ErrNotFound):
			t.Errorf("AttemptMFAPending() err = %v; want nil or ErrNotFound", err)
		}
	}
	if ok != limit || len(seen) != limit {
		t.Errorf("%d attempts counted (counts seen %v); want exactly %d, each its own count", ok, seen, limit)
	}
	if got, _ := st.MFAPending(ctx, p.TokenHash); got == nil || got.Attempts != limit {
		t.Errorf("stored Attempts = %+v; want %d", got, limit)
	}
}

// checkOneWinner requires exactly one nil among errs, the rest loser.
func checkOneWinner(t *testing.T, what string, errs []error, loser error) {
	t.Helper()
	wins := 0
	for _, err := range errs {
		switch {
		case err == nil:
			wins++
		case !errors.Is(err, loser):
			t.Errorf("%s() err = %v; want nil or %v", what, err, loser)
		}
	}
	if wins != 1 {
		t.Errorf("%s: %d callers won; want exactly 1", what, wins)
	}
}

// testMFAEnrollmentRoundTrip: an enrollment reads back as stored, per
// organization and user; a second one for the member is refused; deleting
// removes it.
func testMFAEnrollmentRoundTrip(t *testing.T, ctx context.Context, st Store) {
	e := fullEnrollment("org1", "user1")
	if err := st.CreateMFAEnrollment(ctx, e); err != nil {
		t.Fatalf("CreateMFAEnrollment() err = %v", err)
	}
	want := normEnrollment(e)
	want.RecoveryHashes = slices.Clone(e.RecoveryHashes)
	e.RecoveryHashes[0] = "changed" // the store keeps its own copy
	got, err := st.MFAEnrollment(ctx, "org1", "user1")
	if err != nil || !reflect.DeepEqual(normEnrollment(got), want) {
		t.Fatalf("MFAEnrollment() = %+v, %v; want %+v", got, err, want)
	}
	got.RecoveryHashes[1] = "changed"
	if again, _ := st.MFAEnrollment(ctx, "org1", "user1"); again == nil || !reflect.DeepEqual(again.RecoveryHashes, want.RecoveryHashes) {
		t.Errorf("changing a returned enrollment changed the stored one: %+v", again)
	}
	other := fullEnrollment("org1", "user1")
	other.Secret = "OTHER"
	if err := st.CreateMFAEnrollment(ctx, other); !errors.Is(err, session.ErrDuplicateID) {
		t.Errorf("CreateMFAEnrollment(same member) err = %v; want ErrDuplicateID", err)
	}
	if got, _ := st.MFAEnrollment(ctx, "org1", "user1"); got == nil || got.Secret != want.Secret {
		t.Errorf("a refused CreateMFAEnrollment changed the stored one: %+v", got)
	}
	// The same user in another organization, and no recovery codes left.
	none := fullEnrollment("org2", "user1")
	none.RecoveryHashes = nil
	if err := st.CreateMFAEnrollment(ctx, none); err != nil {
		t.Fatalf("CreateMFAEnrollment(org2) err = %v", err)
	}
	if got, err := st.MFAEnrollment(ctx, "org2", "user1"); err != nil || len(got.RecoveryHashes) != 0 || got.Secret != none.Secret {
		t.Errorf("MFAEnrollment(org2) = %+v, %v; want %+v", got, err, none)
	}
	for _, k := range [][2]string{{"org1", "user2"}, {"org3", "user1"}, {"org1", "USER1"}} {
		if _, err := st.MFAEnrollment(ctx, k[0], k[1]); !errors.Is(err, sso.ErrNotFound) {
			t.Errorf("MFAEnrollment(%q, %q) err = %v; want ErrNotFound", k[0], k[1], err)
		}
	}
	if err := st.DeleteMFAEnrollment(ctx, "org1", "user1"); err != nil {
		t.Fatalf("DeleteMFAEnrollment() err = %v", err)
	}
	if _, err := st.MFAEnrollment(ctx, "org1", "user1"); !errors.Is(err, sso.ErrNotFound) {
		t.Errorf("MFAEnrollment(deleted) err = %v; want ErrNotFound", err)
	}
	if err := st.DeleteMFAEnrollment(ctx, "org1", "user1"); !errors.Is(err, sso.ErrNotFound) {
		t.Errorf("DeleteMFAEnrollment() again err = %v; want ErrNotFound", err)
	}
	if _, err := st.MFAEnrollment(ctx, "org2", "user1"); err != nil {
		t.Errorf("the other organization's enrollment: err = %v", err)
	}
	if err := st.CreateMFAEnrollment(ctx, other); err != nil {
		t.Errorf("CreateMFAEnrollment() after the delete err = %v", err)
	}
}

func testMFAEnrollmentCreateConcurrently(t *testing.T, ctx context.Context, st Store) {
	errs := race(func(i int) error {
		e := fullEnrollment("org1", "user1")
		e.Secret = "SECRET" + strings.Repeat("A", i%7)
		return st.CreateMFAEnrollment(ctx, e)
	})
	checkOneWinner(t, "CreateMFAEnrollment", errs, session.ErrDuplicateID)
}

// testMFAUseStep: a TOTP step is accepted only after the last one.
func testMFAUseStep(t *testing.T, ctx context.Context, st Store) {
	e := fullEnrollment("org1", "user1")
	e.LastStep = 100
	if err := st.CreateMFAEnrollment(ctx, e); err != nil {
		t.Fatal(err)
	}
	for _, s := range []struct {
		step    int64
		wantErr error
	}{
		{100, sso.ErrReplay}, {99, sso.ErrReplay}, {-1, sso.ErrReplay}, {101, nil}, {101, sso.ErrReplay},
		{103, nil}, {102, sso.ErrReplay}, {1 << 40, nil},
	} {
		if err := st.UseMFAStep(ctx, "org1", "user1", s.step); !errors.Is(err, s.wantErr) || (s.wantErr == nil && err != nil) {
			t.Errorf("UseMFAStep(%d) err = %v; want %v", s.step, err, s.wantErr)
		}
	}
	got, err := st.MFAEnrollment(ctx, "org1", "user1")
	if err != nil || got.LastStep != 1<<40 {
		t.Errorf("LastStep = %+v, %v; want %d", got, err, int64(1<<40))
	}
	if err := st.UseMFAStep(ctx, "org1", "user2", 1<<41); !errors.Is(err, sso.ErrNotFound) {
		t.Errorf("UseMFAStep(no enrollment) err = %v; want ErrNotFound", err)
	}
}

func testMFAUseStepConcurrently(t *testing.T, ctx context.Context, st Store) {
	e := fullEnrollment("org1", "user1")
	if err := st.CreateMFAEnrollment(ctx, e); err != nil {
		t.Fatal(err)
	}
	errs := race(func(int) error { return st.UseMFAStep(ctx, "org1", "user1", e.LastStep+1) })
	checkOneWinner(t, "UseMFAStep", errs, sso.ErrReplay)
}

// testMFARecoveryCode: each recovery code hash is used once; the others
// stay, in order.
func testMFARecoveryCode(t *testing.T, ctx context.Context, st Store) {
	e := fullEnrollment("org1", "user1")
	if err := st.CreateMFAEnrollment(ctx, e); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateMFAEnrollment(ctx, fullEnrollment("org1", "user2")); err != nil {
		t.Fatal(err)
	}
	for _, s := range []struct {
		user, hash string
		wantErr    error
	}{
		{"user1", hashOf("c2"), nil},
		{"user1", hashOf("c2"), sso.ErrNotFound},
		{"user1", strings.ToUpper(hashOf("c1")), sso.ErrNotFound},
		{"user1", hashOf("c9"), sso.ErrNotFound},
		{"user1", "", sso.ErrNotFound},
		{"user3", hashOf("c1"), sso.ErrNotFound},
		{"user2", hashOf("c2"), nil}, // another member's own copy of the hash
	} {
		err := st.UseMFARecoveryCode(ctx, "org1", s.user, s.hash)
		if !errors.Is(err, s.wantErr) || (s.wantErr == nil && err != nil) {
			t.Errorf("UseMFARecoveryCode(%s, %.8s) err = %v; want %v", s.user, s.hash, err, s.wantErr)
		}
	}
	got, err := st.MFAEnrollment(ctx, "org1", "user1")
	if want := []string{hashOf("c1"), hashOf("c3")}; err != nil || !reflect.DeepEqual(got.RecoveryHashes, want) {
		t.Errorf("RecoveryHashes = %+v, %v; want %v", got, err, want)
	}
	for _, c := range []string{"c1", "c3"} {
		if err := st.UseMFARecoveryCode(ctx, "org1", "user1", hashOf(c)); err != nil {
			t.Errorf("UseMFARecoveryCode(%s) err = %v", c, err)
		}
	}
	if got, err := st.MFAEnrollment(ctx, "org1", "user1"); err != nil || len(got.RecoveryHashes) != 0 {
		t.Errorf("after every code: %+v, %v; want none left", got, err)
	}
}

func testMFARecoveryCodeConcurrently(t *testing.T, ctx context.Context, st Store) {
	if err := st.CreateMFAEnrollment(ctx, fullEnrollment("org1", "user1")); err != nil {
		t.Fatal(err)
	}
	errs := race(func(i int) error {
		return st.UseMFARecoveryCode(ctx, "org1", "user1", hashOf("c"+string(rune('1'+i%3))))
	})
	wins := 0
	for _, err := range errs {
		switch {
		case err == nil:
			wins++
		case !errors.Is(err, sso.ErrNotFound):
			t.Errorf("UseMFARecoveryCode() err = %v", err)
		}
	}
	if wins != 3 {
		t.Errorf("%d codes used; want each of the 3 exactly once", wins)
	}
}

// testMFARestoreStep: a step given back is accepted once more, the steps
// before it stay refused; nothing is given back over a later step, or to
// another enrollment (another salt) or member.
func testMFARestoreStep(t *testing.T, ctx context.Context, st Store) {
	e := fullEnrollment("org1", "user1")
	e.LastStep = 100
	if err := st.CreateMFAEnrollment(ctx, e); err != nil {
		t.Fatal(err)
	}
	use := func(step int64, want error) {
		t.Helper()
		if err := st.UseMFAStep(ctx, "org1", "user1", step); !errors.Is(err, want) || (want == nil && err != nil) {
			t.Errorf("UseMFAStep(%d) err = %v; want %v", step, err, want)
		}
	}
	restore := func(salt string, step int64, want error) {
		t.Helper()
		if err := st.RestoreMFAStep(ctx, "org1", "user1", salt, step); !errors.Is(err, want) || (want == nil && err != nil) {
			t.Errorf("RestoreMFAStep(%.8s, %d) err = %v; want %v", salt, step, err, want)
		}
	}
	use(103, nil)
	restore(e.RecoverySalt, 103, nil)
	use(102, sso.ErrReplay) // LastStep is 102 now: 102 and before stay refused, the given-back 103 works
	use(101, sso.ErrReplay)
	use(103, nil)
	restore(e.RecoverySalt, 102, nil) // not the last step: nothing changes
	use(103, sso.ErrReplay)
	restore(hashOf("another salt")[:32], 103, sso.ErrNotFound)
	use(103, sso.ErrReplay)
	if got, err := st.MFAEnrollment(ctx, "org1", "user1"); err != nil || got.LastStep != 103 {
		t.Errorf("LastStep = %+v, %v; want 103", got, err)
	}
	if err := st.RestoreMFAStep(ctx, "org1", "user2", e.RecoverySalt, 103); !errors.Is(err, sso.ErrNotFound) {
		t.Errorf("RestoreMFAStep(no enrollment) err = %v; want ErrNotFound", err)
	}
}

// testMFARestoreRecoveryCode: a code given back works once more, after the
// others; giving back one that is there changes nothing; nothing is given
// to another enrollment (another salt) or member.
func testMFARestoreRecoveryCode(t *testing.T, ctx context.Context, st Store) {
	e := fullEnrollment("org1", "user1")
	if err := st.CreateMFAEnrollment(ctx, e); err != nil {
		t.Fatal(err)
	}
	if err := st.UseMFARecoveryCode(ctx, "org1", "user1", hashOf("c1")); err != nil {
		t.Fatal(err)
	}
	for _, s := range []struct {
		user, salt, hash string
		wantErr          error
	}{
		{"user1", e.RecoverySalt, hashOf("c1"), nil},
		{"user1", e.RecoverySalt, hashOf("c1"), nil}, // there already
		{"user1", e.RecoverySalt, hashOf("c2"), nil}, // there already
		{"user1", hashOf("another salt")[:32], hashOf("c9"), sso.ErrNotFound},
		{"user1", "", hashOf("c9"), sso.ErrNotFound},
		{"user2", e.RecoverySalt, hashOf("c9"), sso.ErrNotFound},
		{"user1", e.RecoverySalt, "", session.ErrInvalidArgument},
	} {
		err := st.RestoreMFARecoveryCode(ctx, "org1", s.user, s.salt, s.hash)
		if !errors.Is(err, s.wantErr) || (s.wantErr == nil && err != nil) {
			t.Errorf("RestoreMFARecoveryCode(%s, %.8s, %.8s) err = %v; want %v", s.user, s.salt, s.hash, err, s.wantErr)
		}
	}
	got, err := st.MFAEnrollment(ctx, "org1", "user1")
	if want := []string{hashOf("c2"), hashOf("c3"), hashOf("c1")}; err != nil || !reflect.DeepEqual(got.RecoveryHashes, want) {
		t.Errorf("RecoveryHashes = %+v, %v; want %v (the given-back code last)", got, err, want)
	}
	for _, c := range []string{"c1", "c2", "c3"} {
		if err := st.UseMFARecoveryCode(ctx, "org1", "user1", hashOf(c)); err != nil {
			t.Errorf("UseMFARecoveryCode(%s) err = %v", c, err)
		}
	}
	if err := st.RestoreMFARecoveryCode(ctx, "org1", "user1", e.RecoverySalt, hashOf("c2")); err != nil {
		t.Errorf("RestoreMFARecoveryCode(to no codes left) err = %v", err)
	}
	if got, err := st.MFAEnrollment(ctx, "org1", "user1"); err != nil || !reflect.DeepEqual(got.RecoveryHashes, []string{hashOf("c2")}) {
		t.Errorf("RecoveryHashes = %+v, %v; want only c2", got, err)
	}
}

// testMFARestoreRecoveryCodeVsReset: a code given back while the
// enrollment is deleted never turns up in the member's next enrollment.
func testMFARestoreRecoveryCodeVsReset(t *testing.T, ctx context.Context, st Store) {
	for round := range 20 {
		old := fullEnrollment("org1", "user1")
		if err := st.CreateMFAEnrollment(ctx, old); err != nil {
			t.Fatal(err)
		}
		if err := st.UseMFARecoveryCode(ctx, "org1", "user1", hashOf("c1")); err != nil {
			t.Fatal(err)
		}
		errs := race(func(i int) error {
			if i == 0 {
				return st.DeleteMFAEnrollment(ctx, "org1", "user1")
			}
			err := st.RestoreMFARecoveryCode(ctx, "org1", "user1", old.RecoverySalt, hashOf("c1"))
			if errors.Is(err, sso.ErrNotFound) {
				return nil
			}
			return err
		})
		for _, err := range errs {
			if err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
		}
		next := fullEnrollment("org1", "user1")
		next.RecoverySalt = hashOf("next salt")[:32]
		next.RecoveryHashes = []string{hashOf("n1")}
		if err := st.CreateMFAEnrollment(ctx, next); err != nil {
			t.Fatal(err)
		}
		got, err := st.MFAEnrollment(ctx, "org1", "user1")
		if err != nil || !reflect.DeepEqual(got.RecoveryHashes, next.RecoveryHashes) {
			t.Fatalf("round %d: the new enrollment's codes = %+v, %v; want only its own %v", round, got, err, next.RecoveryHashes)
		}
		if err := st.DeleteMFAEnrollment(ctx, "org1", "user1"); err != nil {
			t.Fatal(err)
		}
	}
}

// testMFAAttempts: the member's attempt window counts up until it ends,
// then starts again; clearing and deleting the enrollment forget it.
func testMFAAttempts(t *testing.T, ctx context.Context, st Store) {
	const w = 15 * time.Minute
	count := func(user string, now time.Time, wantN int, wantEnd time.Time) {
		t.Helper()
		n, end, err := st.CountMFAAttempt(ctx, "org1", user, now, now.Add(w))
		if err != nil || n != wantN || !end.Equal(wantEnd) {
			t.Errorf("CountMFAAttempt(%s, %v) = %d, %v, %v; want %d, %v", user, now, n, end, err, wantN, wantEnd)
		}
	}
	count("user1", t0, 1, t0.Add(w))
	count("user1", t0.Add(time.Minute), 2, t0.Add(w))
	count("user1", t0.Add(w-time.Nanosecond), 3, t0.Add(w))
	count("user2", t0.Add(time.Minute), 1, t0.Add(time.Minute+w))
	count("user1", t0.Add(w), 1, t0.Add(2*w)) // the window ended at t0+w
	count("user1", t0.Add(w), 2, t0.Add(2*w))
	if err := st.ClearMFAAttempts(ctx, "org1", "user1"); err != nil {
		t.Fatal(err)
	}
	count("user1", t0.Add(w+time.Second), 1, t0.Add(2*w+time.Second))
	if err := st.ClearMFAAttempts(ctx, "org1", "user9"); err != nil {
		t.Errorf("ClearMFAAttempts(nobody) err = %v; want nil", err)
	}
	if err := st.CreateMFAEnrollment(ctx, fullEnrollment("org1", "user2")); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteMFAEnrollment(ctx, "org1", "user2"); err != nil {
		t.Fatal(err)
	}
	count("user2", t0.Add(2*time.Minute), 1, t0.Add(2*time.Minute+w))
	// An attempt count without an enrollment is forgotten by the delete
	// too, which still reports the missing enrollment.
	if err := st.DeleteMFAEnrollment(ctx, "org1", "user2"); !errors.Is(err, sso.ErrNotFound) {
		t.Errorf("DeleteMFAEnrollment(no enrollment) err = %v; want ErrNotFound", err)
	}
	count("user2", t0.Add(3*time.Minute), 1, t0.Add(3*time.Minute+w))
}

// testMFAAttemptsConcurrently: racers concurrent attempts all count, each
// seeing its own count.
func testMFAAttemptsConcurrently(t *testing.T, ctx context.Context, st Store) {
	var mu sync.Mutex
	seen := map[int]bool{}
	errs := race(func(int) error {
		n, _, err := st.CountMFAAttempt(ctx, "org1", "user1", t0, t0.Add(time.Hour))
		mu.Lock()
		seen[n] = true
		mu.Unlock()
		return err
	})
	for _, err := range errs {
		if err != nil {
			t.Fatalf("CountMFAAttempt() err = %v", err)
		}
	}
	if len(seen) != racers || !seen[1] || !seen[racers] {
		t.Errorf("%d distinct counts; want %d, 1 to %d", len(seen), racers, racers)
	}
}

// testMFADeleteExpired: expired pending sign-ins and ended windows go,
// within the limit; enrollments and live entries stay.
func testMFADeleteExpired(t *testing.T, ctx context.Context, st Store) {
	for i, at := range []time.Duration{-time.Hour, -time.Nanosecond, 0, time.Nanosecond, -2 * time.Hour, -3 * time.Hour} {
		p := fullPending("p"+string(rune('a'+i)), "org1", "user1")
		p.ExpiresAt = t0.Add(at)
		if err := st.CreateMFAPending(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	for i, end := range []time.Duration{-time.Minute, time.Minute} {
		now := t0.Add(end - time.Hour)
		if _, _, err := st.CountMFAAttempt(ctx, "org1", "user"+string(rune('a'+i)), now, t0.Add(end)); err != nil {
			t.Fatal(err)
		}
	}
	e := fullEnrollment("org1", "user1")
	if err := st.CreateMFAEnrollment(ctx, e); err != nil {
		t.Fatal(err)
	}
	if _, err := st.DeleteExpiredMFA(ctx, t0, 0); !errors.Is(err, session.ErrInvalidArgument) {
		t.Errorf("DeleteExpiredMFA(limit 0) err = %v; want ErrInvalidArgument", err)
	}
	// 4 pending sign-ins and 1 window expired: batches of 2.
	total := 0
	for _, want := range []int{2, 2, 1, 0} {
		n, err := st.DeleteExpiredMFA(ctx, t0, 2)
		if err != nil || n != want {
			t.Errorf("DeleteExpiredMFA(limit 2) = %d, %v; want %d", n, err, want)
		}
		total += n
	}
	if total != 5 {
		t.Errorf("removed %d in total; want 5", total)
	}
	for i, alive := range []bool{false, false, true, true, false, false} {
		_, err := st.MFAPending(ctx, hashOf("p"+string(rune('a'+i))))
		if alive != (err == nil) {
			t.Errorf("pending %d: err = %v; want alive %v", i, err, alive)
		}
	}
	// The live window kept its count; the ended one starts again.
	for i, wantN := range []int{1, 2} {
		now := t0.Add(-30 * time.Second)
		if n, _, err := st.CountMFAAttempt(ctx, "org1", "user"+string(rune('a'+i)), now, now.Add(time.Hour)); err != nil || n != wantN {
			t.Errorf("window %d: count %d, %v; want %d", i, n, err, wantN)
		}
	}
	if _, err := st.MFAEnrollment(ctx, "org1", "user1"); err != nil {
		t.Errorf("the enrollment: err = %v; want kept", err)
	}
}

// testMFAInvalidValues: nil values and values missing a key field are
// refused with session.ErrInvalidArgument, and not stored.
func testMFAInvalidValues(t *testing.T, ctx context.Context, st Store) {
	for name, p := range map[string]*sso.MFAPending{
		"nil":          nil,
		"no TokenHash": {OrgID: "org1", UserID: "user1", ExpiresAt: t0},
		"no OrgID":     {TokenHash: hashOf("x"), UserID: "user1", ExpiresAt: t0},
		"no UserID":    {TokenHash: hashOf("y"), OrgID: "org1", ExpiresAt: t0},
	} {
		if err := st.CreateMFAPending(ctx, p); !errors.Is(err, session.ErrInvalidArgument) {
			t.Errorf("CreateMFAPending(%s) err = %v; want ErrInvalidArgument", name, err)
		}
	}
	for _, h := range []string{hashOf("x"), hashOf("y")} {
		if _, err := st.MFAPending(ctx, h); !errors.Is(err, sso.ErrNotFound) {
			t.Errorf("a refused pending sign-in was stored: err = %v", err)
		}
	}
	for name, e := range map[string]*sso.MFAEnrollment{
		"nil":       nil,
		"no OrgID":  {UserID: "user1"},
		"no UserID": {OrgID: "org1"},
	} {
		if err := st.CreateMFAEnrollment(ctx, e); !errors.Is(err, session.ErrInvalidArgument) {
			t.Errorf("CreateMFAEnrollment(%s) err = %v; want ErrInvalidArgument", name, err)
		}
	}
	for name, call := range map[string]func() error{
		"MFAEnrollment":       func() error { _, err := st.MFAEnrollment(ctx, "", "user1"); return err },
		"DeleteMFAEnrollment": func() error { return st.DeleteMFAEnrollment(ctx, "org1", "") },
		"UseMFAStep":          func() error { return st.UseMFAStep(ctx, "", "user1", 1) },
		"UseMFARecoveryCode":  func() error { return st.UseMFARecoveryCode(ctx, "org1", "", hashOf("c1")) },
		"RestoreMFAStep":      func() error { return st.RestoreMFAStep(ctx, "", "user1", "salt", 1) },
		"RestoreMFARecoveryCode": func() error {
			return st.RestoreMFARecoveryCode(ctx, "org1", "", "salt", hashOf("c1"))
		},
		"CountMFAAttempt":  func() error { _, _, err := st.CountMFAAttempt(ctx, "", "user1", t0, t0); return err },
		"ClearMFAAttempts": func() error { return st.ClearMFAAttempts(ctx, "org1", "") },
	} {
		if err := call(); !errors.Is(err, session.ErrInvalidArgument) && !errors.Is(err, sso.ErrNotFound) {
			t.Errorf("%s(empty ID) err = %v; want ErrInvalidArgument or ErrNotFound", name, err)
		}
	}
}

// testMFAKeyBounds: every key of the MFA methods is bounded by
// sso.MaxKeyBytes, as every other key: one byte more is
// ErrInvalidArgument, exactly that many is stored.
func testMFAKeyBounds(t *testing.T, ctx context.Context, st Store) {
	keyed := []struct {
		name string
		call func(k string) error
	}{
		{"CreateMFAPending(TokenHash)", func(k string) error {
			return st.CreateMFAPending(ctx, &sso.MFAPending{TokenHash: k, OrgID: "o", UserID: "u", ExpiresAt: t0})
		}},
		{"CreateMFAPending(OrgID)", func(k string) error {
			return st.CreateMFAPending(ctx, &sso.MFAPending{TokenHash: hashOf(k), OrgID: k, UserID: "u", ExpiresAt: t0})
		}},
		{"CreateMFAPending(UserID)", func(k string) error {
			return st.CreateMFAPending(ctx, &sso.MFAPending{TokenHash: hashOf("u" + k), OrgID: "o", UserID: k, ExpiresAt: t0})
		}},
		{"MFAPending", func(k string) error { _, err := st.MFAPending(ctx, k); return err }},
		{"SetMFAPendingSecret", func(k string) error { return st.SetMFAPendingSecret(ctx, k, "s") }},
		{"AttemptMFAPending", func(k string) error { _, err := st.AttemptMFAPending(ctx, k, 5); return err }},
		{"ConsumeMFAPending", func(k string) error { _, err := st.ConsumeMFAPending(ctx, k); return err }},
		{"CreateMFAEnrollment(OrgID)", func(k string) error { return st.CreateMFAEnrollment(ctx, &sso.MFAEnrollment{OrgID: k, UserID: "u"}) }},
		{"CreateMFAEnrollment(UserID)", func(k string) error {
			return st.CreateMFAEnrollment(ctx, &sso.MFAEnrollment{OrgID: "o", UserID: k})
		}},
		{"MFAEnrollment", func(k string) error { _, err := st.MFAEnrollment(ctx, "o", k); return err }},
		{"DeleteMFAEnrollment", func(k string) error { return st.DeleteMFAEnrollment(ctx, k, "u") }},
		{"UseMFAStep", func(k string) error { return st.UseMFAStep(ctx, "o", k, 1) }},
		{"UseMFARecoveryCode", func(k string) error { return st.UseMFARecoveryCode(ctx, "o", "u", k) }},
		{"RestoreMFAStep", func(k string) error { return st.RestoreMFAStep(ctx, "o", k, "salt", 1) }},
		{"RestoreMFARecoveryCode(hash)", func(k string) error { return st.RestoreMFARecoveryCode(ctx, "o", "u", "salt", k) }},
		{"RestoreMFARecoveryCode(salt)", func(k string) error { return st.RestoreMFARecoveryCode(ctx, "o", "u", k, "h") }},
		{"CountMFAAttempt", func(k string) error { _, _, err := st.CountMFAAttempt(ctx, k, "u", t0, t0); return err }},
		{"ClearMFAAttempts", func(k string) error { return st.ClearMFAAttempts(ctx, "o", k) }},
	}
	for kind, k := range oversizedKeys {
		for _, c := range keyed {
			if err := c.call(k); !errors.Is(err, session.ErrInvalidArgument) {
				t.Errorf("%s(%s key of %d bytes) err = %v; want ErrInvalidArgument", c.name, kind, len(k), err)
			}
		}
	}
	for kind, k := range maxSizeKeys {
		for _, c := range keyed {
			if err := c.call(k); errors.Is(err, session.ErrInvalidArgument) {
				t.Errorf("%s(%s key of %d bytes) err = %v; want it accepted", c.name, kind, len(k), err)
			}
		}
	}
}

// testMFACancelledContext: every MFA method fails with context.Canceled on
// a cancelled context, and works after.
func testMFACancelledContext(t *testing.T, ctx context.Context, st Store) {
	if err := st.CreateMFAPending(ctx, fullPending("p1", "org1", "user1")); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateMFAEnrollment(ctx, fullEnrollment("org1", "user1")); err != nil {
		t.Fatal(err)
	}
	h := hashOf("p1")
	calls := []struct {
		name string
		do   func(ctx context.Context) error
	}{
		{"CreateMFAPending", func(ctx context.Context) error { return st.CreateMFAPending(ctx, fullPending("p2", "org1", "user1")) }},
		{"MFAPending", func(ctx context.Context) error { _, err := st.MFAPending(ctx, h); return err }},
		{"SetMFAPendingSecret", func(ctx context.Context) error { return st.SetMFAPendingSecret(ctx, h, "s") }},
		{"AttemptMFAPending", func(ctx context.Context) error { _, err := st.AttemptMFAPending(ctx, h, 5); return err }},
		{"MFAEnrollment", func(ctx context.Context) error { _, err := st.MFAEnrollment(ctx, "org1", "user1"); return err }},
		{"UseMFAStep", func(ctx context.Context) error {
			return st.UseMFAStep(ctx, "org1", "user1", fullEnrollment("o", "u").LastStep+1)
		}},
		{"UseMFARecoveryCode", func(ctx context.Context) error { return st.UseMFARecoveryCode(ctx, "org1", "user1", hashOf("c1")) }},
		{"RestoreMFAStep", func(ctx context.Context) error {
			e := fullEnrollment("org1", "user1") // the salt fullEnrollment("org1", "user1") has
			return st.RestoreMFAStep(ctx, "org1", "user1", e.RecoverySalt, e.LastStep+1)
		}},
		{"RestoreMFARecoveryCode", func(ctx context.Context) error {
			return st.RestoreMFARecoveryCode(ctx, "org1", "user1", fullEnrollment("org1", "user1").RecoverySalt, hashOf("c1"))
		}},
		{"CountMFAAttempt", func(ctx context.Context) error {
			_, _, err := st.CountMFAAttempt(ctx, "org1", "user1", t0, t0.Add(time.Minute))
			return err
		}},
		{"ClearMFAAttempts", func(ctx context.Context) error { return st.ClearMFAAttempts(ctx, "org1", "user1") }},
		{"DeleteExpiredMFA", func(ctx context.Context) error { _, err := st.DeleteExpiredMFA(ctx, t0, 10); return err }},
		{"ConsumeMFAPending", func(ctx context.Context) error { _, err := st.ConsumeMFAPending(ctx, h); return err }},
		{"DeleteMFAEnrollment", func(ctx context.Context) error { return st.DeleteMFAEnrollment(ctx, "org1", "user1") }},
		{"CreateMFAEnrollment", func(ctx context.Context) error {
			return st.CreateMFAEnrollment(ctx, fullEnrollment("org1", "user1"))
		}},
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	for _, c := range calls {
		if err := c.do(cancelled); !errors.Is(err, context.Canceled) {
			t.Errorf("%s(cancelled context) err = %v; want context.Canceled", c.name, err)
		}
	}
	// The context is checked first, before the other arguments.
	long := strings.Repeat("h", sso.MaxKeyBytes+1)
	for name, do := range map[string]func(ctx context.Context) error{
		"UseMFARecoveryCode(long hash)":     func(ctx context.Context) error { return st.UseMFARecoveryCode(ctx, "org1", "user1", long) },
		"RestoreMFAStep(long salt)":         func(ctx context.Context) error { return st.RestoreMFAStep(ctx, "org1", "user1", long, 1) },
		"RestoreMFARecoveryCode(long hash)": func(ctx context.Context) error { return st.RestoreMFARecoveryCode(ctx, "org1", "user1", "salt", long) },
	} {
		if err := do(cancelled); !errors.Is(err, context.Canceled) {
			t.Errorf("%s(cancelled context) err = %v; want context.Canceled", name, err)
		}
	}
	for _, c := range calls {
		if err := c.do(ctx); err != nil {
			t.Errorf("%s() after the cancelled calls err = %v; want nil", c.name, err)
		}
	}
}

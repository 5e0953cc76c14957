package storetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
)

var requestTests = []test{
	{"SaveAndConsume", testRequests},
	{"RoundTrip", testRequestRoundTrip},
	{"OrgIsolation", testRequestOrgIsolation},
	{"ConsumeMatching", testConsumeMatchingRequest},
	{"ConsumeMatchingRoundTrip", testConsumeMatchingRoundTrip},
	{"CrossOrgNoBurn", testRequestCrossOrgNoBurn},
}

var assertionTests = []test{
	{"Use", testUseAssertion},
	{"ExpiredIsStillReplay", testAssertionExpiredStillReplay},
	{"UsableAgainAfterCleanup", testAssertionAfterCleanup},
}

// fullRequest returns a pending request with every field set.
func fullRequest(id, orgID string) *sso.PendingRequest {
	return &sso.PendingRequest{ID: id, OrgID: orgID, ReturnTo: "/dash?tab=1", TesterUserID: "owner", ExpiresAt: t0.Add(time.Minute),
		BindingHash: bindingHashOf(id), Connection: "okta", Nonce: "nonce-" + id, CodeVerifier: sso.Secret("verifier-" + id)}
}

// bindingHashOf is a binding hash for tests: 64 hex digits, distinct per seed.
func bindingHashOf(seed string) string {
	sum := sha256.Sum256([]byte("binding " + seed))
	return hex.EncodeToString(sum[:])
}

func testRequests(t *testing.T, ctx context.Context, st Store) {
	r1 := &sso.PendingRequest{ID: "id-1", OrgID: "org1", ReturnTo: "/dash", ExpiresAt: t0.Add(time.Minute)}
	r2 := &sso.PendingRequest{ID: "id-2", OrgID: "org1", TesterUserID: "owner", ExpiresAt: t0.Add(-time.Hour)}
	steps := []struct {
		name    string
		save    *sso.PendingRequest // else consume
		consume string
		want    *sso.PendingRequest
		wantErr error
	}{
		{name: "save r1", save: r1},
		{name: "save r2", save: r2},
		{name: "save r1 again", save: r1, wantErr: session.ErrDuplicateID},
		{name: "save same ID, other org", save: &sso.PendingRequest{ID: "id-1", OrgID: "org2", ExpiresAt: t0}, wantErr: session.ErrDuplicateID},
		{name: "consume r1", consume: "id-1", want: r1},
		{name: "consume r1 again", consume: "id-1", wantErr: sso.ErrNotFound},
		{name: "consume an expired request", consume: "id-2", want: r2},
		{name: "consume unknown", consume: "id-3", wantErr: sso.ErrNotFound},
		{name: "consume empty ID", consume: "", wantErr: sso.ErrNotFound},
		{name: "consume is case-sensitive", save: &sso.PendingRequest{ID: "id-4", OrgID: "org1", ExpiresAt: t0}},
		{name: "ID-4 uppercased", consume: "ID-4", wantErr: sso.ErrNotFound},
		{name: "consumed ID may be saved again", save: r1},
		{name: "and consumed again", consume: "id-1", want: r1},
	}
	for _, s := range steps {
		if s.save != nil {
			err := st.SaveRequest(ctx, s.save)
			if !errors.Is(err, s.wantErr) {
				t.Fatalf("%s: SaveRequest() err = %v; want %v", s.name, err, s.wantErr)
			}
			continue
		}
		got, err := st.ConsumeRequest(ctx, s.consume)
		if !errors.Is(err, s.wantErr) {
			t.Fatalf("%s: ConsumeRequest(%q) err = %v; want %v", s.name, s.consume, err, s.wantErr)
		}
		if !reflect.DeepEqual(normRequest(got), normRequest(s.want)) {
			t.Errorf("%s: ConsumeRequest(%q) = %+v; want %+v", s.name, s.consume, got, s.want)
		}
		if got != nil && got == s.want {
			t.Errorf("%s: ConsumeRequest returned the saved pointer", s.name)
		}
	}
}

// testRequestRoundTrip: every field, and times to the nanosecond, in any
// location, from the zero Time to the year 9999.
func testRequestRoundTrip(t *testing.T, ctx context.Context, st Store) {
	paris := time.FixedZone("CET", 3600)
	reqs := []*sso.PendingRequest{
		fullRequest("full", "org1"),
		{ID: "zero-time"},
		{ID: "nanos", OrgID: "org1", ExpiresAt: t0.Add(123456789 * time.Nanosecond)},
		{ID: "zone", OrgID: "org1", ExpiresAt: time.Date(2026, 3, 1, 13, 0, 0, 1, paris)},
		{ID: "monotonic", OrgID: "org1", ExpiresAt: time.Now().Add(time.Minute)},
		{ID: "far future", OrgID: "org1", ExpiresAt: time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)},
		{ID: "beyond UnixNano", OrgID: "org1", ExpiresAt: time.Date(2300, 1, 1, 0, 0, 0, 7, time.UTC)},
		{ID: "before 1970", OrgID: "org1", ExpiresAt: time.Date(1901, 12, 13, 20, 45, 51, 999999999, time.UTC)},
		{ID: "ünïcödé-ID ✓", OrgID: "Ωrg", ReturnTo: "/späce path?q=a b&x='1'#frag", TesterUserID: "用户"},
		{ID: "binding only", OrgID: "org1", BindingHash: bindingHashOf("x")},
	}
	for _, r := range reqs {
		if err := st.SaveRequest(ctx, r); err != nil {
			t.Errorf("SaveRequest(%q) err = %v; want nil", r.ID, err)
			continue
		}
		got, err := st.ConsumeRequest(ctx, r.ID)
		if err != nil || !reflect.DeepEqual(normRequest(got), normRequest(r)) {
			t.Errorf("ConsumeRequest(%q) = %+v, %v; want %+v", r.ID, got, err, r)
		}
	}
}

// testRequestOrgIsolation: request IDs are global; each consume returns the
// organization its request was made for, and leaves the others.
func testRequestOrgIsolation(t *testing.T, ctx context.Context, st Store) {
	for _, r := range []*sso.PendingRequest{fullRequest("a", "org1"), fullRequest("b", "org2")} {
		if err := st.SaveRequest(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	got, err := st.ConsumeRequest(ctx, "b")
	if err != nil || got.OrgID != "org2" {
		t.Fatalf("ConsumeRequest(b) = %+v, %v; want org2's request", got, err)
	}
	got, err = st.ConsumeRequest(ctx, "a")
	if err != nil || got.OrgID != "org1" {
		t.Fatalf("ConsumeRequest(a) = %+v, %v; want org1's request", got, err)
	}
}

// testConsumeMatchingRequest: ConsumeMatchingRequest takes a request only
// when ID, organization and binding hash all match; any mismatch leaves it in
// place and is ErrNotFound.
func testConsumeMatchingRequest(t *testing.T, ctx context.Context, st Store) {
	r1 := fullRequest("id-1", "org1")
	r2 := &sso.PendingRequest{ID: "id-2", OrgID: "org1", ExpiresAt: t0.Add(-time.Hour), BindingHash: bindingHashOf("id-2")}
	unbound := &sso.PendingRequest{ID: "id-3", OrgID: "org1", ExpiresAt: t0.Add(time.Minute)}
	for _, r := range []*sso.PendingRequest{r1, r2, unbound} {
		if err := st.SaveRequest(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		name               string
		id, orgID, binding string
		want               *sso.PendingRequest
		wantErr            error
	}{
		{name: "other organization", id: "id-1", orgID: "org2", binding: r1.BindingHash, wantErr: sso.ErrNotFound},
		{name: "other binding", id: "id-1", orgID: "org1", binding: r2.BindingHash, wantErr: sso.ErrNotFound},
		{name: "no binding", id: "id-1", orgID: "org1", binding: "", wantErr: sso.ErrNotFound},
		{name: "binding in upper case", id: "id-1", orgID: "org1", binding: strings.ToUpper(r1.BindingHash), wantErr: sso.ErrNotFound},
		{name: "organization in upper case", id: "id-1", orgID: "ORG1", binding: r1.BindingHash, wantErr: sso.ErrNotFound},
		{name: "unknown ID", id: "id-9", orgID: "org1", binding: r1.BindingHash, wantErr: sso.ErrNotFound},
		{name: "empty ID", id: "", orgID: "org1", binding: r1.BindingHash, wantErr: sso.ErrNotFound},
		{name: "invalid UTF-8", id: "id-1\xff", orgID: "org1\x00", binding: r1.BindingHash, wantErr: sso.ErrNotFound},
		{name: "match, after every mismatch", id: "id-1", orgID: "org1", binding: r1.BindingHash, want: r1},
		{name: "match again", id: "id-1", orgID: "org1", binding: r1.BindingHash, wantErr: sso.ErrNotFound},
		{name: "an expired request matches", id: "id-2", orgID: "org1", binding: r2.BindingHash, want: r2},
		{name: "unbound request, some binding", id: "id-3", orgID: "org1", binding: r1.BindingHash, wantErr: sso.ErrNotFound},
	}
	for _, s := range steps {
		got, err := st.ConsumeMatchingRequest(ctx, s.id, s.orgID, s.binding)
		if !errors.Is(err, s.wantErr) {
			t.Fatalf("%s: ConsumeMatchingRequest(%q, %q, …) err = %v; want %v", s.name, s.id, s.orgID, err, s.wantErr)
		}
		if !reflect.DeepEqual(normRequest(got), normRequest(s.want)) {
			t.Errorf("%s: ConsumeMatchingRequest(%q, %q, …) = %+v; want %+v", s.name, s.id, s.orgID, got, s.want)
		}
	}
	// The mismatches left the unbound request; ConsumeRequest still takes it.
	if got, err := st.ConsumeRequest(ctx, "id-3"); err != nil || !reflect.DeepEqual(normRequest(got), normRequest(unbound)) {
		t.Errorf("ConsumeRequest(id-3) = %+v, %v; want %+v", got, err, unbound)
	}
}

// testConsumeMatchingRoundTrip: what ConsumeMatchingRequest returns is what
// was saved, every field.
func testConsumeMatchingRoundTrip(t *testing.T, ctx context.Context, st Store) {
	r := fullRequest("ünïcödé ✓", "Ωrg")
	r.ExpiresAt = t0.Add(123456789 * time.Nanosecond)
	if err := st.SaveRequest(ctx, r); err != nil {
		t.Fatal(err)
	}
	got, err := st.ConsumeMatchingRequest(ctx, r.ID, r.OrgID, r.BindingHash)
	if err != nil || !reflect.DeepEqual(normRequest(got), normRequest(r)) {
		t.Errorf("ConsumeMatchingRequest() = %+v, %v; want %+v", got, err, r)
	}
	if got == r {
		t.Error("ConsumeMatchingRequest returned the saved pointer")
	}
}

// testRequestCrossOrgNoBurn: organization A naming organization B's request
// ID (as A's IdP may) does not use it up: B's genuine response still finds it.
func testRequestCrossOrgNoBurn(t *testing.T, ctx context.Context, st Store) {
	b := fullRequest("id-of-b", "org-b")
	if err := st.SaveRequest(ctx, b); err != nil {
		t.Fatal(err)
	}
	for _, binding := range []string{b.BindingHash, bindingHashOf("attacker"), ""} {
		if _, err := st.ConsumeMatchingRequest(ctx, b.ID, "org-a", binding); !errors.Is(err, sso.ErrNotFound) {
			t.Fatalf("ConsumeMatchingRequest(B's ID, org A) err = %v; want ErrNotFound", err)
		}
	}
	got, err := st.ConsumeMatchingRequest(ctx, b.ID, "org-b", b.BindingHash)
	if err != nil || got.OrgID != "org-b" {
		t.Errorf("ConsumeMatchingRequest(B's ID, org B) after A's tries = %+v, %v; want B's request", got, err)
	}
}

func testUseAssertion(t *testing.T, ctx context.Context, st Store) {
	until := t0.Add(5 * time.Minute)
	steps := []struct {
		name               string
		orgID, assertionID string
		wantErr            error
	}{
		{name: "first use", orgID: "org1", assertionID: "a1"},
		{name: "replay", orgID: "org1", assertionID: "a1", wantErr: sso.ErrReplay},
		{name: "replay again", orgID: "org1", assertionID: "a1", wantErr: sso.ErrReplay},
		{name: "same ID, other org", orgID: "org2", assertionID: "a1"},
		{name: "replay in other org", orgID: "org2", assertionID: "a1", wantErr: sso.ErrReplay},
		{name: "other ID", orgID: "org1", assertionID: "a2"},
		{name: "IDs are case-sensitive", orgID: "org1", assertionID: "A1"},
		{name: "org IDs are case-sensitive", orgID: "ORG1", assertionID: "a1"},
		{name: "IDs are not trimmed", orgID: "org1", assertionID: "a1 "},
		{name: "empty org ID", orgID: "", assertionID: "a3", wantErr: session.ErrInvalidArgument},
		{name: "empty assertion ID", orgID: "org1", assertionID: "", wantErr: session.ErrInvalidArgument},
	}
	for _, s := range steps {
		err := st.UseAssertion(ctx, s.orgID, s.assertionID, until)
		if !errors.Is(err, s.wantErr) || (s.wantErr != sso.ErrReplay && errors.Is(err, sso.ErrReplay)) {
			t.Errorf("%s: UseAssertion(%q, %q) err = %v; want %v", s.name, s.orgID, s.assertionID, err, s.wantErr)
		}
	}
}

// testAssertionExpiredStillReplay: the store has no clock; an ID whose until
// has long passed is a replay until Cleanup evicts it.
func testAssertionExpiredStillReplay(t *testing.T, ctx context.Context, st Store) {
	past := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := st.UseAssertion(ctx, "org1", "old", past); err != nil {
		t.Fatal(err)
	}
	if err := st.UseAssertion(ctx, "org1", "old", t0.Add(time.Hour)); !errors.Is(err, sso.ErrReplay) {
		t.Errorf("UseAssertion(expired, not cleaned up) err = %v; want ErrReplay", err)
	}
	// Recording again did not extend it: Cleanup just after the first until
	// evicts it.
	if n, err := st.Cleanup(ctx, past.Add(time.Nanosecond)); err != nil || n != 1 {
		t.Errorf("Cleanup() = %d, %v; want 1, nil", n, err)
	}
}

func testAssertionAfterCleanup(t *testing.T, ctx context.Context, st Store) {
	until := t0.Add(5 * time.Minute)
	for _, org := range []string{"org1", "org2"} {
		if err := st.UseAssertion(ctx, org, "a1", until); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.UseAssertion(ctx, "org3", "a1", until.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if n, err := st.Cleanup(ctx, until); err != nil || n != 0 {
		t.Errorf("Cleanup(at until) = %d, %v; want 0, nil: kept through the instant", n, err)
	}
	if err := st.UseAssertion(ctx, "org1", "a1", until); !errors.Is(err, sso.ErrReplay) {
		t.Errorf("UseAssertion() at until err = %v; want ErrReplay", err)
	}
	if n, err := st.Cleanup(ctx, until.Add(time.Nanosecond)); err != nil || n != 2 {
		t.Errorf("Cleanup(past until) = %d, %v; want 2, nil", n, err)
	}
	for _, org := range []string{"org1", "org2"} {
		if err := st.UseAssertion(ctx, org, "a1", until); err != nil {
			t.Errorf("UseAssertion(%s) after Cleanup err = %v; want nil", org, err)
		}
	}
	if err := st.UseAssertion(ctx, "org3", "a1", until); !errors.Is(err, sso.ErrReplay) {
		t.Errorf("UseAssertion(org3) after Cleanup err = %v; want ErrReplay: its until is later", err)
	}
}

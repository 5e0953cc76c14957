package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/orgsso/orgsso/session"
)

var listSessionsTests = []test{
	{"Filters", testListSessionsFilters},
	{"Pages", testListSessionsPages},
	{"Limits", testListSessionsLimits},
	{"Copies", testListSessionsCopies},
}

var endSessionsTests = []test{
	{"Steps", testEndSessions},
	{"Arguments", testEndSessionsArguments},
}

// listed is seeded by seedListed: sessions of org1 (users u1 and u2, both
// methods), with one of org2 and one of "org10", around t0. The IDs sort, as
// bytes, in this order: upper case, then '_', then lower case, then
// non-ASCII.
var listed = []struct {
	id, org, user, method string
	expires               time.Time
	ended                 string
}{
	{id: "B3", org: "org1", user: "u2", method: session.MethodSSO, expires: t0.Add(time.Hour)},
	{id: "_8", org: "org1", user: "u2", method: session.MethodPassword, expires: t0.Add(time.Hour)},
	{id: "a1", org: "org1", user: "u1", method: session.MethodSSO, expires: t0.Add(time.Hour)},
	{id: "a2", org: "org1", user: "u1", method: session.MethodPassword, expires: t0.Add(time.Hour)},
	{id: "a4", org: "org1", user: "u2", method: session.MethodSSO, expires: t0}, // expired at t0
	{id: "a5", org: "org1", user: "u1", method: session.MethodSSO, expires: t0.Add(time.Nanosecond)},
	{id: "a6", org: "org1", user: "u1", method: session.MethodSSO, expires: t0.Add(time.Hour), ended: session.EndRevoked},
	{id: "a6x", org: "org1", user: "u1", method: session.MethodSSO, expires: t0.Add(-time.Hour), ended: session.EndSSODisabled},
	{id: "\u00e97", org: "org1", user: "u1", method: session.MethodSSO, expires: t0.Add(time.Hour)},
	{id: "a9", org: "org2", user: "u1", method: session.MethodSSO, expires: t0.Add(time.Hour)},
	{id: "a0", org: "org10", user: "u1", method: session.MethodSSO, expires: t0.Add(time.Hour)},
}

// seedListed creates the listed sessions, in reverse, and returns them by
// ID.
func seedListed(t *testing.T, ctx context.Context, st Store) map[string]*session.Session {
	t.Helper()
	byID := map[string]*session.Session{}
	for _, l := range slices.Backward(listed) {
		s := newSession(l.id, l.org, l.method, l.expires)
		s.UserID, s.EndReason, s.Epoch = l.user, l.ended, int64(len(byID))
		if err := st.CreateSession(ctx, s); err != nil {
			t.Fatal(err)
		}
		byID[l.id] = s
	}
	return byID
}

// ids returns the IDs of sessions, to compare listings legibly.
func ids(sessions []*session.Session) []string {
	out := make([]string, len(sessions))
	for i, s := range sessions {
		out[i] = s.ID
	}
	return out
}

// checkListed checks a listing: the sessions with wantIDs, in that order,
// exactly as created.
func checkListed(t *testing.T, what string, got []*session.Session, err error, byID map[string]*session.Session, wantIDs []string) {
	t.Helper()
	if err != nil {
		t.Errorf("%s err = %v; want nil", what, err)
		return
	}
	if !slices.Equal(ids(got), wantIDs) {
		t.Errorf("%s = %q; want %q", what, ids(got), wantIDs)
		return
	}
	for _, s := range got {
		if !reflect.DeepEqual(normSession(s), normSession(byID[s.ID])) {
			t.Errorf("%s listed %+v; want %+v", what, s, byID[s.ID])
		}
	}
}

// testListSessionsFilters: the organization's sessions, of one user and one
// method when the query says so, neither ended nor expired at now, in
// ascending ID order.
func testListSessionsFilters(t *testing.T, ctx context.Context, st Store) {
	byID := seedListed(t, ctx, st)
	tests := []struct {
		name string
		q    session.Query
		now  time.Time
		want []string
	}{
		{name: "org1", q: session.Query{OrgID: "org1"}, now: t0, want: []string{"B3", "_8", "a1", "a2", "a5", "\u00e97"}},
		{name: "org1, 1ns before t0: a4 is not expired yet", q: session.Query{OrgID: "org1"}, now: t0.Add(-time.Nanosecond),
			want: []string{"B3", "_8", "a1", "a2", "a4", "a5", "\u00e97"}},
		{name: "org1, 1ns after t0: a5 expires then", q: session.Query{OrgID: "org1"}, now: t0.Add(time.Nanosecond),
			want: []string{"B3", "_8", "a1", "a2", "\u00e97"}},
		{name: "org1 in another zone", q: session.Query{OrgID: "org1"}, now: t0.In(time.FixedZone("X", -5*3600)),
			want: []string{"B3", "_8", "a1", "a2", "a5", "\u00e97"}},
		{name: "org1, long after", q: session.Query{OrgID: "org1"}, now: t0.Add(24 * time.Hour)},
		{name: "user u1", q: session.Query{OrgID: "org1", UserID: "u1"}, now: t0, want: []string{"a1", "a2", "a5", "\u00e97"}},
		{name: "user u2", q: session.Query{OrgID: "org1", UserID: "u2"}, now: t0, want: []string{"B3", "_8"}},
		{name: "SSO", q: session.Query{OrgID: "org1", Method: session.MethodSSO}, now: t0, want: []string{"B3", "a1", "a5", "\u00e97"}},
		{name: "password", q: session.Query{OrgID: "org1", Method: session.MethodPassword}, now: t0, want: []string{"_8", "a2"}},
		{name: "user u1, SSO", q: session.Query{OrgID: "org1", UserID: "u1", Method: session.MethodSSO}, now: t0, want: []string{"a1", "a5", "\u00e97"}},
		{name: "user u2, password", q: session.Query{OrgID: "org1", UserID: "u2", Method: session.MethodPassword}, now: t0, want: []string{"_8"}},
		{name: "org2", q: session.Query{OrgID: "org2"}, now: t0, want: []string{"a9"}},
		{name: "org10 is not org1", q: session.Query{OrgID: "org10"}, now: t0, want: []string{"a0"}},
		{name: "unknown method", q: session.Query{OrgID: "org1", Method: "magic"}, now: t0},
		{name: "user ID is case-sensitive", q: session.Query{OrgID: "org1", UserID: "U1"}, now: t0},
		{name: "org ID is case-sensitive", q: session.Query{OrgID: "ORG1"}, now: t0},
		{name: "org ID is not a prefix", q: session.Query{OrgID: "org"}, now: t0},
		{name: "unknown org", q: session.Query{OrgID: "org3"}, now: t0},
		{name: "SQL-looking user ID", q: session.Query{OrgID: "org1", UserID: "' OR '1'='1"}, now: t0},
		{name: "LIKE pattern is literal", q: session.Query{OrgID: "org1", UserID: "u%"}, now: t0},
	}
	for _, tt := range tests {
		got, err := st.ListSessions(ctx, tt.q, tt.now)
		checkListed(t, fmt.Sprintf("%s: ListSessions(%+v)", tt.name, tt.q), got, err, byID, tt.want)
	}
}

// testListSessionsPages walks org1's listing page by page, and starts from
// cursors no session has.
func testListSessionsPages(t *testing.T, ctx context.Context, st Store) {
	byID := seedListed(t, ctx, st)
	all := []string{"B3", "_8", "a1", "a2", "a5", "\u00e97"}
	for _, limit := range []int{1, 2, 4, 6} {
		var got []string
		q := session.Query{OrgID: "org1", Limit: limit}
		for pages := 0; ; pages++ {
			page, err := st.ListSessions(ctx, q, t0)
			if err != nil || len(page) > limit || pages > len(all) {
				t.Fatalf("ListSessions(%+v) = %q, %v, page %d; want at most %d sessions", q, ids(page), err, pages, limit)
			}
			got = append(got, ids(page)...)
			if len(page) < limit {
				break
			}
			q.After = page[len(page)-1].ID
		}
		if !slices.Equal(got, all) {
			t.Errorf("walking ListSessions(org1) by %d = %q; want %q", limit, got, all)
		}
	}
	tests := []struct {
		after string
		want  []string
	}{
		{after: "", want: all},
		{after: "A", want: all},
		{after: "B3", want: all[1:]},
		{after: "_", want: all[1:]},
		{after: "a", want: all[2:]},
		{after: "a1", want: all[3:]},
		{after: "a4", want: all[4:]}, // a4 is expired; the cursor still works
		{after: "a6", want: all[5:]}, // a6 is ended
		{after: "b", want: all[5:]},
		{after: "\u00e97", want: nil},
		{after: "\u00e98", want: nil},
	}
	for _, tt := range tests {
		q := session.Query{OrgID: "org1", After: tt.after}
		got, err := st.ListSessions(ctx, q, t0)
		checkListed(t, fmt.Sprintf("ListSessions(%+v)", q), got, err, byID, tt.want)
	}
	// The cursor and the filters combine.
	q := session.Query{OrgID: "org1", UserID: "u1", Method: session.MethodSSO, After: "a1", Limit: 1}
	got, err := st.ListSessions(ctx, q, t0)
	checkListed(t, fmt.Sprintf("ListSessions(%+v)", q), got, err, byID, []string{"a5"})
}

// testListSessionsLimits: Limit 0 lists up to DefaultListLimit; a negative
// limit, one above MaxListLimit and an empty OrgID are ErrInvalidArgument.
func testListSessionsLimits(t *testing.T, ctx context.Context, st Store) {
	var all []string
	for i := range session.DefaultListLimit + 1 {
		id := fmt.Sprintf("s%04d", i)
		if err := st.CreateSession(ctx, newSession(id, "org1", session.MethodSSO, t0.Add(time.Hour))); err != nil {
			t.Fatal(err)
		}
		all = append(all, id)
	}
	tests := []struct {
		name    string
		q       session.Query
		wantErr error
		want    []string
	}{
		{name: "limit 0: DefaultListLimit", q: session.Query{OrgID: "org1"}, want: all[:session.DefaultListLimit]},
		{name: "limit 1", q: session.Query{OrgID: "org1", Limit: 1}, want: all[:1]},
		{name: "limit MaxListLimit", q: session.Query{OrgID: "org1", Limit: session.MaxListLimit}, want: all},
		{name: "limit 0 after the first page", q: session.Query{OrgID: "org1", After: all[session.DefaultListLimit-1]}, want: all[session.DefaultListLimit:]},
		{name: "negative limit", q: session.Query{OrgID: "org1", Limit: -1}, wantErr: session.ErrInvalidArgument},
		{name: "limit above MaxListLimit", q: session.Query{OrgID: "org1", Limit: session.MaxListLimit + 1}, wantErr: session.ErrInvalidArgument},
		{name: "empty org ID", q: session.Query{UserID: "user-s0001"}, wantErr: session.ErrInvalidArgument},
	}
	for _, tt := range tests {
		got, err := st.ListSessions(ctx, tt.q, t0)
		if !errors.Is(err, tt.wantErr) || !slices.Equal(ids(got), tt.want) {
			t.Errorf("%s: ListSessions(%+v) = %d sessions %.40q, %v; want %d, %v", tt.name, tt.q, len(got), ids(got), err, len(tt.want), tt.wantErr)
		}
	}
}

// testListSessionsCopies: changing a listed session does not change what
// the store holds.
func testListSessionsCopies(t *testing.T, ctx context.Context, st Store) {
	want := newSession("s1", "org1", session.MethodSSO, t0.Add(time.Hour))
	if err := st.CreateSession(ctx, newSession("s1", "org1", session.MethodSSO, t0.Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	list, err := st.ListSessions(ctx, session.Query{OrgID: "org1"}, t0)
	if err != nil || len(list) != 1 {
		t.Fatalf("ListSessions(org1) = %+v, %v; want one session", list, err)
	}
	list[0].EndReason, list[0].UserID, list[0].ExpiresAt = "changed", "changed", t0
	if got, err := st.Session(ctx, "s1"); err != nil || !reflect.DeepEqual(normSession(got), normSession(want)) {
		t.Errorf("Session(s1) after changing a listed copy = %+v, %v; want %+v", got, err, want)
	}
}

// endReasons returns the EndReason of every listed session, by ID ("-" for a
// session no longer stored).
func endReasons(t *testing.T, ctx context.Context, st Store) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, l := range listed {
		s, err := st.Session(ctx, l.id)
		switch {
		case errors.Is(err, session.ErrNotFound):
			out[l.id] = "-"
		case err != nil:
			t.Fatalf("Session(%q) err = %v", l.id, err)
		default:
			out[l.id] = s.EndReason
		}
	}
	return out
}

// testEndSessions runs EndSessions in order on the listed sessions: each
// step's count and every session's EndReason after it are checked. A session
// ended before keeps its reason; expired sessions are ended too; nothing is
// deleted.
func testEndSessions(t *testing.T, ctx context.Context, st Store) {
	seedListed(t, ctx, st)
	reasons := endReasons(t, ctx, st)
	steps := []struct {
		name   string
		q      session.Query
		reason string
		wantN  int
		ended  []string // sessions newly ended with reason
	}{
		{name: "no such user", q: session.Query{OrgID: "org1", UserID: "u9"}, reason: "x"},
		{name: "unknown method", q: session.Query{OrgID: "org1", Method: "magic"}, reason: "x"},
		{name: "org ID is case-sensitive", q: session.Query{OrgID: "ORG1"}, reason: "x"},
		{name: "u2's SSO sessions, the expired one too", q: session.Query{OrgID: "org1", UserID: "u2", Method: session.MethodSSO},
			reason: session.EndMemberRemoved, wantN: 2, ended: []string{"B3", "a4"}},
		{name: "password sessions", q: session.Query{OrgID: "org1", Method: session.MethodPassword},
			reason: session.EndPasswordRevoked, wantN: 2, ended: []string{"_8", "a2"}},
		{name: "the rest of org1; ended ones keep their reason", q: session.Query{OrgID: "org1"},
			reason: session.EndSSODisabled, wantN: 3, ended: []string{"a1", "a5", "\u00e97"}},
		{name: "org1 again", q: session.Query{OrgID: "org1"}, reason: session.EndRevoked},
		{name: "After and Limit are ignored", q: session.Query{OrgID: "org2", After: "zzz", Limit: 1},
			reason: "host's own reason ✓", wantN: 1, ended: []string{"a9"}},
	}
	for _, s := range steps {
		n, err := st.EndSessions(ctx, s.q, s.reason)
		if err != nil || n != s.wantN {
			t.Errorf("%s: EndSessions(%+v, %q) = %d, %v; want %d, nil", s.name, s.q, s.reason, n, err, s.wantN)
		}
		for _, id := range s.ended {
			reasons[id] = s.reason
		}
		if got := endReasons(t, ctx, st); !reflect.DeepEqual(got, reasons) {
			t.Errorf("%s: end reasons = %q; want %q", s.name, got, reasons)
		}
	}
	// Ended sessions are listed no more, and stay until they expire.
	if got, err := st.ListSessions(ctx, session.Query{OrgID: "org1"}, t0.Add(-time.Hour)); err != nil || len(got) != 0 {
		t.Errorf("ListSessions(org1) after ending them all = %q, %v; want none", ids(got), err)
	}
	if n, err := st.DeleteExpiredSessions(ctx, t0); err != nil || n != 2 {
		t.Errorf("DeleteExpiredSessions(t0) = %d, %v; want 2 (a4, a6x)", n, err)
	}
	reasons["a4"], reasons["a6x"] = "-", "-"
	if got := endReasons(t, ctx, st); !reflect.DeepEqual(got, reasons) {
		t.Errorf("after DeleteExpiredSessions: end reasons = %q; want %q", got, reasons)
	}
	if got, err := st.ListSessions(ctx, session.Query{OrgID: "org10"}, t0); err != nil || !slices.Equal(ids(got), []string{"a0"}) {
		t.Errorf("ListSessions(org10) = %q, %v; want [a0], untouched", ids(got), err)
	}
}

// testEndSessionsArguments: an empty reason or organization ID is
// ErrInvalidArgument, and ends nothing.
func testEndSessionsArguments(t *testing.T, ctx context.Context, st Store) {
	seedListed(t, ctx, st)
	before := endReasons(t, ctx, st)
	for _, tt := range []struct {
		name   string
		q      session.Query
		reason string
	}{
		{"empty reason", session.Query{OrgID: "org1"}, ""},
		{"empty org ID", session.Query{UserID: "u1"}, session.EndRevoked},
		{"empty query", session.Query{}, session.EndRevoked},
	} {
		if n, err := st.EndSessions(ctx, tt.q, tt.reason); !errors.Is(err, session.ErrInvalidArgument) || n != 0 {
			t.Errorf("%s: EndSessions(%+v, %q) = %d, %v; want 0, ErrInvalidArgument", tt.name, tt.q, tt.reason, n, err)
		}
	}
	if got := endReasons(t, ctx, st); !reflect.DeepEqual(got, before) {
		t.Errorf("end reasons after the refused calls = %q; want %q", got, before)
	}
}

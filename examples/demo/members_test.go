package main

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/store/sqlstore"
)

// TestMembersPages: the member list comes a page at a time (Service.Members
// and its cursor), with a link to the next page only when there is one.
func TestMembersPages(t *testing.T) {
	a, u, _ := startApp(t, "", func(c *config) { c.MembersPerPage = 2 })
	_, err := a.svc.AddMember(t.Context(), demoOrgID, demoOwnerID, sso.Member{UserID: "user_zed", Email: "zed@acme.example"})
	if err != nil {
		t.Fatal(err)
	}
	owner := newClient(t)
	passwordSignIn(t, owner, u, "owner@acme.example", "owner-demo-password")

	var seen []string
	p := owner.get(u.App + "/settings")
	for page := 1; ; page++ {
		if p.Status != http.StatusOK || page > 3 {
			t.Fatalf("page %d: status %d", page, p.Status)
		}
		var onPage []string
		for _, part := range strings.Split(p.Body, `data-email="`)[1:] {
			onPage = append(onPage, part[:strings.Index(part, `"`)])
		}
		if len(onPage) == 0 || len(onPage) > 2 {
			t.Errorf("page %d lists %q; want 1 or 2 members", page, onPage)
		}
		seen = append(seen, onPage...)
		if page > 1 && !strings.Contains(p.Body, `id="members-first"`) {
			t.Errorf("page %d has no link to the first page", page)
		}
		i := strings.Index(p.Body, `id="members-next"`)
		if i < 0 {
			break
		}
		link := p.Body[strings.LastIndex(p.Body[:i], `href="`)+len(`href="`):]
		p = owner.get(u.App + strings.ReplaceAll(link[:strings.Index(link, `"`)], "&amp;", "&"))
	}
	want := []string{"dave@acme.example", "owner@acme.example", "zed@acme.example"}
	if strings.Join(seen, " ") != strings.Join(want, " ") {
		t.Errorf("members over the pages = %q; want %q", seen, want)
	}
}

// flakyStore is the demo's store with session lookups that fail while down
// is set, as a database that cannot answer does.
type flakyStore struct {
	*sqlstore.Store
	down atomic.Bool
}

// Session fails while the store is down.
func (f *flakyStore) Session(ctx context.Context, id string) (*session.Session, error) {
	if f.down.Load() {
		return nil, errors.New("database is locked")
	}
	return f.Store.Session(ctx, id)
}

// ChangeSeq never answers: the Service's session cache stays stale, so
// every check reads the store (the cache fails closed; with it, the checks
// of a warm replica would go on for up to its MaxStaleness of an outage,
// which storetest.RunSessionCache covers).
func (f *flakyStore) ChangeSeq(context.Context) (int64, error) {
	return 0, errors.New("change counter not read in this test")
}

// TestStoreUnavailable: when the store cannot say whether a session is
// valid (sso.ErrUnavailable), the pages answer 503 "try again", and nobody
// is signed out: the cookie stays, and the session works again once the
// store answers.
func TestStoreUnavailable(t *testing.T) {
	var flaky *flakyStore
	_, u, _ := startApp(t, "", func(c *config) {
		c.wrapStore = func(st *sqlstore.Store) demoStore {
			flaky = &flakyStore{Store: st}
			return flaky
		}
	})
	dave := newClient(t)
	wantIn(t, "dave's dashboard", passwordSignIn(t, dave, u, "dave@acme.example", "dave-demo-password").Body, `<dd id="method">password</dd>`)

	flaky.down.Store(true)
	dave.takeHops()
	for _, path := range []string{"/", "/login", "/settings"} {
		p := dave.get(u.App + path)
		if p.Status != http.StatusServiceUnavailable || p.URL.Path != path {
			t.Errorf("GET %s with the store down: %s, status %d; want a 503 there", path, p.URL.Path, p.Status)
		}
		wantIn(t, "503 page", p.Body, sso.UserMessage(sso.ErrUnavailable))
	}
	if _, cookies := dave.takeHops(); len(cookies) != 0 {
		t.Errorf("Set-Cookie while the store was down = %q; want none", cookies)
	}

	flaky.down.Store(false)
	if p := dave.get(u.App + "/"); p.URL.Path != "/" || !strings.Contains(p.Body, "dave@acme.example") {
		t.Errorf("after the store came back, / landed on %s; want dave's dashboard", p.URL.Path)
	}
}

package sso_test

import (
	"net/http"
	"runtime"
	"testing"
	"time"

	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/sso/ssotest"
)

// BenchmarkHandleACS is a whole sign-in at the ACS on the memory store: form
// parse, organization lookup, cached Validator, replay record, request
// consumption, membership rules, role mapping, member save and session
// creation. Each iteration posts a fresh response (replays are refused), so
// responses are signed before the timer starts. Compare with
// BenchmarkValidate, same response shape, same run.
func BenchmarkHandleACS(b *testing.B) {
	e := newEnv(b, nil)
	// No operator log in the hot loop: logging cost is the host's choice.
	e.svc = e.quietService(b)
	reqs := make([]*http.Request, b.N)
	for i := range reqs {
		id, relay := e.start(b, "/dashboard")
		req, err := e.idp.PostRequest(e.sp.ACSURL, e.typical(b, id), relay)
		if err != nil {
			b.Fatal(err)
		}
		reqs[i] = req
	}
	runtime.GC() // signing garbage is the IdP's, not ours
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if _, err := e.svc.HandleACS(ctx, "acme", reqs[i]); err != nil {
			b.Fatal(err)
		}
		reqs[i] = nil // a server drops the request when the handler returns
	}
}

// quietService is the env's Service without a logger or event hook.
func (e *env) quietService(b *testing.B) *sso.Service {
	b.Helper()
	svc, err := sso.New(sso.Config{BaseURL: "https://app.example.com", Store: e.store, Sessions: e.sessions, Now: e.clock.Now})
	if err != nil {
		b.Fatal(err)
	}
	return svc
}

// typical is BenchmarkValidate's response shape answering request id.
func (e *env) typical(b testing.TB, id string) string {
	b.Helper()
	posted, err := e.idp.Response(e.resp(id, alice, func(r *ssotest.Response) {
		r.User.Attributes = map[string][]string{
			"department":  {"Engineering"},
			"title":       {"Staff Software Engineer"},
			"employee_id": {"E-104729"},
			"locale":      {"en-GB"},
			"groups_display_names": {"Contentstack Developers (Okta group, managed by IT)", "Everyone",
				"Blog Editors (EU)", "Admins for the EU region", "Support rota"},
		}
	}))
	if err != nil {
		b.Fatal(err)
	}
	return posted
}

// BenchmarkSessionValidateMemory is session.Manager.Validate on the memory
// store (target: at most 1 µs).
func BenchmarkSessionValidateMemory(b *testing.B) {
	e := newEnv(b, nil)
	var token string
	for i := range 10_000 {
		_, tok, err := e.sessions.Create(ctx, e.org.ID, "u-"+string(rune('a'+i%26)), session.MethodSSO, time.Hour)
		if err != nil {
			b.Fatal(err)
		}
		token = tok
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.sessions.Validate(ctx, token); err != nil {
			b.Fatal(err)
		}
	}
}

package sso_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/orgsso/orgsso/session"
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
	posts := make([]*http.Request, b.N)
	bodies := make([]string, b.N)
	relays := make([]string, b.N)
	for i := range b.N {
		id, relay := e.start(b, "/dashboard")
		bodies[i] = e.typical(b, id)
		relays[i] = relay
	}
	for i := range b.N {
		req, err := e.idp.PostRequest(e.sp.ACSURL, bodies[i], relays[i])
		if err != nil {
			b.Fatal(err)
		}
		posts[i] = req
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if _, err := e.svc.HandleACS(ctx, "acme", posts[i]); err != nil {
			b.Fatal(err)
		}
	}
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

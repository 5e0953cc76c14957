package sso_test

import (
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/store/memory"
)

// A host mounts the Handler under /sso/ and puts its own pages behind
// RequireSession. A browser without a session is sent to sign in and comes
// back to the page it asked for; an unknown SSO name gets a 404 page.
func ExampleService_Handler() {
	svc, err := sso.New(sso.Config{BaseURL: "https://app.example.com", Store: memory.New()})
	if err != nil {
		log.Fatal(err)
	}
	h, err := svc.Handler(sso.HandlerConfig{})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/sso/", h)
	mux.Handle("/", h.RequireSession(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := sso.SessionFromContext(r.Context())
		fmt.Fprintln(w, "hello", s.UserID)
	})))

	for _, target := range []string{"/reports?week=12", "/sso/login?trigger_sso_flow=nobody", "/sso/acme/acs"} {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
		line := fmt.Sprint(target, " ", rec.Code)
		if loc := rec.Header().Get("Location"); loc != "" {
			line += " → " + loc
		}
		fmt.Println(line)
	}
	// Output:
	// /reports?week=12 303 → /sso/login?return_to=%2Freports%3Fweek%3D12
	// /sso/login?trigger_sso_flow=nobody 404
	// /sso/acme/acs 405
}

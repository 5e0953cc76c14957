// Command minimal is the whole host file that adds orgsso single sign-on to a
// net/http application: the SSO endpoints mounted under /sso/ (sign-in start
// at /sso/login?trigger_sso_flow=NAME, the ACS, metadata, OIDC callbacks,
// POST /sso/logout) and the application behind a session check.
//
// Organizations are created by your admin UI (see examples/demo for one);
// this program only serves them. Swap memory.New for sqlite.Open or
// postgres.Open to keep them across restarts.
package main

import (
	"context"
	"fmt"
	"log"
	"net/http"

	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/store/memory"
)

func main() {
	h, err := sso.NewHandler(sso.Config{BaseURL: "http://localhost:8080", Store: memory.New()}, sso.HandlerConfig{})
	if err != nil {
		log.Fatal(err)
	}
	go h.Service().Run(context.Background()) // cleanup, IdP metadata refresh, the session cache's freshness
	log.Fatal(http.ListenAndServe("localhost:8080", routes(h)))
}

// routes mounts SSO and puts every other page behind a valid session.
func routes(h *sso.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/sso/", h)
	mux.Handle("/", h.RequireSession(http.HandlerFunc(home)))
	return mux
}

// home is the existing application: every request here has a session.
func home(w http.ResponseWriter, r *http.Request) {
	s, _ := sso.SessionFromContext(r.Context())
	fmt.Fprintf(w, "signed in as %s in %s\n", s.UserID, s.OrgID)
}

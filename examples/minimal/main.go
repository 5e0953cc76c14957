// Command minimal is the least host code that adds orgsso single sign-on to an
// existing net/http application: a login route that starts SSO, the ACS and
// metadata routes, and a middleware that checks the session cookie.
//
// Organizations are created by your admin UI (see examples/demo for one); this
// program only serves them. Swap memory.New for sqlite.Open or postgres.Open
// to keep them across restarts.
package main

import (
	"context"
	"fmt"
	"log"
	"net/http"

	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/store/memory"
)

func main() {
	svc, _, err := newService("http://localhost:8080")
	if err != nil {
		log.Fatal(err)
	}
	log.Fatal(http.ListenAndServe("localhost:8080", routes(svc, http.HandlerFunc(home))))
}

// home is the existing application, now behind the session check.
func home(w http.ResponseWriter, r *http.Request) {
	s := r.Context().Value(sessionKey{}).(*session.Session)
	fmt.Fprintf(w, "signed in as %s in %s until %s\n", s.UserID, s.OrgID, s.ExpiresAt)
}

// --- host code for SSO starts here ---

type sessionKey struct{}

// newService also returns the store, where your admin UI saves organizations.
func newService(baseURL string) (*sso.Service, *memory.Store, error) {
	store := memory.New()
	svc, err := sso.New(sso.Config{BaseURL: baseURL, Store: store, Sessions: session.NewManager(store)})
	return svc, store, err
}

func routes(svc *sso.Service, app http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		rd, ok, err := svc.StartLoginFromRequest(r.Context(), r) // ?trigger_sso_flow=acme
		if ok && err == nil {
			http.SetCookie(w, rd.Cookie) // binds the sign-in to this browser
			http.Redirect(w, r, rd.URL, http.StatusFound)
			return
		}
		fmt.Fprintln(w, sso.UserMessage(err), "(your login form here)")
	})
	mux.HandleFunc("POST /sso/{name}/acs", func(w http.ResponseWriter, r *http.Request) {
		res, err := svc.HandleACS(r.Context(), r.PathValue("name"), r)
		if err != nil {
			log.Print(err) // the operator sees which check failed; the user a safe message
			for _, c := range svc.ClearBindingCookies(r) {
				http.SetCookie(w, c)
			}
			http.Error(w, sso.UserMessage(err), http.StatusForbidden)
			return
		}
		for _, c := range res.ClearCookies {
			http.SetCookie(w, c)
		}
		http.SetCookie(w, svc.SessionCookie(res))
		http.Redirect(w, r, res.ReturnTo, http.StatusSeeOther)
	})
	mux.HandleFunc("GET /sso/{name}/metadata", func(w http.ResponseWriter, r *http.Request) {
		md, err := svc.MetadataFor(r.Context(), r.PathValue("name"))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/samlmetadata+xml")
		w.Write(md)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s, err := svc.SessionFromRequest(r)
		if err != nil {
			http.Redirect(w, r, "/login", http.StatusFound)
			return
		}
		app.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), sessionKey{}, s)))
	})
	return mux
}

// Command demo is a small multi-tenant SaaS application that offers SAML
// and OpenID Connect single sign-on to its customer organizations with
// orgsso, next to a bundled SAML identity provider (crewjam/saml's samlidp)
// and a bundled OpenID provider (orgsso's ssotest.NewOIDC, under /oidc) on
// a second local port.
//
//	go run ./examples/demo [-addr :8080] [-idp-addr :8081] [-db PATH]
//
// It seeds organization Acme (SSO name "acme") with SSO enabled through two
// connections (its SAML IdP and an OIDC connection), an owner, IdP users and
// role mappings, and prints the URLs and accounts. Everything
// is served on localhost only. See README.md in this directory.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
)

// main parses the flags, runs the demo until interrupted and stops it.
func main() {
	var cfg config
	flag.StringVar(&cfg.Addr, "addr", ":8080", "app listen address (host defaults to 127.0.0.1)")
	flag.StringVar(&cfg.IdPAddr, "idp-addr", "", "bundled IdP listen address (default :8081 or the next free port)")
	flag.StringVar(&cfg.DB, "db", defaultDBPath(), "SQLite file (created if missing); the IdP key pair and the OpenID provider key are kept next to it")
	flag.Parse()
	cfg.Log = os.Stderr

	ctx, stopSignals := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stopSignals()
	u, stop, err := run(ctx, cfg)
	if err != nil {
		log.Fatalf("demo: %v", err)
	}
	printBanner(os.Stdout, u, cfg.DB)
	<-ctx.Done()
	fmt.Println("\nstopping…")
	if err := stop(); err != nil {
		log.Fatalf("demo: stopping: %v", err)
	}
}

// printBanner says where everything is and who can sign in.
func printBanner(w io.Writer, u urls, db string) {
	fmt.Fprintf(w, "\norgsso demo\n\n")
	fmt.Fprintf(w, "  App            %s/login\n", u.App)
	fmt.Fprintf(w, "  SSO deep link  %s/login?trigger_sso_flow=%s\n", u.App, demoSSOName)
	fmt.Fprintf(w, "  SSO settings   %s/settings  (owner only)\n", u.App)
	fmt.Fprintf(w, "  Bundled IdP    %s/metadata  (SAML)\n", u.IdP)
	fmt.Fprintf(w, "  Bundled OP     %s%s  (OpenID Connect; client %s / %s)\n", u.IdP, oidcPath, demoOIDCClientID, demoOIDCClientSecret)
	fmt.Fprintf(w, "  Database       %s\n\n", db)
	fmt.Fprintf(w, "Organization %q, SSO name %q, SSO enabled, strict mode off. Two connections:\n", demoOrgName, demoSSOName)
	fmt.Fprintf(w, "its own SAML IdP (the bundled IdP) and %q (OIDC, the bundled OP; email domain %s).\n", demoOIDCConnName, demoOIDCDomain)
	fmt.Fprintf(w, "\"Login via SSO\" shows a chooser; the same users and groups sign in at both.\n\n")

	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "  APP LOGIN (email / password)\tIDP AND OP LOGIN (user / password)\tIDP GROUPS\tWHAT IT SHOWS")
	for _, a := range demoAccounts() {
		app := "— (SSO only)"
		if a.AppPassword != "" {
			app = a.Email + " / " + a.AppPassword
		}
		fmt.Fprintf(tw, "  %s\t%s / %s\t%s\t%s\n", app, a.IdPUser, a.IdPPassword, strings.Join(a.Groups, ", "), a.Note)
	}
	tw.Flush()
	fmt.Fprintf(w, "\nRole mappings: \"Contentstack Developers\" → member + developer on stack blog; \"Admins\" → admin.\n")
	fmt.Fprintf(w, "Press Ctrl-C to stop.\n")
}

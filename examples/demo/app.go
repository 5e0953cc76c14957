package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/store/sqlstore"
)

// config is what run needs; main fills it from flags, tests from temp dirs.
type config struct {
	// Addr is the app's listen address; a missing host means 127.0.0.1.
	Addr string
	// IdPAddr is the bundled IdP's listen address; "" means the first free
	// port from 8081 on.
	IdPAddr string
	// DB is the SQLite file. The IdP's key pair and the OpenID
	// provider's key are kept next to it.
	DB string
	// Log receives the operator log (text slog) and samlidp's log. nil =
	// io.Discard.
	Log io.Writer
	// PasswordIterations is the PBKDF2 cost of new app passwords; 0 means
	// 600,000. Tests lower it.
	PasswordIterations int
	// MembersPerPage is how many members the settings page lists at once;
	// 0 means 50.
	MembersPerPage int

	// wrapStore, when set, wraps the store the Service and the session
	// Manager use (tests make it fail).
	wrapStore func(*sqlstore.Store) demoStore
}

// urls are where the demo listens.
type urls struct {
	App string // http://localhost:PORT
	IdP string // http://localhost:PORT
}

// app is the demo SaaS application: its own users and pages on net/http and
// html/template, SSO through an orgsso Service.
type app struct {
	baseURL  string
	log      *slog.Logger
	users    *userTable
	audit    *auditLog
	sessions *session.Manager
	svc      *sso.Service
	mfa      *sso.Handler // the MFA pages (mfa.go)
	idp      *bundledIdP
	pages    pages
	now      func() time.Time
	pwIter   int // PBKDF2 iterations of new passwords
	perPage  int // members per page
}

// passwordSessionTTL is the lifetime of a password sign-in's session (SSO
// sessions use the organization's timeout).
const passwordSessionTTL = 12 * time.Hour

// run starts the bundled IdP and the app, seeds the demo data and returns
// where they listen and a function that stops both.
func run(ctx context.Context, cfg config) (urls, func() error, error) {
	a, stop, err := start(ctx, cfg)
	if err != nil {
		return urls{}, nil, err
	}
	return urls{App: a.baseURL, IdP: a.idp.URL}, stop, nil
}

// start is run, returning the app itself (tests reach into it).
func start(ctx context.Context, cfg config) (*app, func() error, error) {
	if cfg.DB == "" {
		return nil, nil, errors.New("no database path")
	}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	logger := slog.New(slog.NewTextHandler(cfg.Log, nil))

	sqlStore, tbl, closeStore, err := openStore(ctx, cfg.DB, logger)
	if err != nil {
		return nil, nil, fmt.Errorf("opening %s: %w", cfg.DB, err)
	}
	var cleanup []func() error // run in reverse on failure and at stop
	cleanup = append(cleanup, closeStore)
	fail := func(err error) (*app, func() error, error) {
		for i := len(cleanup) - 1; i >= 0; i-- {
			cleanup[i]()
		}
		return nil, nil, err
	}

	appLn, err := net.Listen("tcp", loopbackDefault(cfg.Addr, ":8080"))
	if err != nil {
		return fail(fmt.Errorf("app listener: %w", err))
	}
	cleanup = append(cleanup, func() error { appLn.Close(); return nil })
	idpLn, err := listenIdP(cfg.IdPAddr)
	if err != nil {
		return fail(fmt.Errorf("IdP listener: %w", err))
	}
	idp, err := startIdP(idpLn, filepath.Dir(cfg.DB), cfg.Log)
	if err != nil {
		idpLn.Close()
		return fail(fmt.Errorf("bundled IdP: %w", err))
	}
	cleanup = append(cleanup, func() error { return idp.close(context.Background()) })

	a := &app{
		baseURL: "http://localhost:" + strconv.Itoa(appLn.Addr().(*net.TCPAddr).Port),
		log:     logger,
		users:   tbl.users,
		audit:   tbl.audit,
		idp:     idp,
		now:     time.Now,
		pwIter:  cfg.PasswordIterations,
		perPage: cfg.MembersPerPage,
	}
	if a.pwIter <= 0 {
		a.pwIter = defaultPasswordIterations
	}
	if a.perPage <= 0 {
		a.perPage = 50
	}
	var st demoStore = sqlStore
	if cfg.wrapStore != nil {
		st = cfg.wrapStore(sqlStore)
	}
	if a.pages, err = loadPages(); err != nil {
		return fail(err)
	}
	a.sessions = session.NewManager(st)
	a.svc, err = sso.New(sso.Config{
		BaseURL:       a.baseURL,
		Store:         st,
		Sessions:      a.sessions,
		Logger:        logger,
		OnEvent:       a.audit.record,
		ProvisionUser: a.provisionUser,
		// The bundled OpenID provider answers on http://localhost: a local
		// demo. orgsso refuses loopback and private addresses by default, so
		// that an organization's owner cannot point discovery at the host's
		// own network; production leaves this off.
		InsecureAllowPrivateNetworks: true,
	})
	if err != nil {
		return fail(err)
	}
	if a.mfa, err = a.newMFAHandler(); err != nil {
		return fail(err)
	}
	if err := a.seed(ctx); err != nil {
		return fail(fmt.Errorf("seeding: %w", err))
	}

	srv := &http.Server{Handler: a.routes(), ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	go srv.Serve(appLn)
	// orgsso's background cleanup: expired requests, assertion IDs and
	// sessions, in short batches, every minute.
	runCtx, stopRun := context.WithCancel(context.Background())
	ran := make(chan struct{})
	go func() {
		defer close(ran)
		a.svc.Run(runCtx)
	}()

	stop := func() error {
		stopRun()
		<-ran
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		errs := []error{srv.Shutdown(sctx), idp.close(sctx)}
		errs = append(errs, closeStore())
		return errors.Join(errs...)
	}
	return a, stop, nil
}

// loopbackDefault returns addr (or def when empty) with 127.0.0.1 as the
// host when it has none: the demo serves the local machine only.
func loopbackDefault(addr, def string) string {
	if addr == "" {
		addr = def
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil || host != "" {
		return addr
	}
	return net.JoinHostPort("127.0.0.1", port)
}

// listenIdP listens on addr, or when it is empty on the first free port of
// 127.0.0.1:8081–8099.
func listenIdP(addr string) (net.Listener, error) {
	if addr != "" {
		return net.Listen("tcp", loopbackDefault(addr, ""))
	}
	var firstErr error
	for port := 8081; port < 8100; port++ {
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err == nil {
			return ln, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return nil, firstErr
}

// routes is the app's HTTP surface.
func (a *app) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", a.handleDashboard)
	mux.HandleFunc("GET /login", a.handleLoginPage)
	mux.HandleFunc("POST /login", a.handlePasswordLogin)
	mux.HandleFunc("GET /login/sso", a.handleSSOLoginPage)
	mux.HandleFunc("POST /login/sso", a.handleSSOLogin)
	mux.HandleFunc("POST /logout", a.handleLogout)
	mux.HandleFunc("POST /sso/{name}/acs", a.handleACS)
	mux.HandleFunc("GET /sso/{name}/metadata", a.handleMetadata)
	mux.HandleFunc("POST /sso/{name}/{id}/acs", a.handleConnectionACS)
	mux.HandleFunc("GET /sso/{name}/{id}/metadata", a.handleConnectionMetadata)
	mux.HandleFunc("GET /sso/{name}/{id}/callback", a.handleCallback)
	mux.Handle("GET "+mfaPath, a.mfa)
	mux.Handle("POST "+mfaPath, a.mfa)
	mux.HandleFunc("GET /settings", a.handleSettings)
	mux.HandleFunc("POST /settings/name", a.handleSaveName)
	mux.HandleFunc("POST /settings/idp", a.handleSaveIdP)
	mux.HandleFunc("POST /settings/idp/metadata", a.handleImportMetadata)
	mux.HandleFunc("POST /settings/users", a.handleSaveUsers)
	mux.HandleFunc("POST /settings/attributes", a.handleSaveAttributes)
	mux.HandleFunc("POST /settings/members", a.handleMemberAccess)
	mux.HandleFunc("POST /settings/members/invite", a.handleInvite)
	mux.HandleFunc("POST /settings/members/remove", a.handleRemoveMember)
	mux.HandleFunc("POST /settings/members/sessions", a.handleEndSessions)
	mux.HandleFunc("POST /settings/members/mfa-reset", a.handleResetMFA)
	mux.HandleFunc("POST /settings/mfa", a.handleSaveMFA)
	mux.HandleFunc("POST /settings/test", a.handleTestSSO)
	mux.HandleFunc("POST /settings/enable", a.handleEnable)
	mux.HandleFunc("POST /settings/disable", a.handleDisable)
	mux.HandleFunc("POST /settings/connections/save", a.handleSaveConnection)
	mux.HandleFunc("POST /settings/connections/test", a.handleTestConnection)
	mux.HandleFunc("POST /settings/connections/enable", a.handleEnableConnection)
	mux.HandleFunc("POST /settings/connections/disable", a.handleDisableConnection)

	// Cross-origin POSTs are refused (Go's CSRF protection, by Sec-Fetch-Site
	// and Origin), except at the ACS: the IdP's auto-post form is
	// cross-origin by design, and the SAML checks protect it. (The OIDC
	// callback is a GET, which the protection lets through.)
	cop := http.NewCrossOriginProtection()
	cop.AddInsecureBypassPattern("POST /sso/{name}/acs")
	cop.AddInsecureBypassPattern("POST /sso/{name}/{id}/acs")
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.renderError(w, r, http.StatusForbidden, "Request refused", "This form was sent from another site. Reload the page and try again.")
	}))
	return securityHeaders(cop.Handler(mux))
}

// securityHeaders sets headers every page gets. The pages need no script.
func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "same-origin")
		hd.Set("Cache-Control", "no-store")
		h.ServeHTTP(w, r)
	})
}

// provisionUser is orgsso's ProvisionUser hook: before it creates a member
// (role mapping or JIT), the app links the identity to its own user with
// that email in the same organization, or creates one without a password.
// A user of another organization is never linked, whatever the email: the
// organization's IdP vouches for its own organization only. Users are
// unique per organization and email, which makes the hook idempotent on
// sso.ProvisionKey.
func (a *app) provisionUser(ctx context.Context, org *sso.Organization, id sso.Identity) (string, error) {
	u, err := a.users.ByEmail(ctx, org.ID, id.Email)
	switch {
	case err == nil:
		return u.ID, nil
	case !errors.Is(err, errNoUser):
		return "", err
	}
	uid, err := newUserID()
	if err != nil {
		return "", err
	}
	u = User{ID: uid, OrgID: org.ID, Email: id.Email, Name: strings.TrimSpace(id.FirstName + " " + id.LastName)}
	if err := a.users.Save(ctx, u); err != nil {
		// A concurrent first sign-in of the same email created it.
		if again, err2 := a.users.ByEmail(ctx, org.ID, id.Email); err2 == nil {
			return again.ID, nil
		}
		return "", err
	}
	return u.ID, nil
}

// defaultDBPath is the SQLite file when -db is not given.
func defaultDBPath() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	return filepath.Join(dir, "orgsso-demo", "demo.db")
}

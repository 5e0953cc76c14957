package sso_test

// Attacker review 11b (second pass): IdP metadata by URL and the SSRF
// guard. A failing assertion is a finding (see the report), a passing one
// an attempt that held.

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/store/memory"
)

// ar11bRT is a fake network: fn answers every request that reaches it
// (after the Service's guard), and seen records their URLs.
type ar11bRT struct {
	mu   sync.Mutex
	seen []string
	fn   func(*http.Request) *http.Response
}

func (rt *ar11bRT) RoundTrip(r *http.Request) (*http.Response, error) {
	rt.mu.Lock()
	rt.seen = append(rt.seen, r.URL.String())
	rt.mu.Unlock()
	if rt.fn == nil {
		return ar11bResp(http.StatusNotFound, nil, nil), nil
	}
	return rt.fn(r), nil
}

func (rt *ar11bRT) saw() []string {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return append([]string(nil), rt.seen...)
}

func ar11bResp(status int, h http.Header, body []byte) *http.Response {
	if h == nil {
		h = http.Header{}
	}
	return &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(bytes.NewReader(body)), ContentLength: int64(len(body))}
}

// ar11bMetaStore is the memory store with a MetadataLister (the stores
// implement it on another branch) listing the organizations in ids, and a
// count of CleanupBatch calls.
type ar11bMetaStore struct {
	*memory.Store
	ids      []string
	cleanups atomic.Int32
}

func (s *ar11bMetaStore) OrganizationsWithMetadataURL(ctx context.Context, after string, limit int) ([]*sso.Organization, error) {
	var out []*sso.Organization
	for _, id := range s.ids {
		if id <= after {
			continue
		}
		o, err := s.Organization(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, nil
}

func (s *ar11bMetaStore) CleanupBatch(ctx context.Context, now time.Time, limit int) (int, error) {
	s.cleanups.Add(1)
	return s.Store.CleanupBatch(ctx, now, limit)
}

// ar11bService is a Service over e's store (or st) whose outgoing requests
// go to rt, with the SSRF guard on (no InsecureAllowPrivateNetworks).
func ar11bService(t testing.TB, e *env, st sso.Store, rt http.RoundTripper, mod func(*sso.Config)) *sso.Service {
	t.Helper()
	if st == nil {
		st = e.store
	}
	cfg := sso.Config{
		BaseURL: "https://app.example.com", Store: st, Sessions: e.sessions,
		Now: e.clock.Now, Rand: mrand.NewChaCha8([32]byte{12}),
		Logger:     slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		HTTPClient: &http.Client{Transport: rt},
		OnEvent: func(_ context.Context, ev sso.Event) {
			e.mu.Lock()
			e.events = append(e.events, ev)
			e.mu.Unlock()
		},
	}
	if mod != nil {
		mod(&cfg)
	}
	svc, err := sso.New(cfg)
	require.NoError(t, err)
	return svc
}

func ar11bSetMetadataURL(t testing.TB, svc *sso.Service, orgID, u string) error {
	t.Helper()
	_, err := svc.UpdateOrganization(context.Background(), orgID, ownerID, func(o *sso.Organization) error {
		o.IdPMetadataURL = u
		return nil
	})
	return err
}

// FINDING (low, hosts with their own HTTPClient): the URL-level guard
// parses the host with netip.ParseAddr, which knows only the canonical
// dotted quad; the inet_aton shorthands of a loopback address (127.1,
// 0x7f000001, 2130706433, 017700000001, 0) pass it as "names". Go's cgo
// resolver (getaddrinfo: the default on macOS, and on Linux whenever
// nsswitch.conf or GODEBUG=netdns=cgo selects it) turns each of them into
// 127.0.0.1, so an owner's metadata URL or OIDC issuer reaches the host's
// loopback through the host's client. (The default client checks the
// address at dial time and is not affected.)
func TestAttackReview11bHostGuardNumericLoopbackForms(t *testing.T) {
	e := newEnv(t, nil)
	rt := &ar11bRT{}
	svc := ar11bService(t, e, nil, rt, nil)
	ctx := context.Background()
	var passed []string
	for _, host := range []string{
		"127.1", "0x7f000001", "2130706433", "017700000001", "0", "0x7f.1", "127.0.1",
		// held: canonical and mapped forms, names
		"127.0.0.1", "127.0.0.1.", "[::1]", "[::]", "0.0.0.0", "[::ffff:127.0.0.1]", "[::ffff:7f00:1]",
		"localhost", "LOCALHOST.", "a.localhost", "169.254.169.254", "[fe80::1%25eth0]", "[fd00:ec2::254]", "10.0.0.1", "100.64.0.1",
	} {
		u := "https://" + host + "/md"
		if err := ar11bSetMetadataURL(t, svc, e.org.ID, u); err != nil {
			continue // refused at the edit
		}
		before := len(rt.saw())
		_, err := svc.RefreshMetadata(ctx, e.org.ID, sso.PrimaryConnection, ownerID)
		require.Error(t, err)
		if len(rt.saw()) > before {
			passed = append(passed, host)
		}
	}
	assert.Empty(t, passed, "loopback addresses the guard let through to the host's transport")
}

// FINDING (low/medium): the metadata fetch follows redirects without the
// rule its URL must meet: https → plain http is followed (OIDC discovery
// refuses it, oidc.boundedClient's CheckRedirect). A network attacker on
// the path to the redirect target then serves the certificate that signs
// the organization's users in.
func TestAttackReview11bMetadataRedirectToPlainHTTP(t *testing.T) {
	e := newEnv(t, nil)
	attacker := rotatedIdP(t) // same entity ID, the attacker's key
	md := mustMetadata(t, attacker)
	rt := &ar11bRT{fn: func(r *http.Request) *http.Response {
		switch r.URL.String() {
		case "https://idp.example.net/md":
			return ar11bResp(http.StatusFound, http.Header{"Location": {"http://cdn.idp.example.net/md"}}, nil)
		case "http://cdn.idp.example.net/md": // plain text: anyone on the path answers
			return ar11bResp(http.StatusOK, nil, md)
		}
		return ar11bResp(http.StatusNotFound, nil, nil)
	}}
	svc := ar11bService(t, e, nil, rt, nil)
	require.NoError(t, ar11bSetMetadataURL(t, svc, e.org.ID, "https://idp.example.net/md"))
	changed, err := svc.RefreshMetadata(context.Background(), e.org.ID, sso.PrimaryConnection, ownerID)
	t.Logf("fetched %v; changed %v, err %v", rt.saw(), changed, err)
	assert.Error(t, err, "metadata fetched over plain http after a redirect was applied")
	org, _ := svc.Organization(context.Background(), e.org.ID)
	assert.NotEqual(t, attacker.IdPConfig().Certificates, org.IdP.Certificates, "the certificate served over plain http now signs users in")
}

// FINDING (low): a failed scheduled refresh is logged with err.Error()
// unbounded. An owner's metadata server redirects to a private address with
// a long URL: the client's error quotes the whole redirect URL (up to the
// response header limit, ~1 MiB), and every scheduled refresh writes it to
// the host's log (the audit event's Detail is bounded: held).
func TestAttackReview11bScheduledRefreshLogUnbounded(t *testing.T) {
	e := newEnv(t, nil)
	long := "https://127.0.0.1/" + strings.Repeat("A", 100_000)
	rt := &ar11bRT{fn: func(r *http.Request) *http.Response {
		return ar11bResp(http.StatusFound, http.Header{"Location": {long}}, nil)
	}}
	st := &ar11bMetaStore{Store: e.store, ids: []string{e.org.ID}}
	svc := ar11bService(t, e, st, rt, func(c *sso.Config) { c.MetadataRefreshInterval = 20 * time.Millisecond })
	require.NoError(t, ar11bSetMetadataURL(t, svc, e.org.ID, "https://idp.example.net/md"))
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	_ = svc.Run(ctx)
	longest := 0
	for _, l := range strings.Split(e.logs.String(), "\n") {
		longest = max(longest, len(l))
	}
	for _, ev := range e.eventsOf(sso.EventIdPMetadataFailed) {
		assert.Less(t, len(ev.Detail), 500, "event Detail bounded")
	}
	assert.Less(t, longest, 4096, "a log line of the scheduled refresh carries the attacker's redirect URL unbounded")
}

// FINDING (low/medium): Run refreshes metadata in the goroutine that runs
// Cleanup, one URL after another, each up to the 10 s timeout. Tenants'
// metadata servers that answer slowly (up to 21 URLs per organization,
// times every organization a tenant can create) stall Cleanup for as long:
// pending requests, used assertion IDs and sessions written by
// unauthenticated requests pile up meanwhile, and every other
// organization's rotation waits.
func TestAttackReview11bSlowMetadataStallsCleanup(t *testing.T) {
	e := newEnv(t, nil)
	stop := make(chan struct{})
	rt := &ar11bRT{fn: func(r *http.Request) *http.Response {
		select {
		case <-stop:
		case <-r.Context().Done():
		}
		return ar11bResp(http.StatusServiceUnavailable, nil, nil)
	}}
	st := &ar11bMetaStore{Store: e.store, ids: []string{e.org.ID}}
	svc := ar11bService(t, e, st, rt, func(c *sso.Config) {
		c.MetadataRefreshInterval = 10 * time.Millisecond
		c.CleanupInterval = 20 * time.Millisecond
	})
	require.NoError(t, ar11bSetMetadataURL(t, svc, e.org.ID, "https://idp.example.net/md"))
	ctx, cancel := context.WithTimeout(context.Background(), 600*time.Millisecond)
	defer cancel()
	_ = svc.Run(ctx)
	close(stop)
	t.Logf("cleanups in 600 ms with a 20 ms interval while a metadata server stalls: %d", st.cleanups.Load())
	assert.GreaterOrEqual(t, st.cleanups.Load(), int32(5), "one slow metadata server stops Cleanup")
}

// Held: the URL changed while its metadata was being fetched: the fetched
// metadata is not applied (ErrConflict), the new URL's is next.
func TestAttackReview11bRefreshRacingURLChange(t *testing.T) {
	e := newEnv(t, nil)
	attacker := rotatedIdP(t)
	var svc *sso.Service
	rt := &ar11bRT{fn: func(r *http.Request) *http.Response {
		if r.URL.Host == "old.example.net" {
			// The owner moves the URL while the old one answers.
			require.NoError(t, ar11bSetMetadataURL(t, svc, e.org.ID, "https://new.example.net/md"))
			return ar11bResp(http.StatusOK, nil, mustMetadata(t, attacker))
		}
		return ar11bResp(http.StatusOK, nil, mustMetadata(t, e.idp))
	}}
	svc = ar11bService(t, e, nil, rt, nil)
	require.NoError(t, ar11bSetMetadataURL(t, svc, e.org.ID, "https://old.example.net/md"))
	before, _ := svc.Organization(context.Background(), e.org.ID)
	_, err := svc.RefreshMetadata(context.Background(), e.org.ID, sso.PrimaryConnection, ownerID)
	require.ErrorIs(t, err, sso.ErrConflict)
	after, _ := svc.Organization(context.Background(), e.org.ID)
	assert.Equal(t, before.IdP, after.IdP)
}

// Held: an owner edit between the fetch and the save (entity ID changed to
// another IdP) is not overwritten: the refresh re-reads, sees another
// entity ID, refuses; an unrelated edit meanwhile is kept (CAS retry).
func TestAttackReview11bRefreshRacingOwnerEdit(t *testing.T) {
	for _, entity := range []bool{false, true} {
		e := newEnv(t, nil)
		next := rotatedIdP(t)
		var svc *sso.Service
		rt := &ar11bRT{fn: func(r *http.Request) *http.Response {
			_, err := svc.UpdateOrganization(context.Background(), e.org.ID, ownerID, func(o *sso.Organization) error {
				if entity {
					o.IdP.EntityID = "https://other-idp.example/metadata"
				} else {
					o.SessionTimeout = 3 * time.Hour
				}
				return nil
			})
			require.NoError(t, err)
			return ar11bResp(http.StatusOK, nil, mustMetadata(t, next))
		}}
		svc = ar11bService(t, e, nil, rt, nil)
		require.NoError(t, ar11bSetMetadataURL(t, svc, e.org.ID, "https://idp.example.net/md"))
		_, err := svc.RefreshMetadata(context.Background(), e.org.ID, sso.PrimaryConnection, ownerID)
		org, _ := svc.Organization(context.Background(), e.org.ID)
		if entity {
			require.ErrorIs(t, err, sso.ErrMetadataEntityChanged)
			assert.Equal(t, "https://other-idp.example/metadata", org.IdP.EntityID)
			assert.NotEqual(t, next.IdPConfig().Certificates, org.IdP.Certificates)
		} else {
			require.NoError(t, err)
			assert.Equal(t, 3*time.Hour, org.SessionTimeout, "the owner's edit is not lost")
			assert.Equal(t, next.IdPConfig().Certificates, org.IdP.Certificates)
		}
	}
}

// Held: bodies — never-ending (cut at 1 MiB + 1), slow (10 s context),
// XML with a DOCTYPE/entities, another root, two EntityDescriptors — are
// refused, the last good configuration stays, and the event's Detail is a
// fixed sentence (no attacker text: an error body with markup and newlines
// does not reach it).
func TestAttackReview11bMetadataBodies(t *testing.T) {
	md := string(mustMetadata(t, newFixture(t).idp))
	bodies := map[string]func() io.Reader{
		"endless": func() io.Reader { return io.MultiReader(strings.NewReader(md[:len(md)-20]), ar11bZeros{}) },
		"doctype": func() io.Reader {
			return strings.NewReader(`<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>` + md[strings.Index(md, "<md:")+0:])
		},
		"two": func() io.Reader {
			return strings.NewReader("<EntitiesDescriptor xmlns=\"urn:oasis:names:tc:SAML:2.0:metadata\">" + md + md + "</EntitiesDescriptor>")
		},
		"trailing": func() io.Reader { return strings.NewReader(md + "<evil/>") },
		"text": func() io.Reader {
			return strings.NewReader("<x>\n\nERROR: <script>alert(1)</script>\r\n" + strings.Repeat("Z", 5000) + "</x>")
		},
	}
	for name, body := range bodies {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, nil)
			rt := &ar11bRT{fn: func(r *http.Request) *http.Response {
				return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(body()), ContentLength: -1}
			}}
			svc := ar11bService(t, e, nil, rt, nil)
			require.NoError(t, ar11bSetMetadataURL(t, svc, e.org.ID, "https://idp.example.net/md"))
			before, _ := svc.Organization(context.Background(), e.org.ID)
			_, err := svc.RefreshMetadata(context.Background(), e.org.ID, sso.PrimaryConnection, ownerID)
			after, _ := svc.Organization(context.Background(), e.org.ID)
			if name == "trailing" && err == nil {
				assert.Equal(t, before.IdP, after.IdP)
				return
			}
			require.Error(t, err)
			assert.Equal(t, before.IdP, after.IdP)
			for _, ev := range e.eventsOf(sso.EventIdPMetadataFailed) {
				assert.Less(t, len(ev.Detail), 500)
				assert.NotContains(t, ev.Detail, "<script>")
				assert.NotContains(t, ev.Detail, "\n")
			}
		})
	}
}

type ar11bZeros struct{}

func (ar11bZeros) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	return len(p), nil
}

// Held: a metadata URL on an OIDC connection is never fetched (neither on
// demand nor scheduled), and one organization's refresh writes only that
// organization.
func TestAttackReview11bMetadataURLOnOIDCConnection(t *testing.T) {
	e := newEnv(t, nil)
	rt := &ar11bRT{}
	st := &ar11bMetaStore{Store: e.store, ids: []string{e.org.ID}}
	svc := ar11bService(t, e, st, rt, func(c *sso.Config) { c.MetadataRefreshInterval = 10 * time.Millisecond })
	_, err := svc.UpdateOrganization(context.Background(), e.org.ID, ownerID, func(o *sso.Organization) error {
		o.Connections = append(o.Connections, sso.Connection{ID: "okta", Name: "Okta", Protocol: sso.ProtocolOIDC,
			MetadataURL: "https://169.254.169.254/latest", OIDC: sso.OIDCConfig{Issuer: "https://op.example.net", ClientID: "c", ClientSecret: "s"}})
		return nil
	})
	if err == nil {
		_, err = svc.RefreshMetadata(context.Background(), e.org.ID, "okta", ownerID)
		require.Error(t, err)
		ctx, cancel := context.WithTimeout(context.Background(), 80*time.Millisecond)
		defer cancel()
		_ = svc.Run(ctx)
	}
	assert.Empty(t, rt.saw())
}

package sso_test

// Attacker review 11b (second pass): OIDC discovery single-flight and its
// 30 s failure cache. A failing assertion is a finding (see the report), a
// passing one an attempt that held.

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgsso/orgsso/sso"
)

// ar11bOP is a discovery-only OpenID provider: /.well-known serves a valid
// document for its own URL; gate, when not nil, holds each discovery until
// it is closed or the request is cancelled; entered reports each arrival.
type ar11bOP struct {
	*httptest.Server
	gate    chan struct{}
	entered chan struct{}
	fetches atomic.Int32
}

func newAR11bOP(t testing.TB, gated bool) *ar11bOP {
	op := &ar11bOP{entered: make(chan struct{}, 16)}
	if gated {
		op.gate = make(chan struct{})
	}
	op.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		op.fetches.Add(1)
		if !strings.HasSuffix(r.URL.Path, "/.well-known/openid-configuration") {
			http.NotFound(w, r)
			return
		}
		op.entered <- struct{}{}
		if op.gate != nil {
			select {
			case <-op.gate:
			case <-r.Context().Done():
				return
			}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer": op.URL, "authorization_endpoint": op.URL + "/authorize", "token_endpoint": op.URL + "/token",
			"jwks_uri": op.URL + "/jwks", "code_challenge_methods_supported": []string{"S256"},
		})
	}))
	t.Cleanup(op.Close)
	t.Cleanup(func() {
		if op.gate != nil {
			select {
			case <-op.gate:
			default:
				close(op.gate)
			}
		}
	})
	return op
}

func (op *ar11bOP) release() { close(op.gate) }

func ar11bAddOIDC(t testing.TB, e *env, id, issuer string) {
	t.Helper()
	ctx := context.Background()
	_, err := e.svc.UpdateOrganization(ctx, e.org.ID, ownerID, func(o *sso.Organization) error {
		o.Connections = append(o.Connections, sso.Connection{ID: id, Name: id, Protocol: sso.ProtocolOIDC,
			OIDC: sso.OIDCConfig{Issuer: issuer, ClientID: "c", ClientSecret: "s"}})
		return nil
	})
	require.NoError(t, err)
	require.NoError(t, e.svc.EnableConnection(ctx, e.org.ID, id, ownerID))
}

func waitEntered(t testing.TB, op *ar11bOP) {
	t.Helper()
	select {
	case <-op.entered:
	case <-time.After(5 * time.Second):
		t.Fatal("the discovery never reached the provider")
	}
}

// FINDING: the first caller's context runs the shared discovery, and its
// failure is cached for every caller. An anonymous visitor starts a sign-in
// through an OIDC connection and hangs up while discovery is in flight
// (or the host's handler times out): the discovery fails with "context
// canceled", every sign-in that joined the flight fails with it, and every
// unauthenticated start for the next 30 s gets the cached error without
// trying. Repeated every 30 s, one request per 30 s keeps the connection's
// sign-in down for everybody, though the provider is healthy.
func TestAttackReview11bCancelledStartPoisonsDiscovery(t *testing.T) {
	e := newEnv(t, nil)
	op := newAR11bOP(t, true)
	ar11bAddOIDC(t, e, "okta", op.URL)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := e.svc.StartLoginWith(ctx, "acme", sso.LoginOptions{Connection: "okta"})
		done <- err
	}()
	waitEntered(t, op)
	// A second, patient visitor joins the same flight.
	joined := make(chan error, 1)
	go func() {
		_, err := e.svc.StartLoginWith(context.Background(), "acme", sso.LoginOptions{Connection: "okta"})
		joined <- err
	}()
	time.Sleep(100 * time.Millisecond)
	cancel() // the first visitor hangs up
	require.Error(t, <-done)
	op.release() // the provider is healthy from now on

	errJoined := <-joined
	assert.NoError(t, errJoined, "a visitor who joined the flight fails because another visitor hung up")
	_, err := e.svc.StartLoginWith(context.Background(), "acme", sso.LoginOptions{Connection: "okta"})
	assert.NoError(t, err, "for 30 s every sign-in through the connection fails with another visitor's cancellation (provider fetches: %d)", op.fetches.Load())
}

// FINDING: the single-flight key is the organization and connection only,
// not the settings. A discovery of the old settings in flight when the
// owner changes the issuer (the old provider is slow: it is the one the
// owner is replacing, perhaps because it is compromised) is shared with
// sign-ins that loaded the new settings: they get the old provider's
// relying party, and a callback verified with it takes the old provider's
// tokens.
func TestAttackReview11bConfigChangeJoinsOldDiscovery(t *testing.T) {
	e := newEnv(t, nil)
	oldOP := newAR11bOP(t, true)
	newOP := newAR11bOP(t, false)
	ar11bAddOIDC(t, e, "okta", oldOP.URL)
	ctx := context.Background()

	go func() { _, _ = e.svc.StartLoginWith(ctx, "acme", sso.LoginOptions{Connection: "okta"}) }()
	waitEntered(t, oldOP)

	_, err := e.svc.UpdateOrganization(ctx, e.org.ID, ownerID, func(o *sso.Organization) error {
		o.Connection("okta").OIDC.Issuer = newOP.URL
		return nil
	})
	require.NoError(t, err)

	got := make(chan *sso.Redirect, 1)
	go func() {
		rd, err := e.svc.StartLoginWith(ctx, "acme", sso.LoginOptions{Connection: "okta"})
		assert.NoError(t, err)
		got <- rd
	}()
	time.Sleep(150 * time.Millisecond)
	oldOP.release()
	rd := <-got
	require.NotNil(t, rd)
	assert.True(t, strings.HasPrefix(rd.URL, newOP.URL+"/authorize"),
		"a sign-in started after the issuer changed to %s is sent to the old provider: %s", newOP.URL, rd.URL)
}

// Held: one organization's slow or failing discovery does not hold up or
// fail another organization's (the flight and the cache are per
// organization and connection).
func TestAttackReview11bDiscoveryIsolatedPerOrganization(t *testing.T) {
	e := newEnv(t, nil)
	slow := newAR11bOP(t, true)
	ar11bAddOIDC(t, e, "okta", slow.URL)
	ctx := context.Background()

	other := &sso.Organization{ID: "org-other", SSOName: "other", OwnerID: ownerID}
	require.NoError(t, e.svc.CreateOrganization(ctx, other))
	good := newAR11bOP(t, false)
	_, err := e.svc.UpdateOrganization(ctx, other.ID, ownerID, func(o *sso.Organization) error {
		o.Connections = []sso.Connection{{ID: "okta", Name: "okta", Protocol: sso.ProtocolOIDC,
			OIDC: sso.OIDCConfig{Issuer: good.URL, ClientID: "c", ClientSecret: "s"}}}
		return nil
	})
	require.NoError(t, err)
	require.NoError(t, e.svc.EnableConnection(ctx, other.ID, "okta", ownerID))
	require.NoError(t, e.svc.Enable(ctx, other.ID, ownerID))

	go func() { _, _ = e.svc.StartLoginWith(ctx, "acme", sso.LoginOptions{Connection: "okta"}) }()
	waitEntered(t, slow)
	start := time.Now()
	rd, err := e.svc.StartLoginWith(ctx, "other", sso.LoginOptions{Connection: "okta"})
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(rd.URL, good.URL))
	assert.Less(t, time.Since(start), 2*time.Second)
}

// Held: after a failed discovery is cached, the owner's Test SSO retries at
// once, and an edit of the connection's settings is not answered from the
// failure cache.
func TestAttackReview11bFailureCacheOwnerRetryAndEdit(t *testing.T) {
	e := newEnv(t, nil)
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "down", http.StatusServiceUnavailable) }))
	t.Cleanup(down.Close)
	ar11bAddOIDC(t, e, "okta", down.URL)
	ctx := context.Background()
	_, err := e.svc.StartLoginWith(ctx, "acme", sso.LoginOptions{Connection: "okta"})
	require.Error(t, err)

	up := newAR11bOP(t, false)
	_, err = e.svc.UpdateOrganization(ctx, e.org.ID, ownerID, func(o *sso.Organization) error {
		o.Connection("okta").OIDC.Issuer = up.URL
		return nil
	})
	require.NoError(t, err)
	rd, err := e.svc.StartLoginWith(ctx, "acme", sso.LoginOptions{Connection: "okta"})
	require.NoError(t, err, "an edit is not answered from the failure cache")
	assert.True(t, strings.HasPrefix(rd.URL, up.URL))
}

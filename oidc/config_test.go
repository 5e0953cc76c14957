package oidc_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgsso/orgsso/oidc"
)

func TestConfigValidation(t *testing.T) {
	ep := oidc.Endpoints{AuthURL: "https://idp.example.com/authorize", TokenURL: "https://idp.example.com/token", JWKSURL: "https://idp.example.com/jwks"}
	base := oidc.Config{Issuer: "https://idp.example.com", ClientID: "app", RedirectURL: "https://app.example.com/cb"}
	tests := []struct {
		name      string
		edit      func(*oidc.Config)
		ep        func(*oidc.Endpoints)
		wantField string // "" = valid
	}{
		{name: "valid"},
		{name: "localhost http", edit: func(c *oidc.Config) { c.Issuer = "http://localhost:9000"; c.RedirectURL = "http://[::1]:8080/cb" }},
		{name: "127.0.0.1 http", edit: func(c *oidc.Config) { c.Issuer = "http://127.0.0.1:9000/tenant" }},
		{name: "http issuer, not localhost", edit: func(c *oidc.Config) { c.Issuer = "http://idp.example.com" }, wantField: "Issuer"},
		{name: "http issuer, localhost lookalike", edit: func(c *oidc.Config) { c.Issuer = "http://localhost.evil.com" }, wantField: "Issuer"},
		{name: "issuer with a query", edit: func(c *oidc.Config) { c.Issuer = "https://idp.example.com?tenant=1" }, wantField: "Issuer"},
		{name: "issuer relative", edit: func(c *oidc.Config) { c.Issuer = "idp.example.com" }, wantField: "Issuer"},
		{name: "issuer with user info", edit: func(c *oidc.Config) { c.Issuer = "https://u:p@idp.example.com" }, wantField: "Issuer"},
		{name: "no client ID", edit: func(c *oidc.Config) { c.ClientID = "" }, wantField: "ClientID"},
		{name: "http redirect", edit: func(c *oidc.Config) { c.RedirectURL = "http://app.example.com/cb" }, wantField: "RedirectURL"},
		{name: "scopes without openid", edit: func(c *oidc.Config) { c.Scopes = []string{"email"} }, wantField: "Scopes"},
		{name: "scope with a space", edit: func(c *oidc.Config) { c.Scopes = []string{"openid", "a b"} }, wantField: "Scopes[1]"},
		{name: "alg none", edit: func(c *oidc.Config) { c.Algorithms = []string{"RS256", "none"} }, wantField: "Algorithms[1]"},
		{name: "alg NONE", edit: func(c *oidc.Config) { c.Algorithms = []string{"NONE"} }, wantField: "Algorithms[0]"},
		{name: "alg HS256", edit: func(c *oidc.Config) { c.Algorithms = []string{"HS256"} }, wantField: "Algorithms[0]"},
		{name: "alg hs512", edit: func(c *oidc.Config) { c.Algorithms = []string{"hs512"} }, wantField: "Algorithms[0]"},
		{name: "alg unknown", edit: func(c *oidc.Config) { c.Algorithms = []string{"RS1"} }, wantField: "Algorithms[0]"},
		{name: "alg EdDSA", edit: func(c *oidc.Config) { c.Algorithms = []string{"EdDSA"} }},
		{name: "negative skew", edit: func(c *oidc.Config) { c.ClockSkew = -time.Second }, wantField: "ClockSkew"},
		{name: "skew over the cap", edit: func(c *oidc.Config) { c.ClockSkew = oidc.MaxClockSkew + time.Second }, wantField: "ClockSkew"},
		{name: "skew at the cap", edit: func(c *oidc.Config) { c.ClockSkew = oidc.MaxClockSkew }},
		{name: "negative MaxTokenAge", edit: func(c *oidc.Config) { c.MaxTokenAge = -1 }, wantField: "MaxTokenAge"},
		{name: "negative MaxResponseBytes", edit: func(c *oidc.Config) { c.MaxResponseBytes = -1 }, wantField: "MaxResponseBytes"},
		{name: "negative MaxTokenBytes", edit: func(c *oidc.Config) { c.MaxTokenBytes = -1 }, wantField: "MaxTokenBytes"},
		{name: "http JWKS", ep: func(e *oidc.Endpoints) { e.JWKSURL = "http://idp.example.com/jwks" }, wantField: "Endpoints.JWKSURL"},
		{name: "no token URL", ep: func(e *oidc.Endpoints) { e.TokenURL = "" }, wantField: "Endpoints.TokenURL"},
		{name: "UserInfo without its URL", edit: func(c *oidc.Config) { c.UserInfo = true }, wantField: "Endpoints.UserInfoURL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, e := base, ep
			if tt.edit != nil {
				tt.edit(&cfg)
			}
			if tt.ep != nil {
				tt.ep(&e)
			}
			_, err := oidc.New(cfg, e)
			if tt.wantField == "" {
				require.NoError(t, err)
				return
			}
			var ce *oidc.ConfigError
			require.True(t, errors.As(err, &ce), "New() err = %v; want a *ConfigError", err)
			assert.Equal(t, tt.wantField, ce.Field)
			assert.ErrorIs(t, err, oidc.ErrInvalidConfig)
		})
	}
}

// TestSecretNeverPrints: the client secret is redacted by fmt (every verb),
// slog (text and JSON) and encoding/json, alone or inside Config, and inside
// a host's struct that holds the Config.
func TestSecretNeverPrints(t *testing.T) {
	const secret = "s3cret-value"
	cfg := oidc.Config{Issuer: "https://idp.example.com", ClientID: "app", ClientSecret: secret, RedirectURL: "https://app.example.com/cb"}
	host := struct {
		Name string
		OIDC oidc.Config
		Ptr  *oidc.Config
	}{"acme", cfg, &cfg}

	var out []string
	for _, v := range []any{cfg, &cfg, cfg.ClientSecret, host} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"} {
			out = append(out, fmt.Sprintf(verb, v))
		}
		out = append(out, fmt.Sprint(v), fmt.Sprintln(v))
	}
	for _, h := range []func(*bytes.Buffer) slog.Handler{
		func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
		func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
	} {
		var buf bytes.Buffer
		log := slog.New(h(&buf))
		log.Info("config", "cfg", cfg, "secret", cfg.ClientSecret, "host", host, "any", any(cfg))
		out = append(out, buf.String())
	}
	// Config holds funcs and cannot be JSON; a secret in a host's struct can.
	for _, v := range []any{cfg.ClientSecret, struct{ S oidc.Secret }{cfg.ClientSecret}} {
		b, err := json.Marshal(v)
		require.NoError(t, err)
		out = append(out, string(b))
	}
	for _, s := range out {
		assert.NotContains(t, s, secret)
		assert.NotContains(t, strings.ToLower(s), fmt.Sprintf("%x", secret))
	}
	assert.Contains(t, fmt.Sprintf("%+v", cfg), "[REDACTED]")
	assert.Equal(t, secret, string(cfg.ClientSecret), "the value itself is still there for the token request")
}

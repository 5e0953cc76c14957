package postgres_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/orgsso/orgsso/session"
)

// benchNow is the benchmarks' clock.
var benchNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// BenchmarkSessionValidate measures session.Manager.Validate, the lookup
// behind every authenticated request, on a table of 10,000 sessions, over
// a loopback connection.
func BenchmarkSessionValidate(b *testing.B) {
	st := open(b)
	ctx := b.Context()
	// Seed with one statement: generate_series on the server.
	exp := benchNow.Add(time.Hour).Format("2006-01-02T15:04:05.000000000Z")
	if _, err := st.DB().ExecContext(ctx, `INSERT INTO sessions (id, org_id, user_id, method, created_at, expires_at)
		SELECT md5(i::text) || md5((i+1)::text), 'org' || (i % 1000), 'user' || i, 'sso', $1, $1
		FROM generate_series(1, 10000) AS i`, exp); err != nil {
		b.Fatal(err)
	}
	if _, err := st.DB().ExecContext(ctx, `ANALYZE sessions`); err != nil {
		b.Fatal(err)
	}
	m := session.NewManager(st, session.WithClock(func() time.Time { return benchNow }))
	const tokens = 100
	toks := make([]string, tokens)
	for i := range toks {
		var err error
		if _, toks[i], err = m.Create(ctx, "org1", "user1", session.MethodSSO, time.Hour); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := m.Validate(ctx, toks[i%tokens]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.SetParallelism(4) // waiting on the network, not the CPU
		b.RunParallel(func(pb *testing.PB) {
			i := rand.IntN(tokens)
			for pb.Next() {
				if _, err := m.Validate(ctx, toks[i%tokens]); err != nil {
					b.Error(err)
					return
				}
				i++
			}
		})
	})
}

// BenchmarkOrganizationBySSOName measures the lookup at the start of every
// SSO sign-in, on 10,000 organizations, names picked at random.
func BenchmarkOrganizationBySSOName(b *testing.B) {
	st := open(b)
	ctx := b.Context()
	cert := `["-----BEGIN CERTIFICATE-----\n` + strings.Repeat(strings.Repeat("M", 64)+`\n`, 16) + `-----END CERTIFICATE-----\n"]`
	if _, err := st.DB().ExecContext(ctx, `INSERT INTO organizations (id, sso_name, owner_id, enabled, idp_entity_id, idp_sso_url,
		idp_certificates, idp_signature_algorithm, strict_mode, session_timeout_ns,
		role_mapping_enabled, role_delimiter, role_mappings, jit_provisioning, allow_idp_initiated, attributes)
		SELECT 'org-id-' || i, 'org-' || i, 'owner', true, 'https://idp.example.com/' || i, 'https://idp.example.com/sso',
			$1::jsonb, '', true, 43200000000000, true, ',',
			'[{"idp_role":"admins","org_role":"admin","stack_roles":{"stack1":["developer","admin"]}}]'::jsonb, false, false,
			'{"email":null,"first_name":null,"last_name":null,"roles":["groups"]}'::jsonb
		FROM generate_series(0, 9999) AS i`, cert); err != nil {
		b.Fatal(err)
	}
	if _, err := st.DB().ExecContext(ctx, `ANALYZE organizations`); err != nil {
		b.Fatal(err)
	}
	names := make([]string, 4096)
	for i := range names {
		names[i] = fmt.Sprintf("org-%d", rand.IntN(10_000))
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := st.OrganizationBySSOName(ctx, names[i%len(names)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

package sqlstore

import (
	"errors"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/orgsso/orgsso/sso"
)

func TestTimeRoundTrip(t *testing.T) {
	tests := []time.Time{
		{},
		time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC),
		time.Date(1969, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Unix(0, 0),
		time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.FixedZone("X", -3*3600-1800)),
		time.Now(), // with a monotonic reading
		time.Date(2262, 4, 11, 23, 47, 16, 854775808, time.UTC), // past UnixNano's range
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
	}
	for _, in := range tests {
		s, err := encodeTime("t", in)
		if err != nil {
			t.Errorf("encodeTime(%v) err = %v; want nil", in, err)
			continue
		}
		if len(s) != len(timeLayout) {
			t.Errorf("encodeTime(%v) = %q; want %d characters", in, s, len(timeLayout))
		}
		if b := encodeBound(in); b != s {
			t.Errorf("encodeBound(%v) = %q; want %q as encodeTime", in, b, s)
		}
		out, err := decodeTime(s)
		if err != nil || out != in.UTC().Round(0) {
			t.Errorf("decodeTime(encodeTime(%v)) = %v, %v; want %v", in, out, err, in.UTC().Round(0))
		}
	}
}

func TestTimeOutOfRange(t *testing.T) {
	for _, in := range []time.Time{
		time.Date(-1, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 0, 0, 0, time.FixedZone("W", -3600)), // 10000 in UTC
	} {
		if s, err := encodeTime("t", in); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("encodeTime(%v) = %q, %v; want ErrInvalidArgument", in, s, err)
		}
	}
	low, high := encodeBound(time.Date(-5, 1, 1, 0, 0, 0, 0, time.UTC)), encodeBound(time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC))
	for _, in := range []time.Time{{}, time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)} {
		s, _ := encodeTime("t", in)
		if !(low < s && s < high) {
			t.Errorf("bounds %q, %q do not enclose %q", low, high, s)
		}
	}
}

// TestTimeOrder: text order of encoded times is time order, which the
// database's comparisons rely on.
func TestTimeOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var times []time.Time
	for range 2000 {
		base := time.Date(r.IntN(10000), 1, 1, 0, 0, 0, 0, time.UTC)
		times = append(times, base.Add(time.Duration(r.Int64N(int64(365*24*time.Hour)))))
	}
	times = append(times, t0Plus(0), t0Plus(1), t0Plus(999), t0Plus(1000), t0Plus(-1))
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
	var enc []string
	for _, tm := range times {
		s, err := encodeTime("t", tm)
		if err != nil {
			t.Fatal(err)
		}
		enc = append(enc, s)
	}
	if !slices.IsSorted(enc) {
		t.Error("encoded times are not in time order")
	}
}

func t0Plus(ns int) time.Time {
	return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC).Add(time.Duration(ns))
}

func TestRebind(t *testing.T) {
	q := `INSERT INTO x (a, b) VALUES (?, ?) WHERE c = ? AND d <> 'é'`
	if got := SQLite.rebind(q); got != q {
		t.Errorf("SQLite.rebind() = %q; want it unchanged", got)
	}
	want := `INSERT INTO x (a, b) VALUES ($1, $2) WHERE c = $3 AND d <> 'é'`
	if got := Postgres.rebind(q); got != want {
		t.Errorf("Postgres.rebind() = %q; want %q", got, want)
	}
}

// TestDialectMarkers: sql replaces the dialect markers and leaves none.
func TestDialectMarkers(t *testing.T) {
	q := `SELECT ` + schemaCookie + ` FROM t WHERE a = ? ` + skipLocked
	for d, want := range map[Dialect]string{
		SQLite:   `SELECT (SELECT schema_version FROM pragma_schema_version) FROM t WHERE a = ? `,
		Postgres: `SELECT 0 FROM t WHERE a = $1 FOR UPDATE SKIP LOCKED`,
	} {
		if got := d.sql(q); got != want {
			t.Errorf("%v.sql() = %q; want %q", d, got, want)
		}
	}
}

// TestQueriesHaveNoLiteralQuestionMarks: rebind counts every ?; a literal
// one in a query would shift the placeholders.
func TestQueriesHaveNoLiteralQuestionMarks(t *testing.T) {
	var st statements
	for _, s := range st.all() {
		if strings.Contains(s.query, "'?") || strings.Contains(s.query, "?'") {
			t.Errorf("query has a ? in a literal: %s", s.query)
		}
		if *s.stmt != nil {
			t.Error("all() on a zero statements returned a prepared statement")
		}
	}
}

func TestDialect(t *testing.T) {
	for _, tt := range []struct {
		d     Dialect
		name  string
		valid bool
	}{
		{SQLite, "sqlite", true},
		{Postgres, "postgres", true},
		{0, "Dialect(0)", false},
		{42, "Dialect(42)", false},
	} {
		if got := tt.d.String(); got != tt.name {
			t.Errorf("Dialect(%d).String() = %q; want %q", int(tt.d), got, tt.name)
		}
		if got := tt.d.valid(); got != tt.valid {
			t.Errorf("Dialect(%d).valid() = %t; want %t", int(tt.d), got, tt.valid)
		}
	}
}

func TestMigrationsEmbedded(t *testing.T) {
	for _, d := range []Dialect{SQLite, Postgres} {
		ms, err := migrations(d)
		if err != nil || len(ms) == 0 {
			t.Fatalf("migrations(%v) = %d migrations, %v; want some, nil", d, len(ms), err)
		}
		for i, m := range ms {
			if m.version != i+1 || !hasStatement(m.sql) {
				t.Errorf("migrations(%v)[%d] = version %d %s; want version %d with SQL", d, i, m.version, m.name, i+1)
			}
		}
	}
	// Both dialects have the same migrations, by name.
	s, _ := migrations(SQLite)
	p, _ := migrations(Postgres)
	if len(s) != len(p) {
		t.Fatalf("SQLite has %d migrations, PostgreSQL %d; want the same", len(s), len(p))
	}
	for i := range s {
		if s[i].name != p[i].name {
			t.Errorf("migration %d is %s for SQLite, %s for PostgreSQL; want one name", i+1, s[i].name, p[i].name)
		}
	}
}

// hasStatement reports whether sql holds more than comments and space.
func hasStatement(sql string) bool {
	for line := range strings.Lines(sql) {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "--") {
			return true
		}
	}
	return false
}

func TestStorable(t *testing.T) {
	type inner struct {
		M map[string][]string
		p string // unexported: not checked
	}
	type outer struct {
		S  string
		L  []string
		In inner
		P  *inner
	}
	ok := outer{S: "Ωmega ✓", L: []string{"", "x"}, In: inner{M: map[string][]string{"k": {"v"}}, p: "\xff"}}
	if err := checkStorable("v", &ok); err != nil {
		t.Errorf("checkStorable(valid) err = %v; want nil", err)
	}
	for name, bad := range map[string]outer{
		"string":    {S: "\xff"},
		"slice":     {L: []string{"a", "b\x00"}},
		"map key":   {In: inner{M: map[string][]string{"\xc3": nil}}},
		"map value": {In: inner{M: map[string][]string{"k": {"\x00"}}}},
		"pointer":   {P: &inner{M: map[string][]string{"k": {"\xfe"}}}},
	} {
		if err := checkStorable("v", &bad); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("checkStorable(bad %s) err = %v; want ErrInvalidArgument", name, err)
		}
	}
}

// corruptConnections are connections columns the store never writes: each
// must read as an error, never as a panic or a partial value.
var corruptConnections = []string{
	``, `not json`, `[`, `[{"id":`, `{"id":"x"}`, `"[]"`, `1`, `true`, `[1]`, `["x"]`, `[[]]`,
	`[{"id":1}]`, `[{"enabled":"yes"}]`, `[{"saml":"x"}]`, `[{"saml":{"certificates":"pem"}}]`,
	`[{"oidc":{"scopes":[1]}}]`, `[{"oidc":{"client_secret":{}}}]`, `[{"domains":{}}]`,
	`[{"attributes":[]}]`, `[{"metadata_url":1}]`, `[{"metadata_url":["u"]}]`, `[] []`, `[]x`,
}

func TestDecodeConnectionsCorrupt(t *testing.T) {
	for _, s := range corruptConnections {
		if cs, err := decodeConnections(s); err == nil {
			t.Errorf("decodeConnections(%q) = %#v, nil; want an error", s, cs)
		}
	}
	for _, s := range []string{`[]`, `null`, ` [ ] `} {
		if cs, err := decodeConnections(s); err != nil || cs != nil {
			t.Errorf("decodeConnections(%q) = %#v, %v; want nil, nil", s, cs, err)
		}
	}
	// Unknown names (a newer orgsso's) are skipped, known ones read.
	cs, err := decodeConnections(`[{"id":"a","future":{"x":1},"oidc":{"client_secret":"s","future":[]}}]`)
	if err != nil || len(cs) != 1 || cs[0].ID != "a" || cs[0].OIDC.ClientSecret != "s" || cs[0].Epoch != 0 || cs[0].MetadataURL != "" {
		t.Errorf("decodeConnections(unknown names) = %#v, %v; want connection a with its secret", cs, err)
	}
}

// FuzzDecodeConnections: whatever the column holds, decoding returns a value
// or an error without panicking, and a value it returns is stored and read
// back unchanged.
func FuzzDecodeConnections(f *testing.F) {
	for _, s := range corruptConnections {
		f.Add(s)
	}
	f.Add(`[{"id":"a","name":"A","protocol":"saml","enabled":true,"saml":{"entity_id":"e","sso_url":"u","certificates":["c"],"signature_algorithm":"s"},` +
		`"allow_idp_initiated":true,"oidc":{"issuer":"","client_id":"","client_secret":"","scopes":null,"roles_claim":"","userinfo":false},` +
		`"jit_provisioning":true,"attributes":{"email":["e"],"first_name":null,"last_name":[],"roles":null},"domains":["d.example"]}]`)
	f.Add(`[{"oidc":{"issuer":"i","client_id":"c","client_secret":"s","scopes":[],"roles_claim":"groups","userinfo":true}},{}]`)
	f.Fuzz(func(t *testing.T, s string) {
		cs, err := decodeConnections(s)
		if err != nil {
			return
		}
		enc, err := encodeConnections(cs)
		if err != nil {
			t.Fatalf("encodeConnections(decoded %q) err = %v", s, err)
		}
		again, err := decodeConnections(enc)
		if err != nil || !reflect.DeepEqual(again, cs) {
			t.Fatalf("decode(encode(decode(%q))) = %#v, %v; want %#v", s, again, err, cs)
		}
	})
}

// TestHasMetadataURL: has_metadata_url is set by the organization's own
// metadata URL or a SAML connection's, not by an OIDC connection's (which
// the Service refuses, and the refresh would skip).
func TestHasMetadataURL(t *testing.T) {
	const u = "https://idp.example/metadata"
	saml := sso.Connection{ID: "s", Protocol: sso.ProtocolSAML}
	samlURL := sso.Connection{ID: "u", Protocol: sso.ProtocolSAML, MetadataURL: u}
	oidcURL := sso.Connection{ID: "o", Protocol: sso.ProtocolOIDC, MetadataURL: u}
	for _, tt := range []struct {
		name string
		org  sso.Organization
		want bool
	}{
		{"none", sso.Organization{ID: "o"}, false},
		{"own", sso.Organization{ID: "o", IdPMetadataURL: u}, true},
		{"SAML connection without", sso.Organization{ID: "o", Connections: []sso.Connection{saml}}, false},
		{"SAML connection", sso.Organization{ID: "o", Connections: []sso.Connection{saml, samlURL}}, true},
		{"OIDC connection", sso.Organization{ID: "o", Connections: []sso.Connection{oidcURL}}, false},
		{"own and SAML connection", sso.Organization{ID: "o", IdPMetadataURL: u, Connections: []sso.Connection{samlURL}}, true},
	} {
		if got := hasMetadataURL(&tt.org); got != tt.want {
			t.Errorf("%s: hasMetadataURL = %v; want %v", tt.name, got, tt.want)
		}
		r, err := encodeOrg(&tt.org)
		if err != nil {
			t.Fatalf("%s: encodeOrg err = %v", tt.name, err)
		}
		if r.hasMetadataURL != tt.want || r.idpMetadataURL != tt.org.IdPMetadataURL {
			t.Errorf("%s: encodeOrg = has %v, url %q; want %v, %q", tt.name, r.hasMetadataURL, r.idpMetadataURL, tt.want, tt.org.IdPMetadataURL)
		}
	}
}

// corruptDomains are domains columns the store never writes: each must read
// as an error, never as a panic or a partial value.
var corruptDomains = []string{
	``, `not json`, `[`, `[{"name":`, `{"name":"x"}`, `"[]"`, `1`, `true`, `[1]`, `["x"]`, `[[]]`,
	`[{"name":1}]`, `[{"token":{}}]`, `[{"verified_at":5}]`, `[{"name":"a","token":"t"}]`,
	`[{"verified_at":"2026-03-01"}]`, `[{"verified_at":"2026-03-01T12:00:00Z"}]`, `[{"verified_at":null}]`,
	`[] []`, `[]x`,
}

func TestDecodeDomainsCorrupt(t *testing.T) {
	for _, s := range corruptDomains {
		if ds, err := decodeDomains(s); err == nil {
			t.Errorf("decodeDomains(%q) = %#v, nil; want an error", s, ds)
		}
	}
	for _, s := range []string{`[]`, `null`, ` [ ] `} {
		if ds, err := decodeDomains(s); err != nil || ds != nil {
			t.Errorf("decodeDomains(%q) = %#v, %v; want nil, nil", s, ds, err)
		}
	}
	// Unknown names (a newer orgsso's) are skipped, known ones read.
	ds, err := decodeDomains(`[{"name":"a.example","token":"t","verified_at":"0001-01-01T00:00:00.000000000Z","future":[1]}]`)
	if err != nil || len(ds) != 1 || ds[0].Name != "a.example" || ds[0].Token != "t" || ds[0].Verified() {
		t.Errorf("decodeDomains(unknown names) = %#v, %v; want a.example, not verified", ds, err)
	}
}

func TestEncodeDomains(t *testing.T) {
	at := time.Date(2026, 3, 1, 13, 0, 0, 5, time.FixedZone("CET", 3600))
	got, err := encodeDomains([]sso.Domain{{Name: "b.example", Token: "t\"1", VerifiedAt: at}, {Name: "a.example"}})
	want := `[{"name":"b.example","token":"t\"1","verified_at":"2026-03-01T12:00:00.000000005Z"},` +
		`{"name":"a.example","token":"","verified_at":"0001-01-01T00:00:00.000000000Z"}]`
	if err != nil || got != want {
		t.Errorf("encodeDomains() = %s, %v; want %s", got, err, want)
	}
	for _, ds := range [][]sso.Domain{nil, {}} {
		if got, err := encodeDomains(ds); err != nil || got != "[]" {
			t.Errorf("encodeDomains(%#v) = %s, %v; want []", ds, got, err)
		}
	}
	if _, err := encodeDomains([]sso.Domain{{Name: "x", VerifiedAt: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}}); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("encodeDomains(year 10000) err = %v; want ErrInvalidArgument", err)
	}
}

// FuzzDecodeDomains: whatever the column holds, decoding returns a value or
// an error without panicking, and a value it returns is stored and read
// back unchanged.
func FuzzDecodeDomains(f *testing.F) {
	for _, s := range corruptDomains {
		f.Add(s)
	}
	f.Add(`[{"name":"acme.example","token":"tok","verified_at":"2026-03-01T12:00:00.000000000Z"},` +
		`{"name":"b.example","token":"","verified_at":"0001-01-01T00:00:00.000000000Z"}]`)
	f.Add(`[{"name":"","token":"","verified_at":"9999-12-31T23:59:59.999999999Z"},{"verified_at":"0000-01-01T00:00:00.000000001Z"}]`)
	f.Fuzz(func(t *testing.T, s string) {
		ds, err := decodeDomains(s)
		if err != nil {
			return
		}
		enc, err := encodeDomains(ds)
		if err != nil {
			t.Fatalf("encodeDomains(decoded %q) err = %v", s, err)
		}
		again, err := decodeDomains(enc)
		if err != nil || !reflect.DeepEqual(again, ds) {
			t.Fatalf("decode(encode(decode(%q))) = %#v, %v; want %#v", s, again, err, ds)
		}
	})
}

package storetest

import (
	"context"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/orgsso/orgsso/rolemap"
	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
)

// Store is what the suite tests: everything an orgsso store provides. Every
// store in orgsso/store implements all of it.
type Store interface {
	sso.Store
	sso.RequestConsumer
	sso.AdminStore
	sso.DomainStore
	sso.MetadataLister
	sso.Cleaner
	sso.BatchCleaner
	sso.MFAStore
	session.Store
	session.Lister
}

// test is one subtest: it gets a new, empty store.
type test struct {
	name string
	run  func(t *testing.T, ctx context.Context, st Store)
}

// group is a named list of subtests.
type group struct {
	name  string
	tests []test
}

// Run runs the suite against the stores newStore makes. Every subtest calls
// newStore once for a new, empty store, and the subtests run in parallel
// (t.Parallel), so newStore must be safe for concurrent use; it should
// register the store's cleanup with t.Cleanup and fail t if it cannot make
// a store.
func Run(t *testing.T, newStore func(t *testing.T) Store) {
	t.Helper()
	if newStore == nil {
		t.Fatal("storetest.Run: nil newStore")
	}
	for _, g := range groups() {
		t.Run(g.name, func(t *testing.T) {
			for _, tt := range g.tests {
				t.Run(tt.name, func(t *testing.T) {
					t.Parallel()
					st := newStore(t)
					if st == nil {
						t.Fatal("newStore returned nil")
					}
					tt.run(t, t.Context(), st)
				})
			}
		})
	}
}

func groups() []group {
	return []group{
		{"Organization", orgTests},
		{"Member", memberTests},
		{"Request", requestTests},
		{"Assertion", assertionTests},
		{"Session", sessionTests},
		{"Cleanup", cleanupTests},
		{"CreateOrganization", createOrgTests},
		{"UpdateOrganization", updateOrgTests},
		{"CreateMember", createMemberTests},
		{"UpdateMember", updateMemberTests},
		{"DeleteMember", deleteMemberTests},
		{"MemberByUserID", memberByUserIDTests},
		{"Members", membersTests},
		{"ListSessions", listSessionsTests},
		{"EndSessions", endSessionsTests},
		{"CleanupBatch", cleanupBatchTests},
		{"KeyBounds", keyBoundsTests},
		{"Concurrency", concurrencyTests},
		{"Guards", guardTests},
		{"Connections", connectionTests},
		{"RequestConnection", requestConnectionTests},
		{"SessionConnection", sessionConnectionTests},
		{"Domains", domainTests},
		{"OrganizationByDomain", orgByDomainTests},
		{"DomainUniqueness", domainUniquenessTests},
		{"DomainConcurrency", domainConcurrencyTests},
		{"MetadataURLs", metadataURLTests},
		{"OrganizationsWithMetadataURL", metadataListerTests},
		{"Changes", changeTests},
		{"SignIn", signInTests},
		{"MFA", mfaTests},
	}
}

// t0 is the instant tests measure expiry from.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// normTime is how the suite compares times: in UTC, without a monotonic
// reading. A store need not keep the location.
func normTime(t time.Time) time.Time { return t.UTC().Round(0) }

// normRequest returns a copy of r with its time normalized; nil stays nil.
func normRequest(r *sso.PendingRequest) *sso.PendingRequest {
	if r == nil {
		return nil
	}
	c := *r
	c.ExpiresAt = normTime(c.ExpiresAt)
	return &c
}

// normSession returns a copy of s with its times normalized; nil stays nil.
func normSession(s *session.Session) *session.Session {
	if s == nil {
		return nil
	}
	c := *s
	c.CreatedAt = normTime(c.CreatedAt)
	c.ExpiresAt = normTime(c.ExpiresAt)
	return &c
}

// fullOrg returns an organization with every field set, slices and maps
// non-empty; the FixturesFullyPopulated test keeps it so when fields are
// added to sso.Organization.
func fullOrg(id, name string) *sso.Organization {
	return &sso.Organization{
		ID:      id,
		SSOName: name,
		OwnerID: "owner-" + id,
		Enabled: true,
		IdP: sso.IdPConfig{
			EntityID:           "https://idp.example.com/" + id,
			SSOURL:             "https://idp.example.com/" + id + "/sso",
			Certificates:       []string{"-----BEGIN CERTIFICATE-----\nA\n-----END CERTIFICATE-----\n", "-----BEGIN CERTIFICATE-----\nB\n-----END CERTIFICATE-----\n"},
			SignatureAlgorithm: "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
		},
		IdPMetadataURL: "https://idp.example.com/" + id + "/metadata",
		StrictMode:     true,
		SessionTimeout: 8 * time.Hour,
		RoleMapping: rolemap.Config{
			Enabled:   true,
			Delimiter: ",",
			Mappings: []rolemap.Mapping{
				{IdPRole: "admins", OrgRole: rolemap.RoleAdmin, StackRoles: map[string][]string{"stack1": {"developer", "admin"}}},
				{IdPRole: "devs", OrgRole: rolemap.RoleMember, StackRoles: map[string][]string{"stack2": {"developer"}, "stack3": {"viewer"}}},
			},
		},
		JITProvisioning:   true,
		AllowIdPInitiated: true,
		Attributes: sso.AttributeNames{
			Email:     []string{"email", "mail"},
			FirstName: []string{"first_name"},
			LastName:  []string{"last_name"},
			Roles:     []string{"roles", "groups"},
		},
		Connections: []sso.Connection{fullSAMLConnection("contoso"), fullOIDCConnection("okta")},
		Domains:     fixtureDomains(id),
		MFA: sso.MFAPolicy{Required: true, TrustIdP: true,
			IdPValues: []string{"mfa", "urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract"}},
		Version:  3,
		SSOEpoch: 2,
	}
}

// fixtureDomains returns the domains fullOrg gives organization id: one
// verified (verifiedDomain(id)) and one only claimed (claimedDomain(id)),
// named after the ID so that organizations of distinct IDs never verify
// one domain.
func fixtureDomains(id string) []sso.Domain {
	return []sso.Domain{
		{Name: verifiedDomain(id), Token: "token-verified-" + id, VerifiedAt: t0.Add(-48*time.Hour + time.Nanosecond)},
		{Name: claimedDomain(id), Token: "token-claimed-" + id},
	}
}

// verifiedDomain is the domain fullOrg(id, …) has verified.
func verifiedDomain(id string) string { return id + ".example" }

// claimedDomain is the domain fullOrg(id, …) claims without having verified
// it.
func claimedDomain(id string) string { return "claimed." + id + ".example" }

// fullSAMLConnection returns a SAML connection with every field a SAML
// connection has set, slices non-empty.
func fullSAMLConnection(id string) sso.Connection {
	return sso.Connection{
		ID: id, Name: "Contoso AD FS (" + id + ")", Protocol: sso.ProtocolSAML, Enabled: true,
		SAML: sso.IdPConfig{
			EntityID:           "https://adfs.contoso.example/" + id,
			SSOURL:             "https://adfs.contoso.example/" + id + "/ls",
			Certificates:       []string{"-----BEGIN CERTIFICATE-----\nS1\n-----END CERTIFICATE-----\n", "-----BEGIN CERTIFICATE-----\nS2\n-----END CERTIFICATE-----\n"},
			SignatureAlgorithm: "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512",
		},
		AllowIdPInitiated: true,
		MetadataURL:       "https://adfs.contoso.example/" + id + "/FederationMetadata/2007-06/FederationMetadata.xml",
		JITProvisioning:   true,
		Attributes: sso.AttributeNames{
			Email:     []string{"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress"},
			FirstName: []string{"givenname", "first"},
			LastName:  []string{"surname"},
			Roles:     []string{"groups"},
		},
		Domains: []string{"contoso.example", "contoso-eu.example"},
		Epoch:   -7364115240170712301, // drawn at random: any int64
	}
}

// fullOIDCConnection returns an OIDC connection with every field an OIDC
// connection has set, slices non-empty, a client secret included.
func fullOIDCConnection(id string) sso.Connection {
	return sso.Connection{
		ID: id, Name: "Okta (" + id + ")", Protocol: sso.ProtocolOIDC, Enabled: true,
		OIDC: sso.OIDCConfig{
			Issuer:       "https://acme.okta.example/oauth2/" + id,
			ClientID:     "client-" + id,
			ClientSecret: sso.Secret("s3cr3t-" + id + "-\"quoted\"-Ω"),
			Scopes:       []string{"email", "profile", "groups"},
			RolesClaim:   "groups",
			UserInfo:     true,
		},
		JITProvisioning: true,
		Attributes:      sso.AttributeNames{Email: []string{"email"}, FirstName: []string{"given_name"}, LastName: []string{"family_name"}, Roles: []string{"roles"}},
		Domains:         []string{"acme.example"},
		Epoch:           1<<62 + 12345,
	}
}

// fullMember returns a member with every field set.
func fullMember(orgID, email string) *sso.Member {
	return &sso.Member{
		OrgID:           orgID,
		UserID:          "user-" + email,
		Email:           email,
		FirstName:       "Ada",
		LastName:        "Lovelace",
		OrgRole:         rolemap.RoleAdmin,
		StackRoles:      map[string][]string{"stack1": {"developer"}, "stack2": {"viewer", "admin"}},
		AllowWithoutSSO: true,
	}
}

// newSession returns a session, not ended, expiring at expires, made an hour
// before, in epoch 5.
func newSession(id, orgID, method string, expires time.Time) *session.Session {
	return &session.Session{
		ID: id, OrgID: orgID, UserID: "user-" + id, Method: method,
		CreatedAt: expires.Add(-time.Hour), ExpiresAt: expires, Epoch: 5,
	}
}

// fullSession returns a session with every field set: newSession's, ended
// (session.EndRevoked), through the connection "okta".
func fullSession(id, orgID, method string, expires time.Time) *session.Session {
	s := newSession(id, orgID, method, expires)
	s.EndReason = session.EndRevoked
	s.Connection = "okta"
	return s
}

// zeroFields lists the paths of fields in v that are zero (or empty slices
// and maps), recursing into structs, slices and maps. A field of the
// elements of a slice is zero if it is zero in every element: a SAML and an
// OIDC connection together set every field of sso.Connection.
func zeroFields(v reflect.Value, path string) []string {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return []string{path}
		}
		return zeroFields(v.Elem(), path)
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			if v.IsZero() {
				return []string{path}
			}
			return nil
		}
		var zero []string
		for i := range v.NumField() {
			if f := v.Type().Field(i); f.IsExported() {
				zero = append(zero, zeroFields(v.Field(i), path+"."+f.Name)...)
			}
		}
		return zero
	case reflect.Slice, reflect.Map:
		if v.Len() == 0 {
			return []string{path}
		}
		var zero []string
		if v.Kind() == reflect.Slice {
			zero = zeroFields(v.Index(0), path+"[i]")
			for i := 1; i < v.Len(); i++ {
				other := zeroFields(v.Index(i), path+"[i]")
				zero = slices.DeleteFunc(zero, func(p string) bool { return !slices.Contains(other, p) })
			}
		} else {
			for it := v.MapRange(); it.Next(); {
				zero = append(zero, zeroFields(it.Value(), path+"[k]")...)
			}
		}
		return zero
	default:
		if v.IsZero() {
			return []string{path}
		}
		return nil
	}
}

// racers is how many goroutines the concurrency tests release at once.
const racers = 100

// race runs f in racers goroutines released together and returns their
// errors, by goroutine.
func race(f func(i int) error) []error {
	errs := make([]error, racers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range racers {
		wg.Go(func() {
			<-start
			errs[i] = f(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

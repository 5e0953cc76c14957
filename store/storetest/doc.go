// Package storetest is a conformance suite for orgsso stores, in the spirit
// of testing/fstest: a store that implements sso.Store, sso.RequestConsumer,
// sso.AdminStore, sso.DomainStore, sso.MetadataLister, sso.Cleaner,
// sso.BatchCleaner, session.Store and session.Lister (the Store interface
// here) runs it from its own tests.
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) storetest.Store {
//			st, err := mystore.Open(t.TempDir())
//			if err != nil {
//				t.Fatal(err)
//			}
//			t.Cleanup(func() { st.Close() })
//			return st
//		})
//	}
//
// The behaviour it checks is that of store/memory, the reference: exact
// round trips (times compared in UTC without their monotonic reading; nil
// and empty slices and maps kept apart, but an organization without
// connections or domains, nil or empty, reads back with nil Connections or
// Domains; a connection's
// client secret and a request's code verifier as their values, never their
// redacted form), emails keyed by sso.MemberEmailKey
// (ASCII case folding only: addresses Unicode case mapping or normalization
// would merge stay distinct) and refused alike when not valid UTF-8, SSO
// names unique except the empty name of drafts, sso.ErrNotFound for every
// unknown key, ConsumeRequest, ConsumeMatchingRequest (which leaves a request
// of another organization or binding in place) and UseAssertion atomic under
// 100 concurrent callers, and eviction only by Cleanup and CleanupBatch, with
// its boundaries to the nanosecond (an ended session is kept until it
// expires).
//
// The admin writes are exact about the contract their doc comments give:
// CreateOrganization and UpdateOrganization (a compare-and-swap on
// Organization.Version: of 100 concurrent updates from one Version exactly
// one succeeds, the others get sso.ErrConflict and nothing is written),
// CreateMember (of 100 concurrent creators of one email key, in as many
// ASCII spellings, exactly one creates it and every other gets
// sso.ErrMemberExists with the winner's member), UpdateMember (never
// creates), DeleteMember, MemberByUserID, and the listings Members and
// ListSessions (keys and IDs in byte order, whatever a database's collation;
// cursors; limit bounds), EndSessions (counts, earlier reasons kept), both
// by session.Query.Connection too (only that connection's sessions, exactly;
// "" for every connection). Connections round-trip in order, every field,
// through SaveOrganization, CreateOrganization and the compare-and-swap of
// UpdateOrganization (a stale update changes none of them). So do domain
// claims (sso.Domain: every field, VerifiedAt compared in UTC without its
// monotonic reading), and OrganizationByDomain finds an organization by a
// domain it has verified, exactly (no case folding, no subdomains), never
// by one only claimed, and follows every change of the list. A domain is
// verified by at most one organization: a SaveOrganization,
// CreateOrganization or UpdateOrganization verifying a domain another
// organization has verified fails with sso.ErrDomainTaken (after
// sso.ErrDuplicateID, sso.ErrNotFound, sso.ErrConflict and
// sso.ErrSSONameTaken) and writes nothing, none of the other domains
// included; of 100 organizations verifying one domain at once exactly one
// succeeds, and organizations swapping domains at once neither fail
// otherwise nor leave a domain to two. Metadata URLs
// (Organization.IdPMetadataURL, Connection.MetadataURL) round-trip through
// every write, and OrganizationsWithMetadataURL lists exactly the
// organizations whose own IdP or a SAML connection names one (not one
// whose only URL is an OIDC connection's), in byte order of their IDs after
// the cursor, in pages of 1 to sso.MaxListLimit (another limit is
// session.ErrInvalidArgument), following every change (a URL removed: no
// longer listed; a stale update changes nothing) and returning copies. Every
// key (see sso.MaxKeyBytes; a domain name is one too) is refused with session.ErrInvalidArgument by
// every method when it is one byte too long, in ASCII or in two-byte
// characters, and accepted at exactly sso.MaxKeyBytes.
//
// The shared sentinels (sso.ErrNotFound, sso.ErrReplay, sso.ErrSSONameTaken,
// sso.ErrConflict, sso.ErrMemberExists, sso.ErrDomainTaken,
// session.ErrInvalidArgument,
// session.ErrDuplicateID, context.Canceled) must match with errors.Is.
package storetest

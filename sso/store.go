package sso

import (
	"context"
	"time"

	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/storeerr"
)

// PendingRequest is an AuthnRequest awaiting its response.
type PendingRequest struct {
	ID, OrgID, ReturnTo, TesterUserID string // TesterUserID is set for a Test SSO round trip
	ExpiresAt                         time.Time
	// BindingHash is the hex SHA-256 of the browser-binding nonce that
	// StartLogin or StartTest gave the browser in Redirect.Cookie; the nonce
	// itself is never stored. A request without one matches no response.
	BindingHash string
	// Connection is the ID of the connection the sign-in goes through
	// (PrimaryConnection, "", for the organization's own IdP): only a
	// response to that connection's endpoint consumes the request.
	Connection string
	// Nonce and CodeVerifier belong to an OIDC sign-in: the nonce the ID
	// token must carry, and the PKCE code verifier the token request sends.
	// Both are "" for SAML.
	Nonce        string
	CodeVerifier Secret
}

// Store is the adapters' port: what a Service needs to keep. Hosts do not
// write through it: organizations, members and sessions change through the
// Service's admin API (CreateOrganization, UpdateOrganization, AddMember, …),
// which enforces the organization's rules, detects concurrent edits and emits
// audited events. Every store in orgsso/store implements Store, AdminStore
// and session.Store (with session.Lister); unknown keys give ErrNotFound.
// Implementations must be safe for concurrent use, and when several replicas
// share one store, ConsumeRequest and UseAssertion must be atomic across them.
//
// A Service works over a Store that implements only this interface, with
// weaker guarantees: edits are checked against Organization.Version by a read
// before the write rather than atomically, and a first sign-in's member is
// saved by SaveMember (two simultaneous first sign-ins may both create it),
// ValidateSession does not check membership, and the member administration
// that needs listing or deletion (Members, RemoveMember) is ErrUnavailable.
type Store interface {
	Organization(ctx context.Context, id string) (*Organization, error)
	OrganizationBySSOName(ctx context.Context, ssoName string) (*Organization, error)
	// SaveOrganization creates or replaces an organization by ID. Another
	// organization holding the same SSO name is an error (ErrSSONameTaken);
	// so is a verified domain another organization has verified
	// (ErrDomainTaken, for stores that implement DomainStore). Nothing is
	// written on error.
	SaveOrganization(ctx context.Context, org *Organization) error
	// Member looks a member up by organization and email, by MemberEmailKey
	// (ASCII case-insensitively); see ValidateMemberEmail for the emails
	// every store refuses, in Member and SaveMember alike.
	Member(ctx context.Context, orgID, email string) (*Member, error)
	// SaveMember creates or replaces a member by (OrgID, email).
	SaveMember(ctx context.Context, m *Member) error
	SaveRequest(ctx context.Context, req *PendingRequest) error
	// ConsumeRequest returns and deletes a pending request: at most one caller
	// ever gets it. An unknown or already consumed ID is ErrNotFound. Expiry is
	// the caller's to judge.
	ConsumeRequest(ctx context.Context, id string) (*PendingRequest, error)
	// UseAssertion records an assertion ID as used until the given time; if it
	// is already recorded for the organization, it returns ErrReplay.
	UseAssertion(ctx context.Context, orgID, assertionID string, until time.Time) error
}

// RequestConsumer is implemented by stores that consume a pending request
// only for the response that matches it. Every store in orgsso/store does; a
// Service whose Store does not falls back to ConsumeRequest followed, when
// the request does not match, by a SaveRequest that puts it back, which
// leaves a moment in which the genuine response would not find it.
type RequestConsumer interface {
	// ConsumeMatchingRequest returns and deletes, in one atomic step, the
	// pending request with this ID if it belongs to organization orgID and
	// its BindingHash equals bindingHash: of any number of concurrent
	// callers, in any number of replicas, at most one gets it. Any mismatch
	// (unknown ID, other organization, other binding) leaves every request
	// in place and is ErrNotFound. Expiry is the caller's to judge.
	ConsumeMatchingRequest(ctx context.Context, id, orgID, bindingHash string) (*PendingRequest, error)
}

// SignInStore is implemented by stores that commit the writes of a sign-in
// in one transaction: the assertion ID's replay record, the pending
// request's consumption, the member's creation or update and the session,
// one commit (one fsync on SQLite) instead of one per write. Every store in
// orgsso/store implements it. A Service uses it when its Store implements it
// and Config.Sessions keeps its sessions in that same store; otherwise it
// makes the same calls one by one, with the same answers. Either way, what
// a refused sign-in wrote before the refusal stays written (a replay
// record, a consumed request: see HandleACS); in a transaction, a store
// failure (ErrUnavailable) rolls the whole sign-in back instead of leaving
// the writes before it, so the same response may be posted again. No host
// callback (Config.ProvisionUser, OnEvent, the Logger) runs inside the
// transaction: a first sign-in that calls ProvisionUser makes its writes one
// by one, and events are emitted once the transaction committed.
type SignInStore interface {
	// SignIn begins a transaction, runs f with it, and commits it if f
	// returns true, rolling it back otherwise; it returns the error of
	// beginning or committing (or rolling back) the transaction, nil if it
	// committed, or rolled back as f asked. A store failure during f shows
	// in f's calls; SignIn then never commits what f did before it (the
	// transaction cannot commit part of itself), and if ctx ends, nothing is
	// committed. f runs once; it must not call the store's other methods (on
	// SQLite the transaction holds the write lock they would wait for), nor
	// use tx after it returns.
	SignIn(ctx context.Context, f func(tx SignInTx) (commit bool)) error
}

// SignInTx is what the transaction of SignInStore.SignIn offers: the store
// calls of a sign-in after the response was verified. Each method answers as
// the method of the same name of Store, RequestConsumer, AdminStore or
// session.Store does (errors, argument checks, atomicity with other
// callers), and what it writes is committed with the transaction or not at
// all; a method that answers with an error (ErrReplay, ErrNotFound,
// ErrMemberExists, ErrUserIDTaken, …) writes nothing itself, and leaves the
// transaction usable. A Service calls them with the context given to
// SignIn.
type SignInTx interface {
	UseAssertion(ctx context.Context, orgID, assertionID string, until time.Time) error
	ConsumeMatchingRequest(ctx context.Context, id, orgID, bindingHash string) (*PendingRequest, error)
	Member(ctx context.Context, orgID, email string) (*Member, error)
	CreateMember(ctx context.Context, m *Member) (*Member, error)
	UpdateMember(ctx context.Context, m *Member) error
	CreateSession(ctx context.Context, s *session.Session) error
}

// Cleaner is implemented by stores that can evict expired pending requests,
// used assertion IDs and sessions. Service.Cleanup calls it.
type Cleaner interface {
	Cleanup(ctx context.Context, now time.Time) (int, error)
}

// AdminStore is the rest of the adapters' port: the atomic writes that the
// admin API and sign-in rely on. Every store in orgsso/store implements it
// and store/storetest covers each method; a Service uses it whenever its
// Store implements it.
//
// Keys longer than MaxKeyBytes bytes (see MaxKeyBytes for which values are
// keys) are refused with an error wrapping session.ErrInvalidArgument by
// every method of the store, old and new, lookups included (not
// ErrNotFound), before they reach a database; nothing is written.
type AdminStore interface {
	Store
	RequestConsumer
	// CreateOrganization stores a new organization with Version 1 (whatever
	// org.Version was; SSOEpoch is stored as given) and, on success only,
	// sets org.Version to 1. An ID already stored is ErrDuplicateID, whatever
	// the SSO name; otherwise an SSO name another organization holds is
	// ErrSSONameTaken (an empty name, a draft's, is never taken), then a
	// verified domain another organization has verified ErrDomainTaken. A
	// nil org or one without an ID is ErrInvalidArgument. Nothing is written
	// on error.
	CreateOrganization(ctx context.Context, org *Organization) error
	// UpdateOrganization replaces the stored organization that has org.ID
	// if, and only if, its stored Version equals org.Version; it stores org
	// with Version+1 and, on success, sets org.Version to that. A stored
	// Version that differs is ErrConflict; an unknown ID ErrNotFound; an SSO
	// name another organization holds ErrSSONameTaken; a verified domain
	// another organization has verified ErrDomainTaken. They are checked in
	// that order: an unknown ID is ErrNotFound, a stale Version ErrConflict
	// whatever the name. SSOEpoch is stored as given; renaming frees the old
	// name. Nothing is written on error, and org.Version changes only on
	// success. Of any number of concurrent updates from the same Version, in
	// any number of replicas, exactly one succeeds.
	UpdateOrganization(ctx context.Context, org *Organization) error
	// CreateMember stores m if its organization has no member with m's
	// email key (MemberEmailKey) and none with m's UserID, and returns a
	// copy of m. A member with the UserID under another email key is
	// ErrUserIDTaken (checked after the email), nothing written; the check
	// and the write are one atomic step across replicas. If it has one, it
	// writes nothing and returns (a copy of) that member, as stored, with
	// ErrMemberExists: of concurrent creators of one email, in any number of
	// replicas, exactly one creates it and the others get the winner's
	// member. m is checked as SaveMember checks it (ErrInvalidArgument, and
	// a nil member, on a nil m, a missing OrgID or Email, or an email
	// ValidateMemberEmail refuses); the email is kept as given.
	CreateMember(ctx context.Context, m *Member) (*Member, error)
	// UpdateMember replaces the existing member with m's organization and
	// email key by m (its Email spelling as given, like SaveMember);
	// ErrNotFound if there is none (it was removed): it never creates one. m
	// is checked as SaveMember checks it.
	UpdateMember(ctx context.Context, m *Member) error
	// DeleteMember removes the member with this organization and email
	// key; ErrNotFound if there is none (an empty orgID or email included).
	// An email ValidateMemberEmail refuses is ErrInvalidArgument, as in
	// Member.
	DeleteMember(ctx context.Context, orgID, email string) error
	// MemberByUserID returns the organization's member with this user ID
	// (the one with the lowest email key, in byte order, if, against the
	// Service's rules, several have it); ErrNotFound if there is none. An
	// empty userID is ErrNotFound: it never matches a member saved without
	// a UserID.
	MemberByUserID(ctx context.Context, orgID, userID string) (*Member, error)
	// Members lists the organization's members in ascending MemberEmailKey
	// order, comparing keys as bytes (not by a collation), starting after
	// the key MemberEmailKey(after) ("" = from the start; a member's Email or
	// its key both work as a cursor), at most limit of them. limit must be
	// 1..MaxListLimit: 0 (the Service maps it to DefaultListLimit), a
	// negative limit or one above MaxListLimit is ErrInvalidArgument, as is
	// an empty orgID or an after that ValidateMemberEmail refuses. An
	// organization without members (or unknown) lists none, without error.
	Members(ctx context.Context, orgID, after string, limit int) ([]*Member, error)
}

// BatchCleaner is implemented by stores that evict expired entries in
// bounded batches, each in its own short transaction, so a large backlog
// never holds a write lock long. Every store in orgsso/store implements it;
// Service.Cleanup prefers it to Cleaner and session.Store's
// DeleteExpiredSessions.
type BatchCleaner interface {
	// CleanupBatch removes at most limit (≥ 1) entries expired at now, in
	// total over the three kinds and in no particular order: pending
	// requests whose ExpiresAt is before now, used assertion IDs whose until
	// is before now, sessions whose ExpiresAt is at or before now (ended or
	// not; an ended session is kept until then). It returns how many it
	// removed; fewer than limit means none was left. A limit below 1 is
	// ErrInvalidArgument.
	CleanupBatch(ctx context.Context, now time.Time, limit int) (int, error)
}

// Length and listing bounds every store enforces and the Service checks
// before a value reaches a store.
const (
	// MaxKeyBytes bounds every key, in bytes (not characters): a longer
	// one is ErrInvalidArgument; one of exactly MaxKeyBytes is stored. The
	// keys are organization IDs (Organization.ID, Member.OrgID,
	// PendingRequest.OrgID, session.Session.OrgID, session.Query.OrgID and
	// every orgID argument), user IDs (Organization.OwnerID, Member.UserID,
	// PendingRequest.TesterUserID, session.Session.UserID,
	// session.Query.UserID, userID arguments), SSO names, emails (Member.Email,
	// email arguments and the after cursor of Members), pending request IDs,
	// session IDs (with session.Query.After) and assertion IDs.
	// It is storeerr.MaxKeyBytes, the bound the stores share.
	MaxKeyBytes = storeerr.MaxKeyBytes
	// MaxListLimit bounds one page of Members (and of sessions,
	// session.MaxListLimit).
	MaxListLimit = 1000
	// DefaultListLimit is the page size of a listing that asks for 0.
	DefaultListLimit = 100
)

// MetadataLister is implemented by stores that list the organizations
// whose own IdP or a SAML connection names a metadata URL
// (Organization.IdPMetadataURL, Connection.MetadataURL), for Run's
// scheduled refresh. Every store in orgsso/store does.
type MetadataLister interface {
	// OrganizationsWithMetadataURL returns up to limit such organizations
	// (1..1000) whose ID sorts after after ("" = from the start), in ID
	// order.
	OrganizationsWithMetadataURL(ctx context.Context, after string, limit int) ([]*Organization, error)
}

// ChangeFeed is implemented by stores that count the writes which can make
// a valid session invalid, so that a Service can cache session checks
// (Config.SessionCache) and still learn of every revocation, also one made
// by another replica. Every store in orgsso/store implements it.
type ChangeFeed interface {
	// ChangeSeq returns the store's change counter. Every committed write
	// that can end a valid session raises it, in the transaction of the
	// write: a session ended or deleted (DeleteSession, DeleteOrgSessions,
	// EndSessions), an organization updated, replaced or deleted, a member
	// updated, replaced or deleted; and a member or an organization
	// created when stored sessions concern it (a member of a user who has
	// sessions in the organization, an organization whose ID sessions
	// carry: a row replaced by delete-and-insert, or a second member with
	// the same user ID). Writes that change nothing, and other creations
	// (a session; a first sign-in's member, written before its session),
	// should not: each raise drops every replica's cache. The deletion of expired sessions
	// may raise it (the stores of orgsso/store do; a cache judges expiry by
	// its clock anyway). A call that starts after a write committed sees
	// the raised value. The counter only grows; a reader treats any other
	// value than the last it read as a change (a lower one: the store was
	// replaced, a backup restored).
	ChangeSeq(ctx context.Context) (int64, error)
}

// ChangeWatcher is implemented by stores that push their change counter
// as writes commit (PostgreSQL: LISTEN/NOTIFY), so that replicas learn of a
// revocation in milliseconds rather than at their next ChangeSeq poll.
// store/postgres implements it; a store that cannot push returns an error
// wrapping errors.ErrUnsupported at once.
type ChangeWatcher interface {
	// WatchChanges calls changed with the counter's new value after writes
	// that raised it commit, until ctx is done or the watch fails, and then
	// returns why (ctx.Err() when ctx ended). It may skip values, never
	// reports one from another store, and calls changed from one goroutine
	// at a time; changed must return quickly. A Service polls ChangeSeq
	// regardless: the watch makes revocations arrive sooner, it does not
	// bound how late they arrive.
	WatchChanges(ctx context.Context, changed func(seq int64)) error
}

package sso

import (
	"context"
	"time"
)

// PendingRequest is an AuthnRequest awaiting its response.
type PendingRequest struct {
	ID, OrgID, ReturnTo, TesterUserID string // TesterUserID is set for a Test SSO round trip
	ExpiresAt                         time.Time
	// BindingHash is the hex SHA-256 of the browser-binding nonce that
	// StartLogin or StartTest gave the browser in Redirect.Cookie; the nonce
	// itself is never stored. A request without one matches no response.
	BindingHash string
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
	// organization holding the same SSO name is an error (ErrSSONameTaken).
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
// Keys (IDs, SSO names, emails) longer than MaxKeyBytes are refused with an
// error wrapping session.ErrInvalidArgument by every method, before they
// reach a database.
type AdminStore interface {
	Store
	RequestConsumer
	// CreateOrganization stores a new organization with Version 1 and sets
	// org.Version to 1. An ID already stored is ErrDuplicateID; an SSO name
	// another organization holds is ErrSSONameTaken. Nothing is written on
	// error.
	CreateOrganization(ctx context.Context, org *Organization) error
	// UpdateOrganization replaces the stored organization that has org.ID
	// if, and only if, its stored Version equals org.Version; it stores org
	// with Version+1 and, on success, sets org.Version to that. A stored
	// Version that differs is ErrConflict; an unknown ID ErrNotFound; an SSO
	// name another organization holds ErrSSONameTaken. Nothing is written on
	// error. Of any number of concurrent updates from the same Version, in
	// any number of replicas, at most one succeeds.
	UpdateOrganization(ctx context.Context, org *Organization) error
	// CreateMember stores m if its organization has no member with m's
	// email key (MemberEmailKey) and returns a copy of m. If it has one, it
	// writes nothing and returns that member with ErrMemberExists: of
	// concurrent creators of one email, in any number of replicas, exactly
	// one creates it and the others get the winner's member.
	CreateMember(ctx context.Context, m *Member) (*Member, error)
	// UpdateMember replaces the existing member with m's organization and
	// email key; ErrNotFound if there is none (it was removed): it never
	// creates one.
	UpdateMember(ctx context.Context, m *Member) error
	// DeleteMember removes the member with this organization and email
	// key; ErrNotFound if there is none.
	DeleteMember(ctx context.Context, orgID, email string) error
	// MemberByUserID returns the organization's member with this user ID
	// (the one with the lowest email key if, against the Service's rules,
	// several have it); ErrNotFound if there is none.
	MemberByUserID(ctx context.Context, orgID, userID string) (*Member, error)
	// Members lists the organization's members in ascending MemberEmailKey
	// order, starting after the email key after ("" = from the start), at
	// most limit (1..MaxListLimit) of them.
	Members(ctx context.Context, orgID, after string, limit int) ([]*Member, error)
}

// BatchCleaner is implemented by stores that evict expired entries in
// bounded batches, each in its own short transaction, so a large backlog
// never holds a write lock long. Every store in orgsso/store implements it;
// Service.Cleanup prefers it to Cleaner and session.Store's
// DeleteExpiredSessions.
type BatchCleaner interface {
	// CleanupBatch removes at most limit (≥ 1) entries expired at now:
	// pending requests whose ExpiresAt is before now, used assertion IDs
	// whose until is before now, sessions whose ExpiresAt is at or before
	// now. It returns how many it removed; fewer than limit means none was
	// left.
	CleanupBatch(ctx context.Context, now time.Time, limit int) (int, error)
}

// Length and listing bounds every store enforces and the Service checks
// before a value reaches a store.
const (
	// MaxKeyBytes bounds every key: organization, user, request, session
	// and assertion IDs, SSO names and emails.
	MaxKeyBytes = 512
	// MaxListLimit bounds one page of Members (and of sessions,
	// session.MaxListLimit).
	MaxListLimit = 1000
	// DefaultListLimit is the page size of a listing that asks for 0.
	DefaultListLimit = 100
)

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

// Store is what a Service needs to keep. Every store in orgsso/store
// implements it (and session.Store); unknown keys give ErrNotFound.
// Implementations must be safe for concurrent use, and when several replicas
// share one store, ConsumeRequest and UseAssertion must be atomic across them.
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

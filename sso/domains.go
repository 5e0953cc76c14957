package sso

import (
	"context"
	"encoding/base64"
	"errors"
	"net"
	"slices"
	"strings"
	"time"
)

// Domain is an email domain an organization claims. Once verified (the
// organization published its token in DNS), provisioning creates only
// members whose email is under one of its verified domains, Identity says
// whether a signing-in email's domain is verified, and sign-in can find the
// organization from an email (StartLoginForEmail).
//
// Domains change only through AddDomain, VerifyDomain and RemoveDomain.
type Domain struct {
	Name       string    // lowercase DNS name, e.g. "acme.com"
	Token      string    // random; published as the TXT record Record names
	VerifiedAt time.Time // zero until VerifyDomain found the record
}

// Verified reports whether the domain has been verified.
func (d Domain) Verified() bool { return !d.VerifiedAt.IsZero() }

// DomainRecordPrefix starts the name of the TXT record that proves a
// domain: _orgsso-challenge.acme.com.
const DomainRecordPrefix = "_orgsso-challenge."

// domainRecordValuePrefix starts the TXT value.
const domainRecordValuePrefix = "orgsso-domain-verification="

// maxDiscoveryLookups bounds the store reads of one StartLoginForEmail:
// the email's domain and its nearest parents.
const maxDiscoveryLookups = 4

// MaxDomains bounds Organization.Domains.
const MaxDomains = 50

// Record returns the DNS TXT record an organization publishes to prove it
// owns the domain: its name (_orgsso-challenge.{domain}) and value.
func (d Domain) Record() (name, value string) {
	return DomainRecordPrefix + d.Name, domainRecordValuePrefix + d.Token
}

// Resolver looks up DNS TXT records; *net.Resolver is one. Tests inject
// their own, so domain verification runs offline.
type Resolver interface {
	LookupTXT(ctx context.Context, name string) ([]string, error)
}

var (
	// ErrDomainNotVerified: the domain's TXT record was not found with the
	// expected value (not published yet, or DNS not propagated).
	ErrDomainNotVerified = errors.New("sso: the domain's verification record was not found")
	// ErrDomainTaken: another organization has verified the domain.
	ErrDomainTaken = errors.New("sso: another organization has verified this domain")
)

// DomainStore is implemented by stores that find an organization by one of
// its verified domains, for StartLoginForEmail and to keep a domain verified
// by one organization only: every organization write that would verify a
// domain another organization has verified fails with ErrDomainTaken and
// writes nothing, atomically across replicas. Every store in orgsso/store
// does.
type DomainStore interface {
	// OrganizationByDomain returns the organization that has verified
	// domain, matched exactly (lowercase, no parent or subdomain), or
	// ErrNotFound; unverified claims and "" are ErrNotFound, a name longer
	// than MaxKeyBytes ErrInvalidArgument.
	OrganizationByDomain(ctx context.Context, domain string) (*Organization, error)
}

// emailDomain returns the lowercase domain of email, or "".
func emailDomain(email string) string {
	i := strings.LastIndexByte(email, '@')
	if i < 0 || i == len(email)-1 {
		return ""
	}
	return strings.ToLower(email[i+1:])
}

// DomainVerified reports whether email's domain is one of the
// organization's verified domains, or a subdomain of one.
func (o *Organization) DomainVerified(email string) bool {
	d := emailDomain(email)
	if o == nil || d == "" {
		return false
	}
	for _, v := range o.Domains {
		if v.Verified() && (d == v.Name || strings.HasSuffix(d, "."+v.Name)) {
			return true
		}
	}
	return false
}

// hasVerifiedDomain reports whether o has verified any domain.
func (o *Organization) hasVerifiedDomain() bool {
	return slices.ContainsFunc(o.Domains, Domain.Verified)
}

func (o *Organization) domain(name string) *Domain {
	for i := range o.Domains {
		if o.Domains[i].Name == name {
			return &o.Domains[i]
		}
	}
	return nil
}

// validateDomains checks the domains of o: well-formed, unique, bounded.
func (o *Organization) validateDomains() error {
	if len(o.Domains) > MaxDomains {
		return &ConfigError{Field: "Domains", Reason: "more than 50 domains", Message: "Claim at most 50 domains."}
	}
	seen := make(map[string]bool, len(o.Domains))
	for _, d := range o.Domains {
		if err := checkDomainName(d.Name); err != nil || seen[d.Name] {
			return &ConfigError{Field: "Domains", Reason: "a domain is malformed or listed twice",
				Message: "Each domain is a lowercase name such as example.com, listed once."}
		}
		if d.Token == "" || len(d.Token) > 128 {
			return &ConfigError{Field: "Domains", Reason: "a domain has no verification token", Message: "Add domains with AddDomain."}
		}
		seen[d.Name] = true
	}
	return nil
}

// normalizeDomain lowers and trims a domain a person typed.
func normalizeDomain(d string) (string, error) {
	d = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(d)), ".")
	if err := checkDomainName(d); err != nil {
		return "", &ConfigError{Field: "Domains", Reason: err.Error(), Message: "Enter a domain name such as example.com."}
	}
	return d, nil
}

// AddDomain claims an email domain for the organization and returns it with
// its verification token: publish Domain.Record in the domain's DNS, then
// call VerifyDomain. Only the owner may. Adding a domain the organization
// already claims returns it unchanged.
func (s *Service) AddDomain(ctx context.Context, orgID, actorUserID, domain string) (Domain, error) {
	name, err := normalizeDomain(domain)
	if err != nil {
		return Domain{}, err
	}
	var b [24]byte
	if err := s.readRand(b[:]); err != nil {
		return Domain{}, randErr("for a domain token", err)
	}
	token := base64.RawURLEncoding.EncodeToString(b[:])
	org, err := s.updateDomains(ctx, orgID, actorUserID, "Domain "+name+" added; waiting for its DNS record.", func(o *Organization) error {
		if o.domain(name) == nil {
			o.Domains = append(o.Domains, Domain{Name: name, Token: token})
		}
		return nil
	})
	if err != nil {
		return Domain{}, err
	}
	return *org.domain(name), nil
}

// VerifyDomain looks up the domain's TXT record (Domain.Record) with the
// Service's Resolver and, when it holds the organization's token, marks the
// domain verified. Only the owner may. Not found is ErrDomainNotVerified
// (publish the record, wait for DNS, try again); a domain another
// organization verified first is ErrDomainTaken; a domain the organization
// does not claim is ErrNotFound.
func (s *Service) VerifyDomain(ctx context.Context, orgID, actorUserID, domain string) (Domain, error) {
	name, err := normalizeDomain(domain)
	if err != nil {
		return Domain{}, err
	}
	org, err := s.adminOrg(ctx, orgID)
	if err != nil {
		return Domain{}, err
	}
	if actorUserID == "" || actorUserID != org.OwnerID {
		return Domain{}, ErrNotOwner
	}
	d := org.domain(name)
	if d == nil {
		return Domain{}, ErrNotFound
	}
	if d.Verified() {
		return *d, nil
	}
	if err := s.lookupDomainRecord(ctx, *d); err != nil {
		return Domain{}, err
	}
	if err := s.domainFree(ctx, org.ID, name); err != nil {
		return Domain{}, err
	}
	now := s.now()
	org, err = s.updateDomains(ctx, orgID, actorUserID, "Domain "+name+" verified.", func(o *Organization) error {
		if d := o.domain(name); d != nil && d.Token == org.domain(name).Token {
			d.VerifiedAt = now
			return nil
		}
		return ErrNotFound // removed or re-added meanwhile
	})
	if err != nil {
		return Domain{}, err
	}
	return *org.domain(name), nil
}

// lookupDomainRecord checks that d's TXT record holds its token.
func (s *Service) lookupDomainRecord(ctx context.Context, d Domain) error {
	name, want := d.Record()
	ctx, cancel := context.WithTimeout(ctx, s.storeTimeout)
	defer cancel()
	records, err := s.resolver.LookupTXT(ctx, name)
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return ErrDomainNotVerified
	case err != nil:
		return &StoreError{Op: "LookupTXT", Err: err}
	}
	for i, r := range records {
		if i == 100 {
			break // a name with more records than that is not ours
		}
		if strings.TrimSpace(r) == want {
			return nil
		}
	}
	return ErrDomainNotVerified
}

// domainFree reports ErrDomainTaken when another organization verified name.
func (s *Service) domainFree(ctx context.Context, orgID, name string) error {
	ds, ok := s.store.(DomainStore)
	if !ok {
		return nil
	}
	other, err := get(s, ctx, "OrganizationByDomain", func(ctx context.Context) (*Organization, error) {
		return ds.OrganizationByDomain(ctx, name)
	})
	switch {
	case isNotFound(err):
		return nil
	case err != nil:
		return err
	case other.ID != orgID:
		return ErrDomainTaken
	}
	return nil
}

// RemoveDomain gives up a domain claim, verified or not. Only the owner may;
// an unclaimed domain is ErrNotFound. Members keep their memberships.
func (s *Service) RemoveDomain(ctx context.Context, orgID, actorUserID, domain string) error {
	name, err := normalizeDomain(domain)
	if err != nil {
		return err
	}
	_, err = s.updateDomains(ctx, orgID, actorUserID, "Domain "+name+" removed.", func(o *Organization) error {
		i := slices.IndexFunc(o.Domains, func(d Domain) bool { return d.Name == name })
		if i < 0 {
			return ErrNotFound
		}
		o.Domains = slices.Delete(o.Domains, i, i+1)
		return nil
	})
	return err
}

// updateDomains applies a domain change as the Service's own owner edit
// (the rules that keep Domains out of UpdateOrganization do not apply).
func (s *Service) updateDomains(ctx context.Context, orgID, actor, detail string, change func(*Organization) error) (*Organization, error) {
	return s.update(ctx, orgID, actor, change, nil, detail)
}

func (d Domain) equal(e Domain) bool {
	return d.Name == e.Name && d.Token == e.Token && d.VerifiedAt.Equal(e.VerifiedAt)
}

// StartLoginForEmail finds the organization that verified the domain of
// email (home-realm discovery) and starts its sign-in as StartLoginWith
// does, routed by the email. No organization is ErrUnknownOrganization; a
// Store without DomainStore cannot discover (ErrUnknownOrganization).
func (s *Service) StartLoginForEmail(ctx context.Context, email, returnTo string) (*Redirect, error) {
	d := emailDomain(strings.TrimSpace(email))
	ds, ok := s.store.(DomainStore)
	if d == "" || !ok || checkDomainName(d) != nil {
		return nil, ErrUnknownOrganization
	}
	// A subdomain's users belong to the organization of the nearest
	// verified parent: eu.acme.com, then acme.com; at most
	// maxDiscoveryLookups names, so an unauthenticated email of many
	// labels costs a bounded number of store reads.
	looked := 0
	for name := d; strings.Contains(name, ".") && looked < maxDiscoveryLookups; name = name[strings.IndexByte(name, '.')+1:] {
		looked++
		org, err := s.opened(get(s, ctx, "OrganizationByDomain", func(ctx context.Context) (*Organization, error) {
			return ds.OrganizationByDomain(ctx, name)
		}))
		switch {
		case isNotFound(err):
			continue
		case err != nil:
			return nil, err
		}
		return s.StartLoginWith(ctx, org.SSOName, LoginOptions{Email: email, ReturnTo: returnTo})
	}
	return nil, ErrUnknownOrganization
}

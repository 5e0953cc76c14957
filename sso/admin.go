package sso

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/orgsso/orgsso/rolemap"
	"github.com/orgsso/orgsso/saml"
	"github.com/orgsso/orgsso/session"
)

// updateAttempts is how many times UpdateOrganization re-runs an edit on a
// fresh copy after losing a race before giving up (ErrConflict); Enable and
// Disable, small edits that must not fail because settings were being saved,
// try switchAttempts times.
const (
	updateAttempts = 3
	switchAttempts = 10
)

// RuleError is an administrative change the organization's rules refuse. It
// wraps ErrNotAllowed.
type RuleError struct {
	Field string // the field the rule concerns, e.g. "SSOName"
	Rule  string // a plain sentence a host can show as is
}

// Error implements error.
func (e *RuleError) Error() string { return "sso: not allowed: " + e.Field + ": " + e.Rule }

// Unwrap returns ErrNotAllowed, for errors.Is.
func (e *RuleError) Unwrap() error { return ErrNotAllowed }

// Clone returns a deep copy of o: editing the copy never changes o.
func (o *Organization) Clone() *Organization {
	if o == nil {
		return nil
	}
	c := *o
	c.IdP.Certificates = slices.Clone(o.IdP.Certificates)
	c.RoleMapping.Mappings = slices.Clone(o.RoleMapping.Mappings)
	for i, m := range c.RoleMapping.Mappings {
		c.RoleMapping.Mappings[i].StackRoles = cloneStackRoles(m.StackRoles)
	}
	c.Attributes = o.Attributes.clone()
	c.Connections = cloneConnections(o.Connections)
	c.Domains = slices.Clone(o.Domains)
	c.MFA.IdPValues = slices.Clone(o.MFA.IdPValues)
	return &c
}

func cloneStackRoles(in map[string][]string) map[string][]string {
	if in == nil {
		return nil
	}
	out := make(map[string][]string, len(in))
	for k, v := range in {
		out[k] = slices.Clone(v)
	}
	return out
}

// Organization returns the organization with this ID (ErrNotFound).
func (s *Service) Organization(ctx context.Context, orgID string) (*Organization, error) {
	return s.adminOrg(ctx, orgID)
}

// adminOrg loads an organization by ID for an admin action.
func (s *Service) adminOrg(ctx context.Context, orgID string) (*Organization, error) {
	if orgID == "" || len(orgID) > MaxKeyBytes {
		return nil, ErrNotFound
	}
	return s.loadOrg(ctx, orgID)
}

// CreateOrganization stores a new organization, SSO disabled (Enable turns
// it on once Test SSO passed). org needs an ID and an OwnerID; it is
// validated at the Service's clock, and any IdP certificate must be valid now
// (an expired one is refused with a sentence saying so). On success
// org.Version is 1 and EventOrganizationCreated is emitted with the owner as
// actor. An ID already used is ErrDuplicateID, a taken SSO name
// ErrSSONameTaken. The host then adds the owner as a member (AddMember with
// the owner as actor).
func (s *Service) CreateOrganization(ctx context.Context, org *Organization) error {
	switch {
	case org == nil:
		return configErr("Organization", "is nil")
	case org.ID == "" || len(org.ID) > MaxKeyBytes:
		return &ConfigError{Field: "ID", Reason: "must be 1 to 512 bytes", Message: "The organization needs an ID."}
	case org.OwnerID == "" || len(org.OwnerID) > MaxKeyBytes:
		return &ConfigError{Field: "OwnerID", Reason: "must be 1 to 512 bytes", Message: "The organization needs an owner."}
	case org.Enabled:
		return &RuleError{Field: "Enabled", Rule: "An organization is created with SSO off; turn it on with Enable once Test SSO succeeded."}
	case org.Version != 0 || org.SSOEpoch != 0:
		return &RuleError{Field: "Version", Rule: "Version and SSOEpoch are managed by orgsso; leave them 0."}
	case len(org.Domains) > 0:
		return &RuleError{Field: "Domains", Rule: "Claim domains with AddDomain once the organization exists."}
	case slices.ContainsFunc(org.Connections, func(c Connection) bool { return c.Enabled }):
		return &RuleError{Field: "Connections", Rule: "Connections start disabled; turn each on with EnableConnection once Test SSO succeeded."}
	}
	now := s.now()
	expiring, err := s.checkSaved(org, nil, org.OwnerID, now)
	if err != nil {
		return err
	}
	c, err := s.sealed(org.Clone())
	if err != nil {
		return err
	}
	if s.admin != nil {
		err = s.do(ctx, "CreateOrganization", func(ctx context.Context) error { return s.admin.CreateOrganization(ctx, c) })
	} else {
		c.Version = 1
		err = s.createOrgFallback(ctx, c)
	}
	if err != nil {
		return err
	}
	org.Version = c.Version
	s.emit(ctx, Event{Type: EventOrganizationCreated, OrgID: org.ID, SSOName: org.SSOName, Actor: org.OwnerID})
	s.emitAll(ctx, expiring)
	return nil
}

// createOrgFallback creates over a Store without AdminStore: a read, then a
// save, not atomic.
func (s *Service) createOrgFallback(ctx context.Context, org *Organization) error {
	_, err := s.loadOrg(ctx, org.ID)
	switch {
	case err == nil:
		return ErrDuplicateID
	case !isNotFound(err):
		return err
	}
	return s.do(ctx, "SaveOrganization", func(ctx context.Context) error { return s.store.SaveOrganization(ctx, org) })
}

// UpdateOrganization changes the organization's SSO settings: it loads the
// organization, runs edit on a copy, checks the result and saves it only if
// nobody saved the organization in between, re-running edit on a fresh copy
// up to three times before giving up with ErrConflict (nothing saved). edit
// may run more than once, so it must only set fields; an error it returns is
// returned as is, and nothing is saved.
//
// Only the owner may (ErrNotOwner). The rules (a *RuleError, ErrNotAllowed):
// ID, OwnerID, Version and SSOEpoch do not change; Enabled changes only
// through Enable and Disable; the SSO name only while SSO is disabled. The
// result must validate at the Service's clock (a *ConfigError naming the
// field, with a sentence a host can show), and a certificate the edit adds
// must be valid now. Turning strict mode on ends the password sessions of the
// members who lose password sign-in (not the owner's).
//
// Tightening the MFA policy (MFAPolicy.Tightens: Required turned on;
// TrustIdP turned off while Required; a value dropped from the IdPValues
// trusted while Required and TrustIdP) signs every SSO session of the
// organization out (session.EndMFARequired), since sessions do not record
// which factors they passed: the save moves the organization's SSOEpoch and
// every connection's Epoch on, as Disable does, so ValidateSession refuses
// the SSO sessions made before, and those that sign-ins in flight make
// from the old policy (pending second factors included: those members sign
// in again). Password sessions are not affected (the policy is for sign-ins
// through SSO). Loosening the policy ends nothing.
//
// On success it returns the saved organization and emits one
// EventSettingsChanged whose Actor is actorUserID and whose Fields name the
// fields that changed (never their values); an edit that changes nothing
// saves nothing and emits nothing. Sessions the change ended are counted in
// its SessionsEnded. A certificate that expires within 30 days is saved and
// reported by EventCertificateExpiring.
func (s *Service) UpdateOrganization(ctx context.Context, orgID, actorUserID string, edit func(*Organization) error) (*Organization, error) {
	if edit == nil {
		return nil, configErr("edit", "is nil")
	}
	return s.update(ctx, orgID, actorUserID, edit, checkEditRules, "")
}

// update runs an owner's change: on a fresh copy each attempt, refused by
// rules (nil for the Service's own changes, such as domains), validated,
// saved only from the version it loaded, audited as one
// EventSettingsChanged with detail.
func (s *Service) update(ctx context.Context, orgID, actorUserID string, edit func(*Organization) error,
	rules func(cur, next *Organization) error, detail string) (*Organization, error) {
	for range updateAttempts {
		cur, err := s.adminOrg(ctx, orgID)
		if err != nil {
			return nil, err
		}
		if actorUserID == "" || actorUserID != cur.OwnerID {
			return nil, ErrNotOwner
		}
		next := cur.Clone()
		if err := edit(next); err != nil {
			return nil, err
		}
		if rules != nil {
			if err := rules(cur, next); err != nil {
				return nil, err
			}
		}
		now := s.now()
		expiring, err := s.checkSaved(next, cur, actorUserID, now)
		if err != nil {
			return nil, err
		}
		fields := changedFields(cur, next)
		if len(fields) == 0 {
			return cur, nil
		}
		tightened := next.MFA.Tightens(cur.MFA)
		if tightened {
			// SSO sessions made under the looser policy end: a new epoch
			// (after the rules, which keep edits off the epochs).
			next.SSOEpoch++
			if err := s.redrawEpochs(next); err != nil {
				return nil, err
			}
		}
		if cur.StrictMode && !next.StrictMode {
			// Password sign-in comes back for external members: first end
			// what strict mode refused, so none of it comes back with it.
			if _, err := s.endPasswordSessions(ctx, cur, ""); err != nil {
				return nil, err
			}
		}
		switch err := s.updateOrg(ctx, next); {
		case errors.Is(err, ErrConflict):
			continue
		case err != nil:
			return nil, err
		}
		s.invalidateValidator(next.ID)
		ended := 0
		if next.StrictMode && !cur.StrictMode {
			ended = s.endPasswordSessionsAfter(ctx, next, "")
		}
		if tightened {
			// Tidying: ValidateSession refuses them by their epoch already.
			ended += s.endSessions(ctx, session.Query{OrgID: next.ID, Method: session.MethodSSO}, session.EndMFARequired)
			detail = strings.TrimSpace(detail + " " + mfaTightenedDetail)
		}
		s.emit(ctx, Event{Type: EventSettingsChanged, OrgID: next.ID, SSOName: next.SSOName, Actor: actorUserID,
			Fields: fields, SessionsEnded: ended, Detail: detail})
		s.emitAll(ctx, expiring)
		return next, nil
	}
	return nil, ErrConflict
}

// mfaTightenedDetail is the EventSettingsChanged detail of a change that
// tightened the MFA policy.
const mfaTightenedDetail = "The MFA policy got stricter: every SSO session was signed out."

// checkEditRules refuses what an edit may not change.
func checkEditRules(cur, next *Organization) error {
	switch {
	case next.ID != cur.ID:
		return &RuleError{Field: "ID", Rule: "An organization's ID never changes."}
	case next.OwnerID != cur.OwnerID:
		return &RuleError{Field: "OwnerID", Rule: "The owner cannot be changed here."}
	case next.Version != cur.Version || next.SSOEpoch != cur.SSOEpoch:
		return &RuleError{Field: "Version", Rule: "Version and SSOEpoch are managed by orgsso."}
	case next.Enabled != cur.Enabled:
		return &RuleError{Field: "Enabled", Rule: "Turn SSO on or off with Enable or Disable, not by editing the settings."}
	case next.SSOName != cur.SSOName && cur.Enabled:
		return &RuleError{Field: "SSOName", Rule: "The SSO name can only be changed while SSO is disabled."}
	case !slices.EqualFunc(cur.Domains, next.Domains, Domain.equal):
		return &RuleError{Field: "Domains", Rule: "Domains are claimed, verified and removed with AddDomain, VerifyDomain and RemoveDomain."}
	}
	return checkConnectionRules(cur, next)
}

// checkSaved validates an organization about to be saved at now: the
// organization's rules, key bounds, and that every certificate not already
// saved (in prev) is valid now, draft or not. It returns, for the audit
// trail, the events of the new certificates that expire within 30 days, to
// emit once the save is committed.
func (s *Service) checkSaved(org, prev *Organization, actor string, now time.Time) ([]Event, error) {
	if err := org.ValidateAt(now); err != nil {
		return nil, err
	}
	var expiring []Event
	for _, set := range certificateSets(org) {
		e, err := newCertificates(org, prev, set, actor, now)
		if err != nil {
			return nil, err
		}
		expiring = append(expiring, e...)
	}
	return expiring, nil
}

// certificateSet is one IdP's certificates: the organization's own IdP
// (field "IdP") or a SAML connection's ("Connections[2].SAML").
type certificateSet struct {
	field, connID string
	certs         []string
}

func certificateSets(org *Organization) []certificateSet {
	sets := []certificateSet{{field: "IdP", certs: org.IdP.Certificates}}
	for i := range org.Connections {
		c := &org.Connections[i]
		if c.Protocol == ProtocolSAML {
			sets = append(sets, certificateSet{field: "Connections[" + strconv.Itoa(i) + "].SAML", connID: c.ID, certs: c.SAML.Certificates})
		}
	}
	return sets
}

// savedCertificates returns the certificates prev already holds for the
// same IdP as set.
func (set certificateSet) saved(prev *Organization) []string {
	switch {
	case prev == nil:
		return nil
	case set.connID == "":
		return prev.IdP.Certificates
	}
	if c := prev.Connection(set.connID); c != nil {
		return c.SAML.Certificates
	}
	return nil
}

// newCertificates checks the certificates of set that prev did not hold:
// each must be valid now; those expiring within 30 days give an event.
func newCertificates(org, prev *Organization, set certificateSet, actor string, now time.Time) ([]Event, error) {
	var expiring []Event
	saved := set.saved(prev)
	for i, p := range set.certs {
		if slices.Contains(saved, p) {
			continue
		}
		field := set.field + ".Certificates[" + strconv.Itoa(i) + "]"
		cert, err := IdPConfig{Certificates: set.certs}.CheckCertificate(i, now)
		if err != nil {
			return nil, prefixConfigErr(set.field, samlConfigErr(err))
		}
		if cert.NotAfter.Sub(now) < saml.CertificateExpiryWarning {
			expiring = append(expiring, Event{Type: EventCertificateExpiring, OrgID: org.ID, SSOName: org.SSOName, Actor: actor,
				Fields: []string{set.field + ".Certificates"},
				Detail: fieldLabel(field) + " expires on " + cert.NotAfter.UTC().Format(time.DateOnly) +
					"; add the IdP's next signing certificate before then, or sign-in stops"})
		}
	}
	return expiring, nil
}

// emitAll emits events in order.
func (s *Service) emitAll(ctx context.Context, events []Event) {
	for _, e := range events {
		s.emit(ctx, e)
	}
}

// changedFields names the fields that differ between a and b: top-level
// field names, IdP fields as "IdP.<Field>". Values never appear.
func changedFields(a, b *Organization) []string {
	var out []string
	va, vb := reflect.ValueOf(a).Elem(), reflect.ValueOf(b).Elem()
	t := va.Type()
	for i := range t.NumField() {
		name := t.Field(i).Name
		if name == "IdP" {
			ia, ib := va.Field(i), vb.Field(i)
			for j := range ia.NumField() {
				if !reflect.DeepEqual(ia.Field(j).Interface(), ib.Field(j).Interface()) {
					out = append(out, "IdP."+ia.Type().Field(j).Name)
				}
			}
			continue
		}
		if !reflect.DeepEqual(va.Field(i).Interface(), vb.Field(i).Interface()) {
			out = append(out, name)
		}
	}
	return out
}

// invalidateValidator drops the cached Validator of an organization whose
// settings changed (the cache would also notice; this frees it at once).
func (s *Service) invalidateValidator(orgID string) {
	s.mu.Lock()
	for k := range s.validators {
		if strings.HasPrefix(k, orgID+"\x00") {
			delete(s.validators, k)
		}
	}
	for k := range s.rps {
		if strings.HasPrefix(k, orgID+"\x00") {
			delete(s.rps, k)
		}
	}
	s.mu.Unlock()
}

// Enable turns SSO on for the organization. Only the owner may
// (ErrNotOwner); the IdP configuration must be complete and valid now and the
// role mapping valid (a *ConfigError). No member changes. The password
// sessions of members who may no longer sign in with a password end (the
// owner's stay). Enabling an enabled organization changes nothing.
func (s *Service) Enable(ctx context.Context, orgID, actorUserID string) error {
	return s.setEnabled(ctx, orgID, actorUserID, true)
}

// Disable turns SSO off: members use passwords again, and every SSO session
// of the organization ends (session.EndSSODisabled), including those that
// sign-ins in flight create afterwards: the save that turns SSO off also
// moves the organization's SSOEpoch on, and ValidateSession refuses SSO
// sessions of another epoch. Only the owner may. No role changes.
//
// If the save fails, SSO stays on and the error says so. If ending the
// sessions in the store fails after the save, SSO is off, the sessions are
// refused by ValidateSession all the same, and Disable returns an error
// wrapping ErrUnavailable: calling Disable again ends them.
func (s *Service) Disable(ctx context.Context, orgID, actorUserID string) error {
	return s.setEnabled(ctx, orgID, actorUserID, false)
}

func (s *Service) setEnabled(ctx context.Context, orgID, actor string, on bool) error {
	for range switchAttempts {
		org, err := s.adminOrg(ctx, orgID)
		if err != nil {
			return err
		}
		if actor == "" || actor != org.OwnerID {
			return ErrNotOwner
		}
		if org.Enabled == on {
			if !on {
				// Already off: end what a failed earlier Disable left.
				_, err := s.endSSOSessions(ctx, org)
				return err
			}
			return nil
		}
		next := org.Clone()
		next.Enabled = on
		if !on {
			next.SSOEpoch++
			if err := s.redrawEpochs(next); err != nil {
				return err
			}
			// Everyone may use a password once SSO is off: first end the
			// password sessions SSO refused, so none of them comes back.
			if _, err := s.endPasswordSessions(ctx, org, ""); err != nil {
				return err
			}
		}
		if on {
			if err := next.ValidateAt(s.now()); err != nil {
				return err
			}
		}
		switch err := s.updateOrg(ctx, next); {
		case errors.Is(err, ErrConflict):
			continue
		case err != nil:
			return err
		}
		if on {
			n := s.endPasswordSessionsAfter(ctx, next, "")
			s.emit(ctx, Event{Type: EventSSOEnabled, OrgID: next.ID, SSOName: next.SSOName, UserID: actor, Actor: actor, SessionsEnded: n})
			return nil
		}
		n, err := s.endSSOSessions(ctx, next)
		s.emit(ctx, Event{Type: EventSSODisabled, OrgID: next.ID, SSOName: next.SSOName, UserID: actor, Actor: actor, SessionsEnded: n})
		return err
	}
	return ErrConflict
}

// endSSOSessions ends every SSO session of a disabled organization.
func (s *Service) endSSOSessions(ctx context.Context, org *Organization) (int, error) {
	q := session.Query{OrgID: org.ID, Method: session.MethodSSO}
	n, err := s.count(ctx, "EndSessions", func(ctx context.Context) (int, error) {
		n, err := s.sessions.End(ctx, q, session.EndSSODisabled)
		if errors.Is(err, session.ErrNotSupported) {
			return s.sessions.RevokeOrg(ctx, org.ID, session.MethodSSO)
		}
		return n, err
	})
	if err != nil {
		return n, &StoreError{Op: "EndSessions", Err: errors.Join(errSSOOffSessionsLeft, err)}
	}
	return n, nil
}

var errSSOOffSessionsLeft = errors.New("SSO is disabled, but its sessions could not all be ended in the store (ValidateSession refuses them; call Disable again)")

// authorize checks that actor may administer org's members: the owner
// always; an admin unless ownerOnly.
func (s *Service) authorize(ctx context.Context, org *Organization, actor string, ownerOnly bool) error {
	if actor != "" && actor == org.OwnerID {
		return nil
	}
	if ownerOnly {
		return ErrNotOwner
	}
	if actor == "" {
		return ErrNotAdmin
	}
	m, err := s.loadMemberByUserID(ctx, org.ID, actor)
	switch {
	case isNotFound(err):
		return ErrNotAdmin
	case err != nil:
		return err
	case m.OrgRole != rolemap.RoleAdmin:
		return ErrNotAdmin
	}
	return nil
}

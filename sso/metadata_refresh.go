package sso

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/orgsso/orgsso/internal/text"
	"github.com/orgsso/orgsso/saml"
)

// DefaultMetadataRefreshInterval is how often Run refreshes IdP
// configurations from their metadata URLs when
// Config.MetadataRefreshInterval is 0.
const DefaultMetadataRefreshInterval = 12 * time.Hour

// Events of IdP metadata refreshes (Actor is the owner on demand, "" when
// scheduled).
const (
	// EventIdPMetadataUpdated: a refresh changed the IdP configuration;
	// Fields name what changed (e.g. "IdP.Certificates").
	EventIdPMetadataUpdated EventType = "idp_metadata_updated"
	// EventIdPMetadataFailed: a refresh failed; the last good configuration
	// stays. Detail says why.
	EventIdPMetadataFailed EventType = "idp_metadata_failed"
)

// ErrMetadataEntityChanged: the metadata at the URL describes another IdP
// (entity ID) than the one configured; nothing was changed.
var ErrMetadataEntityChanged = errors.New("sso: the metadata at the URL describes another IdP entity ID than the one configured")

// metadataURL returns the metadata URL of connection connID of org.
func (o *Organization) metadataURL(connID string) string {
	if connID == PrimaryConnection {
		return o.IdPMetadataURL
	}
	if c := o.Connection(connID); c != nil && c.Protocol == ProtocolSAML {
		return c.MetadataURL
	}
	return ""
}

// RefreshMetadata fetches the IdP metadata of a SAML connection
// (PrimaryConnection for the organization's own IdP) from its metadata URL
// and applies it: single sign-on URL and signing certificates (a rotation
// adds the new certificate and drops the withdrawn one), and the entity ID
// when none is set. Only the owner may. It returns the fields that changed
// (none when the IdP published nothing new).
//
// The fetch is bounded (saml.MaxIdPMetadataSize, the HTTP client's
// timeout, no loopback or private addresses; see Config.HTTPClient). A
// failure — unreachable, oversized, not metadata, another entity ID
// (ErrMetadataEntityChanged), certificates not valid now — changes nothing,
// emits EventIdPMetadataFailed and is returned; the last good configuration
// keeps signing users in.
func (s *Service) RefreshMetadata(ctx context.Context, orgID, connectionID, actorUserID string) ([]string, error) {
	org, err := s.adminOrg(ctx, orgID)
	if err != nil {
		return nil, err
	}
	if actorUserID == "" || actorUserID != org.OwnerID {
		return nil, ErrNotOwner
	}
	if _, ok := org.connectionView(connectionID); !ok {
		return nil, ErrUnknownConnection
	}
	return s.refreshMetadata(ctx, orgID, connectionID, actorUserID)
}

// refreshMetadata fetches and applies one connection's metadata.
func (s *Service) refreshMetadata(ctx context.Context, orgID, connID, actor string) ([]string, error) {
	org, err := s.adminOrg(ctx, orgID)
	if err != nil {
		return nil, err
	}
	u := org.metadataURL(connID)
	if u == "" {
		return nil, &ConfigError{Field: "IdPMetadataURL", Reason: "is not set", Message: "Enter the URL where the IdP publishes its metadata first."}
	}
	fail := func(err error) ([]string, error) {
		s.emit(ctx, Event{Type: EventIdPMetadataFailed, OrgID: org.ID, SSOName: org.SSOName, Actor: actor,
			Detail: "Refreshing the IdP metadata" + connectionLabel(connID) + " failed; the last good configuration stays: " +
				text.Truncate(auditMessage(err), 300)})
		return nil, err
	}
	fetched, err := s.fetchMetadata(ctx, u)
	if err != nil {
		return fail(err)
	}
	var changed []string
	for range updateAttempts {
		cur, err := s.adminOrg(ctx, orgID)
		if err != nil {
			return fail(err)
		}
		if cur.metadataURL(connID) != u {
			return nil, ErrConflict // the URL changed meanwhile: the next refresh reads the new one
		}
		next := cur.Clone()
		idp := &next.IdP
		if connID != PrimaryConnection {
			idp = &next.Connection(connID).SAML
		}
		if idp.EntityID != "" && fetched.EntityID != idp.EntityID {
			return fail(ErrMetadataEntityChanged)
		}
		changed = changed[:0]
		prefix := "IdP."
		if connID != PrimaryConnection {
			prefix = "Connections." + connID + ".SAML."
		}
		if idp.EntityID == "" {
			idp.EntityID, changed = fetched.EntityID, append(changed, prefix+"EntityID")
		}
		if idp.SSOURL != fetched.SSOURL {
			idp.SSOURL, changed = fetched.SSOURL, append(changed, prefix+"SSOURL")
		}
		if !slices.Equal(idp.Certificates, fetched.Certificates) {
			idp.Certificates, changed = slices.Clone(fetched.Certificates), append(changed, prefix+"Certificates")
		}
		if len(changed) == 0 {
			return nil, nil
		}
		now := s.now()
		expiring, err := s.checkSaved(next, cur, actor, now)
		if err != nil {
			return fail(err)
		}
		switch err := s.updateOrg(ctx, next); {
		case errors.Is(err, ErrConflict):
			continue
		case err != nil:
			return fail(err)
		}
		s.invalidateValidator(next.ID)
		s.emit(ctx, Event{Type: EventIdPMetadataUpdated, OrgID: next.ID, SSOName: next.SSOName, Actor: actor,
			Fields: slices.Clone(changed), Detail: "The IdP metadata" + connectionLabel(connID) + " was refreshed from its URL."})
		s.emitAll(ctx, expiring)
		return changed, nil
	}
	return fail(ErrConflict)
}

// connectionLabel names a connection in an audit sentence.
func connectionLabel(connID string) string {
	if connID == PrimaryConnection {
		return ""
	}
	return " of connection " + strconv.Quote(connID)
}

// auditMessage is the plain sentence of an error for an owner's audit
// trail: a configuration error's own sentence, else the login page's.
func auditMessage(err error) string {
	var ce *ConfigError
	if errors.As(samlConfigErr(err), &ce) {
		return ce.UserMessage()
	}
	if errors.Is(err, ErrMetadataEntityChanged) {
		return "the metadata describes another IdP (entity ID) than the one configured."
	}
	if errors.Is(err, ErrPrivateAddress) {
		return "the URL points to a loopback or private address."
	}
	return UserMessage(err)
}

// fetchMetadata GETs and parses IdP metadata, bounded in size and time.
func (s *Service) fetchMetadata(ctx context.Context, url string) (IdPConfig, error) {
	if err := checkMetadataURL("IdPMetadataURL", url); err != nil {
		return IdPConfig{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, defaultHTTPTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return IdPConfig{}, &ConfigError{Field: "IdPMetadataURL", Reason: "is not a URL", Err: err}
	}
	req.Header.Set("Accept", "application/samlmetadata+xml, application/xml, text/xml")
	client := *s.httpClient
	client.CheckRedirect = func(next *http.Request, via []*http.Request) error {
		if len(via) >= 5 {
			return errors.New("sso: the metadata URL redirects more than 5 times")
		}
		// Each hop follows the URL's own rules: an https URL never leads to
		// plain http (which anyone on the path could answer).
		return checkMetadataURL("IdPMetadataURL", next.URL.String())
	}
	resp, err := client.Do(req)
	if err != nil {
		return IdPConfig{}, boundedError{fmt.Errorf("sso: fetching IdP metadata: %w", err)}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return IdPConfig{}, &ConfigError{Field: "IdPMetadataURL", Reason: "answered HTTP " + strconv.Itoa(resp.StatusCode),
			Message: "The metadata URL answered HTTP " + strconv.Itoa(resp.StatusCode) + " instead of the metadata."}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, saml.MaxIdPMetadataSize+1))
	if err != nil {
		return IdPConfig{}, fmt.Errorf("sso: reading IdP metadata: %w", err)
	}
	if len(body) > saml.MaxIdPMetadataSize {
		return IdPConfig{}, &ConfigError{Field: "IdPMetadataURL", Reason: "the document is larger than 1 MiB",
			Message: "The metadata at the URL is larger than 1 MiB."}
	}
	return ParseIdPMetadata(body)
}

// checkMetadataURL checks a metadata URL: as an IdP SSO URL (absolute,
// https or http to loopback, no credentials) and bounded.
func checkMetadataURL(field, u string) error {
	if len(u) > MaxURLBytes {
		return &ConfigError{Field: field, Reason: "is too long", Message: "The metadata URL is longer than 2048 bytes."}
	}
	if err := checkIdPSSOURL(field, u); err != nil {
		if ce, ok := err.(*ConfigError); ok {
			ce.Message = "The metadata URL must be an https URL (http only for localhost), without user name or password."
		}
		return err
	}
	return nil
}

// metadataLoop refreshes every metadata URL each metadataInterval until
// ctx is done; a round never outlasts the interval.
func (s *Service) metadataLoop(ctx context.Context) {
	if _, ok := s.store.(MetadataLister); !ok {
		return
	}
	t := time.NewTicker(s.metadataInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			round, cancel := context.WithTimeout(ctx, s.metadataInterval)
			s.refreshAllMetadata(round)
			cancel()
		}
	}
}

// metadataParallel is how many metadata URLs a round fetches at once.
const metadataParallel = 4

// refreshAllMetadata refreshes every metadata URL the store lists, a few at
// a time; failures are reported by event and logged (bounded).
func (s *Service) refreshAllMetadata(ctx context.Context) {
	ml, ok := s.store.(MetadataLister)
	if !ok {
		return
	}
	sem := make(chan struct{}, metadataParallel)
	var wg sync.WaitGroup
	defer wg.Wait()
	after := ""
	for {
		var page []*Organization
		err := s.do(ctx, "OrganizationsWithMetadataURL", func(ctx context.Context) (err error) {
			page, err = ml.OrganizationsWithMetadataURL(ctx, after, 100)
			return err
		})
		if err != nil {
			s.log.LogAttrs(ctx, slog.LevelWarn, "orgsso metadata refresh: listing failed", slog.String("err", err.Error()))
			return
		}
		for _, org := range page {
			for _, id := range org.metadataSources() {
				select {
				case <-ctx.Done():
					return
				case sem <- struct{}{}:
				}
				wg.Add(1)
				go func(orgID, connID string) {
					defer wg.Done()
					defer func() { <-sem }()
					if _, err := s.refreshMetadata(ctx, orgID, connID, ""); err != nil {
						s.log.LogAttrs(ctx, slog.LevelWarn, "orgsso metadata refresh failed", slog.String("org", orgID),
							slog.String("connection", connID), slog.String("err", text.Truncate(err.Error(), 300)))
					}
				}(org.ID, id)
			}
			after = org.ID
		}
		if len(page) < 100 {
			return
		}
	}
}

// metadataSources lists the connections of o that name a metadata URL.
func (o *Organization) metadataSources() []string {
	var ids []string
	if o.IdPMetadataURL != "" {
		ids = append(ids, PrimaryConnection)
	}
	for _, c := range o.Connections {
		if c.Protocol == ProtocolSAML && c.MetadataURL != "" {
			ids = append(ids, c.ID)
		}
	}
	return ids
}

// boundedError cuts the text of an error that may quote a URL or an answer
// (Go's HTTP client quotes redirect targets whole) to 300 bytes, keeping
// its chain for errors.Is.
type boundedError struct{ err error }

func (e boundedError) Error() string { return text.Truncate(e.err.Error(), 300) }
func (e boundedError) Unwrap() error { return e.err }

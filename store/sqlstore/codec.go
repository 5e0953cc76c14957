package sqlstore

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/orgsso/orgsso/rolemap"
	"github.com/orgsso/orgsso/sso"
)

// timeLayout is how times are stored: UTC, fixed width, nanoseconds. Every
// stored time has exactly this shape, so comparing the text compares the
// times, in SQLite (BINARY) as in PostgreSQL (COLLATE "C").
const timeLayout = "2006-01-02T15:04:05.000000000Z"

// encodeTime returns the stored form of t. It round-trips to the nanosecond:
// decodeTime(encodeTime(t)) equals t.UTC() without its monotonic reading.
// Times outside the years 0–9999 do not fit the fixed width and are refused.
func encodeTime(what string, t time.Time) (string, error) {
	u := t.UTC()
	if y := u.Year(); y < 0 || y > 9999 {
		return "", errorf(ErrInvalidArgument, "%s %v outside the years 0-9999", what, t)
	}
	return u.Format(timeLayout), nil
}

// encodeBound returns the stored form of t for comparing with stored times.
// Out of range, it returns a string below ("") or above ("~", after every
// digit) every stored time, so comparisons stay right.
func encodeBound(t time.Time) string {
	u := t.UTC()
	switch y := u.Year(); {
	case y < 0:
		return ""
	case y > 9999:
		return "~"
	}
	return u.Format(timeLayout)
}

// decodeTime parses a stored time; its location is UTC.
func decodeTime(s string) (time.Time, error) {
	return time.Parse(timeLayout, s)
}

// storable reports whether a string can be stored and read back unchanged in
// every dialect: valid UTF-8 (JSON would replace invalid bytes, PostgreSQL
// refuses them) without NUL bytes (PostgreSQL text cannot hold them).
func storable(s string) bool {
	return utf8.ValidString(s) && !strings.Contains(s, "\x00")
}

// checkKeys returns an error wrapping ErrKeyTooLong (and so
// ErrInvalidArgument) if any of keys is longer than sso.MaxKeyBytes. The
// error gives the length, never the key: it may be a megabyte.
func checkKeys(what string, keys ...string) error {
	for _, k := range keys {
		if len(k) > sso.MaxKeyBytes {
			return fmt.Errorf("sqlstore: %s: a key of %d bytes: %w", what, len(k), ErrKeyTooLong)
		}
	}
	return nil
}

// checkStorable returns an error wrapping ErrInvalidArgument if any string
// in v, a struct or pointer to one (with strings, slices and maps of them,
// at any depth), is not storable.
func checkStorable(what string, v any) error {
	if !storableValue(reflect.ValueOf(v)) {
		return errorf(ErrInvalidArgument, "%s holds a string that is not valid UTF-8 or holds a NUL byte", what)
	}
	return nil
}

func storableValue(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.String:
		return storable(v.String())
	case reflect.Pointer:
		return v.IsNil() || storableValue(v.Elem())
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() && !storableValue(v.Field(i)) {
				return false
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if !storableValue(v.Index(i)) {
				return false
			}
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			if !storableValue(it.Key()) || !storableValue(it.Value()) {
				return false
			}
		}
	}
	return true
}

// The JSON columns have their own types, with explicit names, so that
// renaming a Go field never changes the stored data. Nil slices and maps are
// stored as null and empty ones as [] and {}: both round-trip exactly.

type mappingJSON struct {
	IdPRole    string              `json:"idp_role"`
	OrgRole    string              `json:"org_role"`
	StackRoles map[string][]string `json:"stack_roles"`
}

type attributesJSON struct {
	Email     []string `json:"email"`
	FirstName []string `json:"first_name"`
	LastName  []string `json:"last_name"`
	Roles     []string `json:"roles"`
}

// connectionJSON is a connection (sso.Connection) as the connections column
// stores it, an element of a JSON array. Nil slices are null and empty ones
// [], as elsewhere; the client secret is its plain string value (the Service
// seals it before it reaches the store when the host configures a key).
type connectionJSON struct {
	ID                string   `json:"id"`
	Name              string   `json:"name"`
	Protocol          string   `json:"protocol"`
	Enabled           bool     `json:"enabled"`
	SAML              samlJSON `json:"saml"`
	AllowIdPInitiated bool     `json:"allow_idp_initiated"`
	// MetadataURL is absent in what orgsso stored before metadata URLs
	// (schema version 8): it reads as "", no URL.
	MetadataURL     string         `json:"metadata_url"`
	OIDC            oidcJSON       `json:"oidc"`
	JITProvisioning bool           `json:"jit_provisioning"`
	Attributes      attributesJSON `json:"attributes"`
	Domains         []string       `json:"domains"`
	// Epoch is absent in what orgsso stored before connection epochs: it
	// reads as 0, as a connection never enabled since.
	Epoch int64 `json:"epoch"`
}

type samlJSON struct {
	EntityID           string   `json:"entity_id"`
	SSOURL             string   `json:"sso_url"`
	Certificates       []string `json:"certificates"`
	SignatureAlgorithm string   `json:"signature_algorithm"`
}

type oidcJSON struct {
	Issuer       string   `json:"issuer"`
	ClientID     string   `json:"client_id"`
	ClientSecret string   `json:"client_secret"`
	Scopes       []string `json:"scopes"`
	RolesClaim   string   `json:"roles_claim"`
	UserInfo     bool     `json:"userinfo"`
}

// encodeConnections returns the stored form of an organization's
// connections: a JSON array in their order. No connections, nil or empty, is
// [] (the column's default, which organizations stored before the column
// have), and reads back as nil: the one list whose nil and empty are not
// kept apart, so that every organization without connections reads back
// alike, whenever it was stored.
func encodeConnections(cs []sso.Connection) (string, error) {
	if len(cs) == 0 {
		return "[]", nil
	}
	out := make([]connectionJSON, len(cs))
	for i, c := range cs {
		out[i] = connectionJSON{
			ID: c.ID, Name: c.Name, Protocol: string(c.Protocol), Enabled: c.Enabled,
			SAML: samlJSON{
				EntityID: c.SAML.EntityID, SSOURL: c.SAML.SSOURL,
				Certificates: c.SAML.Certificates, SignatureAlgorithm: c.SAML.SignatureAlgorithm,
			},
			AllowIdPInitiated: c.AllowIdPInitiated,
			MetadataURL:       c.MetadataURL,
			OIDC: oidcJSON{
				Issuer: c.OIDC.Issuer, ClientID: c.OIDC.ClientID, ClientSecret: string(c.OIDC.ClientSecret),
				Scopes: c.OIDC.Scopes, RolesClaim: c.OIDC.RolesClaim, UserInfo: c.OIDC.UserInfo,
			},
			JITProvisioning: c.JITProvisioning,
			Attributes:      encodeAttributes(c.Attributes),
			Domains:         c.Domains,
			Epoch:           c.Epoch,
		}
	}
	b, err := json.Marshal(out)
	return string(b), err
}

// decodeConnections reads the stored form of an organization's
// connections. It decodes into the store's own types only, so whatever the
// column holds, the result is bounded by the column: anything but a JSON
// array of connection objects (or null), a field of the wrong type included,
// is an error; [] and null are nil.
func decodeConnections(s string) ([]sso.Connection, error) {
	var in []connectionJSON
	if err := json.Unmarshal([]byte(s), &in); err != nil {
		return nil, err
	}
	if len(in) == 0 {
		return nil, nil
	}
	out := make([]sso.Connection, len(in))
	for i, c := range in {
		out[i] = sso.Connection{
			ID: c.ID, Name: c.Name, Protocol: sso.Protocol(c.Protocol), Enabled: c.Enabled,
			SAML: sso.IdPConfig{
				EntityID: c.SAML.EntityID, SSOURL: c.SAML.SSOURL,
				Certificates: c.SAML.Certificates, SignatureAlgorithm: c.SAML.SignatureAlgorithm,
			},
			AllowIdPInitiated: c.AllowIdPInitiated,
			MetadataURL:       c.MetadataURL,
			OIDC: sso.OIDCConfig{
				Issuer: c.OIDC.Issuer, ClientID: c.OIDC.ClientID, ClientSecret: sso.Secret(c.OIDC.ClientSecret),
				Scopes: c.OIDC.Scopes, RolesClaim: c.OIDC.RolesClaim, UserInfo: c.OIDC.UserInfo,
			},
			JITProvisioning: c.JITProvisioning,
			Attributes:      c.Attributes.decode(),
			Domains:         c.Domains,
			Epoch:           c.Epoch,
		}
	}
	return out, nil
}

// domainJSON is a domain claim (sso.Domain) as the domains column stores it,
// an element of a JSON array. verified_at is stored as every other time
// (encodeTime): the zero time of an unverified claim too, so every value
// round-trips exactly.
type domainJSON struct {
	Name       string `json:"name"`
	Token      string `json:"token"`
	VerifiedAt string `json:"verified_at"`
}

// encodeDomains returns the stored form of an organization's domain claims:
// a JSON array in their order. No domains, nil or empty, is [] (the
// column's default, which organizations stored before the column have), and
// reads back as nil, as connections do. A VerifiedAt outside the years
// 0–9999 is an error wrapping ErrInvalidArgument.
func encodeDomains(ds []sso.Domain) (string, error) {
	if len(ds) == 0 {
		return "[]", nil
	}
	out := make([]domainJSON, len(ds))
	for i, d := range ds {
		at, err := encodeTime("domain verified_at", d.VerifiedAt)
		if err != nil {
			return "", err
		}
		out[i] = domainJSON{Name: d.Name, Token: d.Token, VerifiedAt: at}
	}
	b, err := json.Marshal(out)
	return string(b), err
}

// decodeDomains reads the stored form of an organization's domain claims.
// Anything but a JSON array of domain objects (or null), a field of the
// wrong type or a verified_at that is not a stored time included, is an
// error; [] and null are nil.
func decodeDomains(s string) ([]sso.Domain, error) {
	var in []domainJSON
	if err := json.Unmarshal([]byte(s), &in); err != nil {
		return nil, err
	}
	if len(in) == 0 {
		return nil, nil
	}
	out := make([]sso.Domain, len(in))
	for i, d := range in {
		at, err := decodeTime(d.VerifiedAt)
		if err != nil {
			return nil, fmt.Errorf("domain %d: verified_at: %w", i, err)
		}
		out[i] = sso.Domain{Name: d.Name, Token: d.Token, VerifiedAt: at}
	}
	return out, nil
}

// verifiedDomains returns the names of the verified domains of ds, sorted,
// each once: the rows the organization holds in verified_domains. The empty
// name is never registered (the Service never stores one).
func verifiedDomains(ds []sso.Domain) []string {
	var names []string
	for _, d := range ds {
		if d.Verified() && d.Name != "" {
			names = append(names, d.Name)
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

func encodeAttributes(a sso.AttributeNames) attributesJSON {
	return attributesJSON{Email: a.Email, FirstName: a.FirstName, LastName: a.LastName, Roles: a.Roles}
}

func (a attributesJSON) decode() sso.AttributeNames {
	return sso.AttributeNames{Email: a.Email, FirstName: a.FirstName, LastName: a.LastName, Roles: a.Roles}
}

// orgRow is an organization as its row stores it.
type orgRow struct {
	id, ssoName, ownerID               string
	enabled, strictMode                bool
	idpEntityID, idpSSOURL, idpSigAlg  string
	idpCertificates                    string // JSON
	sessionTimeout                     int64
	roleMappingEnabled                 bool
	roleDelimiter                      string
	roleMappings                       string // JSON
	jitProvisioning, allowIdPInitiated bool
	attributes                         string // JSON
	version, ssoEpoch                  int64
	connections                        string // JSON
	domains                            string // JSON
	idpMetadataURL                     string
	hasMetadataURL                     bool   // derived: hasMetadataURL(o)
	mfaPolicy                          string // JSON
}

// hasMetadataURL reports whether o names a metadata URL, its own IdP's or
// a SAML connection's: what the has_metadata_url column stores, and what
// OrganizationsWithMetadataURL lists by (sso.MetadataLister).
func hasMetadataURL(o *sso.Organization) bool {
	if o.IdPMetadataURL != "" {
		return true
	}
	for _, c := range o.Connections {
		if c.Protocol == sso.ProtocolSAML && c.MetadataURL != "" {
			return true
		}
	}
	return false
}

func encodeOrg(o *sso.Organization) (*orgRow, error) {
	certs, err := json.Marshal(o.IdP.Certificates)
	if err != nil {
		return nil, err
	}
	var mappings []mappingJSON
	if o.RoleMapping.Mappings != nil {
		mappings = make([]mappingJSON, len(o.RoleMapping.Mappings))
		for i, m := range o.RoleMapping.Mappings {
			mappings[i] = mappingJSON{IdPRole: m.IdPRole, OrgRole: string(m.OrgRole), StackRoles: m.StackRoles}
		}
	}
	mapJSON, err := json.Marshal(mappings)
	if err != nil {
		return nil, err
	}
	attrs, err := json.Marshal(encodeAttributes(o.Attributes))
	if err != nil {
		return nil, err
	}
	conns, err := encodeConnections(o.Connections)
	if err != nil {
		return nil, err
	}
	domains, err := encodeDomains(o.Domains)
	if err != nil {
		return nil, err
	}
	mfa, err := encodeMFAPolicy(o.MFA)
	if err != nil {
		return nil, err
	}
	return &orgRow{
		id: o.ID, ssoName: o.SSOName, ownerID: o.OwnerID,
		enabled: o.Enabled, strictMode: o.StrictMode,
		idpEntityID: o.IdP.EntityID, idpSSOURL: o.IdP.SSOURL, idpSigAlg: o.IdP.SignatureAlgorithm,
		idpCertificates:    string(certs),
		sessionTimeout:     int64(o.SessionTimeout),
		roleMappingEnabled: o.RoleMapping.Enabled,
		roleDelimiter:      o.RoleMapping.Delimiter,
		roleMappings:       string(mapJSON),
		jitProvisioning:    o.JITProvisioning,
		allowIdPInitiated:  o.AllowIdPInitiated,
		attributes:         string(attrs),
		version:            o.Version,
		ssoEpoch:           o.SSOEpoch,
		connections:        conns,
		domains:            domains,
		idpMetadataURL:     o.IdPMetadataURL,
		hasMetadataURL:     hasMetadataURL(o),
		mfaPolicy:          mfa,
	}, nil
}

// args returns the row's values in the order of orgColumns.
func (r *orgRow) args() []any {
	return []any{
		r.id, r.ssoName, r.ownerID, r.enabled, r.idpEntityID, r.idpSSOURL,
		r.idpCertificates, r.idpSigAlg, r.strictMode, r.sessionTimeout,
		r.roleMappingEnabled, r.roleDelimiter, r.roleMappings,
		r.jitProvisioning, r.allowIdPInitiated, r.attributes,
		r.version, r.ssoEpoch, r.connections, r.domains,
		r.idpMetadataURL, r.hasMetadataURL, r.mfaPolicy,
	}
}

// updateArgs returns the arguments of qUpdateOrg: the row's values but its
// ID and version, its SSO epoch, then the ID and version to update.
func (r *orgRow) updateArgs() []any {
	return []any{
		r.ssoName, r.ownerID, r.enabled, r.idpEntityID, r.idpSSOURL,
		r.idpCertificates, r.idpSigAlg, r.strictMode, r.sessionTimeout,
		r.roleMappingEnabled, r.roleDelimiter, r.roleMappings,
		r.jitProvisioning, r.allowIdPInitiated, r.attributes,
		r.ssoEpoch, r.connections, r.domains,
		r.idpMetadataURL, r.hasMetadataURL, r.mfaPolicy,
		r.id, r.version,
	}
}

// dests returns pointers to the row's fields in the order of orgColumns.
func (r *orgRow) dests() []any {
	return []any{
		&r.id, &r.ssoName, &r.ownerID, &r.enabled, &r.idpEntityID, &r.idpSSOURL,
		&r.idpCertificates, &r.idpSigAlg, &r.strictMode, &r.sessionTimeout,
		&r.roleMappingEnabled, &r.roleDelimiter, &r.roleMappings,
		&r.jitProvisioning, &r.allowIdPInitiated, &r.attributes,
		&r.version, &r.ssoEpoch, &r.connections, &r.domains,
		&r.idpMetadataURL, &r.hasMetadataURL, &r.mfaPolicy,
	}
}

func (r *orgRow) decode() (*sso.Organization, error) {
	o := &sso.Organization{
		ID: r.id, SSOName: r.ssoName, OwnerID: r.ownerID, Enabled: r.enabled,
		IdP: sso.IdPConfig{
			EntityID:           r.idpEntityID,
			SSOURL:             r.idpSSOURL,
			SignatureAlgorithm: r.idpSigAlg,
		},
		StrictMode:        r.strictMode,
		SessionTimeout:    time.Duration(r.sessionTimeout),
		RoleMapping:       rolemap.Config{Enabled: r.roleMappingEnabled, Delimiter: r.roleDelimiter},
		JITProvisioning:   r.jitProvisioning,
		AllowIdPInitiated: r.allowIdPInitiated,
		IdPMetadataURL:    r.idpMetadataURL,
		Version:           r.version,
		SSOEpoch:          r.ssoEpoch,
	}
	if err := json.Unmarshal([]byte(r.idpCertificates), &o.IdP.Certificates); err != nil {
		return nil, errorf(err, "organization %q: idp_certificates", r.id)
	}
	var mappings []mappingJSON
	if err := json.Unmarshal([]byte(r.roleMappings), &mappings); err != nil {
		return nil, errorf(err, "organization %q: role_mappings", r.id)
	}
	if mappings != nil {
		o.RoleMapping.Mappings = make([]rolemap.Mapping, len(mappings))
		for i, m := range mappings {
			o.RoleMapping.Mappings[i] = rolemap.Mapping{IdPRole: m.IdPRole, OrgRole: rolemap.OrgRole(m.OrgRole), StackRoles: m.StackRoles}
		}
	}
	var attrs attributesJSON
	if err := json.Unmarshal([]byte(r.attributes), &attrs); err != nil {
		return nil, errorf(err, "organization %q: attributes", r.id)
	}
	o.Attributes = attrs.decode()
	conns, err := decodeConnections(r.connections)
	if err != nil {
		return nil, errorf(err, "organization %q: connections", r.id)
	}
	o.Connections = conns
	domains, err := decodeDomains(r.domains)
	if err != nil {
		return nil, errorf(err, "organization %q: domains", r.id)
	}
	o.Domains = domains
	if o.MFA, err = decodeMFAPolicy(r.mfaPolicy); err != nil {
		return nil, errorf(err, "organization %q: mfa_policy", r.id)
	}
	return o, nil
}

// marshalStackRoles returns the stored form of a member's stack roles: JSON,
// null for a nil map.
func marshalStackRoles(roles map[string][]string) (string, error) {
	b, err := json.Marshal(roles)
	return string(b), err
}

// unmarshalStackRoles reads the stored form of a member's stack roles.
func unmarshalStackRoles(s string, roles *map[string][]string) error {
	return json.Unmarshal([]byte(s), roles)
}

// cloneMember returns a copy of m that shares no map or slice with it; nil
// and empty maps and slices are kept apart.
func cloneMember(m *sso.Member) *sso.Member {
	c := *m
	if m.StackRoles != nil {
		c.StackRoles = make(map[string][]string, len(m.StackRoles))
		for k, v := range m.StackRoles {
			if v != nil {
				v = append(make([]string, 0, len(v)), v...)
			}
			c.StackRoles[k] = v
		}
	}
	return &c
}

package memory_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/orgsso/orgsso/rolemap"
	"github.com/orgsso/orgsso/sso"
)

// t0 is the instant tests measure expiry from.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// fullOrg returns an organization with every field set, slices and maps
// non-empty; TestFixturesFullyPopulated keeps it so when fields are added.
func fullOrg(id, name string) *sso.Organization {
	return &sso.Organization{
		ID:      id,
		SSOName: name,
		OwnerID: "owner-" + id,
		Enabled: true,
		IdP: sso.IdPConfig{
			EntityID:           "https://idp.example.com/" + id,
			SSOURL:             "https://idp.example.com/" + id + "/sso",
			Certificates:       []string{"-----BEGIN CERTIFICATE-----\nA\n", "-----BEGIN CERTIFICATE-----\nB\n"},
			SignatureAlgorithm: "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
		},
		StrictMode:     true,
		SessionTimeout: 8 * time.Hour,
		RoleMapping: rolemap.Config{
			Enabled:   true,
			Delimiter: ",",
			Mappings: []rolemap.Mapping{
				{IdPRole: "admins", OrgRole: rolemap.RoleAdmin, StackRoles: map[string][]string{"stack1": {"developer", "admin"}}},
				{IdPRole: "devs", OrgRole: rolemap.RoleMember, StackRoles: map[string][]string{"stack2": {"developer"}}},
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

// zeroFields lists the paths of fields in v that are zero (or empty slices and
// maps), recursing into structs, slices and maps.
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
			for i := range v.Len() {
				zero = append(zero, zeroFields(v.Index(i), path+"[i]")...)
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

// shared lists the paths at which a and b (values of one type) share a
// pointer, slice backing array or map.
func shared(a, b reflect.Value, path string) []string {
	switch a.Kind() {
	case reflect.Pointer:
		if a.IsNil() || b.IsNil() {
			return nil
		}
		if a.Pointer() == b.Pointer() {
			return []string{path}
		}
		return shared(a.Elem(), b.Elem(), path)
	case reflect.Struct:
		if a.Type() == reflect.TypeFor[time.Time]() {
			return nil // its *Location is immutable and meant to be shared
		}
		var s []string
		for i := range a.NumField() {
			if f := a.Type().Field(i); f.IsExported() {
				s = append(s, shared(a.Field(i), b.Field(i), path+"."+f.Name)...)
			}
		}
		return s
	case reflect.Slice:
		if a.Len() == 0 || b.Len() == 0 {
			return nil
		}
		if a.Pointer() == b.Pointer() {
			return []string{path}
		}
		var s []string
		for i := range min(a.Len(), b.Len()) {
			s = append(s, shared(a.Index(i), b.Index(i), path+"[i]")...)
		}
		return s
	case reflect.Map:
		if a.IsNil() || b.IsNil() {
			return nil
		}
		if a.Pointer() == b.Pointer() {
			return []string{path}
		}
		var s []string
		for it := a.MapRange(); it.Next(); {
			if bv := b.MapIndex(it.Key()); bv.IsValid() {
				s = append(s, shared(it.Value(), bv, path+"[k]")...)
			}
		}
		return s
	default:
		return nil
	}
}

// noSharing fails t if a and b share memory anywhere.
func noSharing(t *testing.T, what string, a, b any) {
	t.Helper()
	if s := shared(reflect.ValueOf(a), reflect.ValueOf(b), what); len(s) > 0 {
		t.Errorf("%s shares memory with the store's copy at %v", what, s)
	}
}

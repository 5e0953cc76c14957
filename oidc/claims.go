package oidc

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"
)

// Bounds of the roles claim.
const (
	// MaxRoles is the largest number of values the roles claim may hold.
	MaxRoles = 1000
	// MaxRoleBytes is the longest role value accepted.
	MaxRoleBytes = 1024
	// MaxAuthMethods is the largest number of values the amr claim may
	// hold, and MaxAuthMethodBytes the longest value accepted.
	MaxAuthMethods     = 32
	MaxAuthMethodBytes = 256
)

// Claims are the verified claims of an ID token (completed from userinfo when
// Config.UserInfo is on and the ID token lacks them).
type Claims struct {
	Subject string // sub: the user's stable identifier at the issuer
	Issuer  string // iss
	// Email is the email claim as sent, verified or not; trust it only
	// through VerifiedEmail, or when EmailVerified is true.
	Email string
	// EmailVerified is true only when there is an email and email_verified
	// is the boolean true or the string "true" (as some providers send it).
	EmailVerified bool
	Name          string   // name
	GivenName     string   // given_name
	FamilyName    string   // family_name
	Roles         []string // the Config.RolesClaim values, as sent; nil when absent
	// AuthMethods is the amr claim (OpenID Connect Core 2, RFC 8176): how
	// the provider authenticated the user ("pwd", "mfa", "otp", "hwk", …),
	// as sent, in order; nil when absent. It describes the authentication
	// the ID token reports, so it is read from the verified ID token only,
	// never completed from userinfo. Anything but a JSON array of strings
	// (or null), or more than MaxAuthMethods values, or one longer than
	// MaxAuthMethodBytes, is CheckMalformed.
	AuthMethods []string
	IssuedAt    time.Time
	Expiry      time.Time
	Audience    []string
	// Raw holds every claim of the ID token, as signed.
	Raw map[string]json.RawMessage

	nonce     string
	azp       *string
	notBefore time.Time
}

// VerifiedEmail returns the email when the provider says it is verified
// (email_verified true). Otherwise it fails with CheckEmailVerified, and the
// product decides what an unverified email is worth.
func (c *Claims) VerifiedEmail() (string, error) {
	if c.Email == "" {
		return "", fail(CheckEmailVerified, "the ID token has no email")
	}
	if !c.EmailVerified {
		return "", fail(CheckEmailVerified, "the provider does not say the email is verified")
	}
	return c.Email, nil
}

// parseClaims reads the claims by their exact names. A standard claim of the
// wrong type is CheckMalformed; an absent one is left zero for the checks.
//
// authMethods reads the amr claim too: the ID token's, not userinfo's.
func parseClaims(raw map[string]json.RawMessage, rolesClaim string, authMethods bool) (*Claims, error) {
	c := &Claims{Raw: raw}
	for _, f := range []struct {
		name string
		dst  *string
	}{
		{"iss", &c.Issuer}, {"sub", &c.Subject}, {"nonce", &c.nonce}, {"email", &c.Email},
		{"name", &c.Name}, {"given_name", &c.GivenName}, {"family_name", &c.FamilyName},
	} {
		if err := stringClaim(raw, f.name, f.dst); err != nil {
			return nil, err
		}
	}
	if v, ok := raw["azp"]; ok && !isNull(v) {
		var azp string
		if json.Unmarshal(v, &azp) != nil {
			return nil, fail(CheckMalformed, "claim azp is not a string")
		}
		c.azp = &azp
	}
	if v, ok := raw["aud"]; ok {
		aud, ok := audience(v)
		if !ok {
			return nil, fail(CheckMalformed, "claim aud is not a string or an array of strings")
		}
		c.Audience = aud
	}
	for _, f := range []struct {
		name string
		dst  *time.Time
	}{{"exp", &c.Expiry}, {"iat", &c.IssuedAt}, {"nbf", &c.notBefore}} {
		if err := timeClaim(raw, f.name, f.dst); err != nil {
			return nil, err
		}
	}
	c.EmailVerified = c.Email != "" && isTrue(raw["email_verified"])
	if authMethods {
		amr, err := amrFrom(raw["amr"])
		if err != nil {
			return nil, err
		}
		c.AuthMethods = amr
	}
	if rolesClaim != "" {
		roles, err := rolesFrom(raw[rolesClaim])
		if err != nil {
			return nil, err
		}
		c.Roles = roles
	}
	return c, nil
}

func isNull(v json.RawMessage) bool { return bytes.Equal(bytes.TrimSpace(v), []byte("null")) }

func stringClaim(raw map[string]json.RawMessage, name string, dst *string) error {
	v, ok := raw[name]
	if !ok || isNull(v) {
		return nil
	}
	if s, ok := plainString(v); ok {
		*dst = s
		return nil
	}
	if json.Unmarshal(v, dst) != nil {
		return fail(CheckMalformed, "claim "+name+" is not a string")
	}
	return nil
}

// plainString reads a JSON string without escapes, of valid UTF-8, without
// the decoder (the common case, and the one the benchmark measures). Anything
// else goes through encoding/json, so both readings stay identical.
func plainString(v json.RawMessage) (string, bool) {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return "", false
	}
	in := v[1 : len(v)-1]
	for _, b := range in {
		if b < 0x20 || b == '"' || b == '\\' || b >= 0x80 {
			return "", false
		}
	}
	return string(in), true
}

// timeClaim reads a NumericDate the way go-oidc does (integer seconds, else
// fractional seconds truncated), so both readings agree.
func timeClaim(raw map[string]json.RawMessage, name string, dst *time.Time) error {
	v, ok := raw[name]
	if !ok || isNull(v) {
		return nil
	}
	var n json.Number
	if json.Unmarshal(v, &n) != nil {
		return fail(CheckMalformed, "claim "+name+" is not a number")
	}
	if i, err := n.Int64(); err == nil {
		*dst = time.Unix(i, 0)
		return nil
	}
	f, err := n.Float64()
	if err != nil {
		return fail(CheckMalformed, "claim "+name+" is not a number")
	}
	*dst = time.Unix(int64(f), 0)
	return nil
}

// audience reads aud: a string or an array of strings.
func audience(v json.RawMessage) ([]string, bool) {
	var one string
	if json.Unmarshal(v, &one) == nil {
		return []string{one}, true
	}
	var many []string
	if json.Unmarshal(v, &many) == nil {
		return many, true
	}
	return nil, false
}

// isTrue: the boolean true, or the string "true".
func isTrue(v json.RawMessage) bool {
	var b bool
	if json.Unmarshal(v, &b) == nil {
		return b
	}
	var s string
	return json.Unmarshal(v, &s) == nil && s == "true"
}

// rolesFrom reads the roles claim: absent or null = none; a string = one
// role; an array of strings; bounded in count and length.
func rolesFrom(v json.RawMessage) ([]string, error) {
	if v == nil || isNull(v) {
		return nil, nil
	}
	var roles []string
	var one string
	if json.Unmarshal(v, &one) == nil {
		roles = []string{one}
	} else if json.Unmarshal(v, &roles) != nil {
		return nil, fail(CheckRoles, "the roles claim is not a string or an array of strings")
	}
	if len(roles) > MaxRoles {
		return nil, &ValidationError{Check: CheckRoles, Reason: "too many roles", Want: "<= " + itoa(MaxRoles), Got: itoa(len(roles))}
	}
	for _, r := range roles {
		if len(r) > MaxRoleBytes {
			return nil, &ValidationError{Check: CheckRoles, Reason: "a role is too long", Want: "<= " + itoa(MaxRoleBytes) + " bytes", Got: itoa(len(r)) + " bytes"}
		}
	}
	return roles, nil
}

// amrFrom reads the amr claim: absent or null = none; else a JSON array of
// strings, bounded in count and length.
func amrFrom(v json.RawMessage) ([]string, error) {
	if v == nil || isNull(v) {
		return nil, nil
	}
	var amr []string
	if json.Unmarshal(v, &amr) != nil {
		return nil, fail(CheckMalformed, "claim amr is not an array of strings")
	}
	if len(amr) > MaxAuthMethods {
		return nil, &ValidationError{Check: CheckMalformed, Reason: "claim amr holds too many values", Want: "<= " + itoa(MaxAuthMethods), Got: itoa(len(amr))}
	}
	for _, m := range amr {
		if len(m) > MaxAuthMethodBytes {
			return nil, &ValidationError{Check: CheckMalformed, Reason: "an amr value is too long", Want: "<= " + itoa(MaxAuthMethodBytes) + " bytes", Got: itoa(len(m)) + " bytes"}
		}
	}
	return amr, nil
}

func itoa(n int) string { return strconv.Itoa(n) }

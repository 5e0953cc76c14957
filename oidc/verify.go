package oidc

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"

	"github.com/orgsso/orgsso/internal/text"
)

// maxSubject is the longest sub accepted (OpenID Connect Core 2: "MUST NOT
// exceed 255 ASCII characters").
const maxSubject = 255

// VerifyIDToken verifies a compact ID token and returns its claims. nonce is
// the one issued with the authorization request (AuthRequest.Nonce); it is
// required. The checks, each failing with a *ValidationError naming its
// Check: size; form and header (CheckMalformed); alg in Config.Algorithms
// (CheckAlgorithm); signature by a key of the provider's key set, found by kid
// only, never by the token's jwk, jku, x5u or x5c headers (CheckSignature;
// CheckKeys when the key set cannot be fetched); iss exactly Config.Issuer;
// aud contains Config.ClientID; azp; exp, iat and nbf at Config.Now with
// Config.ClockSkew; nonce (constant time); sub; the roles claim. Signature,
// issuer and audience are go-oidc's IDTokenVerifier; the rest is ours.
//
// An email is returned whether or not it is verified; Claims.VerifiedEmail
// gives it only when email_verified is true.
func (rp *RelyingParty) VerifyIDToken(ctx context.Context, rawIDToken, nonce string) (*Claims, error) {
	if len(rawIDToken) > rp.s.maxToken {
		return nil, &ValidationError{Check: CheckSize, Reason: "ID token larger than the limit",
			Want: "<= " + itoa(rp.s.maxToken) + " bytes", Got: itoa(len(rawIDToken)) + " bytes"}
	}
	if err := rp.checkHeader(rawIDToken); err != nil {
		return nil, err
	}
	if nonce == "" {
		return nil, fail(CheckNonce, "no expected nonce was given")
	}

	var tr trace
	tok, err := rp.verifier.Verify(context.WithValue(ctx, traceKey{}, &tr), rawIDToken)
	if err != nil {
		return nil, rp.classify(&tr, err)
	}
	var raw map[string]json.RawMessage
	if err := tok.Claims(&raw); err != nil {
		return nil, wrapFail(CheckMalformed, "claims are not a JSON object", err)
	}
	c, err := parseClaims(raw, rp.s.RolesClaim, true)
	if err != nil {
		return nil, err
	}
	// What go-oidc verified is what we return: its reading (encoding/json
	// into a struct, case-insensitive names) must agree with ours (exact
	// names) on every field either of us decides on.
	if tok.Issuer != c.Issuer || tok.Subject != c.Subject || tok.Nonce != c.nonce ||
		!slices.Equal(tok.Audience, c.Audience) || !tok.Expiry.Equal(c.Expiry) || !tok.IssuedAt.Equal(c.IssuedAt) {
		return nil, fail(CheckMalformed, "claims are ambiguous (case-variant or duplicate names)")
	}
	if err := rp.checkClaims(c, nonce); err != nil {
		return nil, err
	}
	return c, nil
}

// checkHeader checks the form of the compact JWS and its alg before any key
// is looked at. The header is unverified: only alg is read here; go-jose
// parses it again for the signature.
func (rp *RelyingParty) checkHeader(raw string) error {
	if strings.Count(raw, ".") != 2 {
		return fail(CheckMalformed, "not a compact JWS (three base64url parts)")
	}
	h, _, _ := strings.Cut(raw, ".")
	hb, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		return wrapFail(CheckMalformed, "header is not base64url", err)
	}
	var hdr struct {
		Alg *string `json:"alg"`
	}
	if err := json.Unmarshal(hb, &hdr); err != nil {
		return wrapFail(CheckMalformed, "header is not a JSON object", err)
	}
	if hdr.Alg == nil {
		return fail(CheckAlgorithm, "header has no alg")
	}
	if !rp.s.algSet[*hdr.Alg] {
		return &ValidationError{Check: CheckAlgorithm, Reason: "alg is not in the allow-list",
			Want: strings.Join(rp.s.algs, ","), Got: text.Truncate(*hdr.Alg, 32)}
	}
	return nil
}

// classify names the check a failed go-oidc verification failed. The key set
// records whether it was reached and what it said: not reached = go-jose
// refused the form (the alg was already checked); refused = signature or key
// set; passed = go-oidc refused the issuer, the audience or the claims, which
// the verified payload tells apart.
func (rp *RelyingParty) classify(tr *trace, err error) error {
	switch {
	case !tr.reached:
		return wrapFail(CheckMalformed, "not a valid JWS", err)
	case tr.err != nil:
		if strings.HasPrefix(tr.err.Error(), "fetching keys") {
			return wrapFail(CheckKeys, "the provider's key set could not be fetched", tr.err)
		}
		return wrapFail(CheckSignature, "no key of the provider's key set verifies the signature", tr.err)
	}
	var p struct {
		Iss string          `json:"iss"`
		Aud json.RawMessage `json:"aud"`
	}
	if json.Unmarshal(tr.payload, &p) == nil {
		if p.Iss != rp.s.Issuer {
			return mismatch(CheckIssuer, "iss", rp.s.Issuer, p.Iss)
		}
		aud, ok := audience(p.Aud)
		if p.Aud == nil {
			aud, ok = nil, true
		}
		if ok && !slices.Contains(aud, rp.s.ClientID) {
			return mismatch(CheckAudience, "aud", rp.s.ClientID, strings.Join(aud, ","))
		}
	}
	return wrapFail(CheckMalformed, "claims could not be read", err)
}

// checkClaims runs the checks go-oidc does not, or does with a fixed skew.
func (rp *RelyingParty) checkClaims(c *Claims, nonce string) error {
	// Exact issuer: go-oidc also accepts "accounts.google.com" for Google.
	if c.Issuer != rp.s.Issuer {
		return mismatch(CheckIssuer, "iss", rp.s.Issuer, c.Issuer)
	}
	if len(c.Audience) > 1 && c.azp == nil {
		return &ValidationError{Check: CheckAuthorizedParty, Reason: "several audiences and no azp", Want: rp.s.ClientID}
	}
	if c.azp != nil && *c.azp != rp.s.ClientID {
		return mismatch(CheckAuthorizedParty, "azp", rp.s.ClientID, *c.azp)
	}
	now, skew := rp.s.now(), rp.s.skew
	if c.Expiry.IsZero() {
		return fail(CheckExpiry, "exp is missing")
	}
	if !now.Before(c.Expiry.Add(skew)) {
		return &ValidationError{Check: CheckExpiry, Reason: "expired", Want: "after " + stamp(now.Add(-skew)), Got: stamp(c.Expiry)}
	}
	if c.IssuedAt.IsZero() {
		return fail(CheckIssuedAt, "iat is missing")
	}
	if c.IssuedAt.After(now.Add(skew)) {
		return &ValidationError{Check: CheckIssuedAt, Reason: "issued in the future", Want: "at or before " + stamp(now.Add(skew)), Got: stamp(c.IssuedAt)}
	}
	if max := rp.s.MaxTokenAge; max > 0 && now.Sub(c.IssuedAt) > max+skew {
		return &ValidationError{Check: CheckIssuedAt, Reason: "issued too long ago", Want: "after " + stamp(now.Add(-max-skew)), Got: stamp(c.IssuedAt)}
	}
	if !c.notBefore.IsZero() && c.notBefore.After(now.Add(skew)) {
		return &ValidationError{Check: CheckNotBefore, Reason: "not yet valid", Want: "at or before " + stamp(now.Add(skew)), Got: stamp(c.notBefore)}
	}
	if c.nonce == "" {
		return fail(CheckNonce, "nonce is missing")
	}
	if subtle.ConstantTimeCompare([]byte(c.nonce), []byte(nonce)) != 1 {
		return fail(CheckNonce, "nonce is not the one issued")
	}
	if c.Subject == "" {
		return fail(CheckSubject, "sub is missing")
	}
	if len(c.Subject) > maxSubject {
		return &ValidationError{Check: CheckSubject, Reason: "sub is too long", Want: "<= 255 bytes", Got: itoa(len(c.Subject)) + " bytes"}
	}
	return nil
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// traceKey carries a *trace through go-oidc to tracingKeySet.
type traceKey struct{}

// trace records what the key set said about one verification.
type trace struct {
	reached bool
	err     error
	payload []byte
}

// tracingKeySet is go-oidc's RemoteKeySet, recording its answer in the
// verification's trace so a failure can be named.
type tracingKeySet struct{ inner gooidc.KeySet }

// VerifySignature implements gooidc.KeySet.
func (k tracingKeySet) VerifySignature(ctx context.Context, jwt string) ([]byte, error) {
	payload, err := k.inner.VerifySignature(ctx, jwt)
	if tr, ok := ctx.Value(traceKey{}).(*trace); ok {
		tr.reached, tr.err, tr.payload = true, err, payload
	}
	return payload, err
}

var _ gooidc.KeySet = tracingKeySet{}

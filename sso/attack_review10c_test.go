package sso_test

import (
	"context"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgsso/orgsso/saml"
	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/sso/ssotest"
	"github.com/orgsso/orgsso/tests/faultstore"
)

// Attacker review, round 10c: the store-call wrapper on the replay and
// binding checks, the 512-byte key bounds, the plain metadata and SSO-name
// errors with rune-safe truncation, the Test SSO failure report and New's
// BaseURL checks.

// ar10cMaxErr is how long an error built from untrusted text may be: the
// longest quoted value (a few hundred bytes) plus the fixed sentences.
const ar10cMaxErr = 2048

// ar10cMetadata is IdP metadata with the okta fixture's signing certificate
// and one HTTP-Redirect SingleSignOnService at location.
func ar10cMetadata(t *testing.T, entityID, location string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "testdata", "idpmetadata", "okta.pem"))
	require.NoError(t, err)
	block, _ := pem.Decode(raw)
	require.NotNil(t, block)
	return []byte(`<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="` + entityID + `">` +
		`<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">` +
		`<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>` +
		base64.StdEncoding.EncodeToString(block.Bytes) +
		`</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>` +
		`<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="` + location + `"/>` +
		`</md:IDPSSODescriptor></md:EntityDescriptor>`)
}

// TestAttackReview10cMetadataURLErrorUnbounded (FOUND, fixed): a SingleSignOnService
// Location that net/url refuses is wrapped as ConfigError.Err, and a
// *url.Error quotes the whole URL: ParseIdPMetadata's error (Error(), what a
// host logs) then carries up to MaxIdPMetadataSize (1 MiB) of the
// metadata's text, although every other metadata error quotes at most
// mdCut(…, 200). Metadata is often fetched from a URL the organization's
// admin gives, i.e. text an attacker who controls one organization chooses.
//
// Suggested fix (idpmetadata.go, mdSSOURL): do not wrap the *url.Error;
// quote the location cut short, as the "not an absolute http(s) URL" branch
// does:
//
//	return "", configErr(mdField, "SingleSignOnService Location %q is not a URL", mdCut(loc, 200))
//
// (or wrap only errors.Unwrap of the *url.Error, whose texts are short).
func TestAttackReview10cMetadataURLErrorUnbounded(t *testing.T) {
	for _, loc := range []string{
		"https://idp.example.com/%zz" + strings.Repeat("a", 300_000),
		"https://idp example.com/" + strings.Repeat("b", 300_000),
		"https://idp.example.com:x" + strings.Repeat("1", 300_000),
	} {
		_, err := sso.ParseIdPMetadata(ar10cMetadata(t, "https://idp.example.com/saml", loc))
		require.ErrorIs(t, err, sso.ErrInvalidConfig)
		var ce *sso.ConfigError
		require.ErrorAs(t, err, &ce)
		assert.NotContains(t, ce.Message, "aaaa", "the plain sentence is fixed")
		assert.LessOrEqual(t, len(err.Error()), ar10cMaxErr,
			"ParseIdPMetadata's error quotes the whole SingleSignOnService Location (%d bytes): %.160s…", len(err.Error()), err.Error())
	}
}

// TestAttackReview10cMetadataCutHeld: a long entityID of multi-byte runes,
// of invalid UTF-8 escaped as character references, and of U+FFFD is
// quoted cut on a rune boundary: the error is valid UTF-8, bounded, and the
// plain sentence is the fixed one.
func TestAttackReview10cMetadataCutHeld(t *testing.T) {
	for _, id := range []string{
		"a" + strings.Repeat("é", 5000),
		"ab" + strings.Repeat("😀", 5000),
		strings.Repeat("&#xFFFD;", 5000),
		strings.Repeat("\u2028\u202e", 3000),
	} {
		// An EntityDescriptor without IDPSSODescriptor quotes its entityID.
		doc := []byte(`<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="` + id + `"><SPSSODescriptor/></EntityDescriptor>`)
		_, err := sso.ParseIdPMetadata(doc)
		require.ErrorIs(t, err, sso.ErrInvalidConfig)
		msg := err.Error()
		assert.True(t, utf8.ValidString(msg), "error cut mid-rune: %q", msg)
		assert.LessOrEqual(t, len(msg), ar10cMaxErr)
		assert.NotContains(t, msg, "\u2028", "quoted with %%q: line separators escaped")
		var ce *sso.ConfigError
		require.ErrorAs(t, err, &ce)
		assert.True(t, strings.HasPrefix(ce.Message, "This is not IdP metadata orgsso can use"))
	}
}

// TestAttackReview10cSSONameErrorsHeld: SSO names of every shape, invalid
// UTF-8 included, never panic, and their errors are valid UTF-8 (quoted),
// bounded, with a fixed plain sentence; a lookup by such a name (the
// login and ACS URLs) does not repeat it.
func TestAttackReview10cSSONameErrorsHeld(t *testing.T) {
	names := []string{
		strings.Repeat("\x80", 10_000),        // continuation bytes only: the cut walks back to 0
		"ab" + strings.Repeat("\xf0\x9f", 90), // truncated 4-byte leads
		strings.Repeat("é", 100),              // cut mid-rune at 126
		"a" + strings.Repeat("😀", 40),         // 4-byte runes around the cut
		"\xff" + strings.Repeat("a", 62),      // invalid first byte, right length
		"ab\xc3",                              // lead byte at the end
		strings.Repeat("a", 1<<20),
	}
	for i, name := range names {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			err := sso.ValidateSSOName(name)
			require.Error(t, err)
			msg := err.Error()
			assert.True(t, utf8.ValidString(msg), "%q", msg)
			assert.LessOrEqual(t, len(msg), 1024) // 126 bytes, each at most 4 once quoted
			var ce *sso.ConfigError
			require.ErrorAs(t, err, &ce)
			assert.NotEmpty(t, ce.Message)
			assert.True(t, utf8.ValidString(ce.Message))

			e := newEnv(t, nil)
			_, err = e.svc.StartLogin(context.Background(), name, "/")
			require.ErrorIs(t, err, sso.ErrUnknownOrganization)
			assert.NotContains(t, err.Error(), name[:2])
		})
	}
}

// TestAttackReview10cStoreFaultsKeepNo: whatever way UseAssertion or
// ConsumeMatchingRequest fails (error before, lost acknowledgement after
// commit, cancelled, timed out, nil and no error), the sign-in fails with
// ErrUnavailable and no session; reposting the same response afterwards
// signs in at most once in all.
func TestAttackReview10cStoreFaultsKeepNo(t *testing.T) {
	for _, m := range []faultstore.Method{faultstore.MethodUseAssertion, faultstore.MethodConsumeMatchingRequest} {
		for _, mode := range faultstore.Modes() {
			if !faultstore.Applies(m, mode) {
				continue
			}
			t.Run(fmt.Sprintf("%s/%s", m, mode), func(t *testing.T) {
				e := newFaultEnv(t)
				id, relay := e.start(t, "/")
				posted, err := e.idp.Response(e.resp(id, alice, nil))
				require.NoError(t, err)
				e.fail(faultstore.Fault{Method: m, N: 1, Mode: mode})
				res, err := e.post(t, posted, relay)
				require.Nil(t, res)
				requireUnavailable(t, err, string(m))
				e.fs.Clear()
				ok := 0
				for range 3 {
					if res, err := e.post(t, posted, relay); err == nil {
						require.NotNil(t, res)
						ok++
					}
				}
				assert.LessOrEqual(t, ok, 1, "one response signed in more than once")
				if mode == faultstore.LostAck && m == faultstore.MethodUseAssertion {
					assert.Zero(t, ok, "the assertion was recorded: every repost is a replay")
				}
			})
		}
	}
}

// TestAttackReview10cStoreFaultAnswersKeepNo: a store that answers
// UseAssertion or ConsumeMatchingRequest with one of the port's answers
// (ErrNotFound, ErrConflict, ErrInvalidArgument) in place of nil is passed
// through as that answer, never read as a success.
func TestAttackReview10cStoreFaultAnswersKeepNo(t *testing.T) {
	for _, m := range []faultstore.Method{faultstore.MethodUseAssertion, faultstore.MethodConsumeMatchingRequest} {
		for _, answer := range []error{sso.ErrNotFound, sso.ErrConflict, session.ErrInvalidArgument, sso.ErrUnavailable} {
			t.Run(fmt.Sprintf("%s/%v", m, answer), func(t *testing.T) {
				e := newFaultEnv(t)
				id, relay := e.start(t, "/")
				posted, err := e.idp.Response(e.resp(id, alice, nil))
				require.NoError(t, err)
				e.fail(faultstore.Fault{Method: m, N: 1, Mode: faultstore.FailBefore, Err: answer})
				res, err := e.post(t, posted, relay)
				assert.Nil(t, res)
				assert.Error(t, err)
			})
		}
	}
}

// TestAttackReview10cOversizedKeysHeld: a signed response whose assertion ID
// or InResponseTo is longer than MaxKeyBytes never reaches the store's
// UseAssertion or ConsumeMatchingRequest; a return path over
// MaxReturnToBytes is stored as "/".
func TestAttackReview10cOversizedKeysHeld(t *testing.T) {
	long := "_" + strings.Repeat("a", sso.MaxKeyBytes)

	t.Run("assertion ID", func(t *testing.T) {
		e := newFaultEnv(t)
		id, relay := e.start(t, "/")
		posted, err := e.idp.Response(e.resp(id, alice, func(r *ssotest.Response) { r.AssertionID = long }))
		require.NoError(t, err)
		e.fs.Reset()
		res, err := e.post(t, posted, relay)
		assert.Nil(t, res)
		require.ErrorIs(t, err, saml.CheckSchema)
		assert.Zero(t, e.fs.Calls(faultstore.MethodUseAssertion))
		assert.LessOrEqual(t, len(err.Error()), ar10cMaxErr)
	})

	t.Run("InResponseTo", func(t *testing.T) {
		e := newFaultEnv(t)
		_, relay := e.start(t, "/")
		posted, err := e.idp.Response(e.resp(long, alice, nil))
		require.NoError(t, err)
		// Every binding cookie slot, so the request ID's slot is present.
		var cookies []*http.Cookie
		for i := range sso.BindingCookieSlots {
			cookies = append(cookies, &http.Cookie{Name: "__Host-" + sso.BindingCookiePrefix + strconv.Itoa(i), Value: "x"})
		}
		e.fs.Reset()
		res, err := e.postWith(t, posted, relay, cookies...)
		assert.Nil(t, res)
		require.ErrorIs(t, err, saml.CheckInResponseTo)
		assert.Zero(t, e.fs.Calls(faultstore.MethodConsumeMatchingRequest))
		assert.Zero(t, e.fs.Calls(faultstore.MethodConsumeRequest))
		assert.LessOrEqual(t, len(err.Error()), ar10cMaxErr)
	})

	t.Run("return path", func(t *testing.T) {
		assert.Equal(t, "/", sso.SafeReturnTo("/"+strings.Repeat("a", sso.MaxReturnToBytes)))
		p := "/" + strings.Repeat("a", sso.MaxReturnToBytes-1)
		assert.Equal(t, p, sso.SafeReturnTo(p))
		// Multi-byte and invalid UTF-8 at the bound: bytes are counted.
		assert.Equal(t, "/", sso.SafeReturnTo("/"+strings.Repeat("é", sso.MaxReturnToBytes/2)))
	})
}

// TestAttackReview10cFailureReportHeld: ReportFailure and DescribeCheck
// give fixed sentences only: an error carrying attacker text (Got, Reason,
// a wrapped cause, a store error) never reaches the report, and every check
// has a problem and a fix. IsTestResponse is false before HandleACS parsed
// the form and for any other RelayState.
func TestAttackReview10cFailureReportHeld(t *testing.T) {
	evil := "<script>alert(1)</script>\u202e"
	errs := []error{
		&saml.ValidationError{Check: saml.CheckIssuer, Reason: evil, Want: evil, Got: evil, Err: errors.New(evil)},
		&saml.ValidationError{Check: saml.Check(evil), Reason: evil},
		&sso.StoreError{Op: evil, Err: errors.New(evil)},
		&sso.ConfigError{Field: evil, Reason: evil, Message: evil},
		errors.New(evil),
		fmt.Errorf("%s: %w", evil, sso.ErrReplay),
	}
	for _, err := range errs {
		rep := sso.ReportFailure(err)
		require.NotNil(t, rep)
		assert.NotContains(t, rep.Problem+rep.Fix, "script", "%v", err)
		assert.NotEmpty(t, rep.Fix)
	}
	for _, c := range []saml.Check{saml.CheckSize, saml.CheckEncoding, saml.CheckXML, saml.CheckSchema, saml.CheckStatus,
		saml.CheckAssertionCount, saml.CheckDecryption, saml.CheckAlgorithm, saml.CheckSignature, saml.CheckCertificate,
		saml.CheckIssuer, saml.CheckDestination, saml.CheckRecipient, saml.CheckAudience, saml.CheckNotYetValid,
		saml.CheckExpired, saml.CheckInResponseTo, saml.CheckSubject, saml.CheckUnsolicited, saml.CheckBinding, saml.CheckIdentity} {
		p, f := sso.DescribeCheck(c)
		assert.NotEmpty(t, p, c)
		assert.NotEmpty(t, f, c)
	}
	assert.Nil(t, sso.ReportFailure(nil))

	assert.False(t, sso.IsTestResponse(nil))
	r := httptest.NewRequest(http.MethodPost, "/sso/acme/acs", strings.NewReader(url.Values{"RelayState": {"orgsso-test"}}.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	assert.False(t, sso.IsTestResponse(r), "not parsed yet: IsTestResponse never reads the body")
	r = httptest.NewRequest(http.MethodPost, "/sso/acme/acs?RelayState=orgsso-test", nil)
	require.NoError(t, r.ParseForm())
	assert.False(t, sso.IsTestResponse(r), "a RelayState in the query string is not the posted one")
}

// TestAttackReview10cBaseURLHeld: New refuses a BaseURL with credentials,
// a query or fragment, empty ones included, and one without a host; an
// accepted one yields ACS URLs under its own host.
func TestAttackReview10cBaseURLHeld(t *testing.T) {
	e := newEnv(t, nil)
	refused := []string{
		"", "/", "https://", "https:///sso", "https:app.example.com", "//app.example.com",
		"https://user@app.example.com", "https://:@app.example.com", "https://app.example.com%2f@evil",
		"https://app.example.com?", "https://app.example.com/?", "https://app.example.com#", "https://app.example.com/#",
		"https://app.example.com/?#", "https://app.example.com/a?b=c", "https://app.example.com/#x",
		"https://app.example.com\\.evil.com", "ftp://app.example.com", "javascript://app.example.com/%0aalert(1)?",
		"https://app.example.com/\t", "https://app.example.com/\n",
	}
	for _, b := range refused {
		_, err := sso.New(sso.Config{BaseURL: b, Store: e.store, Sessions: e.sessions})
		assert.ErrorIs(t, err, sso.ErrInvalidConfig, "%q", b)
	}
	for _, b := range []string{"https://app.example.com", "https://app.example.com/", "https://app.example.com/base//", "http://127.0.0.1:8080"} {
		svc, err := sso.New(sso.Config{BaseURL: b, Store: e.store, Sessions: e.sessions})
		require.NoError(t, err, b)
		sp := svc.Details(e.org)
		u, err := url.Parse(sp.ACSURL)
		require.NoError(t, err)
		want, _ := url.Parse(b)
		assert.Equal(t, want.Host, u.Host, "%q", sp.ACSURL)
		assert.True(t, strings.HasSuffix(sp.ACSURL, "/sso/"+e.org.SSOName+"/acs"), sp.ACSURL)
		assert.NotContains(t, sp.ACSURL, "//sso")
	}
}

// TestAttackReview10cCertificatePEMTypeUnbounded (FOUND, low, fixed; certificate.go,
// outside this round's files but the same class): an IdP certificate whose
// PEM block type is not CERTIFICATE is refused with the type quoted whole,
// so an organization admin's (or a fetched metadata converter's) text of
// any length reaches the error a host logs and shows.
//
// Suggested fix (certificate.go, parseCertificatePEM): quote
// truncate(block.Type, 64).
func TestAttackReview10cCertificatePEMTypeUnbounded(t *testing.T) {
	// Within MaxCertificateBytes, so Organization.ValidateAt (what
	// CreateOrganization and UpdateOrganization run) gets to parse it;
	// IdPConfig.ValidateAt alone has no size bound at all.
	typ := strings.Repeat("X", 8000)
	p := "-----BEGIN " + typ + "-----\nAAAA\n-----END " + typ + "-----\n"
	require.LessOrEqual(t, len(p), sso.MaxCertificateBytes)
	e := newEnv(t, nil)
	org := *e.org
	org.IdP.Certificates = []string{p}
	err := org.ValidateAt(testNow)
	require.ErrorIs(t, err, sso.ErrInvalidConfig)
	assert.LessOrEqual(t, len(err.Error()), ar10cMaxErr, "the PEM type is quoted whole (%d bytes)", len(err.Error()))
}

package ssotest

import (
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/beevik/etree"

	"github.com/orgsso/orgsso/internal/safexml"
	"github.com/orgsso/orgsso/sso"
)

// AuthnContextClassRef values for Response.AuthnContextClassRef.
const (
	// AuthnClassPassword: a password over a protected transport (the
	// default).
	AuthnClassPassword = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
	// AuthnClassMobileTwoFactor: a mobile device as the second factor
	// (SAML 2.0 authentication context MobileTwoFactorContract).
	AuthnClassMobileTwoFactor = "urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract"
	// AuthnClassREFEDSMFA: the REFEDS multi-factor authentication profile.
	AuthnClassREFEDSMFA = "https://refeds.org/profile/mfa"
)

// Top-level SAML status codes for Response.StatusCode.
const (
	StatusSuccess         = "urn:oasis:names:tc:SAML:2.0:status:Success"
	StatusRequester       = "urn:oasis:names:tc:SAML:2.0:status:Requester"
	StatusResponder       = "urn:oasis:names:tc:SAML:2.0:status:Responder"
	StatusVersionMismatch = "urn:oasis:names:tc:SAML:2.0:status:VersionMismatch"
)

// Default validity windows of a response, around its IssueInstant.
const (
	DefaultNotBeforeSkew = 5 * time.Minute // Conditions NotBefore = IssueInstant - 5m
	DefaultLifetime      = 5 * time.Minute // NotOnOrAfter = IssueInstant + 5m
)

// The attribute names the IdP sends by default: the ones orgsso asks for.
const (
	AttrEmail     = sso.AttrEmail
	AttrFirstName = sso.AttrFirstName
	AttrLastName  = sso.AttrLastName
	AttrRoles     = sso.AttrRoles
)

// User is the subject of a response.
type User struct {
	// NameID is the subject's NameID. "" = Email.
	NameID string
	// Email, FirstName and LastName are sent as the attributes email,
	// first_name and last_name; an empty one is not sent.
	Email, FirstName, LastName string
	// Roles are sent as the multi-valued attribute roles; none = not sent.
	Roles []string
	// Attributes are sent in addition, after the ones above (sorted by name).
	// An entry named like one above (email, first_name, last_name, roles)
	// replaces it; an entry with no values is sent with no AttributeValue.
	Attributes map[string][]string
}

// SignMode says which elements of a response carry an enveloped signature.
type SignMode int

// The sign modes. The zero value, SignAssertion, is what most IdPs do.
const (
	SignAssertion SignMode = iota // the Assertion only
	SignResponse                  // the Response only (it covers the assertion)
	SignBoth                      // the Assertion, then the Response
	SignNone                      // nothing: an unsigned response
)

// String returns the name of the mode.
func (m SignMode) String() string {
	switch m {
	case SignAssertion:
		return "SignAssertion"
	case SignResponse:
		return "SignResponse"
	case SignBoth:
		return "SignBoth"
	case SignNone:
		return "SignNone"
	}
	return fmt.Sprintf("SignMode(%d)", int(m))
}

func (m SignMode) signsAssertion() bool { return m == SignAssertion || m == SignBoth }
func (m SignMode) signsResponse() bool  { return m == SignResponse || m == SignBoth }

// Response describes one SAML response. With only SP and User set it is a
// valid IdP-initiated response; set InResponseTo to answer an AuthnRequest.
// Every other field is a knob that changes (usually breaks) exactly one thing;
// "", nil and zero mean the valid default.
//
// The response is a samlp:Response with one saml:Assertion: Issuer (format
// entity), a bearer SubjectConfirmation, Conditions with an
// AudienceRestriction, an AuthnStatement (PasswordProtectedTransport) and an
// AttributeStatement, signed with RSA-SHA256, SHA-256 digests and exclusive
// C14N, ds:Signature right after the saml:Issuer, KeyInfo carrying the
// certificate — the shape Okta produces.
type Response struct {
	// SP is the service provider the response is for: SP.EntityID is the
	// Audience, SP.ACSURL the Destination and Recipient, SP.NameIDFormat (if
	// set) the NameID format.
	SP sso.SPDetails
	// InResponseTo is the ID of the AuthnRequest answered, on the Response and
	// on SubjectConfirmationData. "" = IdP-initiated (the attribute is omitted).
	InResponseTo string
	// User is the subject and its attributes.
	User User

	// Sign chooses what is signed. Default SignAssertion.
	Sign SignMode
	// SignatureMethod is the XML-DSig signature algorithm URI, an RSA one
	// (saml.AlgRSASHA1, saml.AlgRSASHA256, …). "" = saml.AlgRSASHA256.
	SignatureMethod string
	// DigestMethod is the XML-DSig digest algorithm URI of the references
	// (saml.DigestSHA1, saml.DigestSHA256, …), independent of SignatureMethod.
	// "" = saml.DigestSHA256.
	DigestMethod string
	// SigningKey signs instead of the IdP key (an attacker's key, a rotated
	// key). It must be RSA. Its certificate is SigningCert.
	SigningKey crypto.Signer
	// SigningCert is the certificate put in KeyInfo. nil = the IdP certificate
	// when SigningKey is nil; with SigningKey set, SigningCert is required
	// unless OmitKeyInfo. SigningCert alone (no SigningKey) signs with the IdP
	// key but names another certificate.
	SigningCert *x509.Certificate
	// OmitKeyInfo leaves KeyInfo out of the signatures.
	OmitKeyInfo bool

	// Issuer is the Response's Issuer. "" = the IdP entity ID.
	Issuer string
	// AssertionIssuer is the Assertion's Issuer. "" = the IdP entity ID.
	AssertionIssuer string
	// Audience is the AudienceRestriction's Audience. "" = SP.EntityID.
	Audience string
	// Destination is the Response's Destination. "" = SP.ACSURL.
	Destination string
	// Recipient is SubjectConfirmationData's Recipient. "" = SP.ACSURL.
	Recipient string
	// NameIDFormat is the NameID Format. "" = SP.NameIDFormat, or
	// saml.NameIDFormatEmail when that is empty too.
	NameIDFormat string
	// SubjectConfirmationMethod is the SubjectConfirmation Method.
	// "" = urn:oasis:names:tc:SAML:2.0:cm:bearer.
	SubjectConfirmationMethod string

	// The Omit knobs leave an element or attribute out. SAML makes the
	// Response's Issuer optional, and its Destination too unless the Response
	// itself is signed; the rest is required.
	OmitIssuer              bool // the Response's Issuer (the Assertion keeps its own)
	OmitDestination         bool // the Response's Destination attribute
	OmitRecipient           bool // the SubjectConfirmationData Recipient attribute
	OmitAudience            bool // the whole AudienceRestriction
	OmitSubjectConfirmation bool // the whole SubjectConfirmation
	OmitNameID              bool // the NameID (the Subject keeps its confirmation)

	// IssueInstant stamps the Response, the Assertion and the AuthnStatement.
	// Zero = the IdP's Now().
	IssueInstant time.Time
	// NotBefore and NotOnOrAfter bound the Conditions. Zero = IssueInstant
	// minus DefaultNotBeforeSkew, and IssueInstant plus DefaultLifetime.
	NotBefore, NotOnOrAfter time.Time
	// SubjectNotOnOrAfter is SubjectConfirmationData's NotOnOrAfter.
	// Zero = IssueInstant plus DefaultLifetime.
	SubjectNotOnOrAfter time.Time
	// StatusCode is the top-level status code. "" = StatusSuccess. The
	// assertion is included whatever the status.
	StatusCode string
	// AssertionID and ResponseID are the IDs. "" = "_" and 32 random hex
	// digits from the IdP's Rand.
	AssertionID, ResponseID string
	// SessionIndex is the AuthnStatement's SessionIndex. "" = the assertion ID.
	SessionIndex string
	// AuthnContextClassRef is the AuthnStatement's AuthnContextClassRef:
	// how the IdP says the user authenticated. "" =
	// urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport (a
	// password, no second factor); AuthnClassMFA and the like assert
	// multi-factor authentication.
	AuthnContextClassRef string

	// EncryptFor, when set, encrypts the (signed) assertion for the holder of
	// this certificate's RSA key: an EncryptedAssertion whose EncryptedData
	// carries, in its KeyInfo, an EncryptedKey (KeyTransport, with the
	// certificate in its own KeyInfo). The Response signature, if any, covers
	// the EncryptedAssertion.
	EncryptFor *x509.Certificate
	// EncryptionMethod is the data encryption algorithm URI, one of the
	// Encryption* constants, of the assertion and of the NameID. "" =
	// EncryptionAES256GCM.
	EncryptionMethod string
	// KeyTransport is the key transport algorithm URI of the EncryptedKey,
	// one of the KeyTransport* constants. "" = KeyTransportRSAOAEPMGF1P.
	KeyTransport string
	// EncryptNameIDFor, when set, replaces the NameID by a saml:EncryptedID
	// of it for the holder of this certificate's RSA key (same structure,
	// EncryptionMethod and KeyTransport as EncryptFor), before the assertion
	// is signed.
	EncryptNameIDFor *x509.Certificate

	// BeforeSign, if set, may change the document before anything is signed
	// or encrypted (add a second assertion, drop an element). The assertion to
	// sign is found again by its ID afterwards.
	BeforeSign func(doc *etree.Document)
	// BeforeEncrypt, if set with EncryptFor, may change the assertion after it
	// is signed and before it is encrypted (what only the SP key can reveal).
	BeforeEncrypt func(assertion *etree.Element)
	// AfterSign, if set, may change the document after signing and encryption
	// (tampering, signature wrapping).
	AfterSign func(doc *etree.Document)
}

// Response builds the response described by r and returns it as posted to an
// ACS URL: the XML document in standard base64, without line breaks.
func (idp *IdP) Response(r Response) (string, error) {
	doc, err := idp.BuildResponse(r)
	if err != nil {
		return "", err
	}
	b, err := doc.WriteToBytes()
	if err != nil {
		return "", fmt.Errorf("ssotest: serialize response: %w", err)
	}
	return base64.StdEncoding.EncodeToString(b), nil
}

// BuildResponse builds the response described by r, signed and (with
// EncryptFor) encrypted as asked. Errors from an invalid r wrap
// sso.ErrInvalidConfig (as *sso.ConfigError, Field naming the Response field).
func (idp *IdP) BuildResponse(r Response) (*etree.Document, error) {
	p, err := idp.plan(r)
	if err != nil {
		return nil, err
	}
	doc := p.document()
	if r.BeforeSign != nil {
		r.BeforeSign(doc)
	}
	root := doc.Root()
	if root == nil {
		return nil, respErr("BeforeSign", "left the document without a root element")
	}
	if p.sign.signsAssertion() || r.EncryptFor != nil || r.EncryptNameIDFor != nil {
		assertion := findAssertion(root, p.assertionID)
		if assertion == nil {
			return nil, respErr("BeforeSign", "removed the assertion "+p.assertionID)
		}
		if r.EncryptNameIDFor != nil {
			if nameID := assertion.FindElement("./Subject/NameID"); nameID != nil {
				if err := idp.encrypt(nameID, r.EncryptNameIDFor, p.encryptionMethod, p.keyTransport, "saml:EncryptedID"); err != nil {
					return nil, fmt.Errorf("ssotest: encrypt NameID: %w", err)
				}
			}
		}
		if p.sign.signsAssertion() {
			if err := p.signer.sign(assertion); err != nil {
				return nil, fmt.Errorf("ssotest: sign assertion: %w", err)
			}
		}
		if r.EncryptFor != nil {
			if r.BeforeEncrypt != nil {
				r.BeforeEncrypt(assertion)
			}
			if err := idp.encrypt(assertion, r.EncryptFor, p.encryptionMethod, p.keyTransport, "saml:EncryptedAssertion"); err != nil {
				return nil, fmt.Errorf("ssotest: encrypt assertion: %w", err)
			}
		}
	}
	if p.sign.signsResponse() {
		if err := p.signer.sign(root); err != nil {
			return nil, fmt.Errorf("ssotest: sign response: %w", err)
		}
	}
	if r.AfterSign != nil {
		r.AfterSign(doc)
	}
	return doc, nil
}

// findAssertion returns the child saml:Assertion of root whose ID is id.
func findAssertion(root *etree.Element, id string) *etree.Element {
	for _, c := range root.ChildElements() {
		if c.Tag == "Assertion" && c.NamespaceURI() == nsAssertion && safexml.AttrValue(c, "ID") == id {
			return c
		}
	}
	return nil
}

func respErr(field, reason string) *sso.ConfigError {
	return &sso.ConfigError{Field: "Response." + field, Reason: reason}
}

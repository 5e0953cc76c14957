package ssotest

import (
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"sort"
	"time"

	"github.com/beevik/etree"

	"github.com/orgsso/orgsso/saml"
)

// plan is a Response with every default filled in and every choice checked.
type plan struct {
	r                       Response
	sign                    SignMode
	signer                  *signer
	issuer, assertionIssuer string
	audience                string
	destination, recipient  string
	nameID, nameIDFormat    string
	confirmationMethod      string
	issueInstant            time.Time
	notBefore, notOnOrAfter time.Time
	subjectNotOnOrAfter     time.Time
	status                  string
	responseID, assertionID string
	sessionIndex            string
	encryptionMethod        string
	keyTransport            string
	attributeNames          []string
	attributeValues         map[string][]string
}

func (idp *IdP) plan(r Response) (*plan, error) {
	p := &plan{r: r, sign: r.Sign}
	if r.Sign < SignAssertion || r.Sign > SignNone {
		return nil, respErr("Sign", "unknown sign mode "+r.Sign.String())
	}
	if r.Sign != SignNone {
		s, err := idp.newSigner(r)
		if err != nil {
			return nil, err
		}
		p.signer = s
	}

	p.issuer = or(r.Issuer, idp.entityID)
	p.assertionIssuer = or(r.AssertionIssuer, idp.entityID)
	p.audience = or(r.Audience, r.SP.EntityID)
	if p.audience == "" && !r.OmitAudience {
		return nil, respErr("SP.EntityID", "is empty (set it, Audience or OmitAudience)")
	}
	p.destination = or(r.Destination, r.SP.ACSURL)
	if p.destination == "" && !r.OmitDestination {
		return nil, respErr("SP.ACSURL", "is empty (set it, Destination or OmitDestination)")
	}
	p.recipient = or(r.Recipient, r.SP.ACSURL)
	if p.recipient == "" && !r.OmitRecipient && !r.OmitSubjectConfirmation {
		return nil, respErr("SP.ACSURL", "is empty (set it, Recipient or OmitRecipient)")
	}
	p.nameID = or(r.User.NameID, r.User.Email)
	if p.nameID == "" && !r.OmitNameID {
		return nil, respErr("User", "has neither NameID nor Email (set one, or OmitNameID)")
	}
	p.nameIDFormat = or(r.NameIDFormat, or(r.SP.NameIDFormat, saml.NameIDFormatEmail))
	p.confirmationMethod = or(r.SubjectConfirmationMethod, cmBearer)

	p.issueInstant = r.IssueInstant
	if p.issueInstant.IsZero() {
		p.issueInstant = idp.now()
	}
	p.notBefore = orTime(r.NotBefore, p.issueInstant.Add(-DefaultNotBeforeSkew))
	p.notOnOrAfter = orTime(r.NotOnOrAfter, p.issueInstant.Add(DefaultLifetime))
	p.subjectNotOnOrAfter = orTime(r.SubjectNotOnOrAfter, p.issueInstant.Add(DefaultLifetime))
	p.status = or(r.StatusCode, StatusSuccess)

	for field, c := range map[string]*x509.Certificate{"EncryptFor": r.EncryptFor, "EncryptNameIDFor": r.EncryptNameIDFor} {
		if c == nil {
			continue
		}
		if _, ok := c.PublicKey.(*rsa.PublicKey); !ok {
			return nil, respErr(field, "certificate key is not RSA")
		}
		p.encryptionMethod = or(r.EncryptionMethod, EncryptionAES256GCM)
		if _, ok := dataCiphers[p.encryptionMethod]; !ok {
			return nil, respErr("EncryptionMethod", fmt.Sprintf("unsupported algorithm %q", p.encryptionMethod))
		}
		p.keyTransport = or(r.KeyTransport, KeyTransportRSAOAEPMGF1P)
		if !keyTransports[p.keyTransport] {
			return nil, respErr("KeyTransport", fmt.Sprintf("unsupported algorithm %q", p.keyTransport))
		}
	}

	var err error
	if p.responseID = r.ResponseID; p.responseID == "" {
		if p.responseID, err = idp.newID(); err != nil {
			return nil, fmt.Errorf("ssotest: read randomness: %w", err)
		}
	}
	if p.assertionID = r.AssertionID; p.assertionID == "" {
		if p.assertionID, err = idp.newID(); err != nil {
			return nil, fmt.Errorf("ssotest: read randomness: %w", err)
		}
	}
	p.sessionIndex = or(r.SessionIndex, p.assertionID)
	p.attributeNames, p.attributeValues = attributes(r.User)
	return p, nil
}

// attributes lists the user's attributes in the order they are sent.
func attributes(u User) ([]string, map[string][]string) {
	vals := map[string][]string{}
	var names []string
	add := func(name string, v []string) {
		if _, ok := vals[name]; !ok {
			names = append(names, name)
		}
		vals[name] = v
	}
	for _, a := range []struct{ name, value string }{
		{AttrEmail, u.Email}, {AttrFirstName, u.FirstName}, {AttrLastName, u.LastName},
	} {
		if a.value != "" {
			add(a.name, []string{a.value})
		}
	}
	if len(u.Roles) > 0 {
		add(AttrRoles, u.Roles)
	}
	extra := make([]string, 0, len(u.Attributes))
	for name := range u.Attributes {
		extra = append(extra, name)
	}
	sort.Strings(extra)
	for _, name := range extra {
		add(name, u.Attributes[name])
	}
	return names, vals
}

// document builds the unsigned response.
func (p *plan) document() *etree.Document {
	r := p.r
	doc := etree.NewDocument()
	doc.CreateProcInst("xml", `version="1.0" encoding="UTF-8"`)

	resp := doc.CreateElement("samlp:Response")
	resp.CreateAttr("xmlns:samlp", nsProtocol)
	resp.CreateAttr("xmlns:saml", nsAssertion)
	resp.CreateAttr("ID", p.responseID)
	resp.CreateAttr("Version", "2.0")
	resp.CreateAttr("IssueInstant", samlTime(p.issueInstant))
	if !r.OmitDestination {
		resp.CreateAttr("Destination", p.destination)
	}
	if r.InResponseTo != "" {
		resp.CreateAttr("InResponseTo", r.InResponseTo)
	}
	if !r.OmitIssuer {
		issuer(resp, p.issuer)
	}
	resp.CreateElement("samlp:Status").CreateElement("samlp:StatusCode").CreateAttr("Value", p.status)

	a := resp.CreateElement("saml:Assertion")
	// The assertion declares its namespaces itself so it stands alone when
	// signed (exclusive C14N) or encrypted.
	a.CreateAttr("xmlns:saml", nsAssertion)
	a.CreateAttr("xmlns:xs", nsXS)
	a.CreateAttr("xmlns:xsi", nsXSI)
	a.CreateAttr("ID", p.assertionID)
	a.CreateAttr("Version", "2.0")
	a.CreateAttr("IssueInstant", samlTime(p.issueInstant))
	issuer(a, p.assertionIssuer)

	subj := a.CreateElement("saml:Subject")
	if !r.OmitNameID {
		n := subj.CreateElement("saml:NameID")
		n.CreateAttr("Format", p.nameIDFormat)
		n.SetText(p.nameID)
	}
	if !r.OmitSubjectConfirmation {
		sc := subj.CreateElement("saml:SubjectConfirmation")
		sc.CreateAttr("Method", p.confirmationMethod)
		scd := sc.CreateElement("saml:SubjectConfirmationData")
		if r.InResponseTo != "" {
			scd.CreateAttr("InResponseTo", r.InResponseTo)
		}
		scd.CreateAttr("NotOnOrAfter", samlTime(p.subjectNotOnOrAfter))
		if !r.OmitRecipient {
			scd.CreateAttr("Recipient", p.recipient)
		}
	}

	cond := a.CreateElement("saml:Conditions")
	cond.CreateAttr("NotBefore", samlTime(p.notBefore))
	cond.CreateAttr("NotOnOrAfter", samlTime(p.notOnOrAfter))
	if !r.OmitAudience {
		cond.CreateElement("saml:AudienceRestriction").CreateElement("saml:Audience").SetText(p.audience)
	}

	as := a.CreateElement("saml:AuthnStatement")
	as.CreateAttr("AuthnInstant", samlTime(p.issueInstant))
	as.CreateAttr("SessionIndex", p.sessionIndex)
	as.CreateElement("saml:AuthnContext").CreateElement("saml:AuthnContextClassRef").SetText(or(r.AuthnContextClassRef, acPasswordProtect))

	if len(p.attributeNames) > 0 {
		st := a.CreateElement("saml:AttributeStatement")
		for _, name := range p.attributeNames {
			at := st.CreateElement("saml:Attribute")
			at.CreateAttr("Name", name)
			at.CreateAttr("NameFormat", attrNameFormatBase)
			for _, v := range p.attributeValues[name] {
				av := at.CreateElement("saml:AttributeValue")
				av.CreateAttr("xsi:type", "xs:string")
				av.SetText(v)
			}
		}
	}
	return doc
}

// issuer appends a saml:Issuer with the entity format.
func issuer(parent *etree.Element, value string) {
	el := parent.CreateElement("saml:Issuer")
	el.CreateAttr("Format", nameIDFormatEntity)
	el.SetText(value)
}

// samlTime formats t as an xs:dateTime in UTC, with as many fractional
// digits as needed and no more.
func samlTime(t time.Time) string {
	return t.UTC().Format(time.RFC3339Nano)
}

func or(s, dflt string) string {
	if s != "" {
		return s
	}
	return dflt
}

func orTime(t, dflt time.Time) time.Time {
	if !t.IsZero() {
		return t
	}
	return dflt
}

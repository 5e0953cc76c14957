package saml

import (
	"slices"
	"strings"
	"time"

	"github.com/beevik/etree"

	"github.com/orgsso/orgsso/internal/safexml"
	"github.com/orgsso/orgsso/internal/text"
)

// nameIDFormatEntity is the only Format an Issuer may carry.
const nameIDFormatEntity = "urn:oasis:names:tc:SAML:2.0:nameid-format:entity"

// checkAssertion runs the SAML rules on signed content: issuer, destination,
// subject and bearer confirmation, conditions, audience, authentication
// statement and InResponseTo, and returns what the assertion says. Values of
// an unsigned Response are used only to refuse (a Destination, an Issuer or
// an InResponseTo that disagrees), never as a source, and are never quoted.
func (v *Validator) checkAssertion(ver *verified, now time.Time, match func(string) error, tr *trace) (*Assertion, error) {
	doc, a, r := ver.adoc, ver.assertion, ver.response
	rd := &readout{}
	if safexml.AttrValue(a, "Version") != "2.0" {
		return nil, &ValidationError{Check: CheckSchema, Reason: "Assertion Version is not 2.0", Want: "2.0"}
	}
	out := &Assertion{ID: safexml.AttrValue(a, "ID"), EncryptionMethod: ver.encryption}
	if out.ID == "" {
		return nil, fail(CheckSchema, "assertion has no ID")
	}

	// Issuer: exactly one on the assertion, at most one on the Response; both
	// must name the configured IdP.
	iss, err := v.issuer(doc, a, "assertion")
	if err != nil {
		return nil, err
	}
	if iss == "" {
		return nil, fail(CheckIssuer, "assertion has no Issuer")
	}
	out.Issuer = iss
	if v.idpEntityID != "" && iss != v.idpEntityID {
		return nil, mismatch(CheckIssuer, "assertion Issuer", v.idpEntityID, text.Truncate(iss, 200))
	}
	riss, err := v.issuer(ver.rdoc, r, "Response")
	if err != nil {
		return nil, err
	}
	if riss != "" && v.idpEntityID != "" && riss != v.idpEntityID {
		return nil, v.unverified(ver, mismatch(CheckIssuer, "Response Issuer", v.idpEntityID, text.Truncate(riss, 200)))
	}

	// Destination is optional on the Response but must be ours when present.
	dest, hasDest := safexml.Attr(r, "Destination")
	if hasDest && dest != v.sp.ACSURL {
		return nil, v.unverified(ver, mismatch(CheckDestination, "Response Destination", v.sp.ACSURL, text.Truncate(dest, 200)))
	}

	if err := v.subject(ver, out, rd, now); err != nil {
		return nil, err
	}

	if n := doc.Count(a, nsAssertion, "Conditions"); n != 1 {
		return nil, failf(CheckAudience, "assertion must have exactly one Conditions (has %d), with the audience restriction", n)
	}
	condExpiry, err := v.checkConditions(doc, doc.Child(a, nsAssertion, "Conditions"), now, rd)
	if err != nil {
		return nil, err
	}
	out.NotOnOrAfter = earliest(rd.scdExpiry, condExpiry)

	if err := v.authnStatements(doc, a, out, rd, now); err != nil {
		return nil, err
	}

	// InResponseTo binds the response to a request. The signed one in
	// SubjectConfirmationData decides; the Response's is read only when the
	// Response is signed, and must agree in any case.
	respIRT, hasRespIRT := safexml.Attr(r, "InResponseTo")
	switch {
	case hasRespIRT && rd.SCDInResponseTo != "" && respIRT != rd.SCDInResponseTo:
		return nil, v.unverified(ver, mismatch(CheckInResponseTo, "Response and SubjectConfirmationData InResponseTo",
			text.Truncate(rd.SCDInResponseTo, 100), text.Truncate(respIRT, 100)))
	case rd.SCDInResponseTo != "":
		out.InResponseTo = rd.SCDInResponseTo
	case hasRespIRT && ver.responseSigned:
		out.InResponseTo = respIRT
	case hasRespIRT:
		return nil, fail(CheckInResponseTo, "only the unsigned Response names a request; the signed assertion does not")
	}
	if out.InResponseTo == "" {
		if !v.allowIdPInitiated {
			return nil, fail(CheckUnsolicited, "unsolicited (IdP-initiated) response, and IdP-initiated sign-in is not allowed (ValidatorConfig.AllowIdPInitiated)")
		}
	} else if err := match(out.InResponseTo); err != nil {
		return nil, wrapFail(CheckInResponseTo, "response does not answer a pending request", err)
	}

	out.Attributes = attributes(doc, a, tr != nil, rd)
	if tr != nil {
		rd.fill(out, ver, r)
		if hasDest {
			rd.Destination = dest
		}
		if hasRespIRT {
			rd.ResponseInResponseTo = respIRT
		}
		rd.ResponseIssuer = riss
		tr.read = *rd
	}
	return out, nil
}

// unverified drops the quoted values of an error about the Response when the
// Response was not signed: they are attacker text.
func (v *Validator) unverified(ver *verified, e *ValidationError) *ValidationError {
	if !ver.responseSigned {
		e.Got = ""
		e.Reason += " (unsigned Response)"
	}
	return e
}

// issuer returns the trimmed text of el's one Issuer child ("" when it has
// none), refusing two, markup inside, or a Format other than entity.
func (v *Validator) issuer(doc *safexml.Doc, el *etree.Element, where string) (string, error) {
	switch doc.Count(el, nsAssertion, "Issuer") {
	case 0:
		return "", nil
	case 1:
	default:
		return "", fail(CheckIssuer, where+" has more than one Issuer")
	}
	iss := doc.Child(el, nsAssertion, "Issuer")
	if f, ok := safexml.Attr(iss, "Format"); ok && f != nameIDFormatEntity {
		return "", fail(CheckIssuer, where+" Issuer Format is not entity")
	}
	s, ok := safexml.TrimmedText(iss)
	if !ok {
		return "", fail(CheckIssuer, where+" Issuer holds markup")
	}
	return s, nil
}

// subject reads the one Subject: its NameID (decrypting an EncryptedID) and a
// bearer confirmation addressed to us.
func (v *Validator) subject(ver *verified, out *Assertion, rd *readout, now time.Time) error {
	doc, a := ver.adoc, ver.assertion
	if n := doc.Count(a, nsAssertion, "Subject"); n != 1 {
		return failf(CheckSubject, "assertion must have exactly one Subject (has %d)", n)
	}
	subject := doc.Child(a, nsAssertion, "Subject")
	ids := doc.Count(subject, nsAssertion, "NameID") + doc.Count(subject, nsAssertion, "EncryptedID") + doc.Count(subject, nsAssertion, "BaseID")
	if ids != 1 {
		return failf(CheckSubject, "Subject must have exactly one NameID or EncryptedID (has %d identifiers)", ids)
	}
	nameID := doc.Child(subject, nsAssertion, "NameID")
	ndoc := doc
	if enc := doc.Child(subject, nsAssertion, "EncryptedID"); enc != nil {
		d, err := v.decrypt(doc, enc, ver.decryptCtx, "NameID")
		if err != nil {
			return err
		}
		ndoc, nameID = d.doc, d.doc.Root()
		rd.nameIDDecrypted = true
	}
	if nameID == nil {
		return fail(CheckSubject, "Subject has no NameID")
	}
	_ = ndoc
	id, ok := safexml.TrimmedText(nameID)
	if !ok {
		return fail(CheckSubject, "NameID holds markup")
	}
	if id == "" {
		return fail(CheckSubject, "NameID is empty")
	}
	out.NameID = id
	out.NameIDFormat = safexml.AttrValue(nameID, "Format")
	if q, ok := safexml.Attr(nameID, "SPNameQualifier"); ok && q != v.sp.EntityID {
		return mismatch(CheckSubject, "NameID SPNameQualifier", v.sp.EntityID, text.Truncate(q, 200))
	}
	rd.NameIDSPNameQualifier = safexml.AttrValue(nameID, "SPNameQualifier")
	return v.checkBearer(doc, subject, now, rd)
}

// checkBearer finds a bearer SubjectConfirmation whose data is addressed to our
// ACS URL and still valid, and records it in rd. With several confirmations,
// the first failure is reported when none passes.
func (v *Validator) checkBearer(doc *safexml.Doc, subject *etree.Element, now time.Time, rd *readout) error {
	var firstErr error
	for i, sc := range doc.Children(subject, nsAssertion, "SubjectConfirmation") {
		if safexml.AttrValue(sc, "Method") != confirmationBearer {
			continue
		}
		if doc.Count(sc, nsAssertion, "SubjectConfirmationData") != 1 {
			if firstErr == nil {
				firstErr = fail(CheckSubject, "bearer SubjectConfirmation must have exactly one SubjectConfirmationData")
			}
			continue
		}
		err := v.checkConfirmationData(doc.Child(sc, nsAssertion, "SubjectConfirmationData"), now, rd)
		if err == nil {
			rd.BearerIndex = i
			return nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	if firstErr == nil {
		firstErr = fail(CheckSubject, "no bearer SubjectConfirmation")
	}
	return firstErr
}

func (v *Validator) checkConfirmationData(scd *etree.Element, now time.Time, rd *readout) error {
	rec, ok := safexml.Attr(scd, "Recipient")
	if !ok {
		return fail(CheckRecipient, "SubjectConfirmationData has no Recipient")
	}
	if rec != v.sp.ACSURL {
		return mismatch(CheckRecipient, "SubjectConfirmationData Recipient", v.sp.ACSURL, text.Truncate(rec, 200))
	}
	exp, err := v.timeAttr(scd, "SubjectConfirmationData", "NotOnOrAfter")
	if err != nil {
		return err
	}
	if exp.IsZero() {
		return fail(CheckSubject, "bearer SubjectConfirmationData has no NotOnOrAfter")
	}
	if err := v.checkNotOnOrAfter("SubjectConfirmationData", exp, now); err != nil {
		return err
	}
	nb, err := v.timeAttr(scd, "SubjectConfirmationData", "NotBefore")
	if err != nil {
		return err
	}
	if err := v.checkNotBefore("SubjectConfirmationData", nb, now); err != nil {
		return err
	}
	rd.Recipient = rec
	rd.SCDInResponseTo = safexml.AttrValue(scd, "InResponseTo")
	rd.SCDNotOnOrAfter = safexml.AttrValue(scd, "NotOnOrAfter")
	rd.SCDNotBefore = safexml.AttrValue(scd, "NotBefore")
	rd.scdExpiry = exp
	return nil
}

// checkConditions checks the validity window and that every
// AudienceRestriction names our entity ID. A condition it does not know
// makes the assertion indeterminate (SAML core 2.5.1.5): refused.
func (v *Validator) checkConditions(doc *safexml.Doc, c *etree.Element, now time.Time, rd *readout) (time.Time, error) {
	nb, err := v.timeAttr(c, "Conditions", "NotBefore")
	if err != nil {
		return time.Time{}, err
	}
	if err := v.checkNotBefore("Conditions", nb, now); err != nil {
		return time.Time{}, err
	}
	exp, err := v.timeAttr(c, "Conditions", "NotOnOrAfter")
	if err != nil {
		return time.Time{}, err
	}
	if err := v.checkNotOnOrAfter("Conditions", exp, now); err != nil {
		return time.Time{}, err
	}
	rd.NotBefore, rd.NotOnOrAfter = safexml.AttrValue(c, "NotBefore"), safexml.AttrValue(c, "NotOnOrAfter")
	restrictions := 0
	for _, el := range c.ChildElements() {
		switch {
		case doc.Is(el, nsAssertion, "AudienceRestriction"):
			restrictions++
			ok := false
			var got []string
			for _, au := range doc.Children(el, nsAssertion, "Audience") {
				s, isText := safexml.TrimmedText(au)
				if !isText {
					return time.Time{}, fail(CheckAudience, "Audience holds markup")
				}
				rd.Audiences = append(rd.Audiences, s)
				if s == v.sp.EntityID {
					ok = true
				}
				got = append(got, s)
			}
			if !ok {
				return time.Time{}, mismatch(CheckAudience, "Audience", v.sp.EntityID, text.Truncate(strings.Join(got, " "), 200))
			}
		case doc.Is(el, nsAssertion, "OneTimeUse"), doc.Is(el, nsAssertion, "ProxyRestriction"):
			// One-time use is what the replay cache enforces for every
			// assertion; proxying is not something an SP does.
		default:
			return time.Time{}, fail(CheckAudience, "Conditions holds a condition this validator does not know (the assertion is indeterminate)")
		}
	}
	if restrictions == 0 {
		return time.Time{}, fail(CheckAudience, "assertion has no AudienceRestriction")
	}
	return exp, nil
}

// authnStatements requires the AuthnStatement the Web SSO profile mandates,
// refuses one whose SessionNotOnOrAfter has passed, and reads the first
// SessionIndex and every AuthnContextClassRef (the first of each
// AuthnStatement's AuthnContext; one holding markup is left out).
func (v *Validator) authnStatements(doc *safexml.Doc, a *etree.Element, out *Assertion, rd *readout, now time.Time) error {
	sts := doc.Children(a, nsAssertion, "AuthnStatement")
	if len(sts) == 0 {
		return fail(CheckSchema, "assertion has no AuthnStatement (required by the Web Browser SSO profile)")
	}
	for _, st := range sts {
		exp, err := v.timeAttr(st, "AuthnStatement", "SessionNotOnOrAfter")
		if err != nil {
			return err
		}
		if err := v.checkNotOnOrAfter("AuthnStatement SessionNotOnOrAfter", exp, now); err != nil {
			return err
		}
		if s := safexml.AttrValue(st, "SessionNotOnOrAfter"); s != "" && rd.SessionNotOnOrAfter == "" {
			rd.SessionNotOnOrAfter = s
		}
		if si := safexml.AttrValue(st, "SessionIndex"); si != "" && out.SessionIndex == "" {
			out.SessionIndex = si
		}
		if ref := classRef(doc, st); ref != "" && !slices.Contains(out.AuthnContextClassRefs, ref) {
			out.AuthnContextClassRefs = append(out.AuthnContextClassRefs, ref)
		}
	}
	rd.AuthnContextClassRefs = out.AuthnContextClassRefs
	return nil
}

// classRef is the AuthnContextClassRef of an AuthnStatement: the text of
// the first one in its first AuthnContext, trimmed; "" when there is none or
// it holds markup.
func classRef(doc *safexml.Doc, st *etree.Element) string {
	ac := doc.Child(st, nsAssertion, "AuthnContext")
	if ac == nil {
		return ""
	}
	ref := doc.Child(ac, nsAssertion, "AuthnContextClassRef")
	if ref == nil {
		return ""
	}
	s, ok := safexml.TrimmedText(ref)
	if !ok {
		return ""
	}
	return s
}

func (v *Validator) checkNotBefore(where string, nb, now time.Time) error {
	if !nb.IsZero() && now.Add(v.skew).Before(nb) {
		return &ValidationError{Check: CheckNotYetValid, Reason: where + " NotBefore is in the future",
			Want: "<= " + now.Add(v.skew).UTC().Format(time.RFC3339), Got: nb.UTC().Format(time.RFC3339Nano)}
	}
	return nil
}

func (v *Validator) checkNotOnOrAfter(where string, exp, now time.Time) error {
	if !exp.IsZero() && !now.Add(-v.skew).Before(exp) {
		return &ValidationError{Check: CheckExpired, Reason: where + " has passed",
			Want: "> " + now.Add(-v.skew).UTC().Format(time.RFC3339), Got: exp.UTC().Format(time.RFC3339Nano)}
	}
	return nil
}

// timeAttr parses an xs:dateTime attribute; absent is the zero time.
func (v *Validator) timeAttr(el *etree.Element, where, name string) (time.Time, error) {
	s, ok := safexml.Attr(el, name)
	if !ok {
		return time.Time{}, nil
	}
	t, err := parseSAMLTime(s)
	if err != nil {
		return time.Time{}, fail(CheckSchema, where+" "+name+" is not an xs:dateTime")
	}
	return t, nil
}

// parseSAMLTime parses the xs:dateTime SAML uses: UTC, "Z" suffix, optional
// fraction. A time without a zone is read as UTC, as several IdPs send it.
func parseSAMLTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	t, err := time.Parse(time.RFC3339Nano, s)
	if err == nil {
		return t, nil
	}
	if t2, err2 := time.Parse("2006-01-02T15:04:05.999999999", s); err2 == nil {
		return t2, nil
	}
	return time.Time{}, err
}

// attributes collects every AttributeStatement's attributes by Name, values in
// document order, trimmed. A value holding markup (a structured value) is
// not a string and is left out.
func attributes(doc *safexml.Doc, a *etree.Element, record bool, rd *readout) map[string][]string {
	out := make(map[string][]string)
	for _, st := range doc.Children(a, nsAssertion, "AttributeStatement") {
		for _, at := range doc.Children(st, nsAssertion, "Attribute") {
			name := safexml.AttrValue(at, "Name")
			if name == "" {
				continue
			}
			vals := out[name]
			var read []string
			for _, av := range doc.Children(at, nsAssertion, "AttributeValue") {
				s, ok := safexml.TrimmedText(av)
				if !ok {
					continue
				}
				vals = append(vals, s)
				read = append(read, s)
			}
			if vals == nil {
				vals = []string{}
			}
			out[name] = vals
			if record {
				rd.Attributes = append(rd.Attributes, readAttribute{Name: name, Values: read})
			}
		}
	}
	return out
}

func earliest(a, b time.Time) time.Time {
	switch {
	case a.IsZero():
		return b
	case b.IsZero():
		return a
	case b.Before(a):
		return b
	}
	return a
}

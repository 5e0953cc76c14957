package sso

import (
	"strings"
	"time"

	"github.com/beevik/etree"
)

// checkAssertion runs the SAML rules on signed content: issuer, destination,
// subject and bearer confirmation, conditions, audience and InResponseTo, and
// returns what the assertion says.
func (v *Validator) checkAssertion(_ *response, ver *verified, now time.Time, match func(string) error) (*Assertion, error) {
	a, r := ver.assertion, ver.response
	if a.SelectAttrValue("Version", "") != "2.0" {
		return nil, mismatch(CheckSchema, "Assertion Version", "2.0", a.SelectAttrValue("Version", ""))
	}
	out := &Assertion{ID: a.SelectAttrValue("ID", "")}
	if out.ID == "" {
		return nil, fail(CheckSchema, "assertion has no ID")
	}

	// Issuer: required on the assertion, optional on the Response; both must
	// name the configured IdP.
	iss := firstChild(a, nsAssertion, "Issuer")
	if iss == nil || strings.TrimSpace(iss.Text()) == "" {
		return nil, fail(CheckIssuer, "assertion has no Issuer")
	}
	out.Issuer = strings.TrimSpace(iss.Text())
	if v.idpEntityID != "" {
		if out.Issuer != v.idpEntityID {
			return nil, mismatch(CheckIssuer, "assertion Issuer", v.idpEntityID, truncate(out.Issuer, 200))
		}
		if ri := firstChild(r, nsAssertion, "Issuer"); ri != nil {
			if got := strings.TrimSpace(ri.Text()); got != v.idpEntityID {
				return nil, mismatch(CheckIssuer, "Response Issuer", v.idpEntityID, truncate(got, 200))
			}
		}
	}

	// Destination is optional on the Response but must be ours when present.
	if d := r.SelectAttr("Destination"); d != nil && d.Value != v.sp.ACSURL {
		return nil, mismatch(CheckDestination, "Response Destination", v.sp.ACSURL, truncate(d.Value, 200))
	}

	subject := firstChild(a, nsAssertion, "Subject")
	if subject == nil {
		return nil, fail(CheckSubject, "assertion has no Subject")
	}
	nameID := firstChild(subject, nsAssertion, "NameID")
	if nameID == nil {
		if firstChild(subject, nsAssertion, "EncryptedID") != nil {
			return nil, fail(CheckSubject, "encrypted NameIDs are not supported")
		}
		return nil, fail(CheckSubject, "Subject has no NameID")
	}
	out.NameID = strings.TrimSpace(nameID.Text())
	out.NameIDFormat = nameID.SelectAttrValue("Format", "")
	if out.NameID == "" {
		return nil, fail(CheckSubject, "NameID is empty")
	}

	scdIRT, scdExpiry, err := v.checkBearer(subject, now)
	if err != nil {
		return nil, err
	}

	conditions := firstChild(a, nsAssertion, "Conditions")
	if conditions == nil {
		return nil, fail(CheckAudience, "assertion has no Conditions, so no audience restriction")
	}
	condExpiry, err := v.checkConditions(conditions, now)
	if err != nil {
		return nil, err
	}
	out.NotOnOrAfter = earliest(scdExpiry, condExpiry)

	// InResponseTo: the signed one in SubjectConfirmationData wins; the
	// Response's must agree with it.
	respIRT := r.SelectAttrValue("InResponseTo", "")
	if scdIRT != "" && respIRT != "" && scdIRT != respIRT {
		return nil, mismatch(CheckInResponseTo, "Response and SubjectConfirmationData InResponseTo", truncate(scdIRT, 100), truncate(respIRT, 100))
	}
	out.InResponseTo = scdIRT
	if out.InResponseTo == "" {
		out.InResponseTo = respIRT
	}
	if out.InResponseTo == "" {
		if !v.allowIdPInitiated {
			return nil, fail(CheckInResponseTo, "unsolicited (IdP-initiated) response, and the organization does not allow IdP-initiated sign-in")
		}
	} else if err := match(out.InResponseTo); err != nil {
		return nil, wrapFail(CheckInResponseTo, "response does not answer a pending request", err)
	}

	for _, st := range children(a, nsAssertion, "AuthnStatement") {
		if si := st.SelectAttrValue("SessionIndex", ""); si != "" {
			out.SessionIndex = si
			break
		}
	}
	out.Attributes = attributes(a)
	return out, nil
}

// checkBearer finds a bearer SubjectConfirmation whose data is addressed to our
// ACS URL and still valid; it returns that data's InResponseTo and expiry.
// With several confirmations, the first failure is reported when none passes.
func (v *Validator) checkBearer(subject *etree.Element, now time.Time) (string, time.Time, error) {
	var firstErr error
	for _, sc := range children(subject, nsAssertion, "SubjectConfirmation") {
		if sc.SelectAttrValue("Method", "") != confirmationBearer {
			continue
		}
		irt, exp, err := v.checkConfirmationData(firstChild(sc, nsAssertion, "SubjectConfirmationData"), now)
		if err == nil {
			return irt, exp, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	if firstErr == nil {
		firstErr = fail(CheckSubject, "no bearer SubjectConfirmation")
	}
	return "", time.Time{}, firstErr
}

func (v *Validator) checkConfirmationData(scd *etree.Element, now time.Time) (string, time.Time, error) {
	if scd == nil {
		return "", time.Time{}, fail(CheckSubject, "bearer SubjectConfirmation has no SubjectConfirmationData")
	}
	rec := scd.SelectAttr("Recipient")
	if rec == nil {
		return "", time.Time{}, fail(CheckRecipient, "SubjectConfirmationData has no Recipient")
	}
	if rec.Value != v.sp.ACSURL {
		return "", time.Time{}, mismatch(CheckRecipient, "SubjectConfirmationData Recipient", v.sp.ACSURL, truncate(rec.Value, 200))
	}
	exp, err := v.timeAttr(scd, "NotOnOrAfter")
	if err != nil {
		return "", time.Time{}, err
	}
	if exp.IsZero() {
		return "", time.Time{}, fail(CheckSubject, "bearer SubjectConfirmationData has no NotOnOrAfter")
	}
	if err := v.checkNotOnOrAfter("SubjectConfirmationData", exp, now); err != nil {
		return "", time.Time{}, err
	}
	nb, err := v.timeAttr(scd, "NotBefore")
	if err != nil {
		return "", time.Time{}, err
	}
	if err := v.checkNotBefore("SubjectConfirmationData", nb, now); err != nil {
		return "", time.Time{}, err
	}
	return scd.SelectAttrValue("InResponseTo", ""), exp, nil
}

// checkConditions checks the validity window and that every
// AudienceRestriction names our entity ID.
func (v *Validator) checkConditions(c *etree.Element, now time.Time) (time.Time, error) {
	nb, err := v.timeAttr(c, "NotBefore")
	if err != nil {
		return time.Time{}, err
	}
	if err := v.checkNotBefore("Conditions", nb, now); err != nil {
		return time.Time{}, err
	}
	exp, err := v.timeAttr(c, "NotOnOrAfter")
	if err != nil {
		return time.Time{}, err
	}
	if err := v.checkNotOnOrAfter("Conditions", exp, now); err != nil {
		return time.Time{}, err
	}
	restrictions := children(c, nsAssertion, "AudienceRestriction")
	if len(restrictions) == 0 {
		return time.Time{}, fail(CheckAudience, "assertion has no AudienceRestriction")
	}
	for _, ar := range restrictions {
		ok := false
		var got []string
		for _, au := range children(ar, nsAssertion, "Audience") {
			s := strings.TrimSpace(au.Text())
			if s == v.sp.EntityID {
				ok = true
				break
			}
			got = append(got, s)
		}
		if !ok {
			return time.Time{}, mismatch(CheckAudience, "Audience", v.sp.EntityID, truncate(strings.Join(got, " "), 200))
		}
	}
	return exp, nil
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
		return &ValidationError{Check: CheckExpired, Reason: where + " NotOnOrAfter has passed",
			Want: "> " + now.Add(-v.skew).UTC().Format(time.RFC3339), Got: exp.UTC().Format(time.RFC3339Nano)}
	}
	return nil
}

// timeAttr parses an xs:dateTime attribute; absent is the zero time.
func (v *Validator) timeAttr(el *etree.Element, name string) (time.Time, error) {
	a := el.SelectAttr(name)
	if a == nil {
		return time.Time{}, nil
	}
	t, err := parseSAMLTime(a.Value)
	if err != nil {
		return time.Time{}, wrapFail(CheckSchema, el.Tag+" "+name+" is not an xs:dateTime", err)
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
// document order.
func attributes(a *etree.Element) map[string][]string {
	out := make(map[string][]string)
	for _, st := range children(a, nsAssertion, "AttributeStatement") {
		for _, at := range children(st, nsAssertion, "Attribute") {
			name := at.SelectAttrValue("Name", "")
			if name == "" {
				continue
			}
			vals := out[name]
			for _, av := range children(at, nsAssertion, "AttributeValue") {
				vals = append(vals, strings.TrimSpace(av.Text()))
			}
			if vals == nil {
				vals = []string{}
			}
			out[name] = vals
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

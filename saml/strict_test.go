package saml_test

import (
	"bytes"
	"compress/flate"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgsso/orgsso/saml"
	"github.com/orgsso/orgsso/sso/ssotest"
)

// Regression tests of issue 9's lenient-parsing and binding findings in the
// Validator: each refused with its exact Check.

// deflate posts xml as raw DEFLATE, which the Validator inflates up to its
// size limit (some IdPs DEFLATE even on the POST binding).
func deflate(t testing.TB, xml string) string {
	t.Helper()
	var b bytes.Buffer
	w, err := flate.NewWriter(&b, flate.BestCompression)
	require.NoError(t, err)
	_, err = w.Write([]byte(xml))
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return base64.StdEncoding.EncodeToString(b.Bytes())
}

func decoded(t testing.TB, posted string) string {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(posted)
	require.NoError(t, err)
	return string(raw)
}

// el finds the element at path under the document root, or panics (test
// trees are ours).
func el(d *etree.Document, path string) *etree.Element {
	if path == "." {
		return d.Root()
	}
	e := d.Root().FindElement(path)
	if e == nil {
		panic("no element at " + path)
	}
	return e
}

func TestValidateStrictParsing(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	past := testNow.Add(-10 * time.Minute).Format(time.RFC3339)
	cases := []adversarialCase{
		// Duplicate attributes: refused, never merged.
		{name: "Attribute Name twice", raw: func(t *testing.T, f *fixture) string {
			return rewrite(t, f.response(t, nil), func(s string) string {
				return strings.Replace(s, `Name="last_name"`, `Name="email" Name="last_name"`, 1)
			})
		}, want: saml.CheckXML},
		{name: "Assertion ID twice", raw: func(t *testing.T, f *fixture) string {
			return rewrite(t, f.response(t, nil), func(s string) string {
				return strings.Replace(s, `<saml:Assertion `, `<saml:Assertion ID="_evil" `, 1)
			})
		}, want: saml.CheckXML},
		{name: "Recipient twice", raw: func(t *testing.T, f *fixture) string {
			return rewrite(t, f.response(t, nil), func(s string) string {
				return strings.Replace(s, ` Recipient="`, ` Recipient="https://evil.example/acs" Recipient="`, 1)
			})
		}, want: saml.CheckXML},
		{name: "StatusCode Value twice on an unsigned Response", raw: func(t *testing.T, f *fixture) string {
			return rewrite(t, f.response(t, func(r *ssotest.Response) { r.StatusCode = ssotest.StatusResponder }), func(s string) string {
				return strings.Replace(s, `<samlp:StatusCode `, `<samlp:StatusCode Value="`+ssotest.StatusSuccess+`" `, 1)
			})
		}, want: saml.CheckXML},
		{name: "one attribute through two prefixes bound to one URI", raw: func(t *testing.T, f *fixture) string {
			return rewrite(t, f.response(t, nil), func(s string) string {
				return strings.Replace(s, `<saml:Subject>`, `<saml:Subject xmlns:a="urn:x" xmlns:b="urn:x" a:k="1" b:k="2">`, 1)
			})
		}, want: saml.CheckXML},
		{name: "namespace declared twice", raw: func(t *testing.T, f *fixture) string {
			return rewrite(t, f.response(t, nil), func(s string) string {
				return strings.Replace(s, `<saml:Subject>`, `<saml:Subject xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" xmlns:saml="urn:evil">`, 1)
			})
		}, want: saml.CheckXML},

		// Encodings.
		{name: `encoding="UTF-16" declared`, raw: func(t *testing.T, f *fixture) string {
			return rewrite(t, f.response(t, nil), func(s string) string { return strings.Replace(s, `encoding="UTF-8"`, `encoding="UTF-16"`, 1) })
		}, want: saml.CheckXML},
		{name: `encoding="ISO-8859-1" declared`, raw: func(t *testing.T, f *fixture) string {
			return rewrite(t, f.response(t, nil), func(s string) string { return strings.Replace(s, `encoding="UTF-8"`, `encoding="ISO-8859-1"`, 1) })
		}, want: saml.CheckXML},
		{name: "UTF-16LE with a byte order mark", raw: func(t *testing.T, f *fixture) string {
			return b64(utf16LE("\ufeff" + decoded(t, f.response(t, nil))))
		}, want: saml.CheckEncoding}, // not '<' first: tried as DEFLATE
		{name: "UTF-16LE without a byte order mark", raw: func(t *testing.T, f *fixture) string {
			return b64(utf16LE(decoded(t, f.response(t, nil))))
		}, want: saml.CheckXML},
		{name: "invalid UTF-8 in the NameID", raw: func(t *testing.T, f *fixture) string {
			return rewrite(t, f.response(t, nil), func(s string) string { return strings.Replace(s, "alice@", "alice\xff@", 1) })
		}, want: saml.CheckXML},

		// Content after the document element.
		{name: "second root element", raw: func(t *testing.T, f *fixture) string {
			return b64(decoded(t, f.response(t, nil)) + `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_2" Version="2.0"/>`)
		}, want: saml.CheckXML},
		{name: "second copy of the response after the first", raw: func(t *testing.T, f *fixture) string {
			s := decoded(t, f.response(t, nil))
			return b64(s + s[strings.Index(s, "?>")+2:])
		}, want: saml.CheckXML},
		{name: "text after the root", raw: func(t *testing.T, f *fixture) string {
			return b64(decoded(t, f.response(t, nil)) + "mallory@acme.example")
		}, want: saml.CheckXML},
		{name: "comment after the root", raw: func(t *testing.T, f *fixture) string {
			return b64(decoded(t, f.response(t, nil)) + "<!-- x -->")
		}, want: saml.CheckXML},
		{name: "processing instruction after the root", raw: func(t *testing.T, f *fixture) string {
			return b64(decoded(t, f.response(t, nil)) + "<?x y?>")
		}, want: saml.CheckXML},

		// Structure: every element read once, and the one read is the only one.
		{name: "two Conditions, the second expired", resp: func(r *ssotest.Response) {
			r.BeforeSign = func(d *etree.Document) {
				c := el(d, "./Assertion/Conditions")
				second := c.Copy()
				second.CreateAttr("NotOnOrAfter", past)
				c.Parent().InsertChildAt(c.Index()+1, second)
			}
		}, want: saml.CheckAudience},
		{name: "two top-level StatusCodes, the second not Success (unsigned Response)", resp: func(r *ssotest.Response) {
			r.AfterSign = func(d *etree.Document) {
				el(d, "./Status").CreateElement("samlp:StatusCode").CreateAttr("Value", ssotest.StatusResponder)
			}
		}, want: saml.CheckSchema},
		{name: "two top-level StatusCodes, the second not Success (signed Response)", resp: func(r *ssotest.Response) {
			r.Sign = ssotest.SignResponse
			r.BeforeSign = func(d *etree.Document) {
				el(d, "./Status").CreateElement("samlp:StatusCode").CreateAttr("Value", ssotest.StatusResponder)
			}
		}, want: saml.CheckSchema},
		{name: "two top-level StatusCodes, the first not Success", resp: func(r *ssotest.Response) {
			r.AfterSign = func(d *etree.Document) {
				st := el(d, "./Status")
				sc := etree.NewElement("samlp:StatusCode")
				sc.CreateAttr("Value", ssotest.StatusResponder)
				st.InsertChildAt(0, sc)
			}
		}, want: saml.CheckSchema},
		{name: "two Status elements", resp: func(r *ssotest.Response) {
			r.AfterSign = func(d *etree.Document) {
				st := el(d, "./Status")
				bad := st.Copy()
				el := bad.FindElement("./StatusCode")
				el.CreateAttr("Value", ssotest.StatusRequester)
				d.Root().InsertChildAt(st.Index()+1, bad)
			}
		}, want: saml.CheckSchema},
		{name: "no Status", resp: func(r *ssotest.Response) {
			r.AfterSign = func(d *etree.Document) { d.Root().RemoveChild(el(d, "./Status")) }
		}, want: saml.CheckSchema},
		{name: "assertion without AuthnStatement", resp: func(r *ssotest.Response) {
			r.BeforeSign = func(d *etree.Document) { removeAll(el(d, "./Assertion"), "AuthnStatement") }
		}, want: saml.CheckSchema},
		{name: "NameID SPNameQualifier of another SP", resp: func(r *ssotest.Response) {
			r.BeforeSign = func(d *etree.Document) {
				el(d, "./Assertion/Subject/NameID").CreateAttr("SPNameQualifier", "https://other.example.com/sso/acme/metadata")
			}
		}, want: saml.CheckSubject},
		{name: "expired SessionNotOnOrAfter", resp: func(r *ssotest.Response) {
			r.BeforeSign = func(d *etree.Document) { el(d, "./Assertion/AuthnStatement").CreateAttr("SessionNotOnOrAfter", past) }
		}, want: saml.CheckExpired},
		{name: "expired SessionNotOnOrAfter on a second AuthnStatement", resp: func(r *ssotest.Response) {
			r.BeforeSign = func(d *etree.Document) {
				as := el(d, "./Assertion/AuthnStatement")
				second := as.Copy()
				second.CreateAttr("SessionNotOnOrAfter", past)
				as.Parent().InsertChildAt(as.Index()+1, second)
			}
		}, want: saml.CheckExpired},
		{name: "SessionNotOnOrAfter not a dateTime", resp: func(r *ssotest.Response) {
			r.BeforeSign = func(d *etree.Document) {
				el(d, "./Assertion/AuthnStatement").CreateAttr("SessionNotOnOrAfter", "tomorrow")
			}
		}, want: saml.CheckSchema},
		{name: "unknown Condition (xsi:type)", resp: func(r *ssotest.Response) {
			r.BeforeSign = func(d *etree.Document) {
				c := el(d, "./Assertion/Conditions").CreateElement("saml:Condition")
				c.CreateAttr("xmlns:x", "urn:x")
				c.CreateAttr("xsi:type", "x:OnlyOnTuesdays")
			}
		}, want: saml.CheckAudience},
		{name: "unknown condition element", resp: func(r *ssotest.Response) {
			r.BeforeSign = func(d *etree.Document) {
				el(d, "./Assertion/Conditions").CreateElement("x:Custom").CreateAttr("xmlns:x", "urn:x")
			}
		}, want: saml.CheckAudience},
		{name: "AudienceRestriction in another namespace", resp: func(r *ssotest.Response) {
			r.BeforeSign = func(d *etree.Document) {
				ar := el(d, "./Assertion/Conditions/AudienceRestriction")
				ar.Space = "x"
				ar.CreateAttr("xmlns:x", "urn:x")
			}
		}, want: saml.CheckAudience},
		{name: "two Subjects", resp: func(r *ssotest.Response) {
			r.BeforeSign = func(d *etree.Document) {
				s := el(d, "./Assertion/Subject")
				s.Parent().InsertChildAt(s.Index()+1, s.Copy())
			}
		}, want: saml.CheckSubject},
		{name: "two NameIDs", resp: func(r *ssotest.Response) {
			r.BeforeSign = func(d *etree.Document) {
				n := el(d, "./Assertion/Subject/NameID")
				n.Parent().InsertChildAt(0, n.Copy())
			}
		}, want: saml.CheckSubject},
		{name: "two assertion Issuers", resp: func(r *ssotest.Response) {
			r.BeforeSign = func(d *etree.Document) {
				i := el(d, "./Assertion/Issuer")
				i.Parent().InsertChildAt(i.Index()+1, i.Copy())
			}
		}, want: saml.CheckIssuer},
		{name: "two Response Issuers (unsigned Response)", resp: func(r *ssotest.Response) {
			r.AfterSign = func(d *etree.Document) {
				i := el(d, "./Issuer")
				d.Root().InsertChildAt(i.Index()+1, i.Copy())
			}
		}, want: saml.CheckIssuer},
		{name: "assertion Issuer with a non-entity Format", resp: func(r *ssotest.Response) {
			r.BeforeSign = func(d *etree.Document) {
				el(d, "./Assertion/Issuer").CreateAttr("Format", "urn:oasis:names:tc:SAML:2.0:nameid-format:transient")
			}
		}, want: saml.CheckIssuer},

		// Binding: only signed content names the request answered.
		{name: "IdP-initiated opt-out bypass: request ID on the unsigned Response only", resp: func(r *ssotest.Response) {
			r.InResponseTo = ""
			r.AfterSign = func(d *etree.Document) { d.Root().CreateAttr("InResponseTo", testRequestID) }
		}, want: saml.CheckInResponseTo},
		{name: "IdP-initiated opt-out bypass, encrypted assertion", resp: func(r *ssotest.Response) {
			r.InResponseTo, r.EncryptFor = "", f.spCert
			r.AfterSign = func(d *etree.Document) { d.Root().CreateAttr("InResponseTo", testRequestID) }
		}, want: saml.CheckInResponseTo},
		{name: "request ID on the unsigned Response only, IdP-initiated allowed", cfg: func(c *saml.ValidatorConfig) { c.AllowIdPInitiated = true },
			resp: func(r *ssotest.Response) {
				r.InResponseTo = ""
				r.AfterSign = func(d *etree.Document) { d.Root().CreateAttr("InResponseTo", testRequestID) }
			}, want: saml.CheckInResponseTo},
		{name: "Response InResponseTo disagrees with the signed one (Response signed)", resp: func(r *ssotest.Response) {
			r.Sign = ssotest.SignResponse
			r.BeforeSign = func(d *etree.Document) { d.Root().CreateAttr("InResponseTo", "id-other") }
		}, requests: []string{testRequestID, "id-other"}, want: saml.CheckInResponseTo},
		{name: "Response InResponseTo disagrees with the signed one (both signed)", resp: func(r *ssotest.Response) {
			r.Sign = ssotest.SignBoth
			r.BeforeSign = func(d *etree.Document) { d.Root().CreateAttr("InResponseTo", "id-other") }
		}, requests: []string{testRequestID, "id-other"}, want: saml.CheckInResponseTo},
		{name: "Response InResponseTo disagrees with the signed one (encrypted)", resp: func(r *ssotest.Response) {
			r.EncryptFor = f.spCert
			r.AfterSign = func(d *etree.Document) { d.Root().CreateAttr("InResponseTo", "id-other") }
		}, requests: []string{testRequestID, "id-other"}, want: saml.CheckInResponseTo},
		{name: "unsolicited, IdP-initiated off", resp: func(r *ssotest.Response) { r.InResponseTo = "" }, want: saml.CheckUnsolicited},
		{name: "unsolicited, IdP-initiated off, Response signed", resp: func(r *ssotest.Response) {
			r.InResponseTo, r.Sign = "", ssotest.SignResponse
		}, want: saml.CheckUnsolicited},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v := f.validator(t, tc.cfg)
			var posted string
			if tc.raw != nil {
				posted = tc.raw(t, f)
			} else {
				posted = f.response(t, tc.resp)
			}
			reqs := tc.requests
			if reqs == nil {
				reqs = []string{testRequestID}
			}
			a, err := v.Validate(posted, reqs...)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Validate() err = %v; want %v", err, tc.want)
			}
			assert.Nil(t, a)
			var ve *saml.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, tc.want, ve.Check)
		})
	}
	t.Logf("%d cases", len(cases))
}

// TestValidateStrictAccepts: what the strict reader must still accept.
func TestValidateStrictAccepts(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	future := testNow.Add(8 * time.Hour).Format(time.RFC3339)
	cases := []struct {
		name string
		resp func(*ssotest.Response)
		raw  func(t *testing.T, posted string) string
	}{
		{name: "NameID SPNameQualifier naming us", resp: func(r *ssotest.Response) {
			r.BeforeSign = func(d *etree.Document) {
				el(d, "./Assertion/Subject/NameID").CreateAttr("SPNameQualifier", f.sp.EntityID)
			}
		}},
		{name: "SessionNotOnOrAfter in the future on two AuthnStatements", resp: func(r *ssotest.Response) {
			r.BeforeSign = func(d *etree.Document) {
				as := el(d, "./Assertion/AuthnStatement")
				as.CreateAttr("SessionNotOnOrAfter", future)
				as.Parent().InsertChildAt(as.Index()+1, as.Copy())
			}
		}},
		{name: "OneTimeUse and ProxyRestriction conditions", resp: func(r *ssotest.Response) {
			r.BeforeSign = func(d *etree.Document) {
				c := el(d, "./Assertion/Conditions")
				c.CreateElement("saml:OneTimeUse")
				c.CreateElement("saml:ProxyRestriction").CreateAttr("Count", "0")
			}
		}},
		{name: "prefixed attribute beside the unprefixed one", resp: func(r *ssotest.Response) {
			r.BeforeSign = func(d *etree.Document) {
				a := el(d, "./Assertion/AttributeStatement/Attribute[@Name='email']")
				a.CreateAttr("xmlns:x", "urn:x")
				a.CreateAttr("x:Name", "roles")
			}
		}},
		{name: `encoding="utf-8"`, raw: func(t *testing.T, posted string) string {
			return rewrite(t, posted, func(s string) string { return strings.Replace(s, `encoding="UTF-8"`, `encoding="utf-8"`, 1) })
		}},
		{name: "UTF-8 byte order mark", raw: func(t *testing.T, posted string) string { return b64("\ufeff" + decoded(t, posted)) }},
		{name: "white space after the root", raw: func(t *testing.T, posted string) string { return b64(decoded(t, posted) + "\r\n\t \n") }},
		{name: "raw DEFLATE", raw: func(t *testing.T, posted string) string { return deflate(t, decoded(t, posted)) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			posted := f.response(t, tc.resp)
			if tc.raw != nil {
				posted = tc.raw(t, posted)
			}
			a, err := f.validator(t, nil).Validate(posted, testRequestID)
			require.NoError(t, err)
			assert.Equal(t, alice.Email, a.NameID)
			assert.Equal(t, []string{alice.Email}, a.Attributes["email"])
			assert.Equal(t, testRequestID, a.InResponseTo)
		})
	}
}

// utf16LE encodes an ASCII-or-BMP string as UTF-16LE.
func utf16LE(s string) string {
	var b strings.Builder
	for _, r := range s {
		b.WriteByte(byte(r))
		b.WriteByte(byte(r >> 8))
	}
	return b.String()
}

// TestValidateUnverifiedTextNotEchoed: status codes and messages, Version,
// Destination, Issuer and InResponseTo of an unsigned Response are attacker
// text: a 900 KB value (posted as raw DEFLATE, under the size limit once
// inflated) never reaches the error, which stays under 1 KB.
func TestValidateUnverifiedTextNotEchoed(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	const marker = "URGENT: re-enter your owner password at https://evil.example "
	huge := strings.Repeat(marker, 900<<10/len(marker))
	cases := []struct {
		name string
		edit func(d *etree.Document)
		want saml.Check
	}{
		{name: "StatusMessage", edit: func(d *etree.Document) {
			el(d, "./Status/StatusCode").CreateAttr("Value", ssotest.StatusResponder)
			el(d, "./Status").CreateElement("samlp:StatusMessage").SetText(huge)
		}, want: saml.CheckStatus},
		{name: "StatusDetail", edit: func(d *etree.Document) {
			el(d, "./Status/StatusCode").CreateAttr("Value", ssotest.StatusResponder)
			el(d, "./Status").CreateElement("samlp:StatusDetail").SetText(huge)
		}, want: saml.CheckStatus},
		{name: "top-level StatusCode Value", edit: func(d *etree.Document) {
			el(d, "./Status/StatusCode").CreateAttr("Value", huge)
		}, want: saml.CheckStatus},
		{name: "second-level StatusCode Value", edit: func(d *etree.Document) {
			sc := el(d, "./Status/StatusCode")
			sc.CreateAttr("Value", ssotest.StatusRequester)
			sc.CreateElement("samlp:StatusCode").CreateAttr("Value", huge)
		}, want: saml.CheckStatus},
		{name: "Response Version", edit: func(d *etree.Document) { d.Root().CreateAttr("Version", huge) }, want: saml.CheckSchema},
		{name: "Response Destination", edit: func(d *etree.Document) { d.Root().CreateAttr("Destination", huge) }, want: saml.CheckDestination},
		{name: "Response Issuer", edit: func(d *etree.Document) { el(d, "./Issuer").SetText(huge) }, want: saml.CheckIssuer},
		{name: "Response InResponseTo", edit: func(d *etree.Document) { d.Root().CreateAttr("InResponseTo", huge) }, want: saml.CheckInResponseTo},
		{name: "Response ID", edit: func(d *etree.Document) {
			d.Root().CreateAttr("ID", huge)
			el(d, "./Status/StatusCode").CreateAttr("Value", ssotest.StatusResponder)
		}, want: saml.CheckStatus},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			doc, err := f.idp.BuildResponse(ssotest.Response{SP: f.sp, InResponseTo: testRequestID, User: alice})
			require.NoError(t, err)
			tc.edit(doc)
			xml, err := doc.WriteToString()
			require.NoError(t, err)
			require.Greater(t, len(xml), 900<<10)
			_, err = f.validator(t, nil).Validate(deflate(t, xml), testRequestID)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Validate() err = %.300v; want %v", err, tc.want)
			}
			assert.Less(t, len(err.Error()), 1024, "error length")
			assert.NotContains(t, err.Error(), "URGENT")
			assert.NotContains(t, err.Error(), "evil.example")
		})
	}
}

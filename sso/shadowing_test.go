package sso_test

import (
	"crypto/x509"
	"errors"
	"testing"

	"github.com/beevik/etree"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgsso/orgsso/rolemap"
	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/sso/ssotest"
)

// Attribute shadowing (issue 9): exclusive C14N drops a namespace
// declaration nothing uses, so xmlns:Name="email" can be added to a signed
// element without breaking its signature. A prefix-blind reader (etree's
// SelectAttr) read it as the attribute Name. Every attribute the Validator
// reads is shadowed here, on the element that carries it, in every sign mode.

// shadowMode is a way an IdP signs (and encrypts) a response.
type shadowMode struct {
	name    string
	sign    ssotest.SignMode
	encrypt string // data encryption URI; "" = not encrypted
}

var shadowModes = []shadowMode{
	{name: "SignAssertion", sign: ssotest.SignAssertion},
	{name: "SignResponse", sign: ssotest.SignResponse},
	{name: "SignBoth", sign: ssotest.SignBoth},
	{name: "encrypted SignAssertion GCM", sign: ssotest.SignAssertion, encrypt: ssotest.EncryptionAES256GCM},
	{name: "encrypted SignResponse CBC", sign: ssotest.SignResponse, encrypt: ssotest.EncryptionAES128CBC},
	{name: "encrypted SignBoth GCM", sign: ssotest.SignBoth, encrypt: ssotest.EncryptionAES128GCM},
}

// shadow puts the declaration xmlns:attr="value" first on el, before the
// attribute it shadows (a first-match reader would find it first).
func shadow(el *etree.Element, attr, value string) {
	if el == nil {
		panic("shadow: element not found")
	}
	el.CreateAttr("xmlns:"+attr, value)
	n := len(el.Attr)
	el.Attr = append([]etree.Attr{el.Attr[n-1]}, el.Attr[:n-1]...)
}

func find(el *etree.Element, path string) *etree.Element {
	if path == "." {
		return el
	}
	return el.FindElement(path)
}

// modeResponse sets the knobs of mode m (encrypting for spCert) and, with
// edit, a change made after signing: to the Response (inAssertion false,
// after all signing and encryption) or to the signed Assertion (before it is
// encrypted). An AfterSign already set runs first.
func modeResponse(m shadowMode, spCert *x509.Certificate, inAssertion bool, edit func(*etree.Element)) func(*ssotest.Response) {
	return func(r *ssotest.Response) {
		r.Sign = m.sign
		r.ResponseID, r.AssertionID = "_shadow_response", "_shadow_assertion"
		if m.encrypt != "" {
			r.EncryptFor, r.EncryptionMethod = spCert, m.encrypt
		}
		if edit == nil {
			return
		}
		if inAssertion && m.encrypt != "" {
			r.BeforeEncrypt = edit
			return
		}
		prior := r.AfterSign
		r.AfterSign = func(d *etree.Document) {
			if prior != nil {
				prior(d)
			}
			if inAssertion {
				edit(d.Root().FindElement("./Assertion"))
			} else {
				edit(d.Root())
			}
		}
	}
}

// TestACSShadowedAttributeNamesNeverSignInAsOwner: a member whose
// last_name holds the owner's address and whose first_name holds a role
// that maps to admin shadows the Attribute names (email → nickname,
// last_name → email, first_name → roles). HandleACS signs them in as
// themselves, with their own role, in every sign mode.
func TestACSShadowedAttributeNamesNeverSignInAsOwner(t *testing.T) {
	t.Parallel()
	for _, m := range shadowModes[:3] {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, nil)
			mallory := user("mallory@acme.example", "Contentstack Developers")
			mallory.LastName, mallory.FirstName = ownerEmail, "Admins"
			id, relay := e.start(t, "/")
			posted, err := e.idp.Response(e.resp(id, mallory, modeResponse(m, nil, true, func(a *etree.Element) {
				shadow(find(a, "./AttributeStatement/Attribute[@Name='email']"), "Name", "nickname")
				shadow(find(a, "./AttributeStatement/Attribute[@Name='last_name']"), "Name", "email")
				shadow(find(a, "./AttributeStatement/Attribute[@Name='first_name']"), "Name", "roles")
				shadow(find(a, "./Subject/NameID"), "Format", "urn:oasis:names:tc:SAML:2.0:nameid-format:transient")
			})))
			require.NoError(t, err)
			res, err := e.post(t, posted, relay)
			require.NoError(t, err)
			assert.Equal(t, "mallory@acme.example", res.Identity.Email)
			assert.Equal(t, ownerEmail, res.Identity.LastName, "last_name is read as last_name")
			require.NotNil(t, res.Member)
			assert.NotEqual(t, ownerID, res.Member.UserID)
			assert.Equal(t, rolemap.RoleMember, res.Member.OrgRole, "first_name must not be read as roles")
			owner := e.member(t, ownerEmail)
			assert.Equal(t, ownerID, owner.UserID)
			assert.Equal(t, rolemap.RoleOwner, owner.OrgRole)
		})
	}
}

// TestACSShadowedAssertionIDIsStillReplay: xmlns:ID on the Assertion (or the
// Response) of a used response does not make a new replay-cache key.
func TestACSShadowedAssertionIDIsStillReplay(t *testing.T) {
	t.Parallel()
	for _, m := range shadowModes[:3] {
		for _, evil := range []string{"_fresh", "urn:oasis:names:tc:SAML:2.0:assertion"} {
			t.Run(m.name+"/"+evil, func(t *testing.T) {
				t.Parallel()
				e := newEnv(t, nil)
				id, relay := e.start(t, "/")
				doc, err := e.idp.BuildResponse(e.resp(id, user("alice@acme.example", "Admins"), modeResponse(m, nil, false, nil)))
				require.NoError(t, err)
				first, err := doc.WriteToString()
				require.NoError(t, err)
				_, err = e.post(t, b64(first), relay)
				require.NoError(t, err)

				for _, edit := range []func(root *etree.Element){
					func(root *etree.Element) { shadow(root.FindElement("./Assertion"), "ID", evil) },
					func(root *etree.Element) { shadow(root, "ID", evil) },
				} {
					again := doc.Copy()
					edit(again.Root())
					s, err := again.WriteToString()
					require.NoError(t, err)
					_, err = e.post(t, b64(s), relay)
					if !errors.Is(err, sso.ErrReplay) {
						t.Errorf("resubmitted response with xmlns:ID err = %v; want ErrReplay", err)
					}
				}
			})
		}
	}
}

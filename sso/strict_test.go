package sso_test

import (
	"bytes"
	"compress/flate"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/beevik/etree"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgsso/orgsso/saml"
	"github.com/orgsso/orgsso/sso"
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

// TestACSUnverifiedTextNotLogged: the same through HandleACS: neither the
// error, the failure event nor the log carries the attacker's text.
func TestACSUnverifiedTextNotLogged(t *testing.T) {
	t.Parallel()
	const marker = "URGENT: re-enter your owner password at https://evil.example "
	huge := strings.Repeat(marker, 900<<10/len(marker))
	for _, tc := range []struct {
		name string
		edit func(d *etree.Document)
	}{
		{name: "StatusMessage", edit: func(d *etree.Document) {
			el(d, "./Status/StatusCode").CreateAttr("Value", ssotest.StatusResponder)
			el(d, "./Status").CreateElement("samlp:StatusMessage").SetText(huge)
		}},
		{name: "StatusCode Value", edit: func(d *etree.Document) { el(d, "./Status/StatusCode").CreateAttr("Value", huge) }},
		{name: "Version", edit: func(d *etree.Document) { d.Root().CreateAttr("Version", huge) }},
		{name: "Destination", edit: func(d *etree.Document) { d.Root().CreateAttr("Destination", huge) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, nil)
			id, relay := e.start(t, "/")
			doc, err := e.idp.BuildResponse(e.resp(id, user("alice@acme.example", "Admins"), nil))
			require.NoError(t, err)
			tc.edit(doc)
			xml, err := doc.WriteToString()
			require.NoError(t, err)
			_, err = e.post(t, deflate(t, xml), relay)
			require.ErrorIs(t, err, sso.ErrInvalidResponse)
			assert.Less(t, len(err.Error()), 1024)
			assert.NotContains(t, err.Error(), "URGENT")
			for _, ev := range e.eventsOf(sso.EventSignInFailed) {
				require.Error(t, ev.Err)
				assert.Less(t, len(ev.Err.Error()), 1024)
				assert.NotContains(t, ev.Err.Error(), "URGENT")
				assert.NotContains(t, ev.Email, "URGENT")
			}
			assert.NotContains(t, e.logs.String(), "URGENT")
			assert.Less(t, len(e.logs.String()), 16<<10, "log volume of one failed post")
		})
	}
}

// TestACSIdPInitiatedOptOutBypass: an attacker starts a sign-in (any
// visitor can), puts its request ID on the unsigned Response around an
// unsolicited assertion signed for them, and posts it: refused, and the
// pending request is not used up by it.
func TestACSIdPInitiatedOptOutBypass(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	id, relay := e.start(t, "/")
	posted, err := e.idp.Response(e.resp("", user("mallory@acme.example", "Admins"), func(r *ssotest.Response) {
		r.AfterSign = func(d *etree.Document) { d.Root().CreateAttr("InResponseTo", id) }
	}))
	require.NoError(t, err)
	_, err = e.post(t, posted, relay)
	if !errors.Is(err, saml.CheckInResponseTo) && !errors.Is(err, saml.CheckUnsolicited) {
		t.Fatalf("HandleACS() err = %v; want CheckInResponseTo or CheckUnsolicited", err)
	}
	posted, err = e.idp.Response(e.resp(id, user("alice@acme.example", "Admins"), nil))
	require.NoError(t, err)
	_, err = e.post(t, posted, relay)
	require.NoError(t, err, "the genuine response to the request")
}

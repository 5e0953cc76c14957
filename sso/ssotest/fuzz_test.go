package ssotest_test

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/beevik/etree"

	"github.com/orgsso/orgsso/sso/ssotest"
)

// FuzzResponse: no input makes BuildResponse panic, and text made of
// printable characters always gives a document that parses and whose
// signature verifies.
func FuzzResponse(f *testing.F) {
	f.Add("ada@example.com", "Ada", "eng", "_a1", "id-1")
	f.Add("", "", "", "", "")
	f.Add("<a>&amp;\"'", "]]>", "x\x00y", "a b", "\xff")
	f.Add("ünïcödé@example.com", "\u2028", "r1,r2", "-", "id-\t")
	idp, err := ssotest.New(ssotest.Config{Now: fixedNow, Rand: seeded(9), Key: idpKey()})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, email, name, role, assertionID, inResponseTo string) {
		doc, err := idp.BuildResponse(ssotest.Response{
			SP:           testSP,
			User:         ssotest.User{Email: email, FirstName: name, Roles: []string{role}},
			AssertionID:  assertionID,
			InResponseTo: inResponseTo,
			OmitNameID:   email == "",
		})
		if err != nil {
			return
		}
		if !printable(email, name, role, assertionID, inResponseTo) {
			return
		}
		s, err := doc.WriteToString()
		if err != nil {
			t.Fatalf("WriteToString() err = %v", err)
		}
		parsed := etree.NewDocument()
		if err := parsed.ReadFromString(s); err != nil {
			t.Fatalf("response does not parse: %v", err)
		}
		if strings.TrimSpace(assertionID) != assertionID || strings.ContainsAny(assertionID, " #") {
			return // not an xs:ID: no valid reference to it
		}
		if err := verify(assertionOf(parsed), idp.Certificate()); err != nil {
			t.Errorf("signature does not verify: %v", err)
		}
	})
}

func printable(ss ...string) bool {
	for _, s := range ss {
		if !utf8.ValidString(s) {
			return false
		}
		for _, r := range s {
			if !unicode.IsPrint(r) || r == '\r' {
				return false
			}
		}
	}
	return true
}

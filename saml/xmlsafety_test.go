package saml

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	xrv "github.com/mattermost/xml-roundtrip-validator"
)

// xmlSafetySeeds are the encoding/xml round-trip payloads known to fool
// parsers (mattermost's advisories) plus plain SAML.
var xmlSafetySeeds = []string{
	`<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_1" Version="2.0"/>`,
	`<r><x:y:z xmlns:x="urn:x"/></r>`,
	`<r><a xmlns:xmlns="urn:evil"/></r>`,
	`<r><!x></r>`,
	`<r><a:b xmlns:a="urn:a" a:c:d="1"/></r>`,
	`<r xmlns:a=""><a:b/></r>`,
	`<r><:a/></r>`,
	`<r><a: /></r>`,
	`<r a="1" a="2"/>`,
	`<r><b:c/></r>`,
	`<r xmlns:x="urn:x" x:a="1" x:a="2"/>`,
	`<r><![CDATA[x]]>&amp;&#x41;</r>`,
	"<r>\r\n\t</r>",
	`<?xml version="1.0"?><!-- c --><r/>`,
	`<r xmlns="urn:d"><s xmlns=""/></r>`,
}

// FuzzXMLSafety holds the single-pass checks of parseSafeXML to mattermost's
// xml-roundtrip-validator, which they replace: any document the validator
// refuses, parseSafeXML refuses too.
func FuzzXMLSafety(f *testing.F) {
	for _, s := range xmlSafetySeeds {
		f.Add([]byte(s))
	}
	// The FuzzValidate corpus: whole signed responses and attack shapes.
	files, _ := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzValidate", "*"))
	for _, file := range files {
		if b, err := os.ReadFile(file); err == nil {
			lines := strings.SplitN(string(b), "\n", 3)
			if len(lines) >= 2 {
				q := strings.TrimSuffix(strings.TrimPrefix(lines[1], "[]byte("), ")")
				if s, err := strconv.Unquote(q); err == nil {
					f.Add([]byte(s))
				}
			}
		}
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		_, ours := parseSafeXML(raw)
		if ours != nil {
			return
		}
		if err := xrv.Validate(bytes.NewReader(raw)); err != nil {
			t.Fatalf("parseSafeXML accepted what the round-trip validator refuses (%v):\n%q", err, raw)
		}
	})
}

func TestXMLSafetyRefusesRoundTripPayloads(t *testing.T) {
	for _, s := range xmlSafetySeeds {
		xrvErr := xrv.Validate(strings.NewReader(s))
		_, ours := parseSafeXML([]byte(s))
		if xrvErr != nil && ours == nil {
			t.Errorf("parseSafeXML(%q) accepted; round-trip validator says %v", s, xrvErr)
		}
	}
}

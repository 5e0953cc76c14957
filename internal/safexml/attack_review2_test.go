package safexml

// Attacker review 2 (branch review2). Passing tests: refusals that held.
// Tests that were findings now assert the fix.

import (
	"strconv"
	"strings"
	"testing"
)

func ar2Parse(s string, opts Options) error { _, err := Parse([]byte(s), opts); return err }

// The markup bound counts `="` and `='`; XML allows white space around '='.
func TestAttackReview2MarkupBoundSpacedAssignments(t *testing.T) {
	var b strings.Builder
	b.WriteString("<r")
	for i := range DefaultMaxMarkup + 10000 {
		b.WriteString(" a" + strconv.Itoa(i) + `= ""`)
	}
	b.WriteString("/>")
	t.Logf("%d bytes, %d attributes", b.Len(), DefaultMaxMarkup+10000)
	if err := ar2Parse(b.String(), Options{}); err == nil {
		t.Errorf("70,000 attributes written `a= \"\"` pass the 60,000 markup bound (was a finding: only `=\"`/`='` were counted)")
	}
}

// Text outside the document element: char refs / CDATA after the XML
// declaration (the byte check only looks at the first and last bytes).
func TestAttackReview2CharRefAfterDeclaration(t *testing.T) {
	for _, s := range []string{
		`<?xml version="1.0"?>&#32;<a/>`,
		`<?xml version="1.0"?><![CDATA[ ]]><a/>`,
	} {
		if err := ar2Parse(s, Options{}); err == nil {
			t.Errorf("%s is accepted (was a finding: refused only without the declaration)", s)
		}
	}
}

// Metadata (comments allowed): CDATA / char ref after the root, then a comment.
func TestAttackReview2CDATAThenCommentAfterRoot(t *testing.T) {
	for _, s := range []string{`<a/><![CDATA[ ]]><!--c-->`, `<a/>&#10;<!--c-->`, `<!--c-->&#32;<a/>`} {
		if err := ar2Parse(s, Options{AllowComments: true}); err == nil {
			t.Errorf("%s accepted with AllowComments (was a finding: the byte check saw '<' … '>')", s)
		}
	}
}

// Held: '>' / ']]>' inside a trailing comment, BOM + white space.
func TestAttackReview2TrailingShapesHeld(t *testing.T) {
	ok := []struct {
		s    string
		opts Options
	}{
		{"\xef\xbb\xbf \r\n\t<a/>\n", Options{}},
		{"<a/><!-- ]]> -->", Options{AllowComments: true}},
		{"<a/><!-- > -->\n", Options{AllowComments: true}},
	}
	for _, c := range ok {
		if err := ar2Parse(c.s, c.opts); err != nil {
			t.Errorf("%q refused: %v", c.s, err)
		}
	}
	bad := []string{"<a/>&#32;", "&#32;<a/>", "<![CDATA[ ]]><a/>", "<a/><![CDATA[ ]]>", "\xef\xbb\xbf\xef\xbb\xbf<a/>",
		"<a/>\xef\xbb\xbf", `<p:1a xmlns:p="urn:x"/>`, `<a p:1b="" xmlns:p="urn:x"/>`, `<a:b:c xmlns:a="u"/>`}
	for _, s := range bad {
		if err := ar2Parse(s, Options{}); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
}

// Held: 65 prefixes in scope refused, 64 accepted; redeclaring one prefix on
// nested elements does not grow the scope.
func TestAttackReview2PrefixBound(t *testing.T) {
	decl := func(n int) string {
		var b strings.Builder
		for i := range n {
			b.WriteString(` xmlns:p` + strconv.Itoa(i) + `="urn:x"`)
		}
		return b.String()
	}
	if err := ar2Parse("<a"+decl(64)+"/>", Options{}); err != nil {
		t.Errorf("64: %v", err)
	}
	if err := ar2Parse("<a"+decl(65)+"/>", Options{}); err == nil {
		t.Error("65 prefixes accepted")
	}
	if err := ar2Parse("<a"+decl(40)+"><b"+decl(40)+"><c"+strings.Replace(decl(30), "p", "q", -1)+"/></b></a>", Options{}); err == nil {
		t.Error("70 distinct prefixes over nested elements accepted")
	}
}

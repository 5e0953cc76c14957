package xmldsig

import (
	"strings"

	"github.com/beevik/etree"
)

// Where goxmldsig and the specification part ways. The differential tests and
// the fuzz target compare byte for byte except on inputs in one of these
// classes, each of which TestKnownDivergences pins down with the output the
// specification (and libxml2, and xmlsec) gives.

type divergence string

const (
	// goxmldsig sorts prefixed attributes by local name, not namespace URI
	// then local name (xml:lang before xsi:type; spec: xsi:type first).
	divAttrOrder divergence = "prefixed attributes from two namespaces on one element"
	// goxmldsig writes xmlns="" whenever an xmlns="" is in scope and no
	// default namespace was written yet, even at the apex; the specification
	// writes it only to undo a written default namespace.
	divEmptyDefault divergence = `xmlns="" in scope`
	// goxmldsig ignores the "#default" token of a PrefixList.
	divHashDefault divergence = "#default in the PrefixList"
	// goxmldsig accepts what Namespaces in XML forbids; we refuse it.
	divNotNSWellFormed divergence = "not namespace-well-formed"
)

// knownDivergences returns the classes the canonicalisation of el (with the
// given PrefixList) falls in. Namespaces are resolved from el's ancestors.
func knownDivergences(el *etree.Element, prefixList string) map[divergence]bool {
	out := map[divergence]bool{}
	for _, p := range strings.Fields(prefixList) {
		if p == "#default" {
			out[divHashDefault] = true
		}
	}
	var chain []*etree.Element
	for p := el.Parent(); p != nil; p = p.Parent() {
		chain = append(chain, p)
	}
	for _, a := range chain {
		checkDeclsForDivergence(a, out)
	}
	if emptyDefaultBug(el) {
		out[divEmptyDefault] = true
	}
	for _, e := range allElements(el) {
		checkDeclsForDivergence(e, out)
		if e.Space == "xmlns" {
			out[divNotNSWellFormed] = true
		}
		for _, tok := range e.Child {
			if _, ok := tok.(*etree.Directive); ok {
				out[divNotNSWellFormed] = true
			}
		}
		seen := map[string]bool{}
		firstNS := ""
		for i := range e.Attr {
			a := &e.Attr[i]
			if _, ok := declPrefix(a); ok {
				continue
			}
			ns := ""
			if a.Space != "" {
				ns = resolveTest(e, a.Space)
				if firstNS == "" {
					firstNS = ns
				} else if ns != firstNS {
					out[divAttrOrder] = true
				}
			}
			if seen[ns+" "+a.Key] {
				out[divNotNSWellFormed] = true
			}
			seen[ns+" "+a.Key] = true
		}
	}
	return out
}

func checkDeclsForDivergence(e *etree.Element, out map[divergence]bool) {
	for i := range e.Attr {
		p, ok := declPrefix(&e.Attr[i])
		if !ok {
			continue
		}
		if checkDecl(p, e.Attr[i].Value) != nil {
			out[divNotNSWellFormed] = true
		}
	}
}

// resolveTest resolves prefix at e by walking up the tree ("?" if undeclared).
func resolveTest(e *etree.Element, prefix string) string {
	if prefix == "xml" {
		return nsXML
	}
	for ; e != nil; e = e.Parent() {
		for i := range e.Attr {
			if p, ok := declPrefix(&e.Attr[i]); ok && p == prefix {
				return e.Attr[i].Value
			}
		}
	}
	return "?"
}

// emptyDefaultBug reports whether goxmldsig writes an xmlns="" that the
// specification does not: on an unprefixed element with xmlns="" in scope
// before any default namespace was written in its output ancestry.
func emptyDefaultBug(el *etree.Element) bool {
	explicit := false // an xmlns="" or xmlns="u" is in scope
	value := ""
	for p := el.Parent(); p != nil; p = p.Parent() {
		if v, ok := defaultDecl(p); ok {
			explicit, value = true, v
			break
		}
	}
	type st struct {
		el              *etree.Element
		explicit        bool
		value           string
		goxmlWroteDeflt bool // goxmldsig's declared[""] is no longer its sentinel
	}
	stack := []st{{el, explicit, value, false}}
	for len(stack) > 0 {
		s := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if v, ok := defaultDecl(s.el); ok {
			s.explicit, s.value = true, v
		}
		if s.el.Space == "" && s.explicit {
			if s.value == "" && !s.goxmlWroteDeflt {
				return true
			}
			s.goxmlWroteDeflt = true
		}
		for _, c := range s.el.ChildElements() {
			stack = append(stack, st{c, s.explicit, s.value, s.goxmlWroteDeflt})
		}
	}
	return false
}

func defaultDecl(e *etree.Element) (string, bool) {
	for i := range e.Attr {
		if p, ok := declPrefix(&e.Attr[i]); ok && p == "" {
			return e.Attr[i].Value, true
		}
	}
	return "", false
}

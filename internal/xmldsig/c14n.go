package xmldsig

import (
	"errors"
	"io"
	"slices"
	"strings"

	"github.com/beevik/etree"

	"github.com/orgsso/orgsso/internal/safexml"
)

// CanonicalizeExclusive returns the Exclusive XML Canonicalization 1.0 (without
// comments) of the subtree rooted at el, leaving out exclude and its subtree
// when exclude is not nil (the enveloped-signature transform).
//
// inherited maps each namespace prefix in scope at el's parent to its URI (""
// for the default namespace); when it is nil, the namespaces are read from el's
// ancestors in its etree tree, which is what a caller with a parsed document
// wants. prefixList is the InclusiveNamespaces PrefixList, one prefix per
// entry, "#default" for the default namespace.
//
// The tree is read, never modified or copied. Errors wrap ErrMalformed.
func CanonicalizeExclusive(el *etree.Element, inherited map[string]string, prefixList []string, exclude *etree.Element) ([]byte, error) {
	c := canonicalizer{buf: make([]byte, 0, 4096)}
	if err := c.run(el, inherited, el, prefixList, exclude); err != nil {
		return nil, err
	}
	return c.buf, nil
}

// WriteExclusive is CanonicalizeExclusive writing to w in chunks of a few
// kilobytes, so that a digest can be computed without holding the canonical
// form in memory. An error from w is returned as is.
func WriteExclusive(w io.Writer, el *etree.Element, inherited map[string]string, prefixList []string, exclude *etree.Element) error {
	c := canonicalizer{w: w, buf: make([]byte, 0, flushSize+1024)}
	return c.run(el, inherited, el, prefixList, exclude)
}

// flushSize is how much canonical output is buffered before a Write.
const flushSize = 8 << 10

// canonicalizer holds the state of one canonicalisation. Namespace scopes are
// two maps with undo logs: entering an element records what its declarations
// change, leaving it restores that, so the cost is linear in the tree.
type canonicalizer struct {
	w   io.Writer // nil: everything stays in buf
	buf []byte

	scope    safexml.Scope // prefix -> URI in scope at the current element
	rendered safexml.Scope // prefix -> URI declared by the nearest output ancestor that utilised it

	inclusive     map[string]bool // the PrefixList; "" is #default
	inclusiveList []string        // the same, in list order (deterministic)
	exclude       *etree.Element
	excluded      bool

	decls []outDecl // scratch for one element
	attrs []outAttr // scratch for one element
}

type outDecl struct{ prefix, uri string }

type outAttr struct {
	uri string
	a   *etree.Attr
}

type frame struct {
	el                  *etree.Element
	next                int // index of the next child token
	scopeMark, rendMark int // undo log lengths before the element was entered
}

// run canonicalises el. The namespaces in scope at el's parent are inherited
// plus the declarations of el's ancestors up to and including top (top == el:
// none); with inherited nil, all of el's ancestors.
func (c *canonicalizer) run(el *etree.Element, inherited map[string]string, top *etree.Element, prefixList []string, exclude *etree.Element) error {
	if el == nil {
		return malformed("no element to canonicalise")
	}
	if exclude == el {
		return malformed("the excluded element is the element being canonicalised")
	}
	c.exclude = exclude
	c.scope, c.rendered = safexml.Scope{}, safexml.Scope{}
	if err := c.initScope(el, inherited, top); err != nil {
		return err
	}
	for _, p := range prefixList {
		if p == "#default" {
			p = ""
		} else if p == "" {
			continue
		}
		if c.inclusive == nil {
			c.inclusive = make(map[string]bool)
		}
		if !c.inclusive[p] {
			c.inclusive[p] = true
			c.inclusiveList = append(c.inclusiveList, p)
		}
	}

	if err := c.start(el, true); err != nil {
		return err
	}
	stack := make([]frame, 1, 16)
	stack[0] = frame{el: el}
	for len(stack) > 0 {
		f := &stack[len(stack)-1]
		if f.next == len(f.el.Child) {
			c.buf = append(c.buf, "</"...)
			c.buf = appendName(c.buf, f.el.Space, f.el.Tag)
			c.buf = append(c.buf, '>')
			c.scope.Restore(f.scopeMark)
			c.rendered.Restore(f.rendMark)
			stack = stack[:len(stack)-1]
			continue
		}
		tok := f.el.Child[f.next]
		f.next++
		switch t := tok.(type) {
		case *etree.Element:
			if t == nil {
				return malformed("nil element in the tree")
			}
			if t == c.exclude {
				c.excluded = true
				continue
			}
			sm, rm := c.scope.Mark(), c.rendered.Mark()
			if err := c.start(t, false); err != nil {
				return err
			}
			stack = append(stack, frame{el: t, scopeMark: sm, rendMark: rm})
		case *etree.CharData:
			if t != nil {
				c.buf = appendEscaped(c.buf, t.Data, false)
			}
		case *etree.Comment:
			// exc-c14n without comments
		case *etree.ProcInst:
			if t != nil {
				c.buf = appendProcInst(c.buf, t)
			}
		case *etree.Directive:
			return malformed("directive inside an element")
		default:
			return malformed("unknown token in the tree")
		}
		if c.w != nil && len(c.buf) >= flushSize {
			if err := c.flush(); err != nil {
				return err
			}
		}
	}
	if c.exclude != nil && !c.excluded {
		return malformed("the element to exclude is not in the canonicalised subtree")
	}
	if c.w != nil {
		return c.flush()
	}
	return nil
}

func (c *canonicalizer) flush() error {
	if len(c.buf) == 0 {
		return nil
	}
	_, err := c.w.Write(c.buf)
	c.buf = c.buf[:0]
	return err
}

// initScope fills c.scope with the namespaces in scope at el's parent.
func (c *canonicalizer) initScope(el *etree.Element, inherited map[string]string, top *etree.Element) error {
	for p, uri := range inherited {
		if err := checkDecl(p, uri); err != nil {
			return err
		}
		if p != "xml" {
			c.scope.Set(p, uri)
		}
	}
	var chain []*etree.Element
	if inherited == nil {
		for p := el.Parent(); p != nil; p = p.Parent() {
			chain = append(chain, p)
		}
	} else if top != el {
		p := el.Parent()
		for ; p != nil; p = p.Parent() {
			chain = append(chain, p)
			if p == top {
				break
			}
		}
		if p == nil {
			return malformed("namespace context element is not an ancestor")
		}
	}
	for i := len(chain) - 1; i >= 0; i-- {
		for j := range chain[i].Attr {
			a := &chain[i].Attr[j]
			p, ok := declPrefix(a)
			if !ok {
				continue
			}
			if err := checkDecl(p, a.Value); err != nil {
				return err
			}
			if p != "xml" {
				c.scope.Set(p, a.Value)
			}
		}
	}
	return nil
}

// declPrefix returns the prefix a namespace declaration declares ("" for the
// default namespace), and whether a is one: the strict reader's rule.
func declPrefix(a *etree.Attr) (string, bool) { return safexml.DeclaredPrefix(a) }

// checkDecl enforces the constraints of Namespaces in XML 1.0 §3 on one
// declaration (the strict reader's rule), as an ErrMalformed of this package.
func checkDecl(prefix, uri string) error {
	if err := safexml.CheckDeclaration(prefix, uri); err != nil {
		var se *safexml.Error
		if errors.As(err, &se) {
			return malformed(se.Reason)
		}
		return malformed("namespace declaration")
	}
	return nil
}

// lookup returns the URI of prefix in the current scope.
func (c *canonicalizer) lookup(prefix string) (string, error) {
	switch prefix {
	case "":
		return c.scope.Get(""), nil
	case "xml":
		return nsXML, nil
	case "xmlns":
		return "", malformed("the xmlns prefix is used on a name")
	}
	uri, ok := c.scope.Lookup(prefix)
	if !ok {
		return "", malformed("namespace prefix " + truncate(prefix) + " is not declared")
	}
	return uri, nil
}

// utilize renders the namespace of a visibly utilised prefix (not in the
// PrefixList) unless the nearest output ancestor that utilised it declared the
// same URI. The default namespace counts as declared "" until rendered, so
// xmlns="" appears only to undo a rendered default namespace.
func (c *canonicalizer) utilize(prefix, uri string) {
	if prefix == "xml" || c.inclusive[prefix] {
		return
	}
	if c.rendered.Get(prefix) != uri {
		c.decls = append(c.decls, outDecl{prefix, uri})
		c.rendered.Set(prefix, uri)
	}
}

// include renders a PrefixList namespace in scope unless the output parent
// already has it (the inclusive C14N rule).
func (c *canonicalizer) include(prefix string) {
	if prefix == "xml" {
		return
	}
	uri, ok := c.scope.Lookup(prefix)
	if !ok && prefix != "" {
		return
	}
	if c.rendered.Get(prefix) != uri {
		c.decls = append(c.decls, outDecl{prefix, uri})
		c.rendered.Set(prefix, uri)
	}
}

// start enters el: updates the scopes and writes its start tag.
func (c *canonicalizer) start(el *etree.Element, apex bool) error {
	c.decls = c.decls[:0]
	c.attrs = c.attrs[:0]
	if el.Tag == "" {
		return malformed("element without a name")
	}
	declares := false
	for i := range el.Attr {
		a := &el.Attr[i]
		p, ok := declPrefix(a)
		if !ok {
			continue
		}
		if err := checkDecl(p, a.Value); err != nil {
			return err
		}
		declares = true
		if p != "xml" {
			c.scope.Set(p, a.Value)
		}
	}

	uri, err := c.lookup(el.Space)
	if err != nil {
		return err
	}
	c.utilize(el.Space, uri)
	for i := range el.Attr {
		a := &el.Attr[i]
		if _, ok := declPrefix(a); ok {
			continue
		}
		uri := ""
		if a.Space != "" {
			if uri, err = c.lookup(a.Space); err != nil {
				return err
			}
			c.utilize(a.Space, uri)
		}
		c.attrs = append(c.attrs, outAttr{uri, a})
	}
	if len(c.inclusive) > 0 {
		if apex {
			for _, p := range c.inclusiveList {
				c.include(p)
			}
		} else if declares {
			for i := range el.Attr {
				if p, ok := declPrefix(&el.Attr[i]); ok && c.inclusive[p] {
					c.include(p)
				}
			}
		}
	}

	slices.SortFunc(c.decls, func(x, y outDecl) int { return strings.Compare(x.prefix, y.prefix) })
	slices.SortFunc(c.attrs, func(x, y outAttr) int {
		if n := strings.Compare(x.uri, y.uri); n != 0 {
			return n
		}
		return strings.Compare(x.a.Key, y.a.Key)
	})
	for i := 1; i < len(c.attrs); i++ {
		if c.attrs[i].uri == c.attrs[i-1].uri && c.attrs[i].a.Key == c.attrs[i-1].a.Key {
			return malformed("two attributes named " + truncate(c.attrs[i].a.Key) + " in one namespace")
		}
	}

	c.buf = append(c.buf, '<')
	c.buf = appendName(c.buf, el.Space, el.Tag)
	for _, d := range c.decls {
		if d.prefix == "" {
			c.buf = append(c.buf, ` xmlns="`...)
		} else {
			c.buf = append(c.buf, ` xmlns:`...)
			c.buf = append(c.buf, d.prefix...)
			c.buf = append(c.buf, `="`...)
		}
		c.buf = appendEscaped(c.buf, d.uri, true)
		c.buf = append(c.buf, '"')
	}
	for _, at := range c.attrs {
		c.buf = append(c.buf, ' ')
		c.buf = appendName(c.buf, at.a.Space, at.a.Key)
		c.buf = append(c.buf, `="`...)
		c.buf = appendEscaped(c.buf, at.a.Value, true)
		c.buf = append(c.buf, '"')
	}
	c.buf = append(c.buf, '>')
	return nil
}

func appendName(dst []byte, space, local string) []byte {
	if space != "" {
		dst = append(dst, space...)
		dst = append(dst, ':')
	}
	return append(dst, local...)
}

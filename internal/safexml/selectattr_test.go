package safexml_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// prefixBlindAllowed lists the non-test files of the module that may use
// etree's prefix-blind lookups, each with the reason (none today: even
// ssotest reads its own trees through this package). Everything else reads
// XML only through this package (Attr, Doc.Child, …).
var prefixBlindAllowed = map[string]string{}

// TestNoPrefixBlindLookups fails on every use, in a non-test Go file of the
// module, of etree's SelectAttr / SelectAttrValue (which match an attribute
// by local name under any prefix, xmlns included: xmlns:Name="email" is read
// as Name) and of etree path predicates on attributes ("[@Name='x']"),
// which match the same way.
func TestNoPrefixBlindLookups(t *testing.T) {
	root := moduleRoot(t)
	fset := token.NewFileSet()
	found := map[string][]string{} // file -> positions and what
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); path != root && (n == "testdata" || n == "vendor" || strings.HasPrefix(n, ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.SelectorExpr:
				if s := n.Sel.Name; s == "SelectAttr" || s == "SelectAttrValue" {
					found[rel] = append(found[rel], fset.Position(n.Sel.Pos()).String()+": "+s)
				}
			case *ast.CallExpr:
				sel, ok := n.Fun.(*ast.SelectorExpr)
				if !ok || !strings.HasPrefix(sel.Sel.Name, "Find") || len(n.Args) == 0 {
					return true
				}
				if lit, ok := n.Args[0].(*ast.BasicLit); ok && lit.Kind == token.STRING {
					if s, err := strconv.Unquote(lit.Value); err == nil && strings.Contains(s, "[@") {
						found[rel] = append(found[rel], fset.Position(lit.Pos()).String()+": path predicate "+s)
					}
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var offenders []string
	for file, uses := range found {
		if _, ok := prefixBlindAllowed[file]; !ok {
			offenders = append(offenders, uses...)
		}
	}
	sort.Strings(offenders)
	if len(offenders) > 0 {
		t.Errorf("prefix-blind etree lookups on possibly untrusted XML; use safexml.Attr and Doc.Child instead (or allow the file in prefixBlindAllowed with a reason):\n%s",
			strings.Join(offenders, "\n"))
	}
	for file, why := range prefixBlindAllowed {
		if len(found[file]) == 0 {
			t.Errorf("prefixBlindAllowed lists %s (%s), which no longer uses prefix-blind lookups: remove it", file, why)
		}
	}
}

// moduleRoot is the directory of the module's go.mod.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test's directory")
		}
		dir = parent
	}
}

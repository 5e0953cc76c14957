package main

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/orgsso/orgsso/oidc"
	"github.com/orgsso/orgsso/saml"
	"github.com/orgsso/orgsso/sso"
)

//go:embed templates/layout.html templates/login.html templates/sso_login.html templates/dashboard.html templates/settings.html templates/test_report.html templates/test_failed.html templates/error.html templates/mfa.html
var templateFS embed.FS

// pages holds one template set per page, each with the shared layout.
type pages map[string]*template.Template

var pageNames = []string{"login", "sso_login", "dashboard", "settings", "test_report", "test_failed", "error", "mfa"}

var templateFuncs = template.FuncMap{
	"stacks": formatStacks,
	"join":   joinStrings,
	"when":   func(t time.Time) string { return t.Local().Format("2006-01-02 15:04:05 MST") },
	"clock":  func(t time.Time) string { return t.Local().Format("15:04:05") },
	"left": func(t time.Time) string {
		d := time.Until(t).Round(time.Minute)
		if d <= 0 {
			return "expired"
		}
		return "in " + strings.TrimSuffix(d.String(), "0s")
	},
	"inc": func(i int) int { return i + 1 },
	// checkName names a failed response check for people: "signature",
	// "not on or after".
	// "signature", "nonce"; FailureReport.Check is a saml.Check or an
	// oidc.Check.
	"checkName": checkName,
}

// loadPages parses the embedded templates.
func loadPages() (pages, error) {
	p := make(pages, len(pageNames))
	for _, name := range pageNames {
		t, err := template.New("layout.html").Funcs(templateFuncs).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("template %s: %w", name, err)
		}
		p[name] = t
	}
	return p, nil
}

// base is what the layout needs from every page.
type base struct {
	Title  string
	Viewer *viewer // nil when signed out
}

// render executes a page into a buffer, so a template error becomes a 500
// rather than half a page.
func (a *app) render(w http.ResponseWriter, status int, name string, data any) {
	t, ok := a.pages[name]
	var buf bytes.Buffer
	if !ok {
		a.log.Error("render: no such page", "page", name)
		http.Error(w, "Internal error", http.StatusInternalServerError)
		return
	}
	if err := t.Execute(&buf, data); err != nil {
		a.log.Error("render", "page", name, "err", err)
		http.Error(w, "Internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// errorPage is a page with a title and one message.
type errorPage struct {
	base
	Status  int
	Message string
}

// renderError shows a page with one message.
func (a *app) renderError(w http.ResponseWriter, r *http.Request, status int, title, msg string) {
	v, _ := a.viewer(r)
	a.render(w, status, "error", errorPage{base: base{Title: title, Viewer: v}, Status: status, Message: msg})
}

// failure logs err for the operator and shows a page saying, without Go
// error text, what it means: a store that cannot answer is a 503 "try again
// in a moment" (and never signs anybody out); anything else unexpected a
// generic 500.
func (a *app) failure(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, sso.ErrUnavailable) {
		a.log.Warn("request failed: store unavailable", "method", r.Method, "path", r.URL.Path, "err", err)
		w.Header().Set("Retry-After", "5")
		a.render(w, http.StatusServiceUnavailable, "error", errorPage{base: base{Title: "Temporarily unavailable"},
			Status: http.StatusServiceUnavailable, Message: sso.UserMessage(err)})
		return
	}
	a.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	a.render(w, http.StatusInternalServerError, "error", errorPage{base: base{Title: "Something went wrong"},
		Status: http.StatusInternalServerError, Message: "Something went wrong on our side. Please try again."})
}

// formatStacks prints stack roles as "blog: developer, editor; docs: editor".
func formatStacks(m map[string][]string) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, k+": "+strings.Join(m[k], ", "))
	}
	return strings.Join(parts, "; ")
}

// cut shortens s to about n bytes, on a rune boundary.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}

// checkName names a failed check of a SAML response or an OIDC callback for
// people: "not on or after", "nonce".
func checkName(c error) string {
	var name string
	switch c := c.(type) {
	case saml.Check:
		name = string(c)
	case oidc.Check:
		name = string(c)
	default:
		return "unnamed"
	}
	return strings.ReplaceAll(name, "_", " ")
}

package sso

import (
	"bytes"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// The Handler's default pages. html/template escapes every value, and the
// pages allow no script, no frame and no foreign resource: a Test SSO report
// shows what an IdP asserted, which its administrator chose.

// pageCSP is the Content-Security-Policy of every default page.
const pageCSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

const pageHead = `{{define "head"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{{.}}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40em;margin:3em auto;padding:0 1em}
code{background:#f3f3f3;padding:0 .2em}td,th{text-align:left;padding:.2em .6em .2em 0;vertical-align:top}</style>
</head><body>{{end}}`

var (
	errorTemplate = template.Must(template.New("error").Parse(pageHead + `{{template "head" "Sign-in problem"}}
<h1>Sign-in problem</h1>
<p>{{.Message}}</p>
<p><small>Error {{.Status}}{{with .Code}}, code <code>{{.}}</code>{{end}}</small></p>
<p><a href="{{.LoginURL}}">Back to sign-in</a></p>
</body></html>`))

	loginTemplate = template.Must(template.New("login").Parse(pageHead + `{{template "head" "Sign in with SSO"}}
<h1>Sign in with SSO</h1>
{{with .Message}}<p>{{.}}</p>{{end}}
<form method="get" action="{{.Action}}">
<label>Your organization's SSO name <input name="trigger_sso_flow" required autofocus autocomplete="organization"></label>
<input type="hidden" name="return_to" value="{{.ReturnTo}}">
<button>Continue</button>
</form>
</body></html>`))

	chooserTemplate = template.Must(template.New("chooser").Parse(pageHead + `{{template "head" "Choose how to sign in"}}
<h1>Choose how to sign in to {{.Name}}</h1>
<ul>{{range .Choices}}<li><a href="{{.URL}}">{{.Name}}</a> <small>({{.Protocol}})</small></li>{{end}}</ul>
</body></html>`))

	testTemplate = template.Must(template.New("test").Parse(pageHead + `{{template "head" "Test SSO result"}}
<h1>Test SSO: {{if .Problems}}problems found{{else}}it works{{end}}</h1>
<p>Organization <code>{{.Org}}</code>{{with .Connection}}, connection <code>{{.}}</code>{{end}}. Nothing was saved and no session was made.</p>
{{with .Problems}}<h2>Problems</h2><ul>{{range .}}<li>{{.}}</li>{{end}}</ul>{{end}}
<h2>Identity received</h2>
<table>
<tr><th>NameID / subject</th><td>{{.Identity.NameID}}</td></tr>
<tr><th>Email</th><td>{{.Identity.Email}}{{if .Identity.DomainVerified}} (verified domain){{end}}</td></tr>
<tr><th>First name</th><td>{{.Identity.FirstName}}</td></tr>
<tr><th>Last name</th><td>{{.Identity.LastName}}</td></tr>
<tr><th>IdP roles</th><td>{{range $i, $r := .Identity.IdPRoles}}{{if $i}}, {{end}}<code>{{$r}}</code>{{else}}none{{end}}</td></tr>
</table>
{{with .ReadFrom}}<h2>Read from attributes</h2><table>{{range .}}<tr><th>{{.Field}}</th><td>{{range $i, $a := .Attributes}}{{if $i}}, {{end}}<code>{{$a}}</code>{{end}}</td></tr>{{end}}</table>{{end}}
<h2>Role mapping</h2>
<table>
<tr><th>Organization role</th><td>{{with .Mapping.OrgRole}}{{.}}{{else}}none{{end}}</td></tr>
{{range .Stacks}}<tr><th>Stack <code>{{.Field}}</code></th><td>{{range $i, $a := .Attributes}}{{if $i}}, {{end}}{{$a}}{{end}}</td></tr>{{end}}
<tr><th>Unmatched IdP roles</th><td>{{range $i, $r := .Mapping.Unmatched}}{{if $i}}, {{end}}<code>{{$r}}</code>{{else}}none{{end}}</td></tr>
</table>
</body></html>`))
)

type errorData struct {
	Status        int
	Message, Code string
	LoginURL      string
}

type loginData struct{ Action, ReturnTo, Message string }

type chooserData struct {
	Name    string
	Choices []LoginChoice
}

// testData is a TestReport laid out for the page: maps become sorted rows.
type testData struct {
	*TestReport
	Org, Connection string
	ReadFrom        []pageRow
	Stacks          []pageRow
}

type pageRow struct {
	Field      string
	Attributes []string
}

func newTestData(res *Result) testData {
	d := testData{TestReport: res.Test, Connection: res.Connection}
	if res.Org != nil {
		d.Org = res.Org.SSOName
	}
	d.ReadFrom = rows(res.Test.ReadFrom)
	d.Stacks = rows(res.Test.Mapping.StackRoles)
	return d
}

// rows lists a map's entries in key order.
func rows(m map[string][]string) []pageRow {
	out := make([]pageRow, 0, len(m))
	for k, v := range m {
		out = append(out, pageRow{Field: k, Attributes: v})
	}
	slices.SortFunc(out, func(a, b pageRow) int { return strings.Compare(a.Field, b.Field) })
	return out
}

// writePage renders t with data and writes it with status and the page
// headers; a template failure is a plain 500, never half a page.
func writePage(w http.ResponseWriter, status int, t *template.Template, data any) {
	writePageCSP(w, status, pageCSP, t, data)
}

// writePageCSP is writePage with its own Content-Security-Policy.
func writePageCSP(w http.ResponseWriter, status int, csp string, t *template.Template, data any) {
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Content-Security-Policy", csp)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "same-origin")
	hd.Set("Content-Length", strconv.Itoa(b.Len()))
	w.WriteHeader(status)
	w.Write(b.Bytes()) // a failed write is a client that went away
}

package main

import (
	"bytes"
	"fmt"
	"html"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// startDemo runs the whole demo in-process on free ports with its database
// in dir ("" = a new temp dir). It stops when the test ends, or earlier when
// stop is called.
func startDemo(t *testing.T, dir string) (u urls, stop func()) {
	t.Helper()
	_, u, stop = startApp(t, dir, nil)
	return u, stop
}

// startApp is startDemo, returning the app too; edit, when not nil, changes
// the configuration first.
func startApp(t *testing.T, dir string, edit func(*config)) (a *app, u urls, stop func()) {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	logs := &syncBuffer{}
	cfg := testConfig(dir, logs)
	if edit != nil {
		edit(&cfg)
	}
	a, stopRun, err := start(t.Context(), cfg)
	if err != nil {
		t.Fatalf("start() err = %v\n%s", err, logs)
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			if err := stopRun(); err != nil {
				t.Errorf("stop() err = %v", err)
			}
			if t.Failed() {
				t.Logf("demo logs:\n%s", logs)
			}
		})
	}
	t.Cleanup(stop)
	return a, urls{App: a.baseURL, IdP: a.idp.URL}, stop
}

// testConfig is the demo's configuration in tests: free ports, a database
// in dir, cheap password hashing (PBKDF2 at 600,000 rounds takes a second
// under -race).
func testConfig(dir string, logs io.Writer) config {
	return config{Addr: "127.0.0.1:0", IdPAddr: "127.0.0.1:0", DB: filepath.Join(dir, "demo.db"), Log: logs, PasswordIterations: 1000}
}

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// client is a scripted browser: a cookie jar, redirects followed by hand
// (each hop recorded), forms read from the HTML and submitted.
type client struct {
	t          *testing.T
	hc         *http.Client
	hops       []string
	setCookies []string
}

// page is where the client landed after redirects.
type page struct {
	URL    *url.URL
	Status int
	Body   string
}

func newClient(t *testing.T) *client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &client{t: t, hc: &http.Client{
		Jar:           jar,
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

func (c *client) get(raw string) *page {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodGet, raw, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	return c.do(req)
}

// submit fills in the form whose id or action is sel and posts it. fill maps
// a field name to its value ("" removes it, e.g. unchecks a checkbox), or
// "name#i" to the i-th value of a repeated field.
func (c *client) submit(p *page, sel string, fill map[string]string) *page {
	c.t.Helper()
	f, err := findForm(p.Body, sel)
	if err != nil {
		c.t.Fatalf("page %s (status %d): %v\n%s", p.URL, p.Status, err, cutStr(p.Body, 3000))
	}
	for k, v := range fill {
		if name, idx, ok := strings.Cut(k, "#"); ok { // "name#i": the i-th value of a repeated field
			i, err := strconv.Atoi(idx)
			if err != nil || i >= len(f.values[name]) {
				c.t.Fatalf("page %s: form %q has no field %q", p.URL, sel, k)
			}
			f.values[name][i] = v
			continue
		}
		if !slices.Contains(f.names, k) {
			c.t.Fatalf("page %s: form %q has no field %q (fields %q)", p.URL, sel, k, f.names)
		}
		if v == "" {
			f.values.Del(k)
		} else {
			f.values.Set(k, v)
		}
	}
	action, err := p.URL.Parse(f.action)
	if err != nil {
		c.t.Fatal(err)
	}
	var body io.Reader
	contentType := "application/x-www-form-urlencoded"
	if f.multipart {
		var b bytes.Buffer
		mw := multipart.NewWriter(&b)
		for k, vs := range f.values {
			for _, v := range vs {
				mw.WriteField(k, v)
			}
		}
		mw.Close()
		body, contentType = &b, mw.FormDataContentType()
	} else {
		body = strings.NewReader(f.values.Encode())
	}
	req, err := http.NewRequest(http.MethodPost, action.String(), body)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	return c.do(req)
}

func (c *client) do(req *http.Request) *page {
	c.t.Helper()
	for range 10 {
		resp, err := c.hc.Do(req)
		if err != nil {
			c.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
		resp.Body.Close()
		if err != nil {
			c.t.Fatal(err)
		}
		c.hops = append(c.hops, fmt.Sprintf("%s %s %d", req.Method, req.URL.Path, resp.StatusCode))
		c.setCookies = append(c.setCookies, resp.Header.Values("Set-Cookie")...)
		loc := resp.Header.Get("Location")
		if resp.StatusCode/100 != 3 || loc == "" {
			return &page{URL: req.URL, Status: resp.StatusCode, Body: string(body)}
		}
		next, err := req.URL.Parse(loc)
		if err != nil {
			c.t.Fatal(err)
		}
		if req, err = http.NewRequest(http.MethodGet, next.String(), nil); err != nil {
			c.t.Fatal(err)
		}
	}
	c.t.Fatalf("more than 10 redirects: %q", c.hops)
	return nil
}

// takeHops returns the hops and Set-Cookie headers since the last call.
func (c *client) takeHops() ([]string, []string) {
	h, s := c.hops, c.setCookies
	c.hops, c.setCookies = nil, nil
	return h, s
}

// form is an HTML form as a browser would submit it (without clicking a
// named button).
type form struct {
	action    string
	multipart bool
	values    url.Values
	names     []string // every named control
}

var (
	formRE     = regexp.MustCompile(`(?is)<form\b([^>]*)>(.*?)</form>`)
	controlRE  = regexp.MustCompile(`(?is)<(input|select|textarea|button)\b([^>]*)>`)
	optionRE   = regexp.MustCompile(`(?is)<option\b([^>]*)>`)
	textareaRE = regexp.MustCompile(`(?is)<textarea\b([^>]*)>(.*?)</textarea>`)
	attrRE     = regexp.MustCompile(`(?s)([A-Za-z_:][-A-Za-z0-9_:.]*)(?:\s*=\s*"([^"]*)")?`)
)

// findForm returns the form whose id or action is sel ("" = the only form).
func findForm(body, sel string) (*form, error) {
	var found []*form
	for _, m := range formRE.FindAllStringSubmatch(body, -1) {
		a := attrs(m[1])
		if sel != "" && a["id"] != sel && a["action"] != sel {
			continue
		}
		f := &form{action: a["action"], multipart: a["enctype"] == "multipart/form-data", values: url.Values{}}
		inner := m[2]
		for _, ta := range textareaRE.FindAllStringSubmatch(inner, -1) {
			if name := attrs(ta[1])["name"]; name != "" {
				f.names = append(f.names, name)
				f.values.Add(name, html.UnescapeString(ta[2]))
			}
		}
		inner = textareaRE.ReplaceAllString(inner, "")
		for _, cm := range controlRE.FindAllStringSubmatchIndex(inner, -1) {
			kind := strings.ToLower(inner[cm[2]:cm[3]])
			a := attrs(inner[cm[4]:cm[5]])
			name := a["name"]
			if name == "" {
				continue
			}
			f.names = append(f.names, name)
			switch kind {
			case "button":
				// Named buttons are sent only when clicked: not here.
			case "select":
				end := strings.Index(strings.ToLower(inner[cm[1]:]), "</select>")
				if end < 0 {
					return nil, fmt.Errorf("select %q is not closed", name)
				}
				val, first := "", true
				for _, om := range optionRE.FindAllStringSubmatch(inner[cm[1]:cm[1]+end], -1) {
					oa := attrs(om[1])
					if _, sel := oa["selected"]; sel || first {
						val = oa["value"]
					}
					first = false
				}
				f.values.Add(name, val)
			default:
				switch strings.ToLower(a["type"]) {
				case "checkbox", "radio":
					if _, on := a["checked"]; on {
						v := a["value"]
						if v == "" {
							v = "on"
						}
						f.values.Add(name, v)
					}
				case "submit", "file":
				default:
					f.values.Add(name, a["value"])
				}
			}
		}
		found = append(found, f)
	}
	if len(found) != 1 {
		return nil, fmt.Errorf("want one form %q, found %d", sel, len(found))
	}
	return found[0], nil
}

func attrs(tag string) map[string]string {
	out := make(map[string]string)
	for _, m := range attrRE.FindAllStringSubmatch(tag, -1) {
		out[strings.ToLower(m[1])] = html.UnescapeString(m[2])
	}
	return out
}

func cutStr(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// wantIn fails unless body contains every string (as HTML source).
func wantIn(t *testing.T, what, body string, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(body, s) {
			if i := strings.Index(body, "<main>"); i >= 0 {
				body = body[i:]
			}
			t.Errorf("%s lacks %q:\n%s", what, s, cutStr(body, 6000))
		}
	}
}

// wantText fails unless body contains every text, HTML-escaped as the
// templates write it.
func wantText(t *testing.T, what, body string, texts ...string) {
	t.Helper()
	for _, s := range texts {
		wantIn(t, what, body, html.EscapeString(s))
	}
}

// auditOf returns the audit trail section of the settings page.
func auditOf(body string) string {
	i := strings.Index(body, `<section class="card" id="audit">`)
	if i < 0 {
		return ""
	}
	body = body[i:]
	if j := strings.Index(body, "</section>"); j >= 0 {
		body = body[:j]
	}
	return body
}

// wantAudit fails unless the settings page's audit trail contains every
// text, HTML-escaped as the templates write it.
func wantAudit(t *testing.T, what, body string, texts ...string) {
	t.Helper()
	audit := auditOf(body)
	for _, s := range texts {
		if !strings.Contains(audit, html.EscapeString(s)) {
			t.Errorf("%s: the audit trail lacks %q:\n%s", what, s, cutStr(audit, 6000))
		}
	}
}

package oidcop

import (
	"context"
	"fmt"
	"html"
	"html/template"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/op"
)

const (
	loginPath          = "/login"
	authRequestIDParam = "authRequestID"
	maxRedirects       = 10
	maxPageBytes       = 1 << 20
)

// loginPage is the provider's sign-in form, shaped like zitadel's example
// login page: the request ID hidden, then username and password.
var loginPage = template.Must(template.New("login").Parse(`<!DOCTYPE html>
<html><head><meta charset="UTF-8"><title>Sign in</title></head>
<body>
<form method="POST" action="{{.Action}}">
<input type="hidden" name="id" value="{{.ID}}">
<label>Username <input name="username" autocomplete="username"></label>
<label>Password <input name="password" type="password" autocomplete="current-password"></label>
<p class="error">{{.Error}}</p>
<button type="submit">Sign in</button>
</form>
</body></html>
`))

// serveLogin is the login UI op redirects to (Client.LoginURL): GET shows
// the form, POST checks it and, on success, sends the browser to op's
// authorization callback, which answers the client.
func (p *Provider) serveLogin(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	switch r.Method {
	case http.MethodGet:
		renderLogin(w, r.URL.Query().Get(authRequestIDParam), "")
	case http.MethodPost:
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		if err := r.ParseForm(); err != nil {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
		id := r.PostForm.Get("id")
		req, refusal, err := p.storage.checkLogin(id, r.PostForm.Get("username"), r.PostForm.Get("password"))
		switch {
		case err != nil:
			renderLogin(w, id, err.Error())
		case refusal != nil:
			op.AuthRequestError(w, r, req, refusal, p.op)
		default:
			http.Redirect(w, r, p.callbackURL(r.Context(), id), http.StatusFound)
		}
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

func renderLogin(w http.ResponseWriter, id, errMsg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = loginPage.Execute(w, struct{ Action, ID, Error string }{loginPath, id, errMsg})
}

// Login signs in as a browser would: it opens authURL (an authorization
// URL the relying party built, with its state, nonce and PKCE challenge),
// follows the redirects to the login page, posts username and password, and
// follows the redirects again until the provider sends the browser to the
// request's redirect_uri, which it does not open. It returns that callback
// URL: redirect_uri?code=…&state=… on success, or redirect_uri?error=…&state=…
// when the provider answers the client with an error (a refusal, see
// RefuseNext; an unsupported scope …).
//
// A refused password yields ErrLoginFailed (wrapped, with the page's
// message). A request the provider will not send back to the client (an
// unknown client_id, a redirect_uri not registered) yields an error with the
// provider's status and message. Each call is a fresh browser with its own
// cookie jar.
func (p *Provider) Login(ctx context.Context, authURL, username, password string) (*url.URL, error) {
	u, err := url.Parse(authURL)
	if err != nil {
		return nil, fmt.Errorf("oidcop: authorization URL: %w", err)
	}
	redirectURI, err := url.Parse(u.Query().Get("redirect_uri"))
	if err != nil || !redirectURI.IsAbs() {
		return nil, fmt.Errorf("oidcop: authorization URL has no absolute redirect_uri")
	}
	b := newBrowser(p.srv.Client().Transport, redirectURI)

	resp, err := b.do(ctx, http.MethodGet, authURL, nil)
	if err != nil {
		return nil, err
	}
	if cb, done := b.callback(resp); done {
		return cb, nil
	}
	page, err := readPage(resp)
	if err != nil {
		return nil, err
	}
	action, fields, ok := parseLoginForm(page)
	if !ok {
		return nil, fmt.Errorf("oidcop: %s answered %s, not the login page: %s", resp.Request.URL.Redacted(), resp.Status, excerpt(page))
	}
	target, err := resp.Request.URL.Parse(action)
	if err != nil {
		return nil, fmt.Errorf("oidcop: login form action %q: %w", action, err)
	}
	fields.Set("username", username)
	fields.Set("password", password)

	resp, err = b.do(ctx, http.MethodPost, target.String(), fields)
	if err != nil {
		return nil, err
	}
	if cb, done := b.callback(resp); done {
		return cb, nil
	}
	page, err = readPage(resp)
	if err != nil {
		return nil, err
	}
	if _, _, ok := parseLoginForm(page); ok {
		return nil, fmt.Errorf("%w: %s", ErrLoginFailed, pageError(page))
	}
	return nil, fmt.Errorf("oidcop: %s answered %s: %s", resp.Request.URL.Redacted(), resp.Status, excerpt(page))
}

// browser is an http.Client with a cookie jar that follows redirects until
// one leads to the relying party's redirect URI.
type browser struct {
	client      *http.Client
	redirectURI *url.URL
}

func newBrowser(rt http.RoundTripper, redirectURI *url.URL) *browser {
	jar, _ := cookiejar.New(nil) // never fails without options
	b := &browser{redirectURI: redirectURI}
	b.client = &http.Client{
		Transport: rt,
		Jar:       jar,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if b.isCallback(req.URL) {
				return http.ErrUseLastResponse
			}
			if len(via) >= maxRedirects {
				return fmt.Errorf("oidcop: stopped after %d redirects", maxRedirects)
			}
			return nil
		},
	}
	return b
}

// isCallback reports whether u is the redirect URI with response
// parameters: same scheme, host and path.
func (b *browser) isCallback(u *url.URL) bool {
	return strings.EqualFold(u.Scheme, b.redirectURI.Scheme) &&
		strings.EqualFold(u.Host, b.redirectURI.Host) &&
		u.EscapedPath() == b.redirectURI.EscapedPath()
}

func (b *browser) do(ctx context.Context, method, target string, form url.Values) (*http.Response, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return nil, fmt.Errorf("oidcop: %w", err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := b.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("oidcop: %w", err)
	}
	return resp, nil
}

// callback returns the callback URL when resp is the redirect to the
// relying party that CheckRedirect stopped at (it closes resp then).
func (b *browser) callback(resp *http.Response) (*url.URL, bool) {
	if resp.StatusCode < 300 || resp.StatusCode > 399 {
		return nil, false
	}
	loc, err := resp.Location()
	if err != nil || !b.isCallback(loc) {
		return nil, false
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxPageBytes))
	_ = resp.Body.Close()
	return loc, true
}

func readPage(resp *http.Response) (string, error) {
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxPageBytes))
	if err != nil {
		return "", fmt.Errorf("oidcop: reading %s: %w", resp.Request.URL.Redacted(), err)
	}
	return string(b), nil
}

var (
	formRe   = regexp.MustCompile(`<form method="POST" action="([^"]*)">`)
	hiddenRe = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)">`)
	errorRe  = regexp.MustCompile(`<p class="error">([^<]*)</p>`)
)

// parseLoginForm reads the form of loginPage: its action and hidden fields.
func parseLoginForm(page string) (action string, fields url.Values, ok bool) {
	m := formRe.FindStringSubmatch(page)
	if m == nil {
		return "", nil, false
	}
	fields = url.Values{}
	for _, h := range hiddenRe.FindAllStringSubmatch(page, -1) {
		fields.Add(html.UnescapeString(h[1]), html.UnescapeString(h[2]))
	}
	return html.UnescapeString(m[1]), fields, true
}

func pageError(page string) string {
	if m := errorRe.FindStringSubmatch(page); m != nil && m[1] != "" {
		return html.UnescapeString(m[1])
	}
	return "the login page was shown again"
}

func excerpt(page string) string {
	page = strings.TrimSpace(page)
	if len(page) > 200 {
		page = page[:200] + "…"
	}
	if page == "" {
		return "(empty body)"
	}
	return page
}

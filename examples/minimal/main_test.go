package main

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/sso/ssotest"
)

// TestMinimalSignIn runs the example's routes against the ssotest IdP over
// real HTTP: deep link → IdP → ACS → cookie → the protected app.
func TestMinimalSignIn(t *testing.T) {
	app := httptest.NewUnstartedServer(nil)
	base := "http://" + app.Listener.Addr().String()
	svc, st, err := newService(base)
	if err != nil {
		t.Fatal(err)
	}
	app.Config.Handler = routes(svc, http.HandlerFunc(home))
	app.Start()
	defer app.Close()

	idp, err := ssotest.New(ssotest.Config{Login: func(*http.Request, *ssotest.AuthnRequest) (ssotest.User, error) {
		return ssotest.User{Email: "alice@acme.example"}, nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	idpSrv := httptest.NewServer(idp)
	defer idpSrv.Close()
	cfg := idp.IdPConfig()
	cfg.SSOURL = idpSrv.URL + "/sso"
	org := &sso.Organization{ID: "org-1", SSOName: "acme", OwnerID: "u-1", IdP: cfg, JITProvisioning: true}
	if err := st.SaveOrganization(context.Background(), org); err != nil {
		t.Fatal(err)
	}
	if err := svc.Enable(context.Background(), "org-1", "u-1"); err != nil {
		t.Fatal(err)
	}

	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	resp, err := client.Get(app.URL + "/login?trigger_sso_flow=acme&return_to=/")
	if err != nil {
		t.Fatal(err)
	}
	form := readForm(t, resp)
	resp, err = client.PostForm(form.action, form.values)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "signed in as user_") {
		t.Fatalf("after ACS: %d %q; want the app page", resp.StatusCode, body)
	}
	md, err := client.Get(app.URL + "/sso/acme/metadata")
	if err != nil || md.StatusCode != http.StatusOK || md.Header.Get("Content-Type") != "application/samlmetadata+xml" {
		t.Errorf("metadata: %v %v", md, err)
	}
}

type postForm struct {
	action string
	values url.Values
}

var (
	formAction = regexp.MustCompile(`<form[^>]*action="([^"]+)"`)
	formInput  = regexp.MustCompile(`<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"`)
)

func readForm(t *testing.T, resp *http.Response) postForm {
	t.Helper()
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := formAction.FindSubmatch(b)
	if m == nil {
		t.Fatalf("no form in %q", b)
	}
	f := postForm{action: unescape(string(m[1])), values: url.Values{}}
	for _, in := range formInput.FindAllSubmatch(b, -1) {
		f.values.Set(string(in[1]), unescape(string(in[2])))
	}
	return f
}

func unescape(s string) string {
	return strings.NewReplacer("&amp;", "&", "&#43;", "+", "&#34;", `"`, "&lt;", "<", "&gt;", ">", "&#39;", "'", "&#x2B;", "+", "&#x3D;", "=", "&#61;", "=").Replace(s)
}

package sso

import "net/http"

// Redirect is where to send the browser to start a sign-in, and the ID of the
// AuthnRequest it carries (remembered to match the response's InResponseTo).
type Redirect struct {
	URL, RequestID string
	// Cookie binds the sign-in to the browser that started it. The host sets
	// it (http.SetCookie) on the response that redirects to URL; HandleACS
	// refuses an SP-initiated or test response posted without it.
	Cookie *http.Cookie
	// Choices, when set, replace URL: the organization has several
	// connections and the user picks one (see StartLoginWith). Cookie is
	// nil then.
	Choices []Choice
}

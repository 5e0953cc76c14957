package sso

import "net/http"

// SessionCookieName is the cookie SessionCookie sets and SessionFromRequest reads.
const SessionCookieName = "orgsso_session"

// SessionCookie returns the cookie that carries a sign-in's session token:
// HttpOnly, SameSite=Lax (the IdP's POST to the ACS is cross-site, the redirect
// after it is not), Secure when BaseURL's scheme is https (in any letter case),
// Path "/", expiring with the session. Set it with http.SetCookie. It is nil
// for a test round trip.
func (s *Service) SessionCookie(res *Result) *http.Cookie {
	if res == nil || res.Session == nil || res.Token == "" {
		return nil
	}
	return &http.Cookie{
		Name:     SessionCookieName,
		Value:    res.Token,
		Path:     "/",
		Expires:  res.Session.ExpiresAt,
		HttpOnly: true,
		Secure:   s.cookieSecure(),
		SameSite: http.SameSiteLaxMode,
	}
}

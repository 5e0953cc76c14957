package sso

import "net/http"

// SessionCookieName is the base name of the session cookie. On an https
// BaseURL the cookie carries the __Host- prefix ("__Host-orgsso_session"), on
// an http one (local development) this name as is: Service.SessionCookieName
// returns the name a Service sets and reads.
const SessionCookieName = "orgsso_session"

// hostCookieName is the cookie name base as this Service's cookies carry it:
// with the __Host- prefix when BaseURL is https, so that browsers accept the
// cookie only Secure, with Path=/ and no Domain, and a sibling subdomain
// cannot plant one of the same name (login CSRF, session fixation). Every
// cookie of the package is named here.
func (s *Service) hostCookieName(base string) string {
	if s.cookieSecure() {
		return hostCookiePrefix + base
	}
	return base
}

// SessionCookieName returns the name of this Service's session cookie, the
// only name SessionFromRequest, SignOut and Handler.RequireSession read:
// "__Host-orgsso_session" when BaseURL is https, SessionCookieName on http.
func (s *Service) SessionCookieName() string { return s.hostCookieName(SessionCookieName) }

// SessionCookie returns the cookie that carries a sign-in's session token,
// named SessionCookieName(): HttpOnly, SameSite=Lax (the IdP's POST to the
// ACS is cross-site, the redirect after it is not), Secure and __Host-
// prefixed when BaseURL's scheme is https (in any letter case), Path "/", no
// Domain, expiring with the session. Set it with http.SetCookie. It is nil
// for a test round trip.
func (s *Service) SessionCookie(res *Result) *http.Cookie {
	if res == nil || res.Session == nil || res.Token == "" {
		return nil
	}
	return &http.Cookie{
		Name:     s.SessionCookieName(),
		Value:    res.Token,
		Path:     "/",
		Expires:  res.Session.ExpiresAt,
		HttpOnly: true,
		Secure:   s.cookieSecure(),
		SameSite: http.SameSiteLaxMode,
	}
}

// ClearSessionCookie returns the cookie that deletes the session cookie, with
// SessionCookie's name and attributes. SignOut returns it, and
// Handler.RequireSession sets it for a dead session; set it yourself when
// your own checks end the sign-in.
func (s *Service) ClearSessionCookie() *http.Cookie {
	c := s.clearCookie(s.SessionCookieName())
	c.SameSite = http.SameSiteLaxMode
	return c
}

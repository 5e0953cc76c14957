package sso

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/orgsso/orgsso/saml"
)

// Browser binding (login CSRF defence). StartLogin and StartTest return, with
// the redirect, a cookie holding a random nonce; the pending request keeps only
// the nonce's SHA-256 (PendingRequest.BindingHash). HandleACS accepts a
// response answering that request only when the posting browser sends the
// cookie back, so a response cannot be replayed into another person's browser
// (signing them in as the attacker), and a Test SSO completes only in the
// browser of the owner who started it.
//
// A request's cookie is one of BindingCookieSlots names, chosen by a hash of
// the request ID: sign-ins started in two tabs both complete unless their
// requests land in the same slot (1 in BindingCookieSlots), when the older one
// must be started again; and however many sign-ins a page makes a browser
// start, it holds at most BindingCookieSlots binding cookies (no cookie
// bombing of the application's domain). The cookie is
// HttpOnly, lives as long as the request (Max-Age = Config.RequestTTL), and
// its attributes follow the scheme of BaseURL:
//
//   - https: Secure; SameSite=None, so the IdP's cross-site POST carries it;
//     and the __Host- name prefix (Path=/, no Domain), so a sibling subdomain
//     cannot plant a binding cookie of its own.
//   - http (development only): SameSite=Lax, not Secure, Path=/. Browsers send
//     Lax cookies on a same-site POST, so an IdP on another port of the same
//     host (localhost:8080 → localhost:9090) works; an IdP on another site
//     cannot complete a sign-in to an http application.

const (
	// BindingCookiePrefix starts the name of every browser-binding cookie
	// (after "__Host-" when BaseURL is https).
	BindingCookiePrefix = "orgsso_bind_"
	// hostCookiePrefix makes browsers require Secure, Path=/ and no Domain.
	hostCookiePrefix = "__Host-"
	// bindingNonceBytes is the size of the random nonce: 256 bits.
	bindingNonceBytes = 32
	// BindingCookieSlots is how many binding cookies a browser can hold at
	// once: a cookie's name is the prefix and a slot number.
	BindingCookieSlots = 16
	// maxBindingCookie bounds the cookie value HandleACS hashes; a nonce is
	// 43 characters.
	maxBindingCookie = 128
)

// cookieSecure reports whether the cookies the Service makes carry Secure:
// BaseURL's parsed scheme is https (in any case: url.Parse lowers it). Every
// cookie of the package decides Secure here.
func (s *Service) cookieSecure() bool { return s.secure }

// bindingCookieName is the cookie of the pending request with this ID.
func (s *Service) bindingCookieName(requestID string) string {
	sum := sha256.Sum256([]byte(requestID))
	return s.hostCookieName(BindingCookiePrefix + strconv.Itoa(int(sum[0])%BindingCookieSlots))
}

// isBindingCookieName reports whether name is one of our binding cookies.
func isBindingCookieName(name string) bool {
	return strings.HasPrefix(strings.TrimPrefix(name, hostCookiePrefix), BindingCookiePrefix)
}

// bindingHash is what a pending request keeps of a binding nonce: the hex
// SHA-256 of the cookie value, for the organization's own IdP; for another
// connection, of its ID, a zero byte and the value. A response posted to one
// connection's endpoint therefore matches no request started for another
// connection of the organization (a mix-up between two IdPs), and the store
// need not know connections to refuse it.
func bindingHash(nonce, connID string) string {
	var sum [sha256.Size]byte
	if connID == PrimaryConnection {
		sum = sha256.Sum256([]byte(nonce))
	} else {
		sum = sha256.Sum256([]byte(connID + "\x00" + nonce))
	}
	return hex.EncodeToString(sum[:])
}

// newBinding returns a fresh nonce from the Service's randomness.
func (s *Service) newBinding() (string, error) {
	var b [bindingNonceBytes]byte
	if err := s.readRand(b[:]); err != nil {
		return "", randErr("for the browser binding", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// bindingCookie is the cookie that carries nonce for the request requestID,
// for ttl.
func (s *Service) bindingCookie(requestID, nonce string, ttl time.Duration) *http.Cookie {
	c := s.baseCookie(s.bindingCookieName(requestID), nonce)
	c.MaxAge = max(int(ttl/time.Second), 1)
	return c
}

// baseCookie is a binding cookie without lifetime: HttpOnly, Path=/, Secure
// and SameSite by BaseURL's scheme.
func (s *Service) baseCookie(name, value string) *http.Cookie {
	c := &http.Cookie{Name: name, Value: value, Path: "/", HttpOnly: true, Secure: s.cookieSecure(), SameSite: http.SameSiteLaxMode}
	if c.Secure {
		c.SameSite = http.SameSiteNoneMode
	}
	return c
}

// clearCookie returns the Set-Cookie that deletes the binding cookie name.
func (s *Service) clearCookie(name string) *http.Cookie {
	c := s.baseCookie(name, "")
	c.MaxAge = -1
	return c
}

// ClearBindingCookies returns, for a request to the ACS, the cookies that
// delete every browser-binding cookie it carries. HandleACS puts the cookie of
// the request it consumed in Result.ClearCookies; a host calls this after
// HandleACS failed, and sets each with http.SetCookie:
//
//	res, err := svc.HandleACS(ctx, name, r)
//	if err != nil {
//		for _, c := range svc.ClearBindingCookies(r) {
//			http.SetCookie(w, c)
//		}
//		…
//	}
//
// A sign-in the same browser started in another tab and has not completed
// then has to be started again. Leaving the cookies is safe too: each expires
// with its request, and a used one matches nothing.
func (s *Service) ClearBindingCookies(r *http.Request) []*http.Cookie {
	if r == nil {
		return nil
	}
	var out []*http.Cookie
	seen := map[string]bool{}
	for _, c := range r.Cookies() {
		if !isBindingCookieName(c.Name) || seen[c.Name] {
			continue
		}
		// Only the form this Service makes: one Set-Cookie cannot delete a
		// cookie that another prefix or scheme made.
		if s.cookieSecure() != strings.HasPrefix(c.Name, hostCookiePrefix) {
			continue
		}
		seen[c.Name] = true
		out = append(out, s.clearCookie(c.Name))
		if len(out) == 64 { // a browser keeps few; bound the work anyway
			break
		}
	}
	return out
}

// bindingOf returns the binding hash of the request's cookie for the pending
// request requestID of connection connID, and false when the request carries none.
func (s *Service) bindingOf(r *http.Request, requestID, connID string) (string, bool) {
	c, err := r.Cookie(s.bindingCookieName(requestID))
	if err != nil || c.Value == "" || len(c.Value) > maxBindingCookie {
		return "", false
	}
	return bindingHash(c.Value, connID), true
}

// errNoBinding is the saml.CheckBinding failure of a response posted by a browser
// that does not hold the request's binding cookie.
func errNoBinding() *saml.ValidationError {
	return fail(saml.CheckBinding, "the posting browser does not hold the binding cookie of the request this response answers: the sign-in was started in another browser, or the cookie expired or was blocked")
}

// consumeMatching takes the pending request id of org whose binding hash is
// hash, leaving any other request in place. A Store that implements
// RequestConsumer does it atomically; another one is served by ConsumeRequest
// and a SaveRequest that puts back a request that does not match.
func (s *Service) consumeMatching(ctx context.Context, id, orgID, hash string) (*PendingRequest, error) {
	if len(id) > MaxKeyBytes {
		return nil, ErrNotFound
	}
	if rc, ok := s.store.(RequestConsumer); ok {
		return get(s, ctx, "ConsumeMatchingRequest", func(ctx context.Context) (*PendingRequest, error) {
			return rc.ConsumeMatchingRequest(ctx, id, orgID, hash)
		})
	}
	req, err := get(s, ctx, "ConsumeRequest", func(ctx context.Context) (*PendingRequest, error) {
		return s.store.ConsumeRequest(ctx, id)
	})
	if err != nil {
		return nil, err
	}
	if req.OrgID == orgID && req.BindingHash != "" && req.BindingHash == hash {
		return req, nil
	}
	if err := s.do(ctx, "SaveRequest", func(ctx context.Context) error { return s.store.SaveRequest(ctx, req) }); err != nil {
		s.log.WarnContext(ctx, "orgsso: could not put back a pending request a mismatched response took", "org", orgID, "error", err)
	}
	return nil, ErrNotFound
}

package sso

import (
	"context"
	"errors"
	"net/http"

	"github.com/orgsso/orgsso/session"
)

// sessionKey is the context key of the session RequireSession found.
type sessionKey struct{}

// RequireSession lets a request through to next only with a valid session
// (SessionFromRequest, so by the organization's current rules too), which
// next reads with SessionFromContext. Without one (no cookie, an unknown,
// expired or ended session) a GET or HEAD is redirected (303) to
// HandlerConfig.LoginURL with return_to set to the page asked for and, for
// an ended session, error=session_ended; any other method gets 401. A dead
// session cookie is cleared. A store that cannot answer is 503 through
// RenderError, never "signed out": the user keeps the cookie and retries.
func (h *Handler) RequireSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := h.svc.SessionFromRequest(r)
		if err == nil {
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), sessionKey{}, s)))
			return
		}
		if !errors.Is(err, session.ErrUnknownSession) && !errors.Is(err, session.ErrExpired) && !errors.Is(err, session.ErrEnded) {
			w.Header().Set("Cache-Control", "no-store")
			h.renderError(w, r, StatusCode(err), err) // 503 for ErrUnavailable
			return
		}
		if _, cerr := r.Cookie(h.svc.SessionCookieName()); cerr == nil {
			http.SetCookie(w, h.svc.ClearSessionCookie())
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.renderError(w, r, http.StatusUnauthorized, err)
			return
		}
		u := *h.loginURL
		q := u.Query()
		if rt := r.URL.RequestURI(); rt != "/" && SafeReturnTo(rt) == rt {
			q.Set(ReturnToParam, rt)
		}
		if errors.Is(err, session.ErrEnded) {
			q.Set(ErrorParam, CodeSessionEnded)
		}
		u.RawQuery = q.Encode()
		http.Redirect(w, r, u.String(), http.StatusSeeOther)
	})
}

// SessionFromContext returns the session RequireSession put in the context
// of the request it let through; ok is false anywhere else (and for a nil
// ctx).
func SessionFromContext(ctx context.Context) (s *session.Session, ok bool) {
	if ctx == nil {
		return nil, false
	}
	s, ok = ctx.Value(sessionKey{}).(*session.Session)
	return s, ok && s != nil
}

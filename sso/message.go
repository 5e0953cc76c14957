package sso

import (
	"errors"
	"net/http"

	"github.com/orgsso/orgsso/oidc"
	"github.com/orgsso/orgsso/saml"
	"github.com/orgsso/orgsso/session"
)

// Error codes returned by ErrorCode: short, stable, and safe in a URL.
const (
	CodeSSORequired     = "sso_required"
	CodeUnknownOrg      = "unknown_org"
	CodeSSODisabled     = "sso_disabled"
	CodeNotOwner        = "not_owner"
	CodeAccessDenied    = "denied"
	CodeReplay          = "replay"
	CodeExpired         = "expired"
	CodeUnsolicited     = "unsolicited"
	CodeBinding         = "binding"
	CodeIdentity        = "identity"
	CodeInvalidResponse = "invalid_response"
	CodeUnavailable     = "unavailable"
	CodeConflict        = "conflict"
	CodeNotAdmin        = "not_admin"
	CodeNotAllowed      = "not_allowed"
	CodeSessionEnded    = "session_ended"
	CodeFailed          = "failed"
	// MFA after SSO.
	CodeMFAToken       = "mfa_expired"
	CodeMFACode        = "mfa_code"
	CodeMFALocked      = "mfa_locked"
	CodeMFAEnrolled    = "mfa_enrolled"
	CodeMFANotEnrolled = "mfa_not_enrolled"
)

var messages = map[string]string{
	CodeSSORequired:     "This organization requires single sign-on. Use “Login via SSO”.",
	CodeUnknownOrg:      "No organization uses that SSO name. Check it with your administrator.",
	CodeSSODisabled:     "Single sign-on is not enabled for this organization. Sign in with your password.",
	CodeNotOwner:        "Only the organization owner can do this.",
	CodeAccessDenied:    "Your identity provider account does not give you access to this organization. Ask your administrator.",
	CodeReplay:          "This sign-in was already used. Please sign in again.",
	CodeExpired:         "The sign-in took too long or was started elsewhere. Please sign in again.",
	CodeUnsolicited:     "The sign-in was started at your identity provider, which this organization does not allow. Start the sign-in from the app.",
	CodeBinding:         "This sign-in was not started in this browser, or took too long. Start the sign-in again in this browser.",
	CodeIdentity:        "Your identity provider sent an email address or name this app cannot accept. Ask your administrator to check your account.",
	CodeInvalidResponse: "We could not verify the answer from your identity provider. Please try again or contact your administrator.",
	CodeUnavailable:     "The service is temporarily unavailable. Please try again in a moment.",
	CodeConflict:        "Someone else changed these settings at the same time. Reload the page and make your change again.",
	CodeNotAdmin:        "Only the organization owner or an admin can do this.",
	CodeNotAllowed:      "This change is not allowed.",
	CodeSessionEnded:    "Your session has ended. Please sign in again.",
	CodeFailed:          "Sign-in failed. Please try again.",
	CodeMFAToken:        "Your sign-in took too long or was used up. Please sign in again.",
	CodeMFACode:         "That code is not right. Check your authenticator app (or recovery code) and try again.",
	CodeMFALocked:       "Too many wrong codes. Wait 15 minutes, then sign in again.",
	CodeMFAEnrolled:     "You have set up a second factor already. If you lost your device, ask an administrator to reset it.",
	CodeMFANotEnrolled:  "Set up your authenticator app first.",
}

// ErrorCode classifies any error of this package into a short, stable code
// that is safe to carry in a redirect (/login?error=denied) and reveals
// nothing of the failed check; MessageFor turns it back into the message for
// the login page. nil gives "".
func ErrorCode(err error) string {
	err = samlConfigErr(err)
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrUnavailable):
		return CodeUnavailable
	case errors.Is(err, ErrConflict):
		return CodeConflict
	case errors.Is(err, ErrMFALocked):
		return CodeMFALocked
	case errors.Is(err, ErrMFAToken):
		return CodeMFAToken
	case errors.Is(err, ErrMFACode):
		return CodeMFACode
	case errors.Is(err, ErrMFAEnrolled):
		return CodeMFAEnrolled
	case errors.Is(err, ErrMFANotEnrolled):
		return CodeMFANotEnrolled
	case errors.Is(err, ErrNotAdmin):
		return CodeNotAdmin
	case errors.Is(err, ErrNotAllowed):
		return CodeNotAllowed
	case errors.Is(err, session.ErrEnded):
		return CodeSessionEnded
	case errors.Is(err, ErrSSORequired):
		return CodeSSORequired
	case errors.Is(err, ErrUnknownOrganization):
		return CodeUnknownOrg
	case errors.Is(err, ErrSSODisabled):
		return CodeSSODisabled
	case errors.Is(err, ErrNotOwner):
		return CodeNotOwner
	case errors.Is(err, ErrAccessDenied):
		return CodeAccessDenied
	case errors.Is(err, ErrReplay):
		return CodeReplay
	case errors.Is(err, saml.CheckUnsolicited):
		return CodeUnsolicited
	case errors.Is(err, saml.CheckBinding), errors.Is(err, oidc.CheckState):
		return CodeBinding
	case errors.Is(err, saml.CheckIdentity):
		return CodeIdentity
	case errors.Is(err, saml.CheckExpired), errors.Is(err, saml.CheckNotYetValid), errors.Is(err, saml.CheckInResponseTo),
		errors.Is(err, oidc.CheckExpiry), errors.Is(err, oidc.CheckIssuedAt), errors.Is(err, oidc.CheckNotBefore):
		return CodeExpired
	case errors.Is(err, ErrInvalidResponse), errors.Is(err, oidc.ErrInvalidToken), errors.Is(err, oidc.ErrProvider),
		errors.Is(err, ErrPrivateAddress):
		return CodeInvalidResponse
	}
	return CodeFailed
}

// StatusCode maps an error of this package to the HTTP status a host's
// handler answers with: 503 for ErrUnavailable (try again later), 409 for
// ErrConflict, 403 for the refusals (not owner, not admin, not allowed,
// access denied, SSO required, SSO disabled, not a member, a cross-site
// request), 404 for unknown organizations and connections and ErrNotFound,
// 400 for invalid configuration, arguments and responses (a replay, a
// callback the provider answered with an error or that carries no code),
// 502 when the organization's OpenID provider failed (discovery, token
// exchange, keys, userinfo) or may not be reached, 401 for ended, expired
// and unknown sessions and for refused second factors (a wrong code, a
// used-up intermediate token), 429 for ErrMFALocked, 409 for ErrMFAEnrolled
// and ErrMFANotEnrolled, 500 otherwise. nil gives 200.
func StatusCode(err error) int {
	err = samlConfigErr(err)
	switch {
	case err == nil:
		return http.StatusOK
	case errors.Is(err, ErrUnavailable):
		return http.StatusServiceUnavailable
	case isRandErr(err):
		return http.StatusInternalServerError // the server could not make a secret
	case errors.Is(err, ErrMFALocked):
		return http.StatusTooManyRequests
	case errors.Is(err, ErrMFAToken), errors.Is(err, ErrMFACode):
		return http.StatusUnauthorized
	case errors.Is(err, ErrMFAEnrolled), errors.Is(err, ErrMFANotEnrolled):
		return http.StatusConflict
	case errors.Is(err, ErrConflict), errors.Is(err, ErrMemberExists), errors.Is(err, ErrSSONameTaken):
		return http.StatusConflict
	case errors.Is(err, ErrNotOwner), errors.Is(err, ErrNotAdmin), errors.Is(err, ErrNotAllowed),
		errors.Is(err, ErrAccessDenied), errors.Is(err, ErrSSODisabled), errors.Is(err, ErrNotMember),
		errors.Is(err, ErrCrossSite):
		return http.StatusForbidden
	case errors.Is(err, ErrUnknownOrganization), errors.Is(err, ErrNotFound), errors.Is(err, ErrUnknownConnection):
		return http.StatusNotFound
	case errors.Is(err, ErrInvalidConfig), errors.Is(err, ErrInvalidResponse), errors.Is(err, ErrReplay),
		errors.Is(err, oidc.ErrInvalidToken), errors.Is(err, session.ErrInvalidArgument),
		// The browser brought the provider's refusal (error=access_denied),
		// or no single code: like a SAML error status, not a gateway failure.
		errors.Is(err, oidc.CheckAuthorization):
		return http.StatusBadRequest
	case errors.Is(err, oidc.ErrProvider), errors.Is(err, ErrPrivateAddress):
		return http.StatusBadGateway // the organization's provider failed, not the request
	case errors.Is(err, session.ErrEnded), errors.Is(err, session.ErrExpired), errors.Is(err, session.ErrUnknownSession):
		return http.StatusUnauthorized
	}
	return http.StatusInternalServerError
}

// MessageFor returns the login-page message of an ErrorCode; an unknown code
// (say, one edited in the URL) gets the generic message.
func MessageFor(code string) string {
	if code == "" {
		return ""
	}
	if m, ok := messages[code]; ok {
		return m
	}
	return messages[CodeFailed]
}

// UserMessage turns any error of this package into a message that is safe to
// show on the login page: it never reveals which check failed, a value from
// the response, or configuration. Log the error itself for the operator.
func UserMessage(err error) string { return MessageFor(ErrorCode(err)) }

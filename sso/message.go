package sso

import "errors"

// UserMessage turns any error of this package into a message that is safe to
// show on the login page: it never reveals which check failed, a value from
// the response, or configuration. Log the error itself for the operator.
func UserMessage(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrSSORequired):
		return "This organization requires single sign-on. Use “Login via SSO”."
	case errors.Is(err, ErrUnknownOrganization):
		return "No organization uses that SSO name. Check it with your administrator."
	case errors.Is(err, ErrSSODisabled):
		return "Single sign-on is not enabled for this organization. Sign in with your password."
	case errors.Is(err, ErrNotOwner):
		return "Only the organization owner can do this."
	case errors.Is(err, ErrAccessDenied):
		return "Your identity provider account does not give you access to this organization. Ask your administrator."
	case errors.Is(err, ErrReplay):
		return "This sign-in was already used. Please sign in again."
	case errors.Is(err, CheckExpired), errors.Is(err, CheckNotYetValid), errors.Is(err, CheckInResponseTo):
		return "The sign-in took too long or was started elsewhere. Please sign in again."
	case errors.Is(err, ErrInvalidResponse):
		return "We could not verify the answer from your identity provider. Please try again or contact your administrator."
	}
	return "Sign-in failed. Please try again."
}

// Package text cuts values quoted in error messages, so that a long or hostile
// value cannot flood an operator's log. It is the one cutter of the module:
// package saml, package sso and the test IdP use it.
package text

import "unicode/utf8"

// Truncate returns s cut to at most n bytes on a rune boundary, followed by
// "…" when anything was cut. s is returned unchanged when it fits.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

package sso

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/orgsso/orgsso/session"
)

// MemberEmailKey is how every Store, and PasswordLoginAllowed through them,
// compares member emails: ASCII case folding only. The bytes A–Z become a–z
// and every other byte is kept, so two addresses share a key exactly when
// they differ in the case of ASCII letters and nothing else.
//
// Distinct addresses never merge: the Kelvin sign "\u212A" is not "k", "ß" is
// not "SS" or "ss", the Turkish dotless "ı" and dotted "İ" are not "i" or "I",
// Greek final "ς" is not "σ", and an address in NFC is not the same address in
// NFD. Case differences outside ASCII ("ÅSA" and "åsa") are distinct
// addresses too: no mail system is required to treat them alike, and an IdP
// that sends the same person's address in two spellings is a configuration
// error better refused than merged into someone else's account.
//
// The key is defined only for emails ValidateMemberEmail accepts (valid UTF-8
// without NUL bytes); in valid UTF-8 the bytes A–Z appear only as ASCII
// letters, so folding bytes is folding characters. Every store refuses the
// others.
//
// The SQL stores persist this key (store/sqlstore migrations rewrite it when
// the rule changes): changing it needs a data migration.
func MemberEmailKey(email string) string {
	i := strings.IndexFunc(email, func(r rune) bool { return 'A' <= r && r <= 'Z' })
	if i < 0 {
		return email
	}
	b := []byte(email)
	for j := i; j < len(b); j++ {
		if c := b[j]; 'A' <= c && c <= 'Z' {
			b[j] = c + ('a' - 'A')
		}
	}
	return string(b)
}

// ValidateMemberEmail reports whether email can be a member's email in a
// Store: nil, or an error wrapping ErrInvalidArgument (session's, which every
// store uses) when it is not valid UTF-8 or holds a NUL byte. Every store
// refuses such an email in Member and SaveMember with that error, the same
// way, and stores nothing; PasswordLoginAllowed refuses it too.
//
// This is only what a key needs. Identities from an IdP are checked far more
// strictly (address syntax, lengths) before they reach a store: see
// HandleACS.
func ValidateMemberEmail(email string) error {
	if !utf8.ValidString(email) {
		return fmt.Errorf("sso: invalid member email: not valid UTF-8: %w", session.ErrInvalidArgument)
	}
	if i := strings.IndexByte(email, 0); i >= 0 {
		return fmt.Errorf("sso: invalid member email: a NUL byte at byte %d: %w", i, session.ErrInvalidArgument)
	}
	return nil
}

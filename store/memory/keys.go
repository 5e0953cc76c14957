package memory

import "github.com/orgsso/orgsso/sso"

// checkKeys returns an error wrapping ErrInvalidArgument if any of keys is
// longer than sso.MaxKeyBytes bytes, as every store refuses it. The error
// does not repeat the key: it may be long, or a session's token hash.
func checkKeys(what string, keys ...string) error {
	for _, k := range keys {
		if len(k) > sso.MaxKeyBytes {
			return errorf(ErrInvalidArgument, "%s: a key of %d bytes (at most %d)", what, len(k), sso.MaxKeyBytes)
		}
	}
	return nil
}

package rolemap

import (
	"iter"
	"strings"
)

// ParseRoles turns the values of a roles attribute into a list of IdP roles.
//
// An IdP sends a user's roles either as a multi-valued attribute (one role per
// value) or as one value holding several roles separated by the organization's
// delimiter; ParseRoles accepts both, and any mix of them. Each value is split
// by the delimiter, each piece is trimmed of white space (as Unicode defines it),
// and empty pieces are dropped. Duplicates (exact, case-sensitive) are removed;
// the first occurrence keeps its place, so roles come out in the order they
// were received.
//
// The delimiter is matched literally, leftmost first, as strings.Split does:
// "::" splits "a:::b" into "a" and ":b", and " - " keeps "b-c" whole in
// "a - b-c". Two delimiters are read differently:
//
//   - "" means no splitting: every value is one role.
//   - A delimiter made only of white space (" ", "\t", "\n", …) splits on runs
//     of any white space, as strings.Fields does.
//
// ParseRoles returns nil when there are no roles, never an empty non-nil slice.
func ParseRoles(values []string, delimiter string) []string {
	var (
		roles []string
		seen  map[string]struct{}
	)
	for _, v := range values {
		for r := range splitRoles(v, delimiter) {
			r = strings.TrimSpace(r)
			if r == "" {
				continue
			}
			if seen == nil {
				seen = make(map[string]struct{})
			}
			if _, dup := seen[r]; dup {
				continue
			}
			seen[r] = struct{}{}
			roles = append(roles, r)
		}
	}
	return roles
}

// splitRoles yields the untrimmed pieces of one attribute value.
func splitRoles(value, delimiter string) iter.Seq[string] {
	sep, fields := separator(delimiter)
	switch {
	case fields:
		return strings.FieldsSeq(value)
	case sep == "":
		return func(yield func(string) bool) { yield(value) }
	default:
		return strings.SplitSeq(value, sep)
	}
}

// separator interprets an organization's delimiter: the string to split on
// ("" for no splitting), or fields when the delimiter is all white space and
// splits on runs of any white space.
func separator(delimiter string) (sep string, fields bool) {
	if delimiter != "" && strings.TrimSpace(delimiter) == "" {
		return "", true
	}
	return delimiter, false
}

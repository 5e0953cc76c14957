package rolemap_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/orgsso/orgsso/rolemap"
)

func TestParseRoles(t *testing.T) {
	tests := []struct {
		name      string
		values    []string
		delimiter string
		want      []string
	}{
		{name: "nil input", values: nil, delimiter: ",", want: nil},
		{name: "empty input", values: []string{}, delimiter: ",", want: nil},
		{name: "only empty values", values: []string{"", " ", "\t\n"}, delimiter: "", want: nil},
		{name: "only delimiters", values: []string{",, ,", ","}, delimiter: ",", want: nil},
		{name: "multi-valued, no delimiter", values: []string{"Developers", "Admins"}, delimiter: "", want: []string{"Developers", "Admins"}},
		{name: "no delimiter keeps commas", values: []string{"Dev, Ops"}, delimiter: "", want: []string{"Dev, Ops"}},
		{name: "multi-valued, delimiter set", values: []string{"Developers", "Admins"}, delimiter: ",", want: []string{"Developers", "Admins"}},
		{name: "comma", values: []string{"Contentstack Developers, Everyone"}, delimiter: ",", want: []string{"Contentstack Developers", "Everyone"}},
		{name: "semicolon", values: []string{"a;b ; c"}, delimiter: ";", want: []string{"a", "b", "c"}},
		{name: "pipe", values: []string{"a|b| c |"}, delimiter: "|", want: []string{"a", "b", "c"}},
		{name: "space splits on runs of white space", values: []string{"  a  b\tc\n\nd \u00a0 e\u2003f "}, delimiter: " ", want: []string{"a", "b", "c", "d", "e", "f"}},
		{name: "tab delimiter splits on any white space", values: []string{"a\tb c"}, delimiter: "\t", want: []string{"a", "b", "c"}},
		{name: "newline delimiter", values: []string{"a\r\nb\n\nc"}, delimiter: "\n", want: []string{"a", "b", "c"}},
		{name: "several white space characters", values: []string{"a \t b"}, delimiter: " \t", want: []string{"a", "b"}},
		{name: "unicode white space delimiter", values: []string{"a\u2028b c"}, delimiter: "\u2028", want: []string{"a", "b", "c"}},
		{name: "multi-char delimiter", values: []string{"a::b::::c:d"}, delimiter: "::", want: []string{"a", "b", "c:d"}},
		{name: "delimiter matched leftmost first", values: []string{"a:::b"}, delimiter: "::", want: []string{"a", ":b"}},
		{name: "spaced pipe delimiter", values: []string{"R&D | QA|Ops | Sales"}, delimiter: " | ", want: []string{"R&D", "QA|Ops", "Sales"}},
		{name: "white space in delimiter counts", values: []string{"a,b, c"}, delimiter: ", ", want: []string{"a,b", "c"}},
		{name: "word delimiter", values: []string{"Dev AND Ops ANDSales"}, delimiter: " AND ", want: []string{"Dev", "Ops ANDSales"}},
		{name: "delimiter with inner space", values: []string{"a - b-c"}, delimiter: " - ", want: []string{"a", "b-c"}},
		{name: "trims unicode white space", values: []string{"\u00a0Admins\u3000", "\u2003Dev\u2029"}, delimiter: "", want: []string{"Admins", "Dev"}},
		{name: "drops empty pieces", values: []string{",a,,b,", " , "}, delimiter: ",", want: []string{"a", "b"}},
		{name: "removes duplicates, first seen order", values: []string{"b,a", "a", "c,b", " a "}, delimiter: ",", want: []string{"b", "a", "c"}},
		{name: "duplicates are case-sensitive", values: []string{"Admins,admins,ADMINS,Admins"}, delimiter: ",", want: []string{"Admins", "admins", "ADMINS"}},
		{name: "mixed multi-valued and delimited", values: []string{"a;b", "c", "d ; a"}, delimiter: ";", want: []string{"a", "b", "c", "d"}},
		{name: "non-ASCII roles", values: []string{"Développeurs,管理者,Développeurs"}, delimiter: ",", want: []string{"Développeurs", "管理者"}},
		{name: "invalid UTF-8 kept as is", values: []string{"\xff,a\xfe"}, delimiter: ",", want: []string{"\xff", "a\xfe"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := rolemap.ParseRoles(tt.values, tt.delimiter)
			if !slices.Equal(got, tt.want) || (got == nil) != (tt.want == nil) {
				t.Errorf("ParseRoles(%q, %q) = %#v; want %#v", tt.values, tt.delimiter, got, tt.want)
			}
		})
	}
}

func TestParseRolesDoesNotChangeInput(t *testing.T) {
	values := []string{" a ,b", "a"}
	rolemap.ParseRoles(values, ",")
	if want := []string{" a ,b", "a"}; !slices.Equal(values, want) {
		t.Errorf("values after ParseRoles() = %q; want %q", values, want)
	}
}

// hasBorder reports whether a proper prefix of s is also its suffix ("::",
// "aba"): such a delimiter can overlap itself where roles are joined with it.
func hasBorder(s string) bool {
	for k := 1; k < len(s); k++ {
		if s[:k] == s[len(s)-k:] {
			return true
		}
	}
	return false
}

// FuzzParseRoles checks the properties of ParseRoles on two attribute values
// and a delimiter. Its seed corpus is in testdata/fuzz/FuzzParseRoles.
func FuzzParseRoles(f *testing.F) {
	f.Fuzz(func(t *testing.T, a, b, delimiter string) {
		values := []string{a, b}
		got := rolemap.ParseRoles(values, delimiter)
		if got != nil && len(got) == 0 {
			t.Errorf("ParseRoles(%q, %q) = empty non-nil slice; want nil", values, delimiter)
		}
		seen := make(map[string]bool)
		for _, r := range got {
			if r == "" {
				t.Errorf("ParseRoles(%q, %q) = %q; want no empty role", values, delimiter, got)
			}
			if seen[r] {
				t.Errorf("ParseRoles(%q, %q) = %q; want no duplicate of %q", values, delimiter, got, r)
			}
			seen[r] = true
			if strings.TrimSpace(r) != r {
				t.Errorf("ParseRoles(%q, %q) = %q; want %q trimmed", values, delimiter, got, r)
			}
			if !strings.Contains(a, r) && !strings.Contains(b, r) {
				t.Errorf("ParseRoles(%q, %q) = %q; want %q a substring of a value", values, delimiter, got, r)
			}
		}

		// Validate accepts a mapping for every role ParseRoles can return, and
		// only for those: an identifier it accepts parses as itself.
		for _, id := range append([]string{a, b}, got...) {
			cfg := rolemap.Config{Delimiter: delimiter, Mappings: []rolemap.Mapping{{IdPRole: id, OrgRole: rolemap.RoleMember}}}
			err := cfg.Validate()
			parsed := rolemap.ParseRoles([]string{id}, delimiter)
			if ok := len(parsed) == 1 && parsed[0] == id; ok != (err == nil) {
				t.Errorf("Validate() of a mapping for %q, delimiter %q: err = %v; but ParseRoles() = %q", id, delimiter, err, parsed)
			}
		}

		// Parsing the result again, as a multi-valued attribute, changes nothing.
		if again := rolemap.ParseRoles(got, delimiter); !slices.Equal(again, got) {
			t.Errorf("ParseRoles(%q, %q) = %q; want %q", got, delimiter, again, got)
		}

		// Nor does parsing it as one value joined with the delimiter, when the
		// delimiter splits (not "") and cannot overlap itself. ("::" can: the
		// roles "a:" and "b" join into "a:::b", which splits as "a" and ":b".)
		if delimiter == "" || (hasBorder(delimiter) && strings.TrimSpace(delimiter) != "") {
			return
		}
		joined := []string{strings.Join(got, delimiter)}
		if again := rolemap.ParseRoles(joined, delimiter); !slices.Equal(again, got) {
			t.Errorf("ParseRoles(%q, %q) = %q; want %q", joined, delimiter, again, got)
		}
	})
}

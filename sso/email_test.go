package sso_test

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
)

func TestMemberEmailKey(t *testing.T) {
	tests := []struct{ email, want string }{
		{"", ""},
		{"kate@acme.example", "kate@acme.example"},
		{"Kate@ACME.Example", "kate@acme.example"},
		{"\u212Aate@acme.example", "\u212Aate@acme.example"}, // Kelvin sign stays
		{"\u212AATE@ACME.EXAMPLE", "\u212Aate@acme.example"},
		{"STRAẞE@x", "straẞe@x"},
		{"İVAN@x", "İvan@x"},
		{"ΟΔΥΣΣΕΥΣ@x", "ΟΔΥΣΣΕΥΣ@x"},
		{"JOSE\u0301@x", "jose\u0301@x"},
		{"ÅSA@x", "Åsa@x"},
		{"[Z]@x", "[z]@x"}, // the bytes around A–Z ('@', '[') stay
	}
	for _, tt := range tests {
		if got := sso.MemberEmailKey(tt.email); got != tt.want {
			t.Errorf("MemberEmailKey(%q) = %q; want %q", tt.email, got, tt.want)
		}
	}
}

func TestValidateMemberEmail(t *testing.T) {
	for _, email := range []string{"", "kate@acme.example", "\u212Aate@acme.example", "a\uFFFD@x", "not an address"} {
		if err := sso.ValidateMemberEmail(email); err != nil {
			t.Errorf("ValidateMemberEmail(%q) err = %v; want nil", email, err)
		}
	}
	for _, email := range []string{"a\xff@x", "\xc3", "a\xed\xa0\x80@x", "a\x00@x"} {
		if err := sso.ValidateMemberEmail(email); !errors.Is(err, session.ErrInvalidArgument) {
			t.Errorf("ValidateMemberEmail(%q) err = %v; want ErrInvalidArgument", email, err)
		}
	}
}

// FuzzMemberEmailKey: the key changes only the bytes A–Z, each to its
// lowercase; two valid emails share a key exactly when they differ in ASCII
// case alone.
func FuzzMemberEmailKey(f *testing.F) {
	for _, s := range []string{"Kate@ACME.example", "\u212Aate@acme.example", "straße", "İı", "\xff", ""} {
		f.Add(s, strings.ToUpper(s))
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		ka := sso.MemberEmailKey(a)
		if len(ka) != len(a) {
			t.Fatalf("MemberEmailKey(%q) = %q: length changed", a, ka)
		}
		for i := range len(a) {
			want := a[i]
			if 'A' <= want && want <= 'Z' {
				want += 'a' - 'A'
			}
			if ka[i] != want {
				t.Fatalf("MemberEmailKey(%q) = %q: byte %d is %q; want %q", a, ka, i, ka[i], want)
			}
		}
		if !utf8.ValidString(a) || !utf8.ValidString(b) {
			return
		}
		same := len(a) == len(b)
		for i := 0; same && i < len(a); i++ {
			x, y := a[i], b[i]
			same = x == y || (x|0x20 == y|0x20 && 'a' <= x|0x20 && x|0x20 <= 'z')
		}
		if got := sso.MemberEmailKey(b) == ka; got != same {
			t.Fatalf("keys of %q and %q equal = %t; want %t (equal but for ASCII case)", a, b, got, same)
		}
	})
}

package sso

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/orgsso/orgsso/saml"
)

func TestCheckIdentity(t *testing.T) {
	ok := Identity{NameID: "kate@acme.example", Email: "kate@acme.example", FirstName: "Kate", LastName: "Example", IdPRoles: []string{"Admins"}}
	long := strings.Repeat("x", 200<<10)
	tests := []struct {
		name    string
		edit    func(*Identity)
		problem string // "" = accepted
	}{
		{name: "valid", edit: func(*Identity) {}},
		{name: "empty values are not this check's", edit: func(id *Identity) { *id = Identity{} }},
		{name: "internationalized", edit: func(id *Identity) { id.Email = "δοκιμή@παράδειγμα.δοκιμή" }},
		{name: "Kelvin sign", edit: func(id *Identity) { id.Email = "\u212Aate@acme.example" }},
		{name: "email at bounds", edit: func(id *Identity) { id.Email = strings.Repeat("l", 64) + "@" + strings.Repeat("d", 189) }},
		{name: "email over", edit: func(id *Identity) { id.Email = strings.Repeat("l", 64) + "@" + strings.Repeat("d", 190) }, problem: "email: 255 bytes, more than the 254 accepted"},
		{name: "local over", edit: func(id *Identity) { id.Email = strings.Repeat("l", 65) + "@d" }, problem: `email: the part before the "@" is 65 bytes`},
		{name: "email huge", edit: func(id *Identity) { id.Email = long }, problem: "email: 204800 bytes"},
		{name: "email invalid UTF-8", edit: func(id *Identity) { id.Email = "k\xffte@acme.example" }, problem: "email: not valid UTF-8"},
		{name: "email NUL", edit: func(id *Identity) { id.Email = "k\x00te@acme.example" }, problem: "email: a control character (U+0000) at byte 1"},
		{name: "email newline", edit: func(id *Identity) { id.Email = "kate@acme.example\nbcc@evil.example" }, problem: "(U+000A) at byte 17"},
		{name: "email backslash", edit: func(id *Identity) { id.Email = `ka\te@acme.example` }, problem: `email: '\\' at byte 2`},
		{name: "email domain literal", edit: func(id *Identity) { id.Email = "kate@[192.0.2.1]" }, problem: "email: '[' at byte 5"},
		{name: "email comment", edit: func(id *Identity) { id.Email = "kate(work)@acme.example" }, problem: "email: '(' at byte 4"},
		{name: "email semicolon", edit: func(id *Identity) { id.Email = "kate@acme.example;bob@acme.example" }, problem: "email: ';' at byte 17"},
		{name: "email colon", edit: func(id *Identity) { id.Email = "group:kate@acme.example" }, problem: "email: ':' at byte 5"},
		{name: "email trailing dot", edit: func(id *Identity) { id.Email = "kate@acme.example." }, problem: "empty label"},
		{name: "first name at bound", edit: func(id *Identity) { id.FirstName = strings.Repeat("€", 85) + "x" }},
		{name: "first name over", edit: func(id *Identity) { id.FirstName = strings.Repeat("€", 86) }, problem: "first name: 258 bytes, more than the 256 accepted"},
		{name: "last name invalid UTF-8", edit: func(id *Identity) { id.LastName = "\xc3" }, problem: "last name: not valid UTF-8"},
		{name: "last name newline", edit: func(id *Identity) { id.LastName = "Example\nURGENT" }, problem: "last name: a control character (U+000A) at byte 7"},
		{name: "NameID over", edit: func(id *Identity) { id.NameID = long }, problem: "NameID: 204800 bytes, more than the 1024 accepted"},
		{name: "roles at bounds", edit: func(id *Identity) { id.IdPRoles = roles(MaxRoles, MaxRoleBytes) }},
		{name: "too many roles", edit: func(id *Identity) { id.IdPRoles = roles(MaxRoles+1, 16) }, problem: "IdP roles: 1001 distinct roles"},
		{name: "long roles", edit: func(id *Identity) { id.IdPRoles = []string{"Admins", long, strings.Repeat("r", 257)} }, problem: "IdP roles: 2 longer than the 256 bytes accepted (the longest is 204800 bytes)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := ok
			tt.edit(&in)
			got, problems := checkIdentity(in)
			if tt.problem == "" {
				if len(problems) != 0 {
					t.Fatalf("checkIdentity() problems = %q; want none", problems)
				}
				if fmt.Sprint(got) != fmt.Sprint(in) {
					t.Errorf("checkIdentity() = %+v; want the identity unchanged", got)
				}
				return
			}
			if len(problems) != 1 || !strings.Contains(problems[0], tt.problem) {
				t.Fatalf("checkIdentity() problems = %q; want one saying %q", problems, tt.problem)
			}
			err := identityError(problems)
			if !errors.Is(err, saml.CheckIdentity) || !errors.Is(err, ErrInvalidResponse) {
				t.Errorf("identityError() = %v; want saml.CheckIdentity, ErrInvalidResponse", err)
			}
			if len(err.Error()) > 500 {
				t.Errorf("identityError() is %d bytes; want lengths, not values", len(err.Error()))
			}
			// What is refused is left out; the rest is kept.
			if _, again := checkIdentity(got); len(again) != 0 {
				t.Errorf("checkIdentity(checked) problems = %q; want none", again)
			}
			for _, pair := range [][2]string{{in.Email, got.Email}, {in.FirstName, got.FirstName}, {in.LastName, got.LastName}, {in.NameID, got.NameID}} {
				if pair[1] != "" && pair[1] != pair[0] {
					t.Errorf("checked value %q; want %q or nothing", pair[1], pair[0])
				}
			}
		})
	}
}

// roles returns n distinct roles of size bytes each.
func roles(n, size int) []string {
	out := make([]string, n)
	for i := range out {
		r := fmt.Sprintf("role-%d-", i)
		out[i] = r + strings.Repeat("x", size-len(r))
	}
	return out
}

func TestQuoteRolesIsShort(t *testing.T) {
	if got := quoteRoles([]string{"a", "b"}); got != `["a" "b"]` {
		t.Errorf("quoteRoles(a, b) = %s", got)
	}
	got := quoteRoles(roles(MaxRoles, MaxRoleBytes))
	if !strings.HasSuffix(got, "and 990 more") || len(got) > 11*MaxRoleBytes {
		t.Errorf("quoteRoles(1000 roles) = %d bytes ending %q; want 10 and a count", len(got), got[len(got)-20:])
	}
}

// FuzzCheckIdentity: checkIdentity never panics, refuses every value over
// its bound, reports without echoing long values, and what it keeps passes
// again.
func FuzzCheckIdentity(f *testing.F) {
	f.Add("kate@acme.example", "Kate", "Example", "id", "Admins,Devs")
	f.Add("Kate <kate@acme.example>", "\x00", "\xff", strings.Repeat("n", 1100), strings.Repeat("r,", 1200))
	f.Add("\u212Aate@acme.example", "Zoë", "O'Brien", "", "")
	f.Fuzz(func(t *testing.T, email, first, last, nameID, roleList string) {
		in := Identity{Email: email, FirstName: first, LastName: last, NameID: nameID, IdPRoles: strings.Split(roleList, ",")}
		got, problems := checkIdentity(in)
		if len(got.Email) > MaxEmailBytes || len(got.FirstName) > MaxNameBytes || len(got.LastName) > MaxNameBytes ||
			len(got.NameID) > MaxNameIDBytes || len(got.IdPRoles) > MaxRoles {
			t.Fatalf("checkIdentity kept a value over its bound: %+v", got)
		}
		if _, again := checkIdentity(got); len(again) != 0 {
			t.Fatalf("checkIdentity(checked) problems = %q", again)
		}
		msg := strings.Join(problems, "; ")
		for _, v := range []string{email, first, last, nameID} {
			if len(v) >= 16 && strings.Contains(msg, v) {
				t.Fatalf("problem %q echoes the value %q", msg, v)
			}
		}
	})
}

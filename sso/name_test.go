package sso

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestValidateSSOName(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantErr error // nil = valid; else the rule sentinel
	}{
		{"simple", "acme", nil},
		{"two characters", "ab", nil},
		{"digits", "42", nil},
		{"hyphen inside", "acme-corp", nil},
		{"several hyphens", "a-b-c-1-2", nil},
		{"63 characters", strings.Repeat("a", 63), nil},

		{"empty", "", ErrSSONameLength},
		{"one character", "a", ErrSSONameLength},
		{"64 characters", strings.Repeat("a", 64), ErrSSONameLength},
		{"huge", strings.Repeat("A", 1<<16), ErrSSONameLength},

		{"upper case", "Acme", ErrSSONameCharacters},
		{"underscore", "acme_corp", ErrSSONameCharacters},
		{"dot", "acme.corp", ErrSSONameCharacters},
		{"space", "acme corp", ErrSSONameCharacters},
		{"slash", "acme/corp", ErrSSONameCharacters},
		{"percent", "acme%2f", ErrSSONameCharacters},
		{"non-ASCII letter", "acmé", ErrSSONameCharacters},
		{"invalid UTF-8", "ac\xffme", ErrSSONameCharacters},
		{"NUL byte", "ac\x00me", ErrSSONameCharacters},
		{"trailing newline", "acme\n", ErrSSONameCharacters},

		{"leading hyphen", "-acme", ErrSSONameEdgeHyphen},
		{"trailing hyphen", "acme-", ErrSSONameEdgeHyphen},
		{"only hyphens", "--", ErrSSONameEdgeHyphen},

		{"double hyphen", "acme--corp", ErrSSONameDoubleHyphen},
		{"triple hyphen", "a---b", ErrSSONameDoubleHyphen},
	}
	rules := []error{ErrSSONameLength, ErrSSONameCharacters, ErrSSONameEdgeHyphen, ErrSSONameDoubleHyphen}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateSSOName(tt.in)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("ValidateSSOName(%q) err = %v; want nil", tt.in, err)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("ValidateSSOName(%q) err = %v; want %v", tt.in, err, tt.wantErr)
			}
			if !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("ValidateSSOName(%q) err = %v; want it to wrap %v", tt.in, err, ErrInvalidConfig)
			}
			for _, r := range rules {
				if r != tt.wantErr && errors.Is(err, r) {
					t.Errorf("ValidateSSOName(%q) err = %v; also matches rule %v", tt.in, err, r)
				}
			}
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.Field != "SSOName" {
				t.Errorf("ValidateSSOName(%q) err = %#v; want a *ConfigError with Field SSOName", tt.in, err)
			}
			if len(err.Error()) > 400 {
				t.Errorf("ValidateSSOName(%q) error is %d bytes long; want it cut short", tt.in[:10], len(err.Error()))
			}
		})
	}
}

func TestValidateSSONameMessage(t *testing.T) {
	err := ValidateSSOName("Acme")
	if got, want := err.Error(), `"Acme" has 'A' at position 0`; !strings.Contains(got, want) {
		t.Errorf("ValidateSSOName(%q) err = %q; want it to contain %q", "Acme", got, want)
	}
	err = ValidateSSOName("ac\xffme")
	if got, want := err.Error(), "byte 0xff at position 2"; !strings.Contains(got, want) {
		t.Errorf("ValidateSSOName(%q) err = %q; want it to contain %q", "ac\xffme", got, want)
	}
}

func FuzzValidateSSOName(f *testing.F) {
	for _, s := range []string{"acme", "a", "Acme", "-a", "a--b", "acmé", strings.Repeat("z", 63)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		err := ValidateSSOName(name)
		if err != nil && !errors.Is(err, ErrInvalidConfig) {
			t.Fatalf("ValidateSSOName(%q) err = %v; want it to wrap %v", name, err, ErrInvalidConfig)
		}
		if err == nil {
			// A valid name is safe in a URL path segment as is.
			for _, c := range []byte(name) {
				if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
					t.Fatalf("ValidateSSOName(%q) = nil; want an error for byte %q", name, c)
				}
			}
		}
	})
}

// TestLongSSONameQuotedOnRuneBoundary: a long invalid name is cut for the
// log without splitting a character.
func TestLongSSONameQuotedOnRuneBoundary(t *testing.T) {
	name := strings.Repeat("a", 2*MaxSSONameLength-1) + "é" + strings.Repeat("b", 10)
	err := ValidateSSOName(name)
	if err == nil || !utf8.ValidString(err.Error()) || strings.Contains(err.Error(), `\xc3`) {
		t.Errorf("ValidateSSOName(long) = %v; want a message cut on a rune boundary", err)
	}
}

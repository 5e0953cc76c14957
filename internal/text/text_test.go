package text

import "testing"

func TestTruncate(t *testing.T) {
	tests := []struct {
		s    string
		n    int
		want string
	}{
		{"", 3, ""},
		{"abc", 3, "abc"},
		{"abcd", 3, "abc…"},
		{"aé", 2, "a…"},       // é is 2 bytes: never cut inside a rune
		{"ééé", 5, "éé…"},     // 4 of 6 bytes
		{"a\x80\x80", 2, "…"}, // continuation bytes are never a cut point
	}
	for _, tt := range tests {
		if got := Truncate(tt.s, tt.n); got != tt.want {
			t.Errorf("Truncate(%q, %d) = %q; want %q", tt.s, tt.n, got, tt.want)
		}
	}
}

package postgres

import "testing"

// TestParseChange: only a payload "<schema> <seq>" of the listener's own
// schema, with a decimal seq, is a change.
func TestParseChange(t *testing.T) {
	for _, tt := range []struct {
		payload, schema string
		want            int64
		ok              bool
	}{
		{"public 12", "public", 12, true},
		{"orgsso_test_ab 9223372036854775807", "orgsso_test_ab", 9223372036854775807, true},
		{"my schema 3", "my schema", 3, true}, // a quoted schema name may hold spaces
		{"other 12", "public", 0, false},
		{"publics 12", "public", 0, false},
		{"public12", "public", 0, false},
		{"public 12 ", "public", 0, false},
		{"public x", "public", 0, false},
		{"public 9223372036854775808", "public", 0, false},
		{"public ", "public", 0, false},
		{"", "public", 0, false},
		{" 12", "", 12, true}, // the empty schema never names a real one, but parses
		{"public 1 2", "public", 0, false},
	} {
		got, ok := parseChange(tt.payload, tt.schema)
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseChange(%q, %q) = %d, %v; want %d, %v", tt.payload, tt.schema, got, ok, tt.want, tt.ok)
		}
	}
}

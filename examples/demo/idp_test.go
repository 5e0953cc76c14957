package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestIdPKeyFileMode: the bundled IdP's private key file is readable by its
// owner only (0600) when it is made, when it is rewritten over an older file
// that others could read, and when such a file is found valid and kept. No
// temporary file is left behind.
func TestIdPKeyFileMode(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(t *testing.T, dir string) // the files before the start
		same    bool                           // the key found is kept
	}{
		{"new", func(*testing.T, string) {}, false},
		{"unreadable key rewritten", func(t *testing.T, dir string) {
			writeWithMode(t, filepath.Join(dir, "idp-key.pem"), "not a key", 0o644)
			writeWithMode(t, filepath.Join(dir, "idp-cert.pem"), "not a certificate", 0o666)
		}, false},
		{"readable key kept and made private", func(t *testing.T, dir string) {
			_, _, err := loadOrCreateIdPKey(dir)
			require.NoError(t, err)
			require.NoError(t, os.Chmod(filepath.Join(dir, "idp-key.pem"), 0o644))
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			tt.prepare(t, dir)
			before, _ := os.ReadFile(filepath.Join(dir, "idp-key.pem"))

			key, cert, err := loadOrCreateIdPKey(dir)
			require.NoError(t, err)
			require.True(t, key.PublicKey.Equal(cert.PublicKey))

			fi, err := os.Stat(filepath.Join(dir, "idp-key.pem"))
			require.NoError(t, err)
			assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "key file mode")
			fi, err = os.Stat(filepath.Join(dir, "idp-cert.pem"))
			require.NoError(t, err)
			assert.Equal(t, os.FileMode(0o644), fi.Mode().Perm(), "certificate file mode")

			after, err := os.ReadFile(filepath.Join(dir, "idp-key.pem"))
			require.NoError(t, err)
			assert.Equal(t, tt.same, string(before) == string(after), "key kept")
			entries, err := os.ReadDir(dir)
			require.NoError(t, err)
			assert.Len(t, entries, 2, "files in the directory: %v", entries)

			again, _, err := loadOrCreateIdPKey(dir)
			require.NoError(t, err)
			assert.True(t, again.Equal(key), "a restart makes a new key")
		})
	}
}

// writeWithMode writes a file and sets its mode exactly (the umask may
// narrow os.WriteFile's).
func writeWithMode(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	require.NoError(t, os.WriteFile(path, []byte(content), mode))
	require.NoError(t, os.Chmod(path, mode))
}

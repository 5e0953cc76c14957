package sqlite_test

import (
	"errors"
	"path/filepath"
	"testing"
)

// TestWatchChangesUnsupported: a SQLite store pushes nothing (a Service
// polls its change counter): WatchChanges says so at once.
func TestWatchChangesUnsupported(t *testing.T) {
	st := open(t, filepath.Join(t.TempDir(), "orgsso.db"))
	called := false
	if err := st.WatchChanges(t.Context(), func(int64) { called = true }); !errors.Is(err, errors.ErrUnsupported) || called {
		t.Errorf("WatchChanges() err = %v, called %v; want errors.ErrUnsupported, not called", err, called)
	}
}

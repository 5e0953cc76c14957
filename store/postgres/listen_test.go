package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/store/sqlstore"
)

// watchWait bounds how long the listener tests wait for a notification.
const watchWait = 10 * time.Second

// TestWatchChanges: a store's WatchChanges reports the change counter of
// writes another pool on its schema commits, in commit order, and ignores
// those of another schema of the database (the channel is shared); Close
// ends the watch.
func TestWatchChanges(t *testing.T) {
	ctx := t.Context()
	dsn := schemaDSN(t)
	writer, watcher, other := openDSN(t, dsn), openDSN(t, dsn), open(t)

	seqs := make(chan int64, 100)
	done := make(chan error, 1)
	go func() { done <- watcher.WatchChanges(context.WithoutCancel(ctx), func(seq int64) { seqs <- seq }) }()

	// write ends a session in st (a raise of its counter) and returns the
	// counter's new value.
	n := 0
	write := func(st *sqlstore.Store) int64 {
		t.Helper()
		n++
		s := &session.Session{ID: "s" + string(rune('a'+n)), OrgID: "org1", UserID: "u1", Method: session.MethodSSO,
			CreatedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)}
		if err := st.CreateSession(ctx, s); err != nil {
			t.Fatal(err)
		}
		if err := st.DeleteSession(ctx, s.ID); err != nil {
			t.Fatal(err)
		}
		seq, err := st.ChangeSeq(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return seq
	}
	// The listener connects in its own time: write until it reports.
	deadline := time.Now().Add(watchWait)
	for listening := false; !listening; {
		want := write(writer)
		select {
		case got := <-seqs:
			if got != want {
				t.Fatalf("first notification seq = %d; want %d", got, want)
			}
			listening = true
		case <-time.After(50 * time.Millisecond):
			if time.Now().After(deadline) {
				t.Fatalf("no notification %v after the first write", watchWait)
			}
		}
	}
	// Another schema's raise, then this one's: only this one is reported,
	// and it is the next (notifications come in commit order).
	write(other)
	want := write(writer)
	select {
	case got := <-seqs:
		if got != want {
			t.Errorf("notification after another schema's write and this one's: seq = %d; want %d", got, want)
		}
	case <-time.After(watchWait):
		t.Fatalf("no notification %v after a write", watchWait)
	}

	if err := watcher.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err == nil {
			t.Error("WatchChanges after Close returned nil; want an error")
		}
	case <-time.After(watchWait):
		t.Fatalf("WatchChanges still running %v after Close", watchWait)
	}
	if err := watcher.WatchChanges(ctx, func(int64) {}); !errors.Is(err, sqlstore.ErrClosed) {
		t.Errorf("WatchChanges on a closed store err = %v; want ErrClosed", err)
	}
}

// TestWatchChangesInvalidateAndTruncate: InvalidateCaches raises the
// counter by sqlstore.InvalidateCachesStep and notifies the new value, as
// the triggers do; so does a TRUNCATE of sessions (migration 0011), which
// fires no DELETE trigger. Each is reported to a watcher on another pool.
func TestWatchChangesInvalidateAndTruncate(t *testing.T) {
	ctx := t.Context()
	dsn := schemaDSN(t)
	writer, watcher := openDSN(t, dsn), openDSN(t, dsn)
	seqs := make(chan int64, 100)
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan error, 1)
	go func() { done <- watcher.WatchChanges(wctx, func(seq int64) { seqs <- seq }) }()
	t.Cleanup(func() { cancel(); <-done })

	// The listener connects in its own time: raise until it reports.
	var want int64
	deadline := time.Now().Add(watchWait)
	for listening := false; !listening; {
		before, err := writer.ChangeSeq(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := writer.InvalidateCaches(ctx); err != nil {
			t.Fatalf("InvalidateCaches() err = %v", err)
		}
		want = before + sqlstore.InvalidateCachesStep
		if got, err := writer.ChangeSeq(ctx); err != nil || got != want {
			t.Fatalf("ChangeSeq() after InvalidateCaches = %d, %v; want %d", got, err, want)
		}
		select {
		case got := <-seqs:
			if got != want {
				t.Fatalf("notification after InvalidateCaches: seq = %d; want %d", got, want)
			}
			listening = true
		case <-time.After(50 * time.Millisecond):
			if time.Now().After(deadline) {
				t.Fatalf("no notification %v after InvalidateCaches", watchWait)
			}
		}
	}
	if _, err := writer.DB().ExecContext(ctx, `TRUNCATE sessions`); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-seqs:
		if got != want+1 {
			t.Errorf("notification after TRUNCATE sessions: seq = %d; want %d", got, want+1)
		}
	case <-time.After(watchWait):
		t.Fatalf("no notification %v after TRUNCATE sessions", watchWait)
	}
}

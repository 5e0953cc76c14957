package sso

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/orgsso/orgsso/session"
)

// fakeFeed is a ChangeFeed whose counter and failure the test sets: only
// for the cases a real store cannot produce on demand (a counter that
// fails, goes back).
type fakeFeed struct {
	mu  sync.Mutex
	seq int64
	err error
}

func (f *fakeFeed) ChangeSeq(context.Context) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.seq, f.err
}

func (f *fakeFeed) set(seq int64, err error) {
	f.mu.Lock()
	f.seq, f.err = seq, err
	f.mu.Unlock()
}

// cacheAt is a cache over feed whose freshness clock is *now, bounded to
// max entries, with the default staleness bound.
func cacheAt(feed ChangeFeed, now *time.Time, max int) *sessionCache {
	return &sessionCache{feed: feed, maxStale: time.Second, poll: time.Second / 4, max: max,
		clock: func() time.Time { return *now }, entries: map[string]*session.Session{}}
}

var cacheT0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

func liveSession(id string) *session.Session {
	return &session.Session{ID: id, OrgID: "org", UserID: "u", Method: session.MethodSSO, CreatedAt: cacheT0, ExpiresAt: cacheT0.Add(time.Hour)}
}

// cacheState names get's answer, for messages.
var cacheState = map[int]string{cacheHit: "hit", cacheMiss: "miss", cacheBypass: "bypass"}

// fill caches a live session under id, as a check that read the store
// would, and fails unless the next get is a hit.
func fill(t *testing.T, c *sessionCache, id string) {
	t.Helper()
	_, epoch, state := c.get(id, cacheT0)
	if state != cacheMiss {
		t.Fatalf("get(%s) before it is cached = %s; want miss", id, cacheState[state])
	}
	c.put(id, liveSession(id), epoch)
	if _, _, state := c.get(id, cacheT0); state != cacheHit {
		t.Fatalf("get(%s) after put = %s; want hit", id, cacheState[state])
	}
}

// TestSessionCacheFreshness: hits are served while the last poll that
// read the counter started at most maxStale ago (by the real clock, here
// injected), and a stale cache is emptied at its first check.
func TestSessionCacheFreshness(t *testing.T) {
	now := cacheT0
	feed := &fakeFeed{seq: 5}
	c := cacheAt(feed, &now, 10)
	if _, _, state := c.get("a", cacheT0); state != cacheBypass {
		t.Fatalf("get before any poll = %s; want bypass", cacheState[state])
	}
	if err := c.pollOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	fill(t, c, "a")
	for _, tt := range []struct {
		after time.Duration
		want  int
	}{
		{time.Second / 2, cacheHit},
		{time.Second, cacheHit},                      // at the bound
		{time.Second + time.Nanosecond, cacheBypass}, // past it: stale
		{2 * time.Second, cacheBypass},
	} {
		now = cacheT0.Add(tt.after)
		if _, _, state := c.get("a", cacheT0); state != tt.want {
			t.Errorf("get %v after the poll = %s; want %s", tt.after, cacheState[state], cacheState[tt.want])
		}
	}
	if len(c.entries) != 0 {
		t.Errorf("entries of a stale cache = %d; want 0 (dropped)", len(c.entries))
	}
	// A poll that fails confirms nothing; one that answers does.
	feed.set(5, errors.New("down"))
	if err := c.pollOnce(t.Context()); err == nil {
		t.Error("pollOnce over a failing feed err = nil")
	}
	if _, _, state := c.get("a", cacheT0); state != cacheBypass {
		t.Errorf("get after a failed poll = %s; want bypass", cacheState[state])
	}
	feed.set(5, nil)
	if err := c.pollOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, _, state := c.get("a", cacheT0); state != cacheMiss {
		t.Errorf("get after the counter answers again = %s; want miss (the stale entries went)", cacheState[state])
	}
}

// TestSessionCacheCounter: any counter value other than the known one
// drops the cache (a poll's higher one is a change, a lower one a replaced
// store); a notification drops it only for a higher one.
func TestSessionCacheCounter(t *testing.T) {
	for _, tt := range []struct {
		name   string
		change func(c *sessionCache, feed *fakeFeed)
		drops  bool
	}{
		{"poll same", func(c *sessionCache, f *fakeFeed) { c.pollOnce(context.Background()) }, false},
		{"poll higher", func(c *sessionCache, f *fakeFeed) { f.set(11, nil); c.pollOnce(context.Background()) }, true},
		{"poll lower", func(c *sessionCache, f *fakeFeed) { f.set(3, nil); c.pollOnce(context.Background()) }, true},
		{"notify higher", func(c *sessionCache, f *fakeFeed) { c.advance(11) }, true},
		{"notify same", func(c *sessionCache, f *fakeFeed) { c.advance(10) }, false},
		{"notify lower", func(c *sessionCache, f *fakeFeed) { c.advance(9) }, false},
		{"local write", func(c *sessionCache, f *fakeFeed) { c.drop() }, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			now := cacheT0
			feed := &fakeFeed{seq: 10}
			c := cacheAt(feed, &now, 10)
			if err := c.pollOnce(t.Context()); err != nil {
				t.Fatal(err)
			}
			fill(t, c, "a")
			tt.change(c, feed)
			_, _, state := c.get("a", cacheT0)
			if dropped := state != cacheHit; dropped != tt.drops {
				t.Errorf("get after the change = %s; want dropped %v", cacheState[state], tt.drops)
			}
		})
	}
}

// TestSessionCachePutAfterDrop: what a check read before a drop (a change
// it may predate) is not cached, nor is anything while the cache is stale.
func TestSessionCachePutAfterDrop(t *testing.T) {
	now := cacheT0
	c := cacheAt(&fakeFeed{seq: 1}, &now, 10)
	if err := c.pollOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	_, epoch, _ := c.get("a", cacheT0)
	c.advance(2) // a revocation committed while the check read the store
	c.put("a", liveSession("a"), epoch)
	if len(c.entries) != 0 {
		t.Errorf("entries after a put from before a drop = %d; want 0", len(c.entries))
	}
	_, epoch, _ = c.get("b", cacheT0)
	now = now.Add(2 * time.Second) // stale by the time the store answered
	c.put("b", liveSession("b"), epoch)
	if len(c.entries) != 0 {
		t.Errorf("entries after a put into a stale cache = %d; want 0", len(c.entries))
	}
}

// TestSessionCacheBoundsAndCopies: the cache holds at most max sessions; a
// hit is a copy the caller owns; an expired session is not served (the
// store gives the verdict) and leaves the cache.
func TestSessionCacheBoundsAndCopies(t *testing.T) {
	now := cacheT0
	c := cacheAt(&fakeFeed{}, &now, 2)
	if err := c.pollOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"a", "b", "c", "d"} {
		fill(t, c, id)
		if len(c.entries) > 2 {
			t.Fatalf("entries after caching %s = %d; want at most 2", id, len(c.entries))
		}
	}
	got, _, _ := c.get("d", cacheT0)
	got.UserID = "changed"
	if again, _, _ := c.get("d", cacheT0); again.UserID != "u" {
		t.Errorf("hit after the caller changed its copy: UserID %q; want %q", again.UserID, "u")
	}
	if _, _, state := c.get("d", cacheT0.Add(time.Hour)); state != cacheMiss {
		t.Errorf("get at ExpiresAt = %s; want miss", cacheState[state])
	}
	if _, ok := c.entries["d"]; ok {
		t.Error("an expired session stayed cached")
	}
}

// TestSessionCacheWatchUnsupported: a watcher that cannot push ends the
// watch at once (polling remains).
func TestSessionCacheWatchUnsupported(t *testing.T) {
	now := cacheT0
	c := cacheAt(&fakeFeed{}, &now, 1)
	c.watcher = watcherFunc(func(context.Context, func(int64)) error {
		return errors.ErrUnsupported
	})
	done := make(chan struct{})
	go func() { c.watch(t.Context(), slog.New(slog.DiscardHandler)); close(done) }()
	<-done
}

type watcherFunc func(context.Context, func(int64)) error

func (f watcherFunc) WatchChanges(ctx context.Context, changed func(int64)) error {
	return f(ctx, changed)
}

package sso

import (
	"context"
	"errors"
	"log/slog"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"github.com/orgsso/orgsso/session"
)

// Session cache defaults and bounds (Config.SessionCache).
const (
	// DefaultSessionCacheMaxStaleness is how late, at most, a revocation
	// made on another replica reaches a replica's session cache when
	// SessionCacheConfig.MaxStaleness is 0.
	DefaultSessionCacheMaxStaleness = time.Second
	// MinSessionCacheMaxStaleness is the smallest MaxStaleness New accepts.
	MinSessionCacheMaxStaleness = 20 * time.Millisecond
	// DefaultSessionCacheMaxEntries bounds the cache when
	// SessionCacheConfig.MaxEntries is 0. An entry holds one session
	// (a few hundred bytes).
	DefaultSessionCacheMaxEntries = 100_000
)

// SessionCacheConfig configures the session-check cache of a Service
// (Config.SessionCache). Zero values are the defaults.
//
// The cache keeps the verdicts of ValidateSession: a session found valid,
// with its organization's and member's state at that moment, keyed by the
// token's hash. A cached session is accepted again without reading the
// store while the replica's view of the store is fresh: it read the store's
// change counter (ChangeFeed, raised by every write that can end a valid
// session, on any replica) at most MaxStaleness ago. When the counter moves
// the whole cache is dropped; when the counter cannot be read for
// MaxStaleness, every check reads the store again (the cache fails closed).
// Expiry is judged at every hit with the session Manager's clock
// (session.Manager.Now: Config.Sessions' own, or Config.Now for the Manager
// New builds), the one Manager.Validate judges it by. Writes made
// through this Service (SignOut, RevokeSessions, Disable, RemoveMember,
// organization and member updates) drop the cache at once.
//
// So a revocation made on another replica, or directly in the database,
// refuses the session here within MaxStaleness; in practice within one poll
// interval (MaxStaleness/4), and within milliseconds over PostgreSQL, whose
// notifications (ChangeWatcher) wake the replicas at commit.
//
// The cache needs Service.Run: Run keeps it fresh (polls the counter,
// listens for notifications). A Service whose Run is not running reads the
// store at every check, as without a cache. It needs a Store that
// implements ChangeFeed (every store in orgsso/store does), and a session
// Manager over that same Store (Config.Sessions built with
// session.NewManager(store)); otherwise there is no cache.
//
// The counter tells a change only by a value other than the last one read.
// Restoring a backup into a live database brings it back to the backup's
// value (on SQLite, a restore through the backup API is seen all the same:
// see store/sqlstore), and if no revoking write moved it between the backup
// and the restore, the replicas see no change: each goes on accepting the
// sessions it cached, which the restored database may not have, for as
// long as nothing moves the counter. After such a restore, call the store's
// InvalidateCaches (sqlstore.Store.InvalidateCaches, for SQLite and
// PostgreSQL), which every replica notices within MaxStaleness, or restart
// every replica; or run without the cache (Disabled).
type SessionCacheConfig struct {
	// Disabled turns the cache off: every ValidateSession reads the store.
	Disabled bool
	// MaxStaleness bounds how long after a revocation committed on another
	// replica this replica may still accept the session:
	// 0 = DefaultSessionCacheMaxStaleness (1 s); at least
	// MinSessionCacheMaxStaleness. The counter is polled every quarter of
	// it.
	MaxStaleness time.Duration
	// MaxEntries bounds how many sessions the cache holds; when it is full
	// a new one evicts an arbitrary one. 0 = DefaultSessionCacheMaxEntries.
	MaxEntries int
}

// SessionCacheStats describes a Service's session cache
// (Service.SessionCacheStats).
type SessionCacheStats struct {
	// Enabled: the cache is configured (not Disabled, over a Store with a
	// ChangeFeed).
	Enabled bool
	// Fresh: Run read the store's change counter within MaxStaleness, so
	// cached sessions are served. False while Run is not running, and while
	// the store does not answer.
	Fresh bool
	// Entries is how many sessions the cache holds.
	Entries int
	// ChangeSeq is the store's change counter as last seen.
	ChangeSeq int64
	// Hits counts checks answered from the cache; Misses checks that read
	// the store while the cache was fresh; Bypasses checks that read the
	// store because it was not; Drops how often the whole cache was
	// dropped (the counter moved, or a write through this Service).
	Hits, Misses, Bypasses, Drops uint64
}

// SessionCacheStats returns the state of the session cache, for metrics
// and health checks.
func (s *Service) SessionCacheStats() SessionCacheStats {
	c := s.cache
	if c == nil {
		return SessionCacheStats{}
	}
	c.mu.RLock()
	st := SessionCacheStats{Enabled: true, Fresh: c.freshLocked(), Entries: len(c.entries), ChangeSeq: c.seq}
	c.mu.RUnlock()
	st.Hits, st.Misses, st.Bypasses, st.Drops = c.hits.Load(), c.misses.Load(), c.bypasses.Load(), c.drops.Load()
	return st
}

// sessionCache holds the verdicts of ValidateSession; see
// SessionCacheConfig. Freshness is judged by clock, the real time (a
// monotonic reading), never by the Service's clock: a test's frozen clock
// must not freeze the cache's view of the store.
type sessionCache struct {
	feed     ChangeFeed
	watcher  ChangeWatcher // nil when the store pushes nothing
	maxStale time.Duration
	poll     time.Duration
	max      int
	clock    func() time.Time

	running atomic.Bool // a Run keeps the cache fresh

	mu        sync.RWMutex
	entries   map[string]*session.Session // by session ID (the token's hash)
	epoch     uint64                      // advances at every drop
	seq       int64                       // the store's counter the entries were read under
	haveSeq   bool
	confirmed time.Time // when the last poll that read seq started; zero = not fresh

	hits, misses, bypasses, drops atomic.Uint64
}

// newSessionCache returns the cache cfg asks for over st, or nil: when it
// is disabled, st has no ChangeFeed, or the session manager keeps its
// sessions elsewhere (its sign-outs would not move st's counter).
func newSessionCache(cfg SessionCacheConfig, st Store, sessions *session.Manager) (*sessionCache, error) {
	switch {
	case cfg.MaxStaleness < 0:
		return nil, configErr("SessionCache.MaxStaleness", "must not be negative")
	case cfg.MaxStaleness != 0 && cfg.MaxStaleness < MinSessionCacheMaxStaleness:
		return nil, configErr("SessionCache.MaxStaleness", "must be at least %v", MinSessionCacheMaxStaleness)
	case cfg.MaxEntries < 0:
		return nil, configErr("SessionCache.MaxEntries", "must not be negative")
	}
	feed, ok := st.(ChangeFeed)
	if cfg.Disabled || !ok || !sameStore(st, sessions.Store()) {
		return nil, nil
	}
	c := &sessionCache{
		feed:     feed,
		maxStale: orDefault(cfg.MaxStaleness, DefaultSessionCacheMaxStaleness),
		max:      orDefault(cfg.MaxEntries, DefaultSessionCacheMaxEntries),
		clock:    time.Now,
		entries:  make(map[string]*session.Session),
	}
	c.watcher, _ = st.(ChangeWatcher)
	c.poll = c.maxStale / 4
	return c, nil
}

// sameStore reports whether the session store is st itself: interface
// values of one comparable dynamic type, equal (a pointer to the same
// store, as a host passes it to both). Values of other types, or not
// comparable, are not the same for this purpose.
func sameStore(st Store, sessions session.Store) bool {
	if st == nil || sessions == nil {
		return false
	}
	t := reflect.TypeOf(st)
	if t != reflect.TypeOf(sessions) || !t.Comparable() {
		return false
	}
	return any(st) == any(sessions)
}

// ValidateSession's cache states for one check.
const (
	cacheHit    = iota // answered from the cache
	cacheMiss          // fresh, but not cached (or expired by the clock): read the store, then cache
	cacheBypass        // not fresh: read the store, cache nothing
)

// get returns the cached session with this ID if the cache is fresh and
// the session valid at now (the session Manager's now: a hit never accepts
// what Manager.Validate would call expired), as a copy the caller owns.
// Otherwise it says whether the store's answer may be cached (cacheMiss,
// with the epoch to put it under) or not (cacheBypass).
func (c *sessionCache) get(id string, now time.Time) (*session.Session, uint64, int) {
	c.mu.RLock()
	fresh, epoch, n := c.freshLocked(), c.epoch, len(c.entries)
	sess := c.entries[id]
	c.mu.RUnlock()
	switch {
	case !fresh && n > 0:
		// Stale: what is cached may predate any write, and a late poll
		// must not make it servable again.
		c.mu.Lock()
		if !c.freshLocked() {
			c.dropLocked()
		}
		c.mu.Unlock()
		fallthrough
	case !fresh:
		c.bypasses.Add(1)
		return nil, 0, cacheBypass
	case sess != nil && sess.Valid(now):
		c.hits.Add(1)
		out := *sess
		return &out, 0, cacheHit
	case sess != nil:
		// Expired by the Manager's clock: the store gives the verdict
		// (ErrExpired), and the entry goes.
		c.mu.Lock()
		if c.entries[id] == sess {
			delete(c.entries, id)
		}
		c.mu.Unlock()
	}
	c.misses.Add(1)
	return nil, epoch, cacheMiss
}

// put caches a copy of sess, found valid by reading the store after get
// returned epoch, unless the cache was dropped (or went stale) since: what
// was read may predate the write that dropped it.
func (c *sessionCache) put(id string, sess *session.Session, epoch uint64) {
	cp := *sess
	c.mu.Lock()
	defer c.mu.Unlock()
	if epoch != c.epoch || !c.freshLocked() {
		return
	}
	if _, ok := c.entries[id]; !ok && len(c.entries) >= c.max {
		for k := range c.entries { // map order is unspecified: an arbitrary victim
			delete(c.entries, k)
			break
		}
	}
	c.entries[id] = &cp
}

// freshLocked reports whether a poll confirmed the counter within
// maxStale. The caller holds c.mu.
func (c *sessionCache) freshLocked() bool {
	return !c.confirmed.IsZero() && c.clock().Sub(c.confirmed) <= c.maxStale
}

// dropLocked empties the cache and moves to a new epoch, so that no check
// in flight caches what it read before. The caller holds c.mu for writing.
func (c *sessionCache) dropLocked() {
	clear(c.entries)
	c.epoch++
	c.drops.Add(1)
}

// drop empties the cache, after a write through this Service that may have
// ended sessions. A nil cache does nothing.
func (c *sessionCache) drop() {
	if c == nil {
		return
	}
	c.mu.Lock()
	c.dropLocked()
	c.mu.Unlock()
}

// advance takes a counter value a notification reported: a higher one
// than known drops the cache. It neither confirms nor records the value:
// only polls do, reading the counter itself. A notification is a hint,
// which any database login can send (NOTIFY needs no privilege): recorded,
// a forged "seq+1" sent before a revocation would make the revocation's
// own seq+1 look known, to its notification and to every poll after it.
// A forged notification costs a drop at most.
func (c *sessionCache) advance(seq int64) {
	c.mu.Lock()
	if !c.haveSeq || seq > c.seq {
		c.dropLocked()
	}
	c.mu.Unlock()
}

// confirm takes the counter value a poll that started at start read: the
// cache is fresh as of start. Any other value than the known one drops the
// cache: a higher one is a change, a lower one a replaced store (or a poll
// that a notification overtook, which costs a needless drop only).
func (c *sessionCache) confirm(seq int64, start time.Time) {
	c.mu.Lock()
	if !c.haveSeq || seq != c.seq {
		c.dropLocked()
		c.seq, c.haveSeq = seq, true
	}
	if start.After(c.confirmed) {
		c.confirmed = start
	}
	c.mu.Unlock()
}

// stop marks the cache stale and empties it, when Run returns.
func (c *sessionCache) stop() {
	c.mu.Lock()
	c.confirmed = time.Time{}
	c.dropLocked()
	c.mu.Unlock()
	c.running.Store(false)
}

// pollOnce reads the counter, within maxStale (a later answer would be
// stale on arrival), and reports whether it could.
func (c *sessionCache) pollOnce(ctx context.Context) error {
	start := c.clock()
	pctx, cancel := context.WithTimeout(ctx, c.maxStale)
	defer cancel()
	seq, err := c.feed.ChangeSeq(pctx)
	if err != nil {
		return err
	}
	c.confirm(seq, start)
	return nil
}

// run keeps the cache fresh until ctx is done: it polls the counter every
// c.poll and, over a ChangeWatcher, takes its notifications as they come.
// Only one run at a time does anything; another returns at once.
func (c *sessionCache) run(ctx context.Context, log *slog.Logger) {
	if !c.running.CompareAndSwap(false, true) {
		return
	}
	defer c.stop()
	if c.watcher != nil {
		go c.watch(ctx, log)
	}
	t := time.NewTicker(c.poll)
	defer t.Stop()
	failing := false
	for {
		err := c.pollOnce(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil && !failing:
			failing = true
			log.LogAttrs(ctx, slog.LevelWarn, "orgsso: reading the store's change counter failed; session checks read the store until it answers",
				slog.String("err", err.Error()))
		case err == nil && failing:
			failing = false
			log.LogAttrs(ctx, slog.LevelInfo, "orgsso: the store's change counter answers again; session checks are cached")
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Backoff of the change watch after it failed.
const (
	watchBackoffMin = 100 * time.Millisecond
	watchBackoffMax = 30 * time.Second
)

// watch runs the store's ChangeWatcher until ctx is done, again after each
// failure with exponential backoff. A store that cannot watch
// (errors.ErrUnsupported) is left to the polls.
func (c *sessionCache) watch(ctx context.Context, log *slog.Logger) {
	backoff := watchBackoffMin
	for {
		start := time.Now()
		err := c.watcher.WatchChanges(ctx, c.advance)
		switch {
		case ctx.Err() != nil, errors.Is(err, errors.ErrUnsupported):
			return
		case time.Since(start) > watchBackoffMax:
			backoff = watchBackoffMin // it ran well for a while: retry soon
		}
		log.LogAttrs(ctx, slog.LevelWarn, "orgsso: watching the store's changes failed; retrying (session checks rely on polling meanwhile)",
			slog.Duration("retry_in", backoff), slog.String("err", errString(err)))
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, watchBackoffMax)
	}
}

// errString is err's text; "" for nil.
func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// maxCachedTokenLen bounds the tokens a check hashes for the cache; a real
// token has 43 characters, and a longer one is refused by the session
// manager without a lookup.
const maxCachedTokenLen = 64

// validateCached is ValidateSession through the cache c.
func (s *Service) validateCached(ctx context.Context, c *sessionCache, token string) (*session.Session, error) {
	if len(token) > maxCachedTokenLen {
		return s.validateSession(ctx, token)
	}
	id := session.HashToken(token)
	sess, epoch, state := c.get(id, s.sessions.Now())
	if state == cacheHit {
		return sess, nil
	}
	sess, err := s.validateSession(ctx, token)
	if err == nil && state == cacheMiss {
		c.put(id, sess, epoch)
	}
	return sess, err
}

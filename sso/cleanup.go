package sso

import (
	"context"
	"log/slog"
	"time"
)

// Cleanup defaults.
const (
	// CleanupBatchSize is how many expired entries one batch deletes.
	CleanupBatchSize = 1000
	// DefaultCleanupBudget is how long one Cleanup keeps deleting batches.
	DefaultCleanupBudget = 2 * time.Second
	// DefaultCleanupInterval is how often Run cleans up.
	DefaultCleanupInterval = time.Minute
)

// Cleanup evicts what has expired at the Service's clock: pending requests,
// used assertion IDs and sessions, and with an MFAStore the MFA pending
// sign-ins and attempt windows (DeleteExpiredMFA). With a store that implements BatchCleaner
// (every store in orgsso/store does) it deletes in batches of
// CleanupBatchSize, each its own short transaction, until nothing expired is
// left or Config.CleanupBudget is spent; the rest waits for the next call, so
// a large backlog never holds a write lock long enough to fail a sign-in.
// Otherwise it calls Cleaner (when implemented) and the session manager's
// Cleanup once. It returns how many entries went.
//
// Run calls it periodically; a host that does not use Run calls it from a
// time.Ticker.
func (s *Service) Cleanup(ctx context.Context) (int, error) {
	n, err := s.cleanup(ctx)
	if err != nil || s.mfa == nil {
		return n, err
	}
	m, err := s.cleanupMFA(ctx)
	return n + m, err
}

// cleanupMFA evicts expired MFA pending sign-ins and attempt windows, in
// batches, within the cleanup budget.
func (s *Service) cleanupMFA(ctx context.Context) (int, error) {
	start, total := time.Now(), 0
	for {
		now := s.now()
		n, err := s.count(ctx, "DeleteExpiredMFA", func(ctx context.Context) (int, error) {
			return s.mfa.DeleteExpiredMFA(ctx, now, CleanupBatchSize)
		})
		total += n
		if err != nil || n < CleanupBatchSize || time.Since(start) >= s.cleanupBudget {
			return total, err
		}
		if err := ctx.Err(); err != nil {
			return total, err
		}
	}
}

// cleanup is Cleanup of the pending requests, used assertion IDs and
// sessions.
func (s *Service) cleanup(ctx context.Context) (int, error) {
	bc, ok := s.store.(BatchCleaner)
	if !ok {
		return s.cleanupOnce(ctx)
	}
	start, total := time.Now(), 0
	for {
		now := s.now()
		n, err := s.count(ctx, "CleanupBatch", func(ctx context.Context) (int, error) {
			return bc.CleanupBatch(ctx, now, CleanupBatchSize)
		})
		total += n
		if err != nil || n < CleanupBatchSize || time.Since(start) >= s.cleanupBudget {
			return total, err
		}
		if err := ctx.Err(); err != nil {
			return total, err
		}
	}
}

// cleanupOnce is Cleanup over a store without BatchCleaner.
func (s *Service) cleanupOnce(ctx context.Context) (int, error) {
	n := 0
	if c, ok := s.store.(Cleaner); ok {
		now := s.now()
		m, err := s.count(ctx, "Cleanup", func(ctx context.Context) (int, error) { return c.Cleanup(ctx, now) })
		if err != nil {
			return m, err
		}
		n += m
	}
	m, err := s.count(ctx, "DeleteExpiredSessions", s.sessions.Cleanup)
	return n + m, err
}

// Run cleans up every Config.CleanupInterval and refreshes IdP
// configurations from their metadata URLs every
// Config.MetadataRefreshInterval (when the Store implements
// MetadataLister), and keeps the session cache fresh (Config.SessionCache:
// without Run, every session check reads the store), until ctx is done,
// then returns ctx's error. A failed
// Cleanup or refresh is logged and retried at the next tick. Start it once
// per process:
//
//	go svc.Run(ctx)
func (s *Service) Run(ctx context.Context) error {
	go s.metadataLoop(ctx) // its own loop: a slow IdP never holds up Cleanup
	if s.cache != nil {
		go s.cache.run(ctx, s.log) // keeps the session cache fresh (Config.SessionCache)
	}
	t := time.NewTicker(s.cleanupInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			n, err := s.Cleanup(ctx)
			if err != nil && ctx.Err() == nil {
				s.log.LogAttrs(ctx, slog.LevelWarn, "orgsso cleanup failed", slog.Int("removed", n), slog.String("err", err.Error()))
			}
		}
	}
}

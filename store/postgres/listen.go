package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/orgsso/orgsso/store/sqlstore"
)

// ChangesChannel is the channel on which the triggers of migration 0009
// notify each raise of the change counter, with the payload "<schema>
// <seq>": the schema of the tables, and the counter's new value.
const ChangesChannel = "orgsso_changes"

// closeWait bounds closing the listener's connection.
const closeWait = 2 * time.Second

// listener returns the Watcher of a store on cfg: it opens a connection of
// its own (outside the store's pool), LISTENs on ChangesChannel and calls
// changed with the seq of every notification about its own schema (the
// search_path's current schema, where the store's tables are), until ctx is
// done or the connection fails. The caller (sso.Service) reconnects with
// backoff; notifications sent while no connection listened are lost, which
// the Service's polling of ChangeSeq makes up for.
func listener(cfg *pgx.ConnConfig) sqlstore.Watcher {
	return func(ctx context.Context, changed func(seq int64)) error {
		conn, err := pgx.ConnectConfig(ctx, cfg.Copy())
		if err != nil {
			return fmt.Errorf("postgres: listening for changes: connecting: %w", err)
		}
		defer func() {
			cctx, cancel := context.WithTimeout(context.Background(), closeWait)
			defer cancel()
			conn.Close(cctx)
		}()
		var schema *string
		if err := conn.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
			return fmt.Errorf("postgres: listening for changes: %w", err)
		}
		if schema == nil {
			return errors.New("postgres: listening for changes: the search_path names no existing schema")
		}
		if _, err := conn.Exec(ctx, `LISTEN `+ChangesChannel); err != nil {
			return fmt.Errorf("postgres: listening for changes: %w", err)
		}
		for {
			n, err := conn.WaitForNotification(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				return fmt.Errorf("postgres: listening for changes: %w", err)
			}
			if seq, ok := parseChange(n.Payload, *schema); ok {
				changed(seq)
			}
		}
	}
}

// parseChange reads a notification's payload, "<schema> <seq>": ok only
// for schema and a well-formed seq.
func parseChange(payload, schema string) (int64, bool) {
	i := strings.LastIndexByte(payload, ' ')
	if i < 0 || payload[:i] != schema {
		return 0, false
	}
	seq, err := strconv.ParseInt(payload[i+1:], 10, 64)
	if err != nil {
		return 0, false
	}
	return seq, true
}

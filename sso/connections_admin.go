package sso

import (
	"context"
	"encoding/binary"
	"errors"
	"slices"
	"strconv"

	"github.com/orgsso/orgsso/internal/text"
	"github.com/orgsso/orgsso/session"
)

// Audited connection events (Actor is the owner; Detail names the connection).
const (
	EventConnectionEnabled  EventType = "connection_enabled"
	EventConnectionDisabled EventType = "connection_disabled"
)

// checkConnectionRules refuses connection changes an edit may not make: a
// connection keeps its protocol, is enabled and disabled only through
// EnableConnection and DisableConnection, and is removed only while
// disabled (disabling ends its sessions first).
func checkConnectionRules(cur, next *Organization) error {
	count := make(map[string]int, len(next.Connections))
	for _, n := range next.Connections {
		count[n.ID]++
	}
	for i := range next.Connections {
		n := &next.Connections[i]
		if count[n.ID] > 1 {
			continue // a duplicate ID: validation says so
		}
		c := cur.Connection(n.ID)
		switch {
		case c == nil && n.Enabled:
			return &RuleError{Field: "Connections", Rule: "A new connection starts disabled; turn it on with EnableConnection once Test SSO succeeded."}
		case c == nil && n.Epoch != 0, c != nil && n.Epoch != c.Epoch:
			return &RuleError{Field: "Connections", Rule: "A connection's Epoch is managed by orgsso."}
		case c == nil:
		case n.Protocol != c.Protocol:
			return &RuleError{Field: "Connections", Rule: "A connection's protocol never changes; add a new connection instead."}
		case n.Enabled != c.Enabled:
			return &RuleError{Field: "Connections", Rule: "Turn a connection on or off with EnableConnection or DisableConnection, not by editing the settings."}
		}
	}
	for i := range cur.Connections {
		c := &cur.Connections[i]
		if c.Enabled && next.Connection(c.ID) == nil {
			return &RuleError{Field: "Connections", Rule: "Disable the connection " + quoteName(c.Name) + " before removing it; disabling ends its sessions."}
		}
	}
	return nil
}

// quoteName quotes a display name for a sentence, cut to 100 bytes.
func quoteName(name string) string { return "“" + text.Truncate(name, MaxConnectionName) + "”" }

// EnableConnection offers the connection at sign-in (while the organization
// has SSO enabled). Only the owner may (ErrNotOwner); the connection must be
// complete and valid now (a *ConfigError naming the field). An unknown
// connection is ErrNotFound; enabling an enabled one changes nothing.
func (s *Service) EnableConnection(ctx context.Context, orgID, connectionID, actorUserID string) error {
	return s.setConnectionEnabled(ctx, orgID, connectionID, actorUserID, true)
}

// DisableConnection stops offering the connection and ends the SSO sessions
// signed in through it (session.EndConnectionOff); ValidateSession refuses
// them from the save on, including those of sign-ins in flight. Only the
// owner may. The last connection an enabled organization signs in with
// cannot be disabled (a *ConfigError): disable SSO instead. If ending the
// sessions in the store fails after the save, the connection is off, its
// sessions are refused all the same, and the error wraps ErrUnavailable:
// calling DisableConnection again ends them.
func (s *Service) DisableConnection(ctx context.Context, orgID, connectionID, actorUserID string) error {
	return s.setConnectionEnabled(ctx, orgID, connectionID, actorUserID, false)
}

func (s *Service) setConnectionEnabled(ctx context.Context, orgID, connID, actor string, on bool) error {
	for range switchAttempts {
		org, err := s.adminOrg(ctx, orgID)
		if err != nil {
			return err
		}
		if actor == "" || actor != org.OwnerID {
			return ErrNotOwner
		}
		c := org.Connection(connID)
		if c == nil {
			return ErrNotFound
		}
		if c.Enabled == on {
			if !on {
				_, err := s.endConnectionSessions(ctx, org, connID)
				return err
			}
			return nil
		}
		next := org.Clone()
		next.Connection(connID).Enabled = on
		if on {
			// A new epoch: sessions of any earlier time the connection (or
			// one with its ID) was on stay refused.
			epoch, err := s.newEpoch()
			if err != nil {
				return err
			}
			next.Connection(connID).Epoch = epoch
			// The connection itself must be complete, whether or not the
			// organization has SSO on yet.
			i := slices.IndexFunc(next.Connections, func(c Connection) bool { return c.ID == connID })
			if err := next.Connections[i].validate("Connections["+strconv.Itoa(i)+"]", s.now(), true); err != nil {
				return err
			}
		}
		if err := next.ValidateAt(s.now()); err != nil {
			return err
		}
		switch err := s.updateOrg(ctx, next); {
		case errors.Is(err, ErrConflict):
			continue
		case err != nil:
			return err
		}
		s.invalidateValidator(next.ID)
		e := Event{Type: EventConnectionEnabled, OrgID: next.ID, SSOName: next.SSOName, UserID: actor, Actor: actor,
			Fields: []string{"Connections"}, Detail: "Connection " + quoteName(c.Name) + " (" + connID + ") turned on."}
		if on {
			s.emit(ctx, e)
			return nil
		}
		n, err := s.endConnectionSessions(ctx, next, connID)
		e.Type, e.SessionsEnded = EventConnectionDisabled, n
		e.Detail = "Connection " + quoteName(c.Name) + " (" + connID + ") turned off; its sessions ended."
		s.emit(ctx, e)
		return err
	}
	return ErrConflict
}

// endConnectionSessions ends the SSO sessions signed in through connID.
func (s *Service) endConnectionSessions(ctx context.Context, org *Organization, connID string) (int, error) {
	q := session.Query{OrgID: org.ID, Method: session.MethodSSO, Connection: connID}
	n, err := s.end(ctx, q, session.EndConnectionOff)
	if err != nil {
		return n, &StoreError{Op: "EndSessions", Err: errors.Join(errConnOffSessionsLeft, err)}
	}
	return n, nil
}

var errConnOffSessionsLeft = errors.New("the connection is disabled, but its sessions could not all be ended in the store (ValidateSession refuses them; call DisableConnection again)")

// connectionSessionValid reports whether an SSO session of connection
// connID with this epoch may stand: the connection exists, is enabled and
// is in the same epoch.
func (o *Organization) connectionSessionValid(connID string, epoch int64) bool {
	c := o.Connection(connID)
	return c != nil && c.Enabled && c.Epoch == epoch
}

// newEpoch draws a connection epoch: random, never 0.
func (s *Service) newEpoch() (int64, error) {
	var b [8]byte
	if err := s.readRand(b[:]); err != nil {
		return 0, randErr("for a connection epoch", err)
	}
	e := int64(binary.BigEndian.Uint64(b[:]) >> 1)
	if e == 0 {
		e = 1
	}
	return e, nil
}

// redrawEpochs gives every connection of org a new epoch, so that no
// session of theirs outlives SSO being disabled.
func (s *Service) redrawEpochs(org *Organization) error {
	for i := range org.Connections {
		e, err := s.newEpoch()
		if err != nil {
			return err
		}
		org.Connections[i].Epoch = e
	}
	return nil
}

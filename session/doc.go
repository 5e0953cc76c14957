// Package session creates, validates and revokes the sign-in sessions of
// orgsso: one per user and organization, made by an SSO sign-in or a password
// sign-in.
//
// A Manager does the work on top of a Store (store/memory, store/sqlite,
// store/postgres, or the host's own):
//
//	m := session.NewManager(st)                                  // crypto/rand, time.Now
//	s, token, err := m.Create(ctx, orgID, userID, session.MethodSSO, 12*time.Hour)
//	// set token in an HttpOnly, Secure cookie; later, per request:
//	s, err = m.Validate(ctx, token)                              // ErrUnknownSession, ErrExpired
//	err = m.Revoke(ctx, token)                                   // sign-out
//	n, err := m.RevokeOrg(ctx, orgID, session.MethodSSO)         // SSO disabled
//
// A token is 256 random bits, encoded base64url without padding (43
// characters). It is returned once, by Create, and never stored: the store
// keeps only its hash, HashToken(token), as the Session's ID, so a leaked
// session table yields no usable token. Treat tokens as secrets: never log
// them; log Session.ID instead.
//
// Expiry is absolute and judged by the Manager's clock (WithClock): a session
// is valid while now < ExpiresAt. Cleanup removes expired rows.
//
// See the Example for a complete Create → Validate → Revoke round trip.
package session

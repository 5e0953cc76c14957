// Package memory is an in-process store for orgsso: it implements sso.Store,
// sso.RequestConsumer, sso.AdminStore (compare-and-swap organization updates,
// create-if-absent members, member listing), sso.DomainStore (an
// organization by a domain it verified, each domain verified by at most one
// organization), sso.MetadataLister (the organizations that name an IdP
// metadata URL, for the scheduled refresh), sso.Cleaner, sso.BatchCleaner,
// session.Store and session.Lister (listing sessions, ending them with a
// reason) with Go maps behind one lock. store/storetest checks it, as it
// checks every orgsso store.
//
// It is the default for tests and for small applications that run as a
// single replica. Its data lives in the process: everything is lost on exit,
// and two replicas of an application each have their own store, so they do
// not agree on sessions, pending requests or used assertion IDs. Applications
// with several replicas use a shared store such as store/postgres.
//
// The store has no clock and starts no goroutines. Expired pending requests,
// used assertion IDs and expired sessions (ended ones too) stay until the
// application calls Store.Cleanup (or sso.Service.Cleanup, which uses
// Store.CleanupBatch), which it should do periodically:
//
//	st := memory.New()
//	go func() {
//		t := time.NewTicker(time.Minute)
//		defer t.Stop()
//		for {
//			select {
//			case <-ctx.Done():
//				return
//			case now := <-t.C:
//				if _, err := st.Cleanup(ctx, now); err != nil {
//					log.Print(err)
//				}
//			}
//		}
//	}()
//
// Without it, memory grows with every sign-in attempt.
//
// Values are copied in and out: a caller never shares a struct, slice or map
// with the store, so changing a value after saving it, or one returned by a
// lookup or listing, never changes what the store holds. Values read back are
// as saved, nil and empty slices and maps kept apart, except an
// organization's Connections and Domains: none, nil or empty, reads back as
// nil, as in every store. A domain's VerifiedAt is kept as given (location
// and monotonic reading included); store/sqlstore reads it back in UTC
// without a monotonic reading, as its other times.
//
// Keys (IDs, SSO names, emails) longer than sso.MaxKeyBytes bytes are refused
// by every method with an error wrapping ErrInvalidArgument, as in every
// store, so code tested on this store meets the same bounds in production.
// Listings (Members, ListSessions, OrganizationsWithMetadataURL) sort an
// organization's members or sessions, or the IDs of the organizations with
// a metadata URL, on each call: fine for the sizes a single-replica
// application holds.
package memory

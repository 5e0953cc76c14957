// Package memory is an in-process store for orgsso: it implements sso.Store,
// sso.RequestConsumer and session.Store with Go maps behind one lock.
//
// It is the default for tests and for small applications that run as a
// single replica. Its data lives in the process: everything is lost on exit,
// and two replicas of an application each have their own store, so they do
// not agree on sessions, pending requests or used assertion IDs. Applications
// with several replicas use a shared store such as store/postgres.
//
// The store has no clock and starts no goroutines. Expired pending requests,
// used assertion IDs and expired sessions stay until the application calls
// Store.Cleanup, which it should do periodically:
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
// lookup, never changes what the store holds.
package memory

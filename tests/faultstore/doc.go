// Package faultstore wraps a store with deterministic, injectable faults, for
// testing how package sso behaves when its store fails.
//
// A *Store implements every port a Service uses (sso.Store, sso.AdminStore,
// sso.RequestConsumer, sso.BatchCleaner, session.Store and session.Lister)
// by calling the inner store it wraps. Inject arms a Fault: the Nth call of
// a chosen Method (counted from the Inject) fails in one of five Modes:
//
//   - FailBefore: an error, and the inner store is not called (nothing done);
//   - LostAck: the inner call runs and commits, then its answer is lost and
//     an error is returned in its place (a dropped connection after COMMIT);
//   - Cancelled: an error wrapping context.Canceled, inner store not called;
//   - Slow: the call blocks until its context is done and returns the
//     context's error, inner store not called (a frozen database);
//   - NilResult: the inner call runs, and its value is dropped: a method
//     that returns a pointer returns nil, with nil error when the inner call
//     succeeded (a store breaking its contract).
//
// Faults are counter-based, so a test that runs the same operation twice
// fails it at the same place twice. Calls, Trace and Reset tell a test how
// many calls of each method an operation makes, to enumerate every place
// where it can fail. A Store is safe for concurrent use; the inner store
// runs outside its lock.
//
//	fs := faultstore.New(memory.New())
//	fs.Inject(faultstore.Fault{Method: faultstore.MethodCreateSession, N: 1, Mode: faultstore.LostAck})
//	svc, _ := sso.New(sso.Config{Store: fs, Sessions: session.NewManager(fs), ...})
//
// It is a test helper: it never imports package testing, so it can serve
// tests in any package and command-line fault drills alike.
package faultstore

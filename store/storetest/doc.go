// Package storetest is a conformance suite for orgsso stores, in the spirit
// of testing/fstest: a store that implements sso.Store, sso.RequestConsumer,
// session.Store and sso.Cleaner runs it from its own tests.
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) storetest.Store {
//			st, err := mystore.Open(t.TempDir())
//			if err != nil {
//				t.Fatal(err)
//			}
//			t.Cleanup(func() { st.Close() })
//			return st
//		})
//	}
//
// The behaviour it checks is that of store/memory, the reference: exact
// round trips (times compared in UTC without their monotonic reading; nil
// and empty slices and maps kept apart), emails keyed by sso.MemberEmailKey
// (ASCII case folding only: addresses Unicode case mapping or normalization
// would merge stay distinct) and refused alike when not valid UTF-8, SSO
// names unique except the empty name of drafts, sso.ErrNotFound for every
// unknown key, ConsumeRequest, ConsumeMatchingRequest (which leaves a request
// of another organization or binding in place) and UseAssertion atomic under
// 100 concurrent callers, and eviction only by Cleanup, with
// its boundaries to the nanosecond.
//
// The shared sentinels (sso.ErrNotFound, sso.ErrReplay, sso.ErrSSONameTaken,
// session.ErrInvalidArgument, session.ErrDuplicateID, context.Canceled) must
// match with errors.Is.
package storetest

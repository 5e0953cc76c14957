package memory_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/store/memory"
)

// An assertion ID is replay-protected until Cleanup runs after its expiry.
func ExampleStore_Cleanup() {
	ctx := context.Background()
	st := memory.New()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	until := now.Add(5 * time.Minute)

	fmt.Println(st.UseAssertion(ctx, "org1", "_a1", until))
	err := st.UseAssertion(ctx, "org1", "_a1", until)
	fmt.Println(errors.Is(err, sso.ErrReplay))

	n, _ := st.Cleanup(ctx, now.Add(time.Minute)) // not yet expired
	fmt.Println(n)
	n, _ = st.Cleanup(ctx, until.Add(time.Second))
	fmt.Println(n)
	fmt.Println(st.UseAssertion(ctx, "org1", "_a1", until))
	// Output:
	// <nil>
	// true
	// 0
	// 1
	// <nil>
}

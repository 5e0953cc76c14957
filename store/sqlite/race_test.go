//go:build race

package sqlite_test

// raceEnabled reports whether the tests run with the race detector, which
// slows the pure-Go SQLite engine down many times.
const raceEnabled = true

// Package bench holds the side-by-side benchmarks of orgsso against the Go
// SAML service providers (gosaml2, crewjam/saml) and against the physical
// floor of validating a signed response. It has no production code; run it
// with bench/run.
package bench

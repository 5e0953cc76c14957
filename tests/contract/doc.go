// Package contract holds only a test: it compiles against every public name
// DESIGN.md fixes as the contract, with the exact signatures, so that a rename
// or a signature change fails the build here first.
package contract

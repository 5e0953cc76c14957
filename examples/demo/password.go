package main

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
)

// App passwords are stored as "pbkdf2-sha256$<iterations>$<salt>$<key>"
// (base64, no padding): PBKDF2-HMAC-SHA256 from the standard library, with
// OWASP's 2023 iteration count by default. The count is stored with each
// hash, so it can change without invalidating older ones.
const (
	defaultPasswordIterations = 600_000
	passwordScheme            = "pbkdf2-sha256"
	passwordKeyLen            = 32
)

var b64 = base64.RawStdEncoding

// hashPassword returns the stored form of a new password.
func hashPassword(password string, iterations int) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key, err := pbkdf2.Key(sha256.New, password, salt, iterations, passwordKeyLen)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s$%d$%s$%s", passwordScheme, iterations, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// dummyHash is checked against when there is no user (or no password), so
// that an unknown email costs as much time as a wrong password. It matches
// no password.
func dummyHash(iterations int) string {
	return passwordScheme + "$" + strconv.Itoa(iterations) + "$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
}

// checkPassword reports whether password matches the stored hash. A
// malformed or empty hash never matches.
func checkPassword(stored, password string) bool {
	parts := strings.Split(stored, "$")
	if len(parts) != 4 || parts[0] != passwordScheme {
		return false
	}
	iter, err := strconv.Atoi(parts[1])
	if err != nil || iter < 1 || iter > 10_000_000 {
		return false
	}
	salt, err1 := b64.DecodeString(parts[2])
	want, err2 := b64.DecodeString(parts[3])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got, err := pbkdf2.Key(sha256.New, password, salt, iter, len(want))
	if err != nil {
		return false
	}
	return subtle.ConstantTimeCompare(got, want) == 1
}

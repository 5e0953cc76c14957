package session

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"io"
)

const (
	tokenBytes = 32                     // 256 bits of randomness
	tokenLen   = (tokenBytes*8 + 5) / 6 // 43 base64url characters, no padding
	idLen      = sha256.Size * 2        // 64 lowercase hex characters
	maxNoRead  = 100                    // consecutive empty reads before giving up
)

// HashToken returns the Session ID for a token: the lowercase hex SHA-256 of
// the token string. Stores and tests use it to correlate a token with its
// stored row; it reveals nothing usable about the token.
func HashToken(token string) string {
	var id [idLen]byte
	hashInto(&id, token)
	return string(id[:])
}

// hashInto writes the hex SHA-256 of token into id. Tokens of up to 64 bytes
// (every real one) are copied to the stack first: []byte(token) of more than
// 32 bytes would allocate.
func hashInto(id *[idLen]byte, token string) {
	var sum [sha256.Size]byte
	if len(token) <= 64 {
		var buf [64]byte
		n := copy(buf[:], token)
		sum = sha256.Sum256(buf[:n])
	} else {
		sum = sha256.Sum256([]byte(token))
	}
	hex.Encode(id[:], sum[:])
}

// newToken reads tokenBytes from r and encodes them base64url without padding.
func newToken(r io.Reader) (string, error) {
	var b [tokenBytes]byte
	if err := readFull(r, b[:]); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// readFull is io.ReadFull, except that a reader returning no bytes and no
// error over and over fails with io.ErrNoProgress instead of spinning forever.
func readFull(r io.Reader, b []byte) error {
	for n, empty := 0, 0; n < len(b); {
		m, err := r.Read(b[n:])
		if m < 0 || m > len(b)-n {
			return io.ErrShortBuffer // a broken reader; never index with m
		}
		n += m
		if n == len(b) {
			return nil
		}
		if err == io.EOF {
			return io.ErrUnexpectedEOF
		}
		if err != nil {
			return err
		}
		if m == 0 {
			if empty++; empty >= maxNoRead {
				return io.ErrNoProgress
			}
		} else {
			empty = 0
		}
	}
	return nil
}

// wellFormed reports whether token could have come from newToken: exactly
// tokenLen characters of the base64url alphabet, in canonical (strict) form,
// i.e. the unused low 2 bits of the last character are zero. It allocates
// nothing and reads at most tokenLen bytes of token.
func wellFormed(token string) bool {
	if len(token) != tokenLen {
		return false
	}
	for i := 0; i < tokenLen-1; i++ {
		if b64Value(token[i]) < 0 {
			return false
		}
	}
	last := b64Value(token[tokenLen-1])
	return last >= 0 && last&3 == 0
}

// b64Value returns the 6-bit value of a base64url character, or -1.
func b64Value(c byte) int {
	switch {
	case 'A' <= c && c <= 'Z':
		return int(c - 'A')
	case 'a' <= c && c <= 'z':
		return int(c-'a') + 26
	case '0' <= c && c <= '9':
		return int(c-'0') + 52
	case c == '-':
		return 62
	case c == '_':
		return 63
	}
	return -1
}

// validID reports whether id has the form of a Session ID: 64 lowercase hex
// characters.
func validID(id string) bool {
	if len(id) != idLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

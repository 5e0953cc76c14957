package sso

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"image/png"
	"log/slog"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// TOTP parameters: RFC 6238 with HMAC-SHA1, 6 digits, 30-second steps, the
// only setting every authenticator app reads from an otpauth URL (several
// ignore the algorithm and digits parameters). SHA-1's collision attacks do
// not reach HMAC-SHA1, whose security rests on the key; RFC 6238 and NIST
// SP 800-63B accept it for OTPs. A code is accepted one step early or late
// (clock drift) and at most once (MFAEnrollment.LastStep).
const (
	totpPeriod     = 30
	totpSkewSteps  = 1
	totpSecretSize = 20 // bytes: 160 bits, RFC 4226's recommendation
)

// totpOpts are the options of one step's validation: no skew here, as
// matchTOTP walks the steps itself to learn which one matched.
var totpOpts = totp.ValidateOpts{Period: totpPeriod, Skew: 0, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// totpStep is the time step of t.
func totpStep(t time.Time) int64 {
	u := t.Unix()
	step := u / totpPeriod
	if u < 0 && u%totpPeriod != 0 {
		step-- // floor
	}
	return step
}

// matchTOTP returns the time step, within totpSkewSteps of now's, whose
// code is code (the latest, should two match), and false when none is.
func matchTOTP(secret, code string, now time.Time) (int64, bool) {
	cur := totpStep(now)
	var matched int64
	ok := false
	for step := cur - totpSkewSteps; step <= cur+totpSkewSteps; step++ {
		if v, err := totp.ValidateCustom(code, secret, time.Unix(step*totpPeriod, 0), totpOpts); err == nil && v {
			matched, ok = step, true
		}
	}
	return matched, ok
}

// isTOTPCode reports whether code (normalized) has the form of a TOTP code:
// six ASCII digits.
func isTOTPCode(code string) bool {
	if len(code) != otp.DigitsSix.Length() {
		return false
	}
	for i := 0; i < len(code); i++ {
		if code[i] < '0' || code[i] > '9' {
			return false
		}
	}
	return true
}

// normalizeCode removes the spaces and hyphens people type or paste around
// and inside a code, and upper-cases it.
func normalizeCode(code string) string {
	if len(code) > 64 {
		return ""
	}
	return strings.ToUpper(strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '\t' {
			return -1
		}
		return r
	}, code))
}

// TOTPEnrollment is what an authenticator app needs to enroll: show URL as
// a QR code (and Secret for typing), then confirm with a code
// (ConfirmTOTPEnrollment). Its String never prints the secret.
type TOTPEnrollment struct {
	// URL is the otpauth://totp/ URL: issuer, account, secret, SHA1, 6
	// digits, 30 seconds.
	URL string
	// Secret is the shared secret in base32, without padding.
	Secret string
	// Issuer names the application (Config.MFAIssuer), Account the member
	// (their email).
	Issuer, Account string
}

// String prints the enrollment without its secret or URL.
func (e TOTPEnrollment) String() string {
	return fmt.Sprintf("sso.TOTPEnrollment{Issuer: %q, Account: %q, Secret: %s}", e.Issuer, e.Account, redacted)
}

// GoString is String, so %#v does not print the secret either.
func (e TOTPEnrollment) GoString() string { return e.String() }

// LogValue keeps the secret out of structured logs.
func (e TOTPEnrollment) LogValue() slog.Value { return slog.StringValue(e.String()) }

// QRCode returns the otpauth URL as a PNG image of a QR code, size pixels
// square (64 to 1024), for the enrollment page to show: as a data: URL, or
// served from the page's own origin. It never leaves the process otherwise.
func (e *TOTPEnrollment) QRCode(size int) ([]byte, error) {
	if e == nil || !strings.HasPrefix(e.URL, "otpauth://totp/") {
		return nil, errors.New("sso: no otpauth URL to encode")
	}
	if size < 64 || size > 1024 {
		return nil, fmt.Errorf("sso: QR code size %d out of 64 to 1024", size)
	}
	key, err := otp.NewKeyFromURL(e.URL)
	if err != nil {
		return nil, err
	}
	img, err := key.Image(size, size)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// newTOTPKey draws a TOTP secret from the Service's randomness.
func (s *Service) newTOTPKey(account string) (*otp.Key, error) {
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer: s.mfaIssuer, AccountName: account, Period: totpPeriod, SecretSize: totpSecretSize,
		Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1, Rand: lockedRand{s},
	})
	if err != nil {
		return nil, randErr("for a TOTP secret", err)
	}
	return key, nil
}

// totpKeyOf rebuilds the key (and its otpauth URL) of a secret newTOTPKey
// drew, as newTOTPKey made it.
func (s *Service) totpKeyOf(account, secret string) (*otp.Key, error) {
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secret)
	if err == nil && len(raw) == 0 {
		err = errors.New("empty")
	}
	if err != nil {
		return nil, &StoreError{Op: "MFAPending", Err: fmt.Errorf("the stored TOTP secret is not base32: %w", err)}
	}
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer: s.mfaIssuer, AccountName: account, Period: totpPeriod, Secret: raw,
		Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1,
	})
	if err != nil {
		return nil, &StoreError{Op: "MFAPending", Err: err}
	}
	return key, nil
}

// enrollmentOf is what the app needs of key.
func enrollmentOf(key *otp.Key) *TOTPEnrollment {
	return &TOTPEnrollment{URL: key.URL(), Secret: key.Secret(), Issuer: key.Issuer(), Account: key.AccountName()}
}

// Recovery codes: RecoveryCodeCount per enrollment, each 80 random bits
// written as 16 base32 characters in groups of four (ABCD-EFGH-JKLM-NPQR),
// each usable once. The store keeps only HMAC-SHA256 of each code under a
// random per-enrollment salt. A slow password hash (bcrypt, Argon2) earns
// its cost by making guesses at a low-entropy secret expensive; these codes
// are random with 80 bits, which no offline search at any hash speed
// covers, so the slow hash would only cost every verification (ten
// comparisons per attempt) CPU an attacker can ask for.
const (
	recoveryCodeBytes = 10 // 80 bits: 16 base32 characters
	recoverySaltBytes = 16
)

// recoveryEncoding writes codes in RFC 4648 base32 (A–Z, 2–7), without
// padding.
var recoveryEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// newRecoveryCodes draws the codes of an enrollment, and returns them
// formatted for the member, with the salt and the hashes to store.
func (s *Service) newRecoveryCodes() (codes []string, salt string, hashes []string, err error) {
	var sb [recoverySaltBytes]byte
	if err := s.readRand(sb[:]); err != nil {
		return nil, "", nil, randErr("for recovery codes", err)
	}
	salt = hex.EncodeToString(sb[:])
	for range RecoveryCodeCount {
		var b [recoveryCodeBytes]byte
		if err := s.readRand(b[:]); err != nil {
			return nil, "", nil, randErr("for recovery codes", err)
		}
		raw := recoveryEncoding.EncodeToString(b[:])
		codes = append(codes, raw[0:4]+"-"+raw[4:8]+"-"+raw[8:12]+"-"+raw[12:16])
		hashes = append(hashes, recoveryHash(sb[:], raw))
	}
	return codes, salt, hashes, nil
}

// recoveryHash is what the store keeps of a normalized recovery code.
func recoveryHash(salt []byte, code string) string {
	m := hmac.New(sha256.New, salt)
	m.Write([]byte(code))
	return hex.EncodeToString(m.Sum(nil))
}

// recoveryCandidate returns the normalized form of a recovery code a member
// typed (the digits 0 and 1 read as the letters O and I), and false when it
// cannot be one.
func recoveryCandidate(code string) (string, bool) {
	code = strings.NewReplacer("0", "O", "1", "I").Replace(code)
	if len(code) != 16 {
		return "", false
	}
	if _, err := recoveryEncoding.DecodeString(code); err != nil {
		return "", false
	}
	return code, true
}

// The TOTP secrets at rest: sealed with Config.SecretKey when set (the
// sealer of OIDC client secrets, AES-256-GCM), bound to the organization
// and user, so a sealed secret copied to another member's row does not
// open; stored as is otherwise.

func mfaSecretAAD(orgID, userID string) []byte {
	return []byte("orgsso totp secret\x00" + orgID + "\x00" + userID)
}

// sealMFASecret returns the stored form of a member's TOTP secret.
func (s *Service) sealMFASecret(orgID, userID, secret string) (string, error) {
	if s.sealer == nil {
		return secret, nil
	}
	nonce := make([]byte, s.sealer.aead.NonceSize())
	if err := s.readRand(nonce); err != nil {
		return "", randErr("to seal a secret", err)
	}
	out := s.sealer.aead.Seal(nonce, nonce, []byte(secret), mfaSecretAAD(orgID, userID))
	return sealedPrefix + base64.RawStdEncoding.EncodeToString(out), nil
}

// openMFASecret reads a stored TOTP secret: one stored before a key was set
// is used as stored.
func (s *Service) openMFASecret(orgID, userID, stored string) (string, error) {
	rest, ok := strings.CutPrefix(stored, sealedPrefix)
	if !ok {
		return stored, nil
	}
	if s.sealer == nil {
		return "", &StoreError{Op: "MFAEnrollment", Err: errSealedNoKey}
	}
	raw, err := base64.RawStdEncoding.DecodeString(rest)
	n := s.sealer.aead.NonceSize()
	if err != nil || len(raw) < n {
		return "", &StoreError{Op: "MFAEnrollment", Err: errSealedBadKey}
	}
	plain, err := s.sealer.aead.Open(nil, raw[:n], raw[n:], mfaSecretAAD(orgID, userID))
	if err != nil {
		return "", &StoreError{Op: "MFAEnrollment", Err: errSealedBadKey}
	}
	return string(plain), nil
}

package sso

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"errors"
	"strings"
)

// SecretKeySize is the size of Config.SecretKey: an AES-256 key.
const SecretKeySize = 32

// sealedPrefix marks a Secret sealed by a Service with a SecretKey.
const sealedPrefix = "orgsso-sealed:v1:"

// errSealedNoKey: a stored secret is sealed and the Service has no key.
var errSealedNoKey = errors.New("a stored client secret is sealed, and the Service has no Config.SecretKey to open it")

// errSealedBadKey: a sealed secret does not open with the Service's key.
var errSealedBadKey = errors.New("a stored client secret does not open with Config.SecretKey (another key, or altered)")

// sealer encrypts the secrets of organizations at rest with AES-256-GCM.
// Each sealed value is bound to its organization and connection (the
// additional data), so a sealed secret copied to another row does not open.
type sealer struct{ aead cipher.AEAD }

func newSealer(key []byte) (*sealer, error) {
	if key == nil {
		return nil, nil
	}
	if len(key) != SecretKeySize {
		return nil, &ConfigError{Field: "SecretKey", Reason: "must be 32 bytes (AES-256)",
			Message: "The secret key must be 32 random bytes."}
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, &ConfigError{Field: "SecretKey", Reason: "unusable", Err: err}
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, &ConfigError{Field: "SecretKey", Reason: "unusable", Err: err}
	}
	return &sealer{aead: aead}, nil
}

func secretAAD(orgID, connID string) []byte {
	return []byte("orgsso client secret\x00" + orgID + "\x00" + connID)
}

// sealed returns a copy of org whose client secrets are sealed, for a
// store write. Without a key it returns org itself.
func (s *Service) sealed(org *Organization) (*Organization, error) {
	if s.sealer == nil || !hasSecrets(org) {
		return org, nil
	}
	c := org.Clone()
	for i := range c.Connections {
		sec := &c.Connections[i].OIDC.ClientSecret
		if *sec == "" {
			continue
		}
		// What the Service holds is always the plain value (validation
		// refuses one in the sealed form), so every secret is sealed here.
		nonce := make([]byte, s.sealer.aead.NonceSize())
		if err := s.readRand(nonce); err != nil {
			return nil, randErr("to seal a secret", err)
		}
		out := s.sealer.aead.Seal(nonce, nonce, []byte(*sec), secretAAD(c.ID, c.Connections[i].ID))
		*sec = Secret(sealedPrefix + base64.RawStdEncoding.EncodeToString(out))
	}
	return c, nil
}

// open replaces, in an organization a store returned, every sealed client
// secret by its value. A secret stored before the key was configured is
// used as stored (the next save seals it).
func (s *Service) open(org *Organization) error {
	for i := range org.Connections {
		sec := &org.Connections[i].OIDC.ClientSecret
		rest, ok := strings.CutPrefix(string(*sec), sealedPrefix)
		if !ok {
			continue
		}
		if s.sealer == nil {
			return &StoreError{Op: "Organization", Err: errSealedNoKey}
		}
		raw, err := base64.RawStdEncoding.DecodeString(rest)
		n := s.sealer.aead.NonceSize()
		if err != nil || len(raw) < n {
			return &StoreError{Op: "Organization", Err: errSealedBadKey}
		}
		plain, err := s.sealer.aead.Open(nil, raw[:n], raw[n:], secretAAD(org.ID, org.Connections[i].ID))
		if err != nil {
			return &StoreError{Op: "Organization", Err: errSealedBadKey}
		}
		*sec = Secret(plain)
	}
	return nil
}

func hasSecrets(org *Organization) bool {
	for i := range org.Connections {
		if org.Connections[i].OIDC.ClientSecret != "" {
			return true
		}
	}
	return false
}

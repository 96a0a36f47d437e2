package domain

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"
)

// FactoryCodeValidity is how long a device authorization code is valid by default (DOMAIN.md:
// one month).
const FactoryCodeValidity = 30 * 24 * time.Hour

// factoryCodeAlphabet leaves out 0/O and 1/I/L so a code read off a screen is typed right.
const factoryCodeAlphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"

// FactoryCodeLength is the length of a device authorization code: 24 characters of a
// 31-letter alphabet, about 119 bits of entropy.
const FactoryCodeLength = 24

// FactoryCode is a vendor's device authorization code as stored: never the code itself, only
// its SHA-256 (a random 119-bit secret needs no slow hash: nothing can be guessed from it).
type FactoryCode struct {
	Org       string    `json:"org"`
	ID        string    `json:"id"`
	Hash      string    `json:"-"`
	Hint      string    `json:"hint"` // the code's last 4 characters, to tell codes apart
	CreatedAt time.Time `json:"createdAt"`
	ExpiresAt time.Time `json:"expiresAt"`
	CreatedBy string    `json:"createdBy"`
	Version   int       `json:"-"`
}

// HashFactoryCode is the stored form of a code.
func HashFactoryCode(code string) string {
	h := sha256.Sum256([]byte(code))
	return hex.EncodeToString(h[:])
}

// NewFactoryCode makes a fresh code for the vendor org: the code (shown once) and its record.
// prev is the current code (nil when none): creating when a valid one exists is Conflict
// ("factory_code_exists"; reset it instead) unless reset is set.
func NewFactoryCode(c Caller, id string, prev *FactoryCode, reset bool, now time.Time) (string, *FactoryCode, Change, error) {
	if prev != nil && !reset && now.Before(prev.ExpiresAt) {
		return "", nil, Change{}, Errorf(Conflict, "factory_code_exists", "a device authorization code valid until %s exists; reset it to get a new one", prev.ExpiresAt.Format(time.RFC3339))
	}
	code := ""
	var sb strings.Builder
	buf := make([]byte, 64)
	for sb.Len() < FactoryCodeLength {
		if _, err := rand.Read(buf); err != nil {
			return "", nil, Change{}, err
		}
		for _, x := range buf {
			// 248 = 8 × 31: bytes above it are dropped so every letter is equally likely.
			if int(x) < 248 && sb.Len() < FactoryCodeLength {
				sb.WriteByte(factoryCodeAlphabet[int(x)%len(factoryCodeAlphabet)])
			}
		}
	}
	code += sb.String()
	fc := &FactoryCode{Org: c.Org, ID: id, Hash: HashFactoryCode(code), Hint: code[len(code)-4:], CreatedAt: now,
		ExpiresAt: now.Add(FactoryCodeValidity), CreatedBy: c.Subject}
	action, from := "factory_code_created", ""
	if prev != nil {
		action, from = "factory_code_reset", prev.ID
		fc.Version = prev.Version
	}
	return code, fc, Change{At: now, By: c.Subject, Action: action, From: from, To: id}, nil
}

// Valid reports whether the code may log a line in at now.
func (fc *FactoryCode) Valid(now time.Time) bool { return now.Before(fc.ExpiresAt) }

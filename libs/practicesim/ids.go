package practicesim

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"regexp"
	"strings"
)

// newUUID returns a random (version 4) UUID in upper case, as GP2GP writes
// identifiers.
func newUUID() string {
	var b [16]byte
	// crypto/rand.Read never returns an error (Go 1.24 and later); it
	// aborts the program if the system's random source fails.
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return formatUUID(b)
}

// derivedUUID returns a UUID determined by parts: the same parts always
// give the same id. It is a version 8 (RFC 9562, custom) UUID made from
// the SHA-256 of the parts, in upper case.
func derivedUUID(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	var b [16]byte
	copy(b[:], sum[:16])
	b[6] = b[6]&0x0f | 0x80
	b[8] = b[8]&0x3f | 0x80
	return formatUUID(b)
}

func formatUUID(b [16]byte) string {
	return fmt.Sprintf("%X-%X-%X-%X-%X", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// seedFor is the generator seed of a patient's record: the first eight
// bytes of the SHA-256 of the NHS number.
func seedFor(nhsNumber string) uint64 {
	sum := sha256.Sum256([]byte("practicesim record " + nhsNumber))
	return binary.BigEndian.Uint64(sum[:8])
}

// upperGUID matches a GUID written in upper case, the form of GP2GP
// conversation ids.
var upperGUID = regexp.MustCompile(`^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$`)

// odsPattern matches an ODS organisation code as the record generator
// accepts it.
var odsPattern = regexp.MustCompile(`^[A-Z0-9]{3,10}$`)

// asidPattern matches a Spine ASID.
var asidPattern = regexp.MustCompile(`^[0-9]{1,20}$`)

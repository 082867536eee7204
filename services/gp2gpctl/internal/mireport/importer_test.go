package mireport

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestUUIDKey(t *testing.T) {
	upper, ok := uuidKey([]byte("0A1B2C3D-4E5F-6789-ABCD-EF0123456789"))
	assert.True(t, ok)
	lower, ok := uuidKey([]byte("0a1b2c3d-4e5f-6789-abcd-ef0123456789"))
	assert.True(t, ok)
	assert.NotEqual(t, upper, lower, "ids that differ in case are different conversations")
	assert.Equal(t, convKey{0x0a, 0x1b, 0x2c, 0x3d, 0x4e, 0x5f, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x01, 0x23, 0x45, 0x67, 0x89, 1}, upper)
	digits, ok := uuidKey([]byte("01234567-0123-0123-0123-012345678901"))
	assert.True(t, ok)
	assert.Zero(t, digits[16])
	for _, id := range []string{"", "c1", "0A1B2C3D-4E5F-6789-abcd-EF0123456789", "0A1B2C3D4E5F6789ABCDEF0123456789XXXX",
		"0A1B2C3D-4E5F-6789-ABCD-EF012345678G", "0A1B2C3D-4E5F-6789-ABCD-EF01234567890"} {
		_, ok := uuidKey([]byte(id))
		assert.False(t, ok, id)
	}
}

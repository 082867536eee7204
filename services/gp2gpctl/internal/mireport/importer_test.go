package mireport

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestKeyOf(t *testing.T) {
	a, ok := keyOf([]byte("0A1B2C3D-4E5F-6789-ABCD-EF0123456789"))
	assert.True(t, ok)
	b, ok := keyOf([]byte("0a1b2c3d-4e5f-6789-abcd-ef0123456789"))
	assert.True(t, ok)
	assert.NotEqual(t, a, b, "ids that differ in case are different conversations")
	x, _ := keyOf([]byte("ab"))
	y, _ := keyOf([]byte("ab\x00"))
	assert.NotEqual(t, x, y, "the length is part of the key")
	_, ok = keyOf(make([]byte, 40))
	assert.False(t, ok)
}

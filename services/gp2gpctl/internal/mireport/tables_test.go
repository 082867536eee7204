package mireport

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestConvTable checks the table against a map through its growth, with
// keys that differ only in length, in case or in their last byte, and the
// empty key.
func TestConvTable(t *testing.T) {
	tab := newConvTable()
	want := make(map[convKey]convRef)
	ids := []string{"", "\x00", "a", "A", "ab", "ab\x00", strings.Repeat("\xff", 36), strings.Repeat("\xff", 39)}
	for i := range 20_000 {
		ids = append(ids, fmt.Sprintf("%08x-0000-4000-8000-%012x", i*7919, i))
	}
	for i, id := range ids {
		k, ok := keyOf([]byte(id))
		require.True(t, ok)
		w, ok := wordsOf([]byte(id))
		require.True(t, ok)
		require.Equal(t, words(&k), w, "%q", id)
		_, found := tab.get(&w)
		require.False(t, found, "%q before it is put", id)
		ref := convRef{day: uint32(i % 31), index: uint32(i)}
		tab.put(&w, ref)
		want[k] = ref
		if i%3 == 0 { // put again: replaces
			ref.day++
			tab.put(&w, ref)
			want[k] = ref
		}
	}
	assert.Equal(t, len(want), tab.n)
	for k, ref := range want {
		got, found := tab.get(new(words(&k)))
		require.True(t, found)
		require.Equal(t, ref, got)
	}
	var empty convTable
	_, found := empty.get(&keyWords{})
	assert.False(t, found, "a table never put to")
}

// TestShortTable checks packShort and the table against a map, through
// its growth, with values that differ only in length or trailing zeros.
func TestShortTable(t *testing.T) {
	_, ok := packShort("")
	assert.False(t, ok, "empty")
	_, ok = packShort("0123456789abcdef")
	assert.False(t, ok, "16 bytes")
	a, _ := packShort("ab")
	b, _ := packShort("ab\x00")
	assert.NotEqual(t, a, b, "the length is part of the key")
	c, _ := packShort([]byte("ab"))
	assert.Equal(t, a, c, "string and bytes alike")

	var tab shortTable
	want := make(map[shortKey]uint32)
	vals := []string{"a", "a\x00", "\x00", "0123456789abcde"}
	for i := range 5000 {
		vals = append(vals, fmt.Sprintf("2000%08d", i))
	}
	for i, v := range vals {
		k, ok := packShort(v)
		require.True(t, ok, v)
		_, found := tab.get(k)
		require.False(t, found, "%q before it is put", v)
		tab.put(k, uint32(i))
		want[k] = uint32(i)
	}
	for k, v := range want {
		got, found := tab.get(k)
		require.True(t, found)
		require.Equal(t, v, got)
	}
}

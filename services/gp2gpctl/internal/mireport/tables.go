package mireport

import (
	"encoding/binary"
	"math/bits"
	"math/rand/v2"
)

// convTable maps the convKeys of the conversations seen to where they
// are: an open-addressing hash table with linear probing, in one slice of
// pointer-free slots. Every row of the logs is looked up in it, and a
// month holds about a quarter of a million conversations; against a Go
// map of convKeys it takes half the memory (no overflow groups, keys
// hashed in a few multiplications rather than through the generic hasher)
// and a lookup is a single probe into one slot most of the time.
type convTable struct {
	slots []convSlot // a power of two of them; nil until the first put
	n     int        // slots used
	seed  uint64     // of the hash: random, so that no input probes long
}

// convSlot is one slot of a convTable: a convKey as five words, compared
// a word at a time (comparing the arrays would call memequal). The low
// byte of key[0], the key's length, has its high bit set in a used slot
// (lengths are below 128), so that an empty slot is all zeros and the
// empty id is a key like any other.
type convSlot struct {
	key keyWords
	ref convRef
}

// keyWords is a convKey as the words of a used slot's key.
type keyWords [len(convKey{}) / 8]uint64

// words returns k as the words of a used slot's key.
func words(k *convKey) (w keyWords) {
	for i := range w {
		w[i] = binary.LittleEndian.Uint64(k[8*i:])
	}
	w[0] |= usedBit
	return w
}

// wordsOf is words of the key of id, and false when id is too long for
// a key. A UUID's 36 bytes are loaded straight into the words, rather
// than copied into a convKey first: this is done for every row.
func wordsOf(id []byte) (keyWords, bool) {
	if len(id) != 36 {
		k, ok := keyOf(id)
		return words(&k), ok
	}
	le := binary.LittleEndian
	return keyWords{
		le.Uint64(id)<<8 | 36 | usedBit, // the length, then id[0:7]
		le.Uint64(id[7:]),
		le.Uint64(id[15:]),
		le.Uint64(id[23:]),
		le.Uint64(id[28:]) >> 24, // id[31:36], then three zeros
	}, true
}

// usedBit marks the length byte of a used slot's key.
const usedBit = 0x80

func newConvTable() convTable { return convTable{seed: rand.Uint64()} }

// hash mixes the five words of a key.
func (t *convTable) hash(w *keyWords) uint64 {
	h := mix(w[0]^t.seed, w[1]^0x9e3779b97f4a7c15)
	h ^= mix(w[2]^0xbf58476d1ce4e5b9, w[3]^0x94d049bb133111eb)
	return mix(h^w[4], t.seed^0x2545f4914f6cdd1d)
}

// mix folds the 128-bit product of a and b into 64 bits (as wyhash does).
func mix(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

// get returns the ref of the key of words w, and false when it is not in
// the table.
func (t *convTable) get(w *keyWords) (convRef, bool) {
	if t.n == 0 {
		return convRef{}, false
	}
	mask := len(t.slots) - 1
	for i := int(t.hash(w)) & mask; ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.key[0] == w[0] && s.key[1] == w[1] && s.key[2] == w[2] && s.key[3] == w[3] && s.key[4] == w[4] {
			return s.ref, true
		}
		if s.key[0] == 0 {
			return convRef{}, false
		}
	}
}

// put sets the ref of the key of words w.
func (t *convTable) put(w *keyWords, ref convRef) {
	if 4*(t.n+1) > 3*len(t.slots) { // at most three quarters full
		t.resize(2 * len(t.slots))
	}
	mask := len(t.slots) - 1
	i := int(t.hash(w)) & mask
	for t.slots[i].key[0] != 0 && t.slots[i].key != *w {
		i = (i + 1) & mask
	}
	if t.slots[i].key[0] == 0 {
		t.n++
	}
	t.slots[i] = convSlot{key: *w, ref: ref}
}

// reserve makes room for n keys in all, so that the table need not grow
// (rehashing every key, the old slots left as garbage) until it has more.
func (t *convTable) reserve(n int) {
	size := max(len(t.slots), 1<<12)
	for 3*size < 4*n {
		size *= 2
	}
	if size > len(t.slots) {
		t.resize(size)
	}
}

// resize moves every key into a table of size slots (a power of two, at
// least 4096).
func (t *convTable) resize(size int) {
	old := t.slots
	t.slots = make([]convSlot, max(size, 1<<12))
	// Write the fresh slots now: probing reads a slot before writing it,
	// and a page first read is faulted in twice, as the kernel's zero
	// page and again when written.
	clear(t.slots)
	mask := len(t.slots) - 1
	for j := range old {
		s := &old[j]
		if s.key[0] == 0 {
			continue
		}
		i := int(t.hash(&s.key)) & mask
		for t.slots[i].key[0] != 0 {
			i = (i + 1) & mask
		}
		t.slots[i] = *s
	}
}

// shortKey is a string of 1 to 15 bytes packed into two words, its
// length in the top byte of hi, which is therefore never 0.
type shortKey struct{ lo, hi uint64 }

// packShort returns the shortKey of s, and false when s is empty or
// longer than 15 bytes.
func packShort[T string | []byte](s T) (shortKey, bool) {
	if len(s) == 0 || len(s) > 15 {
		return shortKey{}, false
	}
	var w [16]byte
	copy(w[:], s)
	w[15] = byte(len(s))
	return shortKey{binary.LittleEndian.Uint64(w[:8]), binary.LittleEndian.Uint64(w[8:])}, true
}

// shortTable maps shortKeys to indexes: an open-addressing hash table
// with linear probing.
type shortTable struct {
	keys  []shortKey // hi == 0: empty
	vals  []uint32
	n     int
	shift uint
}

func (t *shortTable) slot(k shortKey) int {
	return int(mix(k.lo^0x9e3779b97f4a7c15, k.hi) >> t.shift)
}

func (t *shortTable) get(k shortKey) (uint32, bool) {
	if t.n == 0 {
		return 0, false
	}
	mask := len(t.keys) - 1
	for i := t.slot(k); ; i = (i + 1) & mask {
		switch t.keys[i] {
		case k:
			return t.vals[i], true
		case shortKey{}:
			return 0, false
		}
	}
}

func (t *shortTable) put(k shortKey, val uint32) {
	if 2*(t.n+1) > len(t.keys) {
		t.grow()
	}
	mask := len(t.keys) - 1
	i := t.slot(k)
	for t.keys[i].hi != 0 && t.keys[i] != k {
		i = (i + 1) & mask
	}
	if t.keys[i].hi == 0 {
		t.n++
	}
	t.keys[i], t.vals[i] = k, val
}

func (t *shortTable) grow() {
	keys, vals := t.keys, t.vals
	size := max(2*len(keys), 1024)
	t.keys, t.vals, t.n = make([]shortKey, size), make([]uint32, size), 0
	t.shift = uint(64 - bits.TrailingZeros(uint(size)))
	for i, k := range keys {
		if k.hi != 0 {
			t.put(k, vals[i])
		}
	}
}

package ebxml

import (
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// SkeletonDomainData is the DomainData value that marks an attachment as
// the compressed real EHR extract behind a skeleton payload.
const SkeletonDomainData = "X-GP2GP-Skeleton: Yes"

// Description is the attachment metadata GP2GP carries in a manifest
// reference's eb:Description (and in MHS JSON "description" members):
//
//	Filename="<name>" ContentType=<mime> Compressed=Yes|No LargeAttachment=Yes|No OriginalBase64=Yes|No Length=<n> [DomainData="<text>"]
type Description struct {
	// Filename as sent, with %XX escapes decoded.
	Filename string
	// ContentType is the MIME type of the original document.
	ContentType string
	// Compressed: the carried content is gzip of the original.
	Compressed bool
	// LargeAttachment: the document was split into fragments.
	LargeAttachment bool
	// OriginalBase64: the carried content is base64 text of the original.
	// Producers set it inconsistently; prefer the transfer encoding.
	OriginalBase64 bool
	// Length in bytes as transmitted; meaningful only when HasLength.
	Length int64
	// HasLength reports whether the description had a readable Length.
	HasLength bool
	// DomainData is free text; SkeletonDomainData marks a skeleton extract.
	DomainData string
}

// Skeleton reports whether DomainData marks the attachment as the real
// (compressed) EHR extract behind a skeleton payload. Case and spacing
// around the colon are ignored.
func (d Description) Skeleton() bool {
	k, v, ok := strings.Cut(d.DomainData, ":")
	return ok && strings.EqualFold(strings.TrimSpace(k), "X-GP2GP-Skeleton") &&
		strings.EqualFold(strings.TrimSpace(v), "Yes")
}

// Description keys, in the order String writes them.
const (
	keyFilename        = "Filename"
	keyContentType     = "ContentType"
	keyCompressed      = "Compressed"
	keyLargeAttachment = "LargeAttachment"
	keyOriginalBase64  = "OriginalBase64"
	keyLength          = "Length"
	keyDomainData      = "DomainData"
)

var descriptionKeys = []string{
	keyFilename, keyContentType, keyCompressed, keyLargeAttachment,
	keyOriginalBase64, keyLength, keyDomainData,
}

// String writes d strictly in the GP2GP grammar: Filename and DomainData
// quoted, ContentType bare when it is a plain token (quoted otherwise),
// Yes/No flags, Length only when HasLength, DomainData only when set.
// Inside quoted values, '%', '"', control characters and bytes that are
// not valid UTF-8 or not XML characters are written as %XX, so that
// ParseDescription(d.String()) == d for every d (given Length is 0 when
// HasLength is false).
func (d Description) String() string {
	var b strings.Builder
	b.WriteString(keyFilename + `="`)
	b.WriteString(escapeValue(d.Filename))
	b.WriteString(`" ` + keyContentType + `=`)
	if isPlainToken(d.ContentType) {
		b.WriteString(d.ContentType)
	} else {
		b.WriteString(`"` + escapeValue(d.ContentType) + `"`)
	}
	b.WriteString(" " + keyCompressed + "=" + yesNo(d.Compressed))
	b.WriteString(" " + keyLargeAttachment + "=" + yesNo(d.LargeAttachment))
	b.WriteString(" " + keyOriginalBase64 + "=" + yesNo(d.OriginalBase64))
	if d.HasLength {
		b.WriteString(" " + keyLength + "=" + strconv.FormatInt(d.Length, 10))
	}
	if d.DomainData != "" {
		b.WriteString(" " + keyDomainData + `="` + escapeValue(d.DomainData) + `"`)
	}
	return b.String()
}

// ParseDescription reads a manifest Description leniently; it never fails.
// Keys are matched case-insensitively wherever they start a word;
// whitespace and newlines between pairs are insignificant. A value may be
// quoted (it ends at the first quote followed by the end or by another
// word=, so a filename may itself hold quotes) or bare (it runs to the next
// known key, so "Filename=my scan.pdf" works); an unterminated quote runs
// to the next known key. %XX escapes are decoded in every value; words
// that are not known keys are ignored unless a bare value takes them in.
// Text holding none of the keys is "EMIS style": all of it is the
// filename, and nothing is compressed (NIA applies that rule to text with
// neither Filename= nor Compressed=; this reads any known pairs instead).
// Yes/No flags also accept true/false, Y/N and 1/0; an unreadable Length
// leaves HasLength false.
func ParseDescription(text string) Description {
	var d Description
	pairs := scanPairs(text)
	if len(pairs) == 0 {
		d.Filename = unescapeValue(strings.TrimSpace(text))
		return d
	}
	seen := make(map[string]bool, len(pairs))
	for _, p := range pairs {
		if seen[p.key] {
			continue // the first occurrence wins
		}
		seen[p.key] = true
		switch p.key {
		case keyFilename:
			d.Filename = unescapeValue(p.value)
		case keyContentType:
			d.ContentType = unescapeValue(p.value)
		case keyCompressed:
			d.Compressed = parseYes(p.value)
		case keyLargeAttachment:
			d.LargeAttachment = parseYes(p.value)
		case keyOriginalBase64:
			d.OriginalBase64 = parseYes(p.value)
		case keyLength:
			if n, err := strconv.ParseInt(strings.TrimSpace(p.value), 10, 64); err == nil {
				d.Length, d.HasLength = n, true
			}
		case keyDomainData:
			d.DomainData = unescapeValue(p.value)
		}
	}
	return d
}

type descPair struct{ key, value string }

// keyHit is a key found in a description: where it starts and where its
// value starts (after '=' and any spaces).
type keyHit struct {
	key        string
	start, val int
}

// scanPairs splits text into key=value pairs. It first finds every key
// occurrence and every quote that can close a value (one followed only by
// space and then a word and '=', or the end), so the whole scan is
// O(n log n) even for hostile input.
func scanPairs(s string) []descPair {
	var hits []keyHit
	for i := 0; i < len(s); i++ {
		if i > 0 && !isDescSpace(s[i-1]) && s[i-1] != '"' {
			continue
		}
		if h, ok := keyAt(s, i); ok {
			hits = append(hits, h)
		}
	}
	if len(hits) == 0 {
		return nil
	}
	// Walk backwards keeping, for the position after the current one:
	// eq, whether only spaces precede an '='; assign, whether a word
	// followed by spaces and '=' starts there; closes, whether the first
	// non-space byte is the end or starts such a word.
	var closers []int // ascending after the reversal below
	eq, assign, closes := false, false, true
	for p := len(s) - 1; p >= 0; p-- {
		c := s[p]
		eqP := c == '=' || (isDescSpace(c) && eq)
		assignP := false
		if isWordChar(c) {
			if p+1 < len(s) && isWordChar(s[p+1]) {
				assignP = assign
			} else {
				assignP = eq
			}
		}
		if c == '"' && closes {
			closers = append(closers, p)
		}
		if !isDescSpace(c) {
			closes = assignP
		}
		eq, assign = eqP, assignP
	}
	for l, r := 0, len(closers)-1; l < r; l, r = l+1, r-1 {
		closers[l], closers[r] = closers[r], closers[l]
	}
	nextKey := func(from int) int {
		j := sort.Search(len(hits), func(k int) bool { return hits[k].start >= from })
		if j == len(hits) {
			return len(s)
		}
		return hits[j].start
	}

	var pairs []descPair
	for k := 0; k < len(hits); {
		h := hits[k]
		var value string
		end := h.val
		if h.val < len(s) && s[h.val] == '"' {
			j := sort.SearchInts(closers, h.val+1)
			if j < len(closers) {
				value, end = s[h.val+1:closers[j]], closers[j]+1
			} else { // unterminated quote: up to the next key
				end = nextKey(h.val + 1)
				value = strings.TrimRight(strings.TrimSpace(s[h.val+1:end]), `"`)
			}
		} else {
			end = nextKey(h.val)
			if end == h.val && end < len(s) { // "Key=Other=": empty value
				value = ""
			} else {
				value = strings.TrimSpace(s[h.val:end])
			}
		}
		pairs = append(pairs, descPair{key: h.key, value: value})
		// Continue with the first key at or after the end of this value.
		from := max(end, h.start+1)
		k = sort.Search(len(hits), func(i int) bool { return hits[i].start >= from })
	}
	return pairs
}

// keyAt reports whether a key followed by '=' (spaces allowed around it)
// starts at s[i].
func keyAt(s string, i int) (keyHit, bool) {
	for _, k := range descriptionKeys {
		if len(s)-i < len(k) || !strings.EqualFold(s[i:i+len(k)], k) {
			continue
		}
		j := i + len(k)
		for j < len(s) && isDescSpace(s[j]) {
			j++
		}
		if j >= len(s) || s[j] != '=' {
			continue
		}
		j++
		for j < len(s) && isDescSpace(s[j]) {
			j++
		}
		return keyHit{key: k, start: i, val: j}, true
	}
	return keyHit{}, false
}

func isWordChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

func isDescSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

func parseYes(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "yes", "y", "true", "1":
		return true
	}
	return false
}

func yesNo(b bool) string {
	if b {
		return "Yes"
	}
	return "No"
}

// isPlainToken reports whether v can be written bare: printable ASCII with
// no space, quote or percent sign.
func isPlainToken(v string) bool {
	if v == "" {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c <= ' ' || c >= 0x7F || c == '"' || c == '%' {
			return false
		}
	}
	return true
}

const hexDigits = "0123456789ABCDEF"

// escapeValue writes v for a quoted description value (see String).
func escapeValue(v string) string {
	var b strings.Builder
	for i := 0; i < len(v); {
		r, size := utf8.DecodeRuneInString(v[i:])
		plain := r != utf8.RuneError || size > 1
		plain = plain && r != '%' && r != '"' && r >= 0x20 && r != 0x7F && !(r >= 0x80 && r <= 0x9F) && isXMLChar(r)
		if plain {
			b.WriteString(v[i : i+size])
		} else {
			for _, c := range []byte(v[i : i+size]) {
				b.WriteByte('%')
				b.WriteByte(hexDigits[c>>4])
				b.WriteByte(hexDigits[c&0x0F])
			}
		}
		i += size
	}
	return b.String()
}

// unescapeValue decodes %XX escapes; a '%' not followed by two hex digits
// is kept as it is.
func unescapeValue(v string) string {
	if !strings.Contains(v, "%") {
		return v
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] == '%' && i+2 < len(v) {
			hi, ok1 := unhex(v[i+1])
			lo, ok2 := unhex(v[i+2])
			if ok1 && ok2 {
				b.WriteByte(hi<<4 | lo)
				i += 2
				continue
			}
		}
		b.WriteByte(v[i])
	}
	return b.String()
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

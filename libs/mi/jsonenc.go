package mi

import (
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"
)

// The JSON appenders below write what encoding/json would for the same
// values (HTML-safe escaping included), without reflection: a month of
// national volume is a quarter of a million transfers.

const hexDigits = "0123456789abcdef"

// jsonPlain tells the bytes that appendJSONString writes as they are:
// ASCII but for control characters, '"', '\\' and the HTML-unsafe <, >
// and &.
var jsonPlain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// appendJSONString appends s as a JSON string, escaped as encoding/json
// escapes it: quotes, backslashes and control characters; <, > and & as
// \u003c etc.; U+2028 and U+2029; invalid UTF-8 as U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		// Runs of bytes written as they are, the bulk of every string,
		// are skipped a table lookup a byte.
		for i < len(s) && jsonPlain[s[i]] {
			i++
		}
		if i == len(s) {
			break
		}
		if c := s[i]; c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendJSONTime appends t in UTC as an RFC 3339 JSON string with as many
// fractional digits as needed, the format of time.Time's MarshalJSON.
func appendJSONTime(b []byte, t time.Time) ([]byte, error) {
	c := civilOf(t)
	if c.year < 0 || c.year > 9999 {
		return b, fmt.Errorf("time %v: year outside [0,9999]", t.UTC())
	}
	b = append(b, '"')
	b = appendRFC3339(b, c, t.Nanosecond())
	return append(b, '"'), nil
}

// appendRFC3339NanoUTC appends t, a UTC time with a four-digit year, as
// t.AppendFormat(b, time.RFC3339Nano) would, in a fraction of its time.
func appendRFC3339NanoUTC(b []byte, t time.Time) []byte {
	return appendRFC3339(b, civilOf(t), t.Nanosecond())
}

// civilTime is a time split into its UTC date and time of day.
type civilTime struct{ year, month, day, hour, minute, sec int }

func civilOf(t time.Time) civilTime {
	var c civilTime
	c.year, c.month, c.day, c.hour, c.minute, c.sec = civil(t.Unix())
	return c
}

// appendRFC3339 appends the time c and ns nanoseconds (a four-digit year)
// as appendRFC3339NanoUTC does.
func appendRFC3339(b []byte, c civilTime, ns int) []byte {
	year, month, day, hour, minute, sec := c.year, c.month, c.day, c.hour, c.minute, c.sec
	b = append(b, byte('0'+year/1000), byte('0'+year/100%10), byte('0'+year/10%10), byte('0'+year%10), '-',
		byte('0'+month/10), byte('0'+month%10), '-', byte('0'+day/10), byte('0'+day%10), 'T',
		byte('0'+hour/10), byte('0'+hour%10), ':', byte('0'+minute/10), byte('0'+minute%10), ':',
		byte('0'+sec/10), byte('0'+sec%10))
	if ns != 0 {
		var frac [10]byte
		frac[0] = '.'
		for i := 9; i >= 1; i-- {
			frac[i] = byte('0' + ns%10)
			ns /= 10
		}
		n := 10
		for frac[n-1] == '0' {
			n--
		}
		b = append(b, frac[:n]...)
	}
	return append(b, 'Z')
}

// appendJSONTimePtr appends t, or null when t is nil.
func appendJSONTimePtr(b []byte, t *time.Time) ([]byte, error) {
	if t == nil {
		return append(b, "null"...), nil
	}
	return appendJSONTime(b, *t)
}

// appendJSONCodes appends a list of codes in which nil is null; a nil
// list is null, an empty one [].
func appendJSONCodes(b []byte, codes []*int) []byte {
	if codes == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, c := range codes {
		if i > 0 {
			b = append(b, ',')
		}
		if c == nil {
			b = append(b, "null"...)
		} else {
			b = strconv.AppendInt(b, int64(*c), 10)
		}
	}
	return append(b, ']')
}

// appendJSONInts appends a list of ints; a nil list is null.
func appendJSONInts(b []byte, ns []int) []byte {
	if ns == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, n := range ns {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(n), 10)
	}
	return append(b, ']')
}

// appendJSONNullString appends s, or null when null is true.
func appendJSONNullString(b []byte, s string, null bool) []byte {
	if null {
		return append(b, "null"...)
	}
	return appendJSONString(b, s)
}

// civil splits Unix seconds into the UTC date and time of day, as
// t.UTC().Date() and t.Clock() would for a t of those seconds, with Howard
// Hinnant's civil_from_days: plain arithmetic, a few times quicker.
func civil(unix int64) (year, month, day, hour, minute, sec int) {
	days, secs := unix/86400, unix%86400
	if secs < 0 {
		days--
		secs += 86400
	}
	hour, minute, sec = int(secs/3600), int(secs/60%60), int(secs%60)
	z := days + 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097                                  // [0, 146096]
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365 // [0, 399]
	doy := doe - (365*yoe + yoe/4 - yoe/100)               // [0, 365]
	mp := (5*doy + 2) / 153                                // [0, 11], from March
	day = int(doy - (153*mp+2)/5 + 1)
	month = int(mp + 3)
	if month > 12 {
		month -= 12
	}
	year = int(yoe + era*400)
	if month <= 2 {
		year++
	}
	return year, month, day, hour, minute, sec
}

package mi

import "time"

// parseSpineTimeFast parses the common shapes of a Spine _time without
// the time package's layout machinery: "2006-01-02 15:04:05[.f…] ZONE"
// (or with a "T") with ZONE BST, UTC or GMT in any case, and
// "2006-01-02T15:04:05[.f…]Z", with 1–9 fractional digits. It accepts
// exactly what ParseSpineTime's layouts accept for those shapes and
// reports false for anything else, which ParseSpineTime then parses the
// slow way.
func parseSpineTimeFast[T string | []byte](s T) (time.Time, bool) {
	days, ok := spineDate(s)
	if !ok {
		return time.Time{}, false
	}
	return spineClock(s, days)
}

// spineDate checks the length of s and parses its first ten bytes, the
// "2006-01-02" of parseSpineTimeFast, into days since 1970-01-01.
func spineDate[T string | []byte](s T) (int64, bool) {
	if len(s) < 20 {
		return 0, false
	}
	if s[4] != '-' || s[7] != '-' {
		return 0, false
	}
	y0, y1, y2, y3 := s[0]-'0', s[1]-'0', s[2]-'0', s[3]-'0'
	m0, m1, d0, d1 := s[5]-'0', s[6]-'0', s[8]-'0', s[9]-'0'
	// A byte that is not 0–9 is above 9 once '0' is taken off (below '0'
	// it wraps).
	if max(y0, y1, y2, y3, m0, m1, d0, d1) > 9 {
		return 0, false
	}
	year := int(y0)*1000 + int(y1)*100 + int(y2)*10 + int(y3)
	month, day := int(m0)*10+int(m1), int(d0)*10+int(d1)
	if month < 1 || month > 12 || day < 1 || day > daysIn(month, year) {
		return 0, false
	}
	return daysSinceEpoch(year, month, day), true
}

// spineClock parses the rest of a parseSpineTimeFast value, from byte 10
// on, s being at least 20 bytes long and its date days since 1970-01-01.
func spineClock[T string | []byte](s T, days int64) (time.Time, bool) {
	if len(s) < 20 {
		return time.Time{}, false
	}
	sep := s[10]
	if (sep != ' ' && sep != 'T') || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	h0, h1, n0, n1, s0, s1 := s[11]-'0', s[12]-'0', s[14]-'0', s[15]-'0', s[17]-'0', s[18]-'0'
	if max(h0, h1, n0, n1, s0, s1) > 9 {
		return time.Time{}, false
	}
	hour, minute, sec := int(h0)*10+int(h1), int(n0)*10+int(n1), int(s0)*10+int(s1)
	if hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	i := 19
	nanos := 0
	if s[i] == '.' {
		i++
		scale := 100_000_000
		for ; i < len(s) && s[i]-'0' <= 9; i++ {
			if scale == 0 {
				return time.Time{}, false // more than 9 digits
			}
			nanos += int(s[i]-'0') * scale
			scale /= 10
		}
		if i == 20 {
			return time.Time{}, false // no digits
		}
	}
	var offset int64
	switch len(s) - i {
	case 1:
		if s[i] != 'Z' || sep != 'T' {
			return time.Time{}, false
		}
	case 4:
		if s[i] != ' ' {
			return time.Time{}, false
		}
		// The zone, upper-cased: clearing bit 5 makes 'b' 'B' (and
		// changes no other byte into a letter it is compared with).
		z0, z1, z2 := s[i+1]&^0x20, s[i+2]&^0x20, s[i+3]&^0x20
		switch {
		case z0 == 'B' && z1 == 'S' && z2 == 'T':
			offset = 3600
		case z0 == 'U' && z1 == 'T' && z2 == 'C', z0 == 'G' && z1 == 'M' && z2 == 'T':
		default:
			return time.Time{}, false
		}
	default:
		return time.Time{}, false
	}
	unix := days*86400 + int64(hour*3600+minute*60+sec) - offset
	return time.Unix(unix, int64(nanos)).UTC(), true
}

// spineDateCache remembers the date of the last _time parsed: the rows of
// a day's log nearly all share their date, so parsing each time only
// from its clock on saves a third of the work.
type spineDateCache struct {
	text [10]byte
	days int64
	ok   bool
}

// parse is parseSpineTimeFast of b.
func (c *spineDateCache) parse(b []byte) (time.Time, bool) {
	if len(b) >= 20 && c.ok && string(b[:10]) == string(c.text[:]) {
		return spineClock(b, c.days)
	}
	days, ok := spineDate(b)
	if !ok {
		return time.Time{}, false
	}
	copy(c.text[:], b)
	c.days, c.ok = days, true
	return spineClock(b, days)
}

// digits parses a run of ASCII digits.
func digits[T string | []byte](s T) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// equalFold3 compares a three-letter ASCII zone name, ignoring case.
func equalFold3[T string | []byte](s T, upper string) bool {
	for i := range 3 {
		c := s[i]
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		if c != upper[i] {
			return false
		}
	}
	return true
}

func isLeap(year int) bool { return year%4 == 0 && (year%100 != 0 || year%400 == 0) }

func daysIn(month, year int) int {
	switch month {
	case 2:
		if isLeap(year) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysSinceEpoch is the number of days from 1970-01-01 to the given
// proleptic Gregorian date (Howard Hinnant's days_from_civil).
func daysSinceEpoch(year, month, day int) int64 {
	y := int64(year)
	if month <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	m := int64(month)
	if m > 2 {
		m -= 3
	} else {
		m += 9
	}
	doy := (153*m+2)/5 + int64(day) - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

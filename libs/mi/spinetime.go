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
	if len(s) < 20 || s[4] != '-' || s[7] != '-' || (s[10] != ' ' && s[10] != 'T') || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	// The digit positions of "2006-01-02 15:04:05", checked at once.
	var bad byte
	for _, i := range [...]int{0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18} {
		bad |= (s[i] - '0') & 0xf0 // not 0–9: the byte is < '0' (wraps) or > '9'
		bad |= (s[i] - '0' + 6) & 0x10
	}
	if bad != 0 {
		return time.Time{}, false
	}
	d2 := func(i int) int { return int(s[i]-'0')*10 + int(s[i+1]-'0') }
	year, month, day := d2(0)*100+d2(2), d2(5), d2(8)
	hour, minute, sec := d2(11), d2(14), d2(17)
	if month < 1 || month > 12 || day < 1 || day > daysIn(month, year) || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	rest := s[19:]
	nanos := 0
	if rest[0] == '.' {
		n := 1
		for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
			n++
		}
		frac := n - 1
		if frac < 1 || frac > 9 {
			return time.Time{}, false
		}
		v, _ := digits(rest[1:n])
		for range 9 - frac {
			v *= 10
		}
		nanos = v
		rest = rest[n:]
	}
	var offset int64
	switch {
	case len(rest) == 1 && rest[0] == 'Z' && s[10] == 'T':
	case len(rest) == 4 && rest[0] == ' ':
		switch zone := rest[1:]; {
		case equalFold3(zone, "BST"):
			offset = 3600
		case equalFold3(zone, "UTC"), equalFold3(zone, "GMT"):
		default:
			return time.Time{}, false
		}
	default:
		return time.Time{}, false
	}
	unix := daysSinceEpoch(year, month, day)*86400 + int64(hour*3600+minute*60+sec) - offset
	return time.Unix(unix, int64(nanos)).UTC(), true
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

package web

import (
	"errors"
	"time"

	"github.com/nhsengland/gp2gp/libs/mi"
)

// errBadMonth is the 400 message of a malformed month query.
var errBadMonth = errors.New(`month must be YYYY-MM, e.g. "2026-10"`)

// parseMonth reads "YYYY-MM" strictly: four digits, a hyphen, two digits,
// month 01 to 12 and year from 0001.
func parseMonth(s string) (mi.Month, error) {
	if len(s) != len("2006-01") || s[4] != '-' {
		return mi.Month{}, errBadMonth
	}
	year, ok := digits(s[:4])
	if !ok || year < 1 {
		return mi.Month{}, errBadMonth
	}
	month, ok := digits(s[5:])
	if !ok || month < 1 || month > 12 {
		return mi.Month{}, errBadMonth
	}
	return mi.Month{Year: year, Month: time.Month(month)}, nil
}

// digits is the value of s if it is only ASCII digits.
func digits(s string) (int, bool) {
	n := 0
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, s != ""
}

// before reports whether month a is earlier than month b.
func before(a, b mi.Month) bool {
	if a.Year != b.Year {
		return a.Year < b.Year
	}
	return a.Month < b.Month
}

// defaultMonth is the latest complete month among months: the latest one
// before current. Without one it is the latest month, and without any months
// it is current. It does not rely on the order of months.
func defaultMonth(months []mi.Month, current mi.Month) mi.Month {
	var complete, latest *mi.Month
	for i := range months {
		m := &months[i]
		if latest == nil || before(*latest, *m) {
			latest = m
		}
		if before(*m, current) && (complete == nil || before(*complete, *m)) {
			complete = m
		}
	}
	switch {
	case complete != nil:
		return *complete
	case latest != nil:
		return *latest
	default:
		return current
	}
}

package directory

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// ParseISODuration reads an ISO 8601 duration of the form SDS uses for
// persist durations and retry intervals: "P", then optionally days ("nD"),
// then optionally "T" followed by hours ("nH"), minutes ("nM") and seconds
// ("nS", the only component that may have a fraction, with "." or ",",
// up to nanoseconds), each at most once and in that order. Examples:
// PT4H10M, P1D, PT30S, P1DT2H, PT0.5S. A day is 24 hours.
//
// Years, months and weeks are refused (their length varies, and SDS does
// not use them), as are signs, lower-case designators, empty durations
// ("P", "PT"), components out of order and values beyond time.Duration.
// The error matches ErrInvalidDuration and says what is wrong.
func ParseISODuration(s string) (time.Duration, error) {
	d, problem := parseDuration(s)
	if problem != "" {
		return 0, fmt.Errorf("%w %q: %s", ErrInvalidDuration, s, problem)
	}
	return d, nil
}

// durationError describes a malformed duration inside a larger message
// (a file entry, an SDS extension) without repeating the package prefix.
func durationError(s string) (time.Duration, error) {
	d, problem := parseDuration(s)
	if problem != "" {
		return 0, fmt.Errorf("invalid ISO 8601 duration %q: %s", s, problem)
	}
	return d, nil
}

// parseDuration implements ParseISODuration, returning what is wrong
// instead of an error.
func parseDuration(s string) (time.Duration, string) {
	fail := func(format string, args ...any) (time.Duration, string) {
		return 0, fmt.Sprintf(format, args...)
	}
	switch {
	case s == "":
		return fail("empty")
	case s[0] == '-' || s[0] == '+':
		return fail("signed durations are not supported")
	case s[0] != 'P':
		return fail("does not start with P")
	case len(s) == 1:
		return fail("has no components after P")
	}
	var total time.Duration
	rest := s[1:]
	inTime := false
	lastRank := 0
	for rest != "" {
		if rest[0] == 'T' {
			if inTime {
				return fail("repeats T")
			}
			inTime = true
			rest = rest[1:]
			if rest == "" {
				return fail("has no hours, minutes or seconds after T")
			}
			continue
		}
		i := digits(rest, 0)
		whole, frac, hasFrac := rest[:i], "", false
		if i < len(rest) && (rest[i] == '.' || rest[i] == ',') {
			hasFrac = true
			j := digits(rest, i+1)
			frac = rest[i+1 : j]
			i = j
		}
		if i == len(rest) {
			return fail("number %q has no designator after it", rest)
		}
		designator := rest[i]
		unit, rank, reason := designatorUnit(designator, inTime)
		switch {
		case reason != "":
			return fail("%s", reason)
		case whole == "":
			return fail("%c has no number before it", designator)
		case hasFrac && designator != 'S':
			return fail("only seconds may have a fraction")
		case hasFrac && frac == "":
			return fail("fraction of %c has no digits", designator)
		case len(frac) > 9:
			return fail("seconds have more than 9 fractional digits")
		case rank <= lastRank:
			return fail("%c is out of order or repeated", designator)
		}
		lastRank = rank
		n, err := strconv.ParseInt(whole, 10, 64)
		if err != nil || n > math.MaxInt64/int64(unit) {
			return fail("%s%c is out of range", whole, designator)
		}
		v := time.Duration(n) * unit
		if frac != "" {
			ns, _ := strconv.ParseInt(frac+strings.Repeat("0", 9-len(frac)), 10, 64)
			if v > math.MaxInt64-time.Duration(ns) {
				return fail("out of range")
			}
			v += time.Duration(ns)
		}
		if total > math.MaxInt64-v {
			return fail("out of range")
		}
		total += v
		rest = rest[i+1:]
	}
	return total, ""
}

// digits returns the index of the first non-digit in s at or after i.
func digits(s string, i int) int {
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i
}

// designatorUnit gives the unit and order of a duration designator, or
// why it is refused. inTime says whether it follows the T.
func designatorUnit(d byte, inTime bool) (unit time.Duration, rank int, reason string) {
	switch {
	case d == 'Y':
		return 0, 0, "years are not supported"
	case d == 'W':
		return 0, 0, "weeks are not supported"
	case d == 'M' && !inTime:
		return 0, 0, "months are not supported (minutes go after T, as in PT10M)"
	case d == 'D' && inTime:
		return 0, 0, "days must come before T"
	case (d == 'H' || d == 'S') && !inTime:
		return 0, 0, fmt.Sprintf("%c must come after T", d)
	case d == 'D':
		return 24 * time.Hour, 1, ""
	case d == 'H':
		return time.Hour, 2, ""
	case d == 'M':
		return time.Minute, 3, ""
	case d == 'S':
		return time.Second, 4, ""
	}
	return 0, 0, fmt.Sprintf("unexpected %q", d)
}

package hl7

import (
	"fmt"
	"strings"
	"time"
)

// tsLayout is the HL7 TS form written: yyyyMMddHHmmss, UTC.
const tsLayout = "20060102150405"

// FormatTS writes t as an HL7 timestamp (UTC, to the second).
func FormatTS(t time.Time) string { return t.UTC().Format(tsLayout) }

// ParseTS reads the HL7 timestamps vendors send: yyyyMMdd, yyyyMMddHHmm,
// yyyyMMddHHmmss, with optional fractional seconds and an optional zone
// offset (+HHMM). Without a zone the time is taken as UTC.
func ParseTS(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	zone := ""
	if i := strings.LastIndexAny(s, "+-"); i >= 8 {
		s, zone = s[:i], s[i:]
	}
	frac := ""
	if i := strings.IndexByte(s, '.'); i >= 0 {
		s, frac = s[:i], s[i:]
	}
	var layout string
	switch len(s) {
	case 4:
		layout = "2006"
	case 6:
		layout = "200601"
	case 8:
		layout = "20060102"
	case 10:
		layout = "2006010215"
	case 12:
		layout = "200601021504"
	case 14:
		layout = tsLayout
	default:
		return time.Time{}, fmt.Errorf("hl7: %q is not an HL7 timestamp", s+frac+zone)
	}
	if frac != "" {
		if len(s) != 14 {
			return time.Time{}, fmt.Errorf("hl7: %q is not an HL7 timestamp", s+frac+zone)
		}
		layout += "." + strings.Repeat("0", len(frac)-1)
	}
	if zone != "" {
		layout += "-0700"
	}
	t, err := time.Parse(layout, s+frac+zone)
	if err != nil {
		return time.Time{}, fmt.Errorf("hl7: %q is not an HL7 timestamp", s+frac+zone)
	}
	return t.UTC(), nil
}

package ops

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseAge reads an age such as the stuck filter's: a Go duration ("36h",
// "90m", "1h30m") or whole days ("3d"). It must not be negative.
func ParseAge(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 || n > 3650 {
			return 0, fmt.Errorf("%w: age %q: want whole days such as 3d, or a duration such as 36h", ErrInvalidFilter, s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%w: age %q: want a duration such as 36h or 90m, or days such as 3d", ErrInvalidFilter, s)
	}
	return d, nil
}

// FormatAge writes d briefly, to the largest two units: "45s", "12m",
// "3h05m", "2d04h".
func FormatAge(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d/time.Hour), int(d%time.Hour/time.Minute))
	}
	return fmt.Sprintf("%dd%02dh", int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour))
}

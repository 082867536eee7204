package hl7

// ValidNHSNumber reports whether s is a well-formed NHS number: ten digits
// whose last is the modulus-11 check digit of the first nine (weights 10
// down to 2; a remainder giving 10 is never valid, 11 means 0).
func ValidNHSNumber(s string) bool {
	if len(s) != 10 {
		return false
	}
	sum := 0
	for i := 0; i < 10; i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return false
		}
		if i < 9 {
			sum += int(c-'0') * (10 - i)
		}
	}
	check := 11 - sum%11
	switch check {
	case 11:
		check = 0
	case 10:
		return false
	}
	return int(s[9]-'0') == check
}

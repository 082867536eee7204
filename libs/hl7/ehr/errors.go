package ehr

import "errors"

// ErrNoExtract is returned by Summarize when it is given no EhrExtract
// element (nil, or an element with no EhrExtract at or below it).
var ErrNoExtract = errors.New("ehr: no EhrExtract element")

// ErrInvalidOption is wrapped by Generate when an option's value is
// unusable (a malformed NHS number, ODS code or identifier, a negative
// count, conflicting options).
var ErrInvalidOption = errors.New("ehr: invalid option")

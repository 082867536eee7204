package ops

import "errors"

var (
	// ErrPartialMetrics: some metrics were written but an observable
	// instrument's callback failed; the wrapped error says which.
	ErrPartialMetrics = errors.New("ops: some metrics could not be observed")
	// ErrInvalidFilter: a transfer list filter (state, side, practice,
	// stuck, limit) is malformed. The HTTP API answers it with 400.
	ErrInvalidFilter = errors.New("ops: invalid filter")
)

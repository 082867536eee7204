package web

import (
	"context"

	"github.com/nhsengland/gp2gp/libs/mi"
)

// Source is where the figures come from (the mireporter's live state).
//
// Implementations must be safe for concurrent use: the handler calls them
// from every request's goroutine. An error is a failure of the source
// (reported as 500); "not found" is the false result of Practice and
// Transfer, never an error.
type Source interface {
	// Months lists the months that have transfers, most recent first.
	Months(ctx context.Context) ([]mi.Month, error)
	// National is the national figures of month m (zero counts if none).
	National(ctx context.Context, m mi.Month) (mi.NationalMonth, error)
	// Practices is every practice with figures in month m, each with Metrics holding that month only, and the SICBLs.
	Practices(ctx context.Context, m mi.Month) ([]mi.PracticeMetrics, []mi.SICBL, error)
	// Practice is one practice (by ODS code, case-insensitive) with all its months, most recent first.
	Practice(ctx context.Context, ods string) (mi.PracticeMetrics, bool, error)
	// Transfer is one conversation's classification.
	Transfer(ctx context.Context, conversationID string) (mi.Transfer, bool, error)
}

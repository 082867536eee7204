package web

import (
	"bytes"
	"cmp"
	"encoding/csv"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nhsengland/gp2gp/libs/mi"
)

// PracticesCSVHeader is the header row of GET /api/v1/practices.csv: the
// dashboard columns of GP2GP-MI.md §2.4 in the spec's order. Both column
// groups have a received count, named as the spec names them ("GP2GP
// Transfers received" in the integration times, "GP2GP transfers received"
// in the transfers requested); both hold receivedCount. Each call returns a
// new slice.
func PracticesCSVHeader() []string {
	return []string{
		"Sub ICB Location name",
		"Sub ICB Location ODS",
		"Requesting practice name",
		"Practice ODS",
		"Month",
		// Integration times.
		"GP2GP Transfers received",
		"Integrated within 3 days",
		"Integrated within 3 days - %",
		"Integrated within 8 days",
		"Integrated within 8 days - %",
		"Not integrated within 8 days (paper copy requested)",
		"Not integrated within 8 days (paper copy requested) - %",
		// Transfers requested.
		"GP2GP transfers requested",
		"GP2GP transfers received",
		"GP2GP transfers received - %",
		"GP2GP technical failures (paper copy requested)",
		"GP2GP technical failures (paper copy requested) - %",
	}
}

// NationalCSVHeader is the header row of GET /api/v1/national.csv, one
// column per figure of §2.2. Every "- %" column is the percentage of "GP2GP
// transfers requested" (transferCount), to 2 decimal places, empty when
// there are no transfers. Each call returns a new slice.
func NationalCSVHeader() []string {
	return []string{
		"Month",
		"GP2GP transfers requested",
		"Integrated on time",
		"Integrated on time - %",
		"Paper fallback",
		"Paper fallback - %",
		"Technical failures",
		"Technical failures - %",
		"Integrated late",
		"Integrated late - %",
		"Transferred not integrated",
		"Transferred not integrated - %",
		"Unclassified failures",
		"Unclassified failures - %",
	}
}

// nationalRow is the national.csv row of n.
func nationalRow(n mi.NationalMonth) []string {
	pf := n.PaperFallback
	return []string{
		monthString(n.Year, n.Month),
		strconv.Itoa(n.TransferCount),
		strconv.Itoa(n.IntegratedOnTime.TransferCount), percentCell(n.IntegratedOnTime.TransferPercentage),
		strconv.Itoa(pf.TransferCount), percentCell(pf.TransferPercentage),
		strconv.Itoa(pf.TechnicalFailure.TransferCount), percentCell(pf.TechnicalFailure.TransferPercentage),
		strconv.Itoa(pf.ProcessFailure.IntegratedLate.TransferCount), percentCell(pf.ProcessFailure.IntegratedLate.TransferPercentage),
		strconv.Itoa(pf.ProcessFailure.TransferredNotIntegrated.TransferCount), percentCell(pf.ProcessFailure.TransferredNotIntegrated.TransferPercentage),
		strconv.Itoa(pf.UnclassifiedFailure.TransferCount), percentCell(pf.UnclassifiedFailure.TransferPercentage),
	}
}

// practiceRecords is the practices.csv: the header, then one row per
// practice and month in the order given.
func practiceRecords(practices []mi.PracticeMetrics) [][]string {
	records := [][]string{PracticesCSVHeader()}
	for _, p := range practices {
		for _, pm := range p.Metrics {
			rt := pm.RequestedTransfers
			records = append(records, []string{
				p.SICBLName, p.SICBLODSCode, p.Name, p.ODSCode,
				monthString(pm.Year, pm.Month),
				strconv.Itoa(rt.ReceivedCount),
				strconv.Itoa(rt.IntegratedWithin3DaysCount), percentCell(rt.IntegratedWithin3DaysPercentOfReceived),
				strconv.Itoa(rt.IntegratedWithin8DaysCount), percentCell(rt.IntegratedWithin8DaysPercentOfReceived),
				strconv.Itoa(rt.NotIntegratedWithin8DaysTotal), percentCell(rt.NotIntegratedWithin8DaysPercentOfReceived),
				strconv.Itoa(rt.RequestedCount),
				strconv.Itoa(rt.ReceivedCount), percentCell(rt.ReceivedPercentOfRequested),
				strconv.Itoa(rt.FailuresTotalCount), percentCell(rt.FailuresTotalPercentOfRequested),
			})
		}
	}
	return records
}

// monthString formats a figure's year and month as "YYYY-MM".
func monthString(year, month int) string {
	return mi.Month{Year: year, Month: time.Month(month)}.String()
}

// percentCell is a percentage written as encoding/json writes it (the
// shortest exact decimal), or empty for null.
func percentCell(p *float64) string {
	if p == nil {
		return ""
	}
	return strconv.FormatFloat(*p, 'f', -1, 64)
}

// encodeCSV writes records with encoding/csv's quoting.
func encodeCSV(records [][]string) ([]byte, error) {
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	if err := cw.WriteAll(records); err != nil {
		return nil, fmt.Errorf("write csv: %w", err)
	}
	return buf.Bytes(), nil
}

// order is the sort of the practice list.
type order int

const (
	// byNotIntegrated sorts by "Not integrated within 8 days" % of received,
	// descending: the integration-times page's default (§2.4).
	byNotIntegrated order = iota
	// byFailures sorts by technical failures % of requested, descending:
	// the transfers-requested page's default (§2.4).
	byFailures
)

// parseOrder reads the sort query parameter.
func parseOrder(s string) (order, error) {
	switch strings.ToLower(s) {
	case "", "integration":
		return byNotIntegrated, nil
	case "failures":
		return byFailures, nil
	default:
		return 0, errors.New(`sort must be "integration" (the default: not integrated within 8 days %, descending) or "failures" (technical failures %, descending)`)
	}
}

// sortPractices returns a sorted copy of practices (never nil): by the
// order's percentage for month m, descending, nulls last, then by ODS code.
func sortPractices(practices []mi.PracticeMetrics, m mi.Month, o order) []mi.PracticeMetrics {
	out := slices.Clone(practices)
	if out == nil {
		out = []mi.PracticeMetrics{}
	}
	key := func(p mi.PracticeMetrics) *float64 {
		rt, ok := figuresOf(p, m)
		switch {
		case !ok:
			return nil
		case o == byFailures:
			return rt.FailuresTotalPercentOfRequested
		default:
			return rt.NotIntegratedWithin8DaysPercentOfReceived
		}
	}
	slices.SortStableFunc(out, func(a, b mi.PracticeMetrics) int {
		ka, kb := key(a), key(b)
		switch {
		case ka == nil && kb != nil:
			return 1
		case ka != nil && kb == nil:
			return -1
		case ka != nil && kb != nil && *ka != *kb:
			return cmp.Compare(*kb, *ka)
		}
		return strings.Compare(a.ODSCode, b.ODSCode)
	})
	return out
}

// figuresOf is p's figures for month m, or its first month's if it has
// none for m.
func figuresOf(p mi.PracticeMetrics, m mi.Month) (mi.RequestedTransfers, bool) {
	for _, pm := range p.Metrics {
		if pm.Year == m.Year && pm.Month == int(m.Month) {
			return pm.RequestedTransfers, true
		}
	}
	if len(p.Metrics) > 0 {
		return p.Metrics[0].RequestedTransfers, true
	}
	return mi.RequestedTransfers{}, false
}

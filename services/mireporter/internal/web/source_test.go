package web_test

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nhsengland/gp2gp/libs/mi"
)

// fakeSource is a Source over a fixed list of classified transfers; it
// computes the figures with libs/mi the way the mireporter does. Setting
// err makes every method fail.
type fakeSource struct {
	transfers []mi.Transfer

	mu  sync.Mutex
	err error
}

func (f *fakeSource) fail(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
}

func (f *fakeSource) failure() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

func (f *fakeSource) Months(context.Context) ([]mi.Month, error) {
	if err := f.failure(); err != nil {
		return nil, err
	}
	var months []mi.Month
	for _, t := range f.transfers {
		if m := t.Month(); !slices.Contains(months, m) {
			months = append(months, m)
		}
	}
	slices.SortFunc(months, func(a, b mi.Month) int { return -compareMonths(a, b) })
	return months, nil
}

func (f *fakeSource) National(_ context.Context, m mi.Month) (mi.NationalMonth, error) {
	if err := f.failure(); err != nil {
		return mi.NationalMonth{}, err
	}
	var c mi.Counts
	for _, t := range f.transfers {
		if t.Month() == m {
			c = c.Add(mi.CountsOf(t))
		}
	}
	return mi.NationalOf(m, c), nil
}

func (f *fakeSource) Practices(_ context.Context, m mi.Month) ([]mi.PracticeMetrics, []mi.SICBL, error) {
	if err := f.failure(); err != nil {
		return nil, nil, err
	}
	var out []mi.PracticeMetrics
	sicbls := map[string]*mi.SICBL{}
	for _, ods := range f.practiceCodes() {
		p := f.practice(ods, func(pm mi.Month) bool { return pm == m })
		if len(p.Metrics) == 0 {
			continue
		}
		out = append(out, p)
		s, ok := sicbls[p.SICBLODSCode]
		if !ok {
			s = &mi.SICBL{ODSCode: p.SICBLODSCode, Name: p.SICBLName}
			sicbls[p.SICBLODSCode] = s
		}
		s.Practices = append(s.Practices, p.ODSCode)
	}
	var list []mi.SICBL
	for _, s := range sicbls {
		list = append(list, *s)
	}
	slices.SortFunc(list, func(a, b mi.SICBL) int { return strings.Compare(a.ODSCode, b.ODSCode) })
	return out, list, nil
}

func (f *fakeSource) Practice(_ context.Context, ods string) (mi.PracticeMetrics, bool, error) {
	if err := f.failure(); err != nil {
		return mi.PracticeMetrics{}, false, err
	}
	for _, code := range f.practiceCodes() {
		if strings.EqualFold(code, ods) {
			return f.practice(code, func(mi.Month) bool { return true }), true, nil
		}
	}
	return mi.PracticeMetrics{}, false, nil
}

func (f *fakeSource) Transfer(_ context.Context, id string) (mi.Transfer, bool, error) {
	if err := f.failure(); err != nil {
		return mi.Transfer{}, false, err
	}
	for _, t := range f.transfers {
		if t.ConversationID == id {
			return t, true, nil
		}
	}
	return mi.Transfer{}, false, nil
}

// attributed reports whether t counts in practice figures (§2.3): it has a
// requesting practice with an ODS code and a Sub-ICB location.
func attributed(t mi.Transfer) bool {
	p := t.RequestingPractice
	return p != nil && p.ODSCode != "" && p.SICBLODSCode != ""
}

// practiceCodes lists the ODS codes of practices with figures, sorted.
func (f *fakeSource) practiceCodes() []string {
	var codes []string
	for _, t := range f.transfers {
		if attributed(t) && !slices.Contains(codes, t.RequestingPractice.ODSCode) {
			codes = append(codes, t.RequestingPractice.ODSCode)
		}
	}
	slices.Sort(codes)
	return codes
}

// practice is the figures of practice ods in the months keep accepts, most
// recent first, named after its latest transfer.
func (f *fakeSource) practice(ods string, keep func(mi.Month) bool) mi.PracticeMetrics {
	counts := map[mi.Month]mi.Counts{}
	var latest mi.Transfer
	for _, t := range f.transfers {
		if !attributed(t) || t.RequestingPractice.ODSCode != ods {
			continue
		}
		if latest.RequestingPractice == nil || t.DateRequested.After(latest.DateRequested) {
			latest = t
		}
		if keep(t.Month()) {
			counts[t.Month()] = counts[t.Month()].Add(mi.CountsOf(t))
		}
	}
	p := mi.PracticeMetrics{
		ODSCode: ods, Name: latest.RequestingPractice.Name,
		SICBLODSCode: latest.RequestingPractice.SICBLODSCode, SICBLName: latest.RequestingPractice.SICBLName,
	}
	for m, c := range counts {
		p.Metrics = append(p.Metrics, mi.PracticeMonth{Year: m.Year, Month: int(m.Month), RequestedTransfers: mi.RequestedTransfersOf(c)})
	}
	slices.SortFunc(p.Metrics, func(a, b mi.PracticeMonth) int {
		return cmp.Or(cmp.Compare(b.Year, a.Year), cmp.Compare(b.Month, a.Month))
	})
	return p
}

func compareMonths(a, b mi.Month) int {
	return cmp.Or(cmp.Compare(a.Year, b.Year), cmp.Compare(a.Month, b.Month))
}

// The practices of the fixture.
var (
	practiceA = mi.Practice{ODSCode: "A12345", Name: `Dr "Who" & Partners, Leeds`, SICBLODSCode: "15F", SICBLName: "NHS West Yorkshire ICB - 15F"}
	practiceB = mi.Practice{ODSCode: "B86041", Name: "Riverside Medical Centre", SICBLODSCode: "00L", SICBLName: "NHS North East and North Cumbria ICB - 00L"}
	// practiceC has only failures in October: nothing received, so its
	// percentages of received are null.
	practiceC = mi.Practice{ODSCode: "C81001", Name: "Hilltop Practice", SICBLODSCode: "15F", SICBLName: "NHS West Yorkshire ICB - 15F"}
	// noSICBL has no Sub-ICB location: national figures only.
	noSICBL = mi.Practice{ODSCode: "D99999", Name: "Unmapped Practice"}
)

// fixtureNow is the handler's clock in tests: November 2026 is not
// complete, so the default month is October 2026.
var fixtureNow = time.Date(2026, time.November, 20, 10, 30, 15, 0, time.UTC)

// outcome is what a fixture transfer ended as.
type outcome int

const (
	within3Days outcome = iota
	within8Days
	integratedLate
	notIntegrated
	technicalFailure
	unclassifiedFailure
)

// fixtureTransfers is a handful of transfers over September to November
// 2026, for three practices and two that only count nationally.
func fixtureTransfers() []mi.Transfer {
	type spec struct {
		day      time.Time
		practice *mi.Practice
		outcome  outcome
		n        int
	}
	sep := time.Date(2026, time.September, 7, 9, 0, 0, 0, time.UTC)
	oct := time.Date(2026, time.October, 12, 14, 0, 0, 0, time.UTC)
	nov := time.Date(2026, time.November, 3, 8, 0, 0, 0, time.UTC)
	specs := []spec{
		{sep, &practiceA, within3Days, 2},
		{sep, &practiceA, integratedLate, 1},

		{oct, &practiceA, within3Days, 3},
		{oct, &practiceA, within8Days, 1},
		{oct, &practiceA, integratedLate, 1},
		{oct, &practiceA, notIntegrated, 1},
		{oct, &practiceA, technicalFailure, 1},
		{oct, &practiceB, within3Days, 1},
		{oct, &practiceB, technicalFailure, 1},
		{oct, &practiceB, notIntegrated, 1},
		{oct, &practiceC, technicalFailure, 2},
		{oct, nil, technicalFailure, 1},
		{oct, &noSICBL, within3Days, 1},

		{nov, &practiceA, within3Days, 1},
		{nov, &practiceA, unclassifiedFailure, 1},
	}
	var out []mi.Transfer
	for _, s := range specs {
		for range s.n {
			out = append(out, fixtureTransfer(len(out), s.day.Add(time.Duration(len(out))*time.Minute), s.practice, s.outcome))
		}
	}
	return out
}

func fixtureTransfer(i int, requested time.Time, p *mi.Practice, o outcome) mi.Transfer {
	t := mi.Transfer{
		ConversationID:         fmt.Sprintf("0f5a8e3c-1b2d-4e6f-8a9b-%012d", i),
		DateRequested:          requested,
		RequestingPracticeASID: "200000000101",
		SendingPracticeASID:    "200000000102",
		RequestingSupplier:     "EMIS",
		SendingSupplier:        "SystmOne",
	}
	if p != nil {
		cp := *p
		t.RequestingPractice = &cp
	}
	sla := func(d time.Duration) *uint64 { s := uint64(d / time.Second); return &s }
	switch o {
	case within3Days:
		t.Status, t.SLADuration = mi.StatusIntegratedOnTime, sla(26*time.Hour)
	case within8Days:
		t.Status, t.SLADuration = mi.StatusIntegratedOnTime, sla(5*24*time.Hour)
	case integratedLate:
		t.Status, t.FailureReason, t.SLADuration = mi.StatusProcessFailure, mi.ReasonIntegratedLate, sla(10*24*time.Hour)
	case notIntegrated:
		t.Status, t.FailureReason = mi.StatusProcessFailure, mi.ReasonTransferredNotIntegrated
	case technicalFailure:
		t.Status, t.FailureReason = mi.StatusTechnicalFailure, mi.ReasonFinalError
	case unclassifiedFailure:
		t.Status, t.FailureReason = mi.StatusUnclassifiedFailure, mi.ReasonRequestNotAcknowledged
	}
	return t
}

func newFixtureSource() *fakeSource { return &fakeSource{transfers: fixtureTransfers()} }

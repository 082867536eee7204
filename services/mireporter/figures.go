package mireporter

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/nhsengland/gp2gp/libs/mi"
)

// figures answers the HTTP API from the model: it is the web.Source of
// the live mireporter.
type figures struct {
	model *model
	kv    jetstream.KeyValue
	now   func() time.Time
}

// Months lists the months that have transfers, most recent first.
func (f *figures) Months(context.Context) ([]mi.Month, error) { return f.model.months(), nil }

// National is the national figures of month m.
func (f *figures) National(_ context.Context, m mi.Month) (mi.NationalMonth, error) {
	return mi.NationalOf(m, f.model.national(m)), nil
}

// Practices is every practice with figures in month m, and their Sub-ICB
// locations.
func (f *figures) Practices(_ context.Context, m mi.Month) ([]mi.PracticeMetrics, []mi.SICBL, error) {
	ps := practiceMetrics(f.model.practices(m, ""))
	return ps, sicbls(ps), nil
}

// Practice is one practice with all its months.
func (f *figures) Practice(_ context.Context, ods string) (mi.PracticeMetrics, bool, error) {
	ps := practiceMetrics(f.model.practices(mi.Month{}, strings.TrimSpace(ods)))
	if len(ps) == 0 {
		return mi.PracticeMetrics{}, false, nil
	}
	return ps[0], true, nil
}

// Transfer is one conversation's classification: the model holds every
// conversation, open or closed, that the bucket holds.
func (f *figures) Transfer(ctx context.Context, conversationID string) (mi.Transfer, bool, error) {
	conv := strings.ToUpper(strings.TrimSpace(conversationID))
	if t, ok := f.model.transfer(conv); ok {
		return t, true, nil
	}
	if f.kv == nil {
		return mi.Transfer{}, false, nil
	}
	e, err := f.kv.Get(ctx, closedKey(conv))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return mi.Transfer{}, false, nil
	}
	if err != nil {
		return mi.Transfer{}, false, err
	}
	var r closedRecord
	if err := json.Unmarshal(e.Value(), &r); err != nil || r.Transfer == nil {
		return mi.Transfer{}, false, err
	}
	return *r.Transfer, true, nil
}

// practiceMetrics groups practice counts by ODS code: months most recent
// first (the counts of one month under several keys summed); name and
// Sub-ICB location from the most recent month.
func practiceMetrics(pcs []practiceCounts) []mi.PracticeMetrics {
	slices.SortFunc(pcs, func(a, b practiceCounts) int {
		return cmp.Or(cmp.Compare(a.key.ODS, b.key.ODS), cmp.Compare(b.month.String(), a.month.String()))
	})
	var out []mi.PracticeMetrics
	for i := 0; i < len(pcs); {
		first := pcs[i]
		if i == 0 || first.key.ODS != pcs[i-1].key.ODS {
			k := first.key
			out = append(out, mi.PracticeMetrics{ODSCode: k.ODS, Name: k.Name, SICBLODSCode: k.SICBLODS, SICBLName: k.SICBLName})
		}
		var c mi.Counts
		for ; i < len(pcs) && pcs[i].key.ODS == first.key.ODS && pcs[i].month == first.month; i++ {
			c = c.Add(pcs[i].counts)
		}
		p := &out[len(out)-1]
		p.Metrics = append(p.Metrics, mi.PracticeMonth{Year: first.month.Year, Month: int(first.month.Month), RequestedTransfers: mi.RequestedTransfersOf(c)})
	}
	return out
}

// sicbls lists the Sub-ICB locations of ps with their practices.
func sicbls(ps []mi.PracticeMetrics) []mi.SICBL {
	byCode := map[string]*mi.SICBL{}
	var codes []string
	for _, p := range ps {
		s := byCode[p.SICBLODSCode]
		if s == nil {
			s = &mi.SICBL{ODSCode: p.SICBLODSCode, Name: p.SICBLName}
			byCode[p.SICBLODSCode] = s
			codes = append(codes, p.SICBLODSCode)
		}
		s.Practices = append(s.Practices, p.ODSCode)
	}
	slices.Sort(codes)
	out := make([]mi.SICBL, 0, len(codes))
	for _, c := range codes {
		out = append(out, *byCode[c])
	}
	return out
}

// monthFigures is what the bucket keeps under f.<YYYY-MM>.
type monthFigures struct {
	Month       string               `json:"month"`
	GeneratedOn time.Time            `json:"generatedOn"`
	National    mi.NationalMonth     `json:"national"`
	Practices   []mi.PracticeMetrics `json:"practices"`
}

// write puts the figures of every month that changed into the bucket.
func (f *figures) write(ctx context.Context) error {
	months := f.model.takeChanged()
	for i, m := range months {
		data, err := json.Marshal(monthFigures{
			Month: m.String(), GeneratedOn: f.now().UTC(),
			National:  mi.NationalOf(m, f.model.national(m)),
			Practices: practiceMetrics(f.model.practices(m, "")),
		})
		if err == nil {
			_, err = f.kv.Put(ctx, figuresKeys+m.String(), data)
		}
		if err != nil {
			f.model.markChanged(months[i:])
			return err
		}
	}
	return nil
}

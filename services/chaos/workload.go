package chaos

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/directory"
	"github.com/nhsengland/gp2gp/libs/hl7"
	"github.com/nhsengland/gp2gp/libs/practicesim"
	gp2gpv1 "github.com/nhsengland/gp2gp/proto/gp2gp/v1"
)

// The simulated practices. The first two send records: smallODS small
// ones (a 30 KB extract and a few inline documents), largeODS large ones
// (a document over the split threshold, sent as COPC fragments after the
// Continue). The other two register patients and integrate what arrives.
const (
	smallODS = "C81001"
	largeODS = "C81002"
)

var practices = []bus.Practice{
	{ODS: smallODS, ASID: "300000000101"},
	{ODS: largeODS, ASID: "300000000102"},
	{ODS: "C81003", ASID: "300000000103"},
	{ODS: "C81004", ASID: "300000000104"},
}

// requesters are the practices patients register at.
var requesters = []string{"C81003", "C81004"}

// smallAttachments is how many small documents every record carries.
const smallAttachments = 3

// plannedTransfer is one transfer of the run: a patient registering at a
// requesting practice from a sending one.
type plannedTransfer struct {
	Index          int
	ConversationID string
	EventID        string
	NHSNumber      string
	From, To       string
	Large          bool
	// Refused: the sending practice's system cannot produce the record.
	Refused bool

	mu sync.Mutex
	// RegisteredAt is when the registration was first published; zero
	// until it has been stored.
	RegisteredAt time.Time
	Attempts     int
}

func (t *plannedTransfer) registered() (time.Time, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.RegisteredAt, !t.RegisteredAt.IsZero()
}

// workload is what the run drives: the practices and the transfers.
type workload struct {
	practices []bus.Practice
	transfers []*plannedTransfer
	largeSize int64
	poison    []poison
}

// newWorkload plans n transfers, every largeEvery-th a large record and
// every refuseEvery-th (from the middle) one the sending practice cannot
// produce.
func newWorkload(n, largeEvery, refuseEvery int, largeSize int64, poisons int) *workload {
	w := &workload{practices: practices, largeSize: largeSize}
	nhs := nhsNumbers(n + poisons)
	for i := range n {
		t := &plannedTransfer{
			Index:          i,
			ConversationID: upperUUID(),
			EventID:        uuid.NewString(),
			NHSNumber:      nhs[i],
			From:           smallODS,
			To:             requesters[i%len(requesters)],
			Large:          largeEvery > 0 && i%largeEvery == largeEvery-1,
		}
		if t.Large {
			t.From = largeODS
		} else {
			t.Refused = refuseEvery > 0 && i%refuseEvery == refuseEvery/2
		}
		w.transfers = append(w.transfers, t)
	}
	for i := range poisons {
		w.poison = append(w.poison, newPoison(i, nhs[n+i]))
	}
	return w
}

func upperUUID() string {
	u := uuid.NewString()
	out := []byte(u)
	for i, c := range out {
		if 'a' <= c && c <= 'f' {
			out[i] = c - 'a' + 'A'
		}
	}
	return string(out)
}

// nhsNumbers returns n distinct valid NHS numbers in the 999 range
// reserved for test patients, from 9993000000 on.
func nhsNumbers(n int) []string {
	out := make([]string, 0, n)
	for base := 999300000; len(out) < n; base++ {
		s := strconv.Itoa(base)
		for d := byte('0'); d <= '9'; d++ {
			if hl7.ValidNHSNumber(s + string(d)) {
				out = append(out, s+string(d))
				break
			}
		}
	}
	return out
}

// writeDirectory writes the directory file the services read: the
// practices with their endpoints, and every patient registered at their
// requesting practice, previously at their sending one.
func (w *workload) writeDirectory(path string) error {
	var f directory.FileData
	for _, p := range w.practices {
		f.Practices = append(f.Practices, directory.FilePractice{
			ODS: p.ODS, Name: "Chaos practice " + p.ODS, ASID: p.ASID, PartyKey: p.ODS + "-900001",
			CPAID: "S" + p.ASID + "A0001", MHSAddress: "https://mhs." + p.ODS + ".gp2gp.invalid/reliablemessaging/reliablerequest",
			GP2GPEnabled:           true,
			PersistDurations:       map[string]string{"RCMR_IN030000UK06": "PT4H10M", "COPC_IN000001UK01": "PT4H10M"},
			DefaultPersistDuration: "PT4H10M", Retries: 2, RetryInterval: "PT2H",
		})
	}
	for _, t := range w.transfers {
		f.Patients = append(f.Patients, directory.FilePatient{
			NHSNumber: t.NHSNumber, CurrentODS: t.To, PreviousODS: t.From,
			GivenName: "Patient", FamilyName: fmt.Sprintf("Chaos-%05d", t.Index), BirthDate: "1980-01-01", Gender: "unknown",
		})
	}
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	if _, err := directory.ParseFile(data); err != nil {
		return fmt.Errorf("chaos: the generated directory does not validate: %w", err)
	}
	return os.WriteFile(path, data, 0o600)
}

// dial connects the harness to the broker, reconnecting for ever (the
// broker is killed too), and returns a bus on the connection.
func dial(url, name string, logger *slog.Logger) (*bus.Bus, *nats.Conn, error) {
	nc, err := nats.Connect(url, nats.Name(name), nats.MaxReconnects(-1), nats.ReconnectWait(250*time.Millisecond),
		nats.RetryOnFailedConnect(true))
	if err != nil {
		return nil, nil, err
	}
	js, err := jetstream.New(nc)
	var b *bus.Bus
	if err == nil {
		b, err = bus.New(js, bus.WithLogger(logger))
	}
	if err != nil {
		nc.Close()
		return nil, nil, err
	}
	return b, nc, nil
}

// newPractices makes the simulated clinical systems, each on bus b.
func (w *workload) newPractices(b *bus.Bus, logger *slog.Logger) (map[string]*practicesim.Practice, error) {
	out := map[string]*practicesim.Practice{}
	for _, p := range w.practices {
		opts := []practicesim.Option{practicesim.WithLogger(logger), practicesim.WithAttachments(smallAttachments)}
		if p.ODS == largeODS {
			opts = append(opts, practicesim.WithLargeAttachments(w.largeSize))
		}
		if p.ODS == smallODS {
			refused := map[string]bool{}
			for _, t := range w.transfers {
				if t.Refused {
					refused[t.NHSNumber] = true
				}
			}
			opts = append(opts, practicesim.WithRecords(func(nhs string) practicesim.RecordBehaviour {
				if refused[nhs] {
					return practicesim.FailRecord(gp2gpv1.RecordFailureReason_RECORD_FAILURE_REASON_GENERATION_FAILED)
				}
				return practicesim.SendRecord()
			}))
		}
		sim, err := practicesim.New(b, practicesim.Config{ODS: p.ODS, ASID: p.ASID}, opts...)
		if err != nil {
			return nil, err
		}
		out[p.ODS] = sim
	}
	return out, nil
}

// runPractice runs sim until ctx ends, starting it again when it stops
// with an error (its consumer gone while the broker was down, say).
func runPractice(ctx context.Context, sim *practicesim.Practice, logger *slog.Logger) {
	for ctx.Err() == nil {
		if err := sim.Run(ctx); err != nil && ctx.Err() == nil {
			logger.Warn("simulated practice stopped; starting it again", "practice", sim.Config().ODS, "error", err)
			sleep(ctx, time.Second)
		}
	}
}

// register publishes t's registration at its requesting practice,
// retrying (with the same event id, so it is stored once) until the
// broker takes it or ctx ends.
func register(ctx context.Context, sim *practicesim.Practice, t *plannedTransfer) error {
	req := practicesim.RegisterRequest{
		NHSNumber: t.NHSNumber, PreviousODS: t.From, ConversationID: t.ConversationID, EventID: t.EventID,
		GivenName: "Patient", FamilyName: fmt.Sprintf("Chaos-%05d", t.Index), BirthDate: "1980-01-01", Gender: "unknown",
	}
	first := time.Now()
	wait := 100 * time.Millisecond
	for {
		t.mu.Lock()
		t.Attempts++
		t.mu.Unlock()
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err := sim.Register(rctx, req)
		cancel()
		if err == nil {
			t.mu.Lock()
			t.RegisteredAt = first
			t.mu.Unlock()
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		sleep(ctx, wait)
		wait = min(2*wait, 2*time.Second)
	}
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// refused counts the transfers to be refused.
func (w *workload) refused() int {
	n := 0
	for _, t := range w.transfers {
		if t.Refused {
			n++
		}
	}
	return n
}

// large counts the large transfers.
func (w *workload) large() int {
	n := 0
	for _, t := range w.transfers {
		if t.Large {
			n++
		}
	}
	return n
}

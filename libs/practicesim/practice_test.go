package practicesim_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/practicesim"
	gp2gpv1 "github.com/nhsengland/gp2gp/proto/gp2gp/v1"
)

func TestNewRefusesUnusableConfigAndOptions(t *testing.T) {
	f := newFixture(t)
	good := practicesim.Config{ODS: previousODS, ASID: "200000000102", Name: "Riverside Surgery"}
	tests := []struct {
		name string
		bus  *bus.Bus
		cfg  practicesim.Config
		opts []practicesim.Option
		want error
	}{
		{name: "nil bus", cfg: good, want: practicesim.ErrInvalidConfig},
		{name: "no ODS", bus: f.bus, cfg: practicesim.Config{}, want: practicesim.ErrInvalidConfig},
		{name: "lower-case ODS", bus: f.bus, cfg: practicesim.Config{ODS: "b86041"}, want: practicesim.ErrInvalidConfig},
		{name: "ASID not digits", bus: f.bus, cfg: practicesim.Config{ODS: previousODS, ASID: "ASID-1"}, want: practicesim.ErrInvalidConfig},
		{name: "nil option", bus: f.bus, cfg: good, opts: []practicesim.Option{nil}, want: practicesim.ErrInvalidOption},
		{name: "nil logger", bus: f.bus, cfg: good, opts: []practicesim.Option{practicesim.WithLogger(nil)}, want: practicesim.ErrInvalidOption},
		{name: "nil clock", bus: f.bus, cfg: good, opts: []practicesim.Option{practicesim.WithClock(nil)}, want: practicesim.ErrInvalidOption},
		{name: "nil record policy", bus: f.bus, cfg: good, opts: []practicesim.Option{practicesim.WithRecords(nil)}, want: practicesim.ErrInvalidOption},
		{name: "nil integration policy", bus: f.bus, cfg: good, opts: []practicesim.Option{practicesim.WithIntegration(nil)}, want: practicesim.ErrInvalidOption},
		{name: "zero record size", bus: f.bus, cfg: good, opts: []practicesim.Option{practicesim.WithRecordSize(0)}, want: practicesim.ErrInvalidOption},
		{name: "huge record size", bus: f.bus, cfg: good, opts: []practicesim.Option{practicesim.WithRecordSize(practicesim.MaxRecordSize + 1)}, want: practicesim.ErrInvalidOption},
		{name: "negative attachments", bus: f.bus, cfg: good, opts: []practicesim.Option{practicesim.WithAttachments(-1)}, want: practicesim.ErrInvalidOption},
		{name: "too many attachments", bus: f.bus, cfg: good, opts: []practicesim.Option{practicesim.WithAttachments(practicesim.MaxAttachments + 1)}, want: practicesim.ErrInvalidOption},
		{name: "empty large attachment", bus: f.bus, cfg: good, opts: []practicesim.Option{practicesim.WithLargeAttachments(1<<20, 0)}, want: practicesim.ErrInvalidOption},
		{name: "huge large attachment", bus: f.bus, cfg: good, opts: []practicesim.Option{practicesim.WithLargeAttachments(practicesim.MaxLargeAttachmentSize + 1)}, want: practicesim.ErrInvalidOption},
		{name: "too many large attachments", bus: f.bus, cfg: good, opts: []practicesim.Option{practicesim.WithLargeAttachments(slices.Repeat([]int64{1}, practicesim.MaxLargeAttachments+1)...)}, want: practicesim.ErrInvalidOption},
		{name: "negative NOPAT", bus: f.bus, cfg: good, opts: []practicesim.Option{practicesim.WithNOPAT(-1)}, want: practicesim.ErrInvalidOption},
		{name: "negative local codes", bus: f.bus, cfg: good, opts: []practicesim.Option{practicesim.WithLocalCodes(-1)}, want: practicesim.ErrInvalidOption},
		{name: "profile without replicas", bus: f.bus, cfg: good, opts: []practicesim.Option{practicesim.WithProfile(bus.Profile{Name: "none"})}, want: practicesim.ErrInvalidOption},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := practicesim.New(tt.bus, tt.cfg, tt.opts...)
			require.ErrorIs(t, err, tt.want)
			assert.Nil(t, p)
		})
	}

	p, err := practicesim.New(f.bus, practicesim.Config{ODS: previousODS})
	require.NoError(t, err)
	assert.Equal(t, practicesim.Config{ODS: previousODS, Name: "Simulated practice " + previousODS}, p.Config())
}

func TestRunStopsCleanlyAndRunsOnce(t *testing.T) {
	f := newFixture(t)
	p, err := practicesim.New(f.bus, practicesim.Config{ODS: previousODS})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(f.ctx)
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()

	// Run ensures the topology before consuming.
	eventually(t, f.settled(bus.PracticeRecordRequests(previousODS)))
	eventually(t, f.settled(bus.PracticeRecordsReady(previousODS)))
	require.ErrorIs(t, p.Run(f.ctx), practicesim.ErrRunning)

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
}

func TestWaitEndsWithContext(t *testing.T) {
	f := newFixture(t)
	p, err := practicesim.New(f.bus, practicesim.Config{ODS: newODS})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(f.ctx, 50*time.Millisecond)
	defer cancel()
	_, err = p.WaitRecord(ctx, conv1)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	_, err = p.WaitOutcome(ctx, conv1)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	_, err = p.WaitAnswer(ctx, conv1)
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestBehaviourValidate(t *testing.T) {
	records := []struct {
		name string
		b    practicesim.RecordBehaviour
		ok   bool
	}{
		{"send", practicesim.SendRecord(), true},
		{"send late, twice", practicesim.SendRecord().After(time.Second).Twice(), true},
		{"fail", practicesim.FailRecord(gp2gpv1.RecordFailureReason_RECORD_FAILURE_REASON_GP2GP_DISABLED), true},
		{"never answer", practicesim.NeverAnswer(), true},
		{"negative delay", practicesim.SendRecord().After(-time.Second), false},
		{"never answer late", practicesim.NeverAnswer().After(time.Second), false},
		{"never answer with failure", practicesim.RecordBehaviour{NoAnswer: true, Failure: gp2gpv1.RecordFailureReason_RECORD_FAILURE_REASON_GP2GP_DISABLED}, false},
		{"detail without failure", practicesim.RecordBehaviour{Detail: "why"}, false},
		{"unknown reason", practicesim.FailRecord(99), false},
	}
	for _, tt := range records {
		t.Run("record/"+tt.name, func(t *testing.T) {
			if err := tt.b.Validate(); tt.ok {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, practicesim.ErrInvalidBehaviour)
			}
		})
	}
	integrations := []struct {
		name string
		b    practicesim.IntegrationBehaviour
		ok   bool
	}{
		{"default", practicesim.IntegrationBehaviour{}, true},
		{"late", practicesim.Integrate(gp2gpv1.IntegrationResult_INTEGRATION_RESULT_WRONG_PATIENT).After(time.Hour), true},
		{"never report", practicesim.NeverReport(), true},
		{"negative delay", practicesim.IntegrationBehaviour{}.After(-1), false},
		{"never report a result", practicesim.IntegrationBehaviour{NoReport: true, Result: gp2gpv1.IntegrationResult_INTEGRATION_RESULT_INTEGRATED}, false},
		{"unknown result", practicesim.Integrate(42), false},
	}
	for _, tt := range integrations {
		t.Run("integration/"+tt.name, func(t *testing.T) {
			if err := tt.b.Validate(); tt.ok {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, practicesim.ErrInvalidBehaviour)
			}
		})
	}
}

func TestAnswerString(t *testing.T) {
	assert.Equal(t, "none", practicesim.AnswerNone.String())
	assert.Equal(t, "record", practicesim.AnswerRecord.String())
	assert.Equal(t, "failure", practicesim.AnswerFailure.String())
	assert.Equal(t, "Answer(9)", practicesim.Answer(9).String())
}

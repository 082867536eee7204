package ops

import (
	"context"
	"fmt"
	"regexp"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/nhsengland/gp2gp/libs/transfer"
)

// ScopeName is the instrumentation scope of gp2gp's own instruments: pass
// it to MeterProvider.Meter.
const ScopeName = "github.com/nhsengland/gp2gp/libs/service/ops"

// gp2gp's metrics. These names, units and attributes are an interface:
// dashboards and alerts are built on them, so change them only by adding.
// The Prometheus name (what GET /metrics shows) follows each.
const (
	// MetricTransfersStarted counts transfer sides created. Unit
	// {transfer}; attribute side. Prometheus: gp2gp_transfers_started_total.
	MetricTransfersStarted = "gp2gp.transfers.started"
	// MetricTransfersFinished counts transfer sides that reached a terminal
	// state. Unit {transfer}; attributes side, state, outcome, reason_code.
	// Prometheus: gp2gp_transfers_finished_total.
	MetricTransfersFinished = "gp2gp.transfers.finished"
	// MetricTransfersInFlight is the number of transfer sides not yet
	// finished, by side and state, across the deployment (counted from the
	// transfers bucket by ActiveTransfers; the mireporter exports it). Unit
	// {transfer}; attributes side, state. Prometheus:
	// gp2gp_transfers_in_flight (a gauge).
	MetricTransfersInFlight = "gp2gp.transfers.in_flight"
	// MetricStageDuration is how long a stage of a transfer took. Unit s,
	// buckets from 1 ms to 10 days (with boundaries at 3 and 8 days, the
	// NHS integration targets); attribute stage. Prometheus:
	// gp2gp_stage_duration_seconds_bucket{le=…}, _sum, _count.
	MetricStageDuration = "gp2gp.stage.duration"
	// MetricMessagesSent counts HL7 wire messages sent. Unit {message};
	// attribute interaction. Prometheus: gp2gp_messages_sent_total.
	MetricMessagesSent = "gp2gp.messages.sent"
	// MetricMessagesReceived counts HL7 wire messages received. Unit
	// {message}; attribute interaction. Prometheus:
	// gp2gp_messages_received_total.
	MetricMessagesReceived = "gp2gp.messages.received"
	// MetricDeadLetters is the number of messages in the dead-letter stream
	// GP2GP_DLQ, observed at each collection. Unit {message}; attribute
	// stream. Prometheus: gp2gp_dlq_messages (a gauge). Missing from a
	// scrape when the stream could not be read.
	MetricDeadLetters = "gp2gp.dlq.messages"
)

// Attribute keys of gp2gp's metrics.
const (
	// AttrSide is "requesting" or "sending" ("unknown" for anything else).
	AttrSide = "side"
	// AttrState is the terminal state a transfer side finished in, such as
	// INTEGRATED, REJECTED, FAILED, COMPLETED or REQUEST_REJECTED
	// ("UNKNOWN" for a state the side does not have); for
	// MetricTransfersInFlight, the state a side is in.
	AttrState = "state"
	// AttrOutcome is "completed" for INTEGRATED and COMPLETED, "failed" for
	// every other terminal state.
	AttrOutcome = "outcome"
	// AttrReasonCode is the GP2GP reason code ("06" … "99") of the change
	// that finished the transfer, "" when there is none and "other" for
	// anything that is not two digits.
	AttrReasonCode = "reason_code"
	// AttrStage names a stage of a transfer, chosen by the service that
	// measures it from a fixed set (for example "request-to-extract").
	AttrStage = "stage"
	// AttrInteraction is the HL7 interaction id, such as RCMR_IN030000UK06
	// ("other" for anything not shaped like one).
	AttrInteraction = "interaction"
	// AttrStream is the stream a gauge observes.
	AttrStream = "stream"
)

// Metric values of the outcome attribute.
const (
	OutcomeCompleted = "completed"
	OutcomeFailed    = "failed"
)

// StageBuckets are the boundaries, in seconds, of MetricStageDuration:
// 1 ms to 10 days, with 3 days and 8 days among them.
var StageBuckets = []float64{
	0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
	60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600,
	86400, 2 * 86400, 3 * 86400, 5 * 86400, 8 * 86400, 10 * 86400,
}

// Instruments are gp2gp's own metrics, for the services to record what
// happens to transfers. Every method is safe for concurrent use, and a nil
// *Instruments records nothing (for a service run without metrics).
//
// Call TransferStarted once per transfer side created (not when a
// redelivery finds it already there) and TransferFinished once per side
// entering a terminal state (not on a no-op repeat of the transition).
type Instruments struct {
	started, finished metric.Int64Counter
	stage             metric.Float64Histogram
	sent, received    metric.Int64Counter
}

// NewInstruments creates gp2gp's instruments on meter (normally
// provider.Meter(ScopeName)).
func NewInstruments(meter metric.Meter) (*Instruments, error) {
	if meter == nil {
		return nil, fmt.Errorf("ops: NewInstruments: nil meter")
	}
	var i Instruments
	var err error
	counter := func(name, unit, desc string) metric.Int64Counter {
		if err != nil {
			return nil
		}
		var c metric.Int64Counter
		c, err = meter.Int64Counter(name, metric.WithUnit(unit), metric.WithDescription(desc))
		return c
	}
	i.started = counter(MetricTransfersStarted, "{transfer}", "Transfer sides created")
	i.finished = counter(MetricTransfersFinished, "{transfer}", "Transfer sides that reached a terminal state")
	i.sent = counter(MetricMessagesSent, "{message}", "HL7 wire messages sent")
	i.received = counter(MetricMessagesReceived, "{message}", "HL7 wire messages received")
	if err != nil {
		return nil, fmt.Errorf("ops: create instruments: %w", err)
	}
	if i.stage, err = meter.Float64Histogram(MetricStageDuration, metric.WithUnit("s"),
		metric.WithDescription("How long a stage of a transfer took"),
		metric.WithExplicitBucketBoundaries(StageBuckets...)); err != nil {
		return nil, fmt.Errorf("ops: create instruments: %w", err)
	}
	return &i, nil
}

// TransferStarted records that a transfer side was created: it counts
// MetricTransfersStarted.
func (i *Instruments) TransferStarted(ctx context.Context, side transfer.Side) {
	if i == nil {
		return
	}
	set := metric.WithAttributeSet(attribute.NewSet(attribute.String(AttrSide, sideValue(side))))
	i.started.Add(ctx, 1, set)
}

// TransferFinished records that a transfer side reached terminal state
// state with reasonCode ("" for none): it counts MetricTransfersFinished.
func (i *Instruments) TransferFinished(ctx context.Context, side transfer.Side, state transfer.State, reasonCode string) {
	if i == nil {
		return
	}
	s := sideValue(side)
	st := string(state)
	if !side.Has(state) {
		st = "UNKNOWN"
	}
	outcome := OutcomeFailed
	if state == transfer.Integrated || state == transfer.Completed {
		outcome = OutcomeCompleted
	}
	i.finished.Add(ctx, 1, metric.WithAttributeSet(attribute.NewSet(
		attribute.String(AttrSide, s), attribute.String(AttrState, st),
		attribute.String(AttrOutcome, outcome), attribute.String(AttrReasonCode, reasonValue(reasonCode)))))
}

// StageLatency records that stage took d (MetricStageDuration). stage
// must come from a fixed set of names: each becomes a series.
func (i *Instruments) StageLatency(ctx context.Context, stage string, d time.Duration) {
	if i == nil {
		return
	}
	i.stage.Record(ctx, d.Seconds(), metric.WithAttributeSet(attribute.NewSet(attribute.String(AttrStage, stage))))
}

// MessageSent counts an HL7 message of interaction sent
// (MetricMessagesSent).
func (i *Instruments) MessageSent(ctx context.Context, interaction string) {
	if i == nil {
		return
	}
	i.sent.Add(ctx, 1, metric.WithAttributeSet(attribute.NewSet(attribute.String(AttrInteraction, interactionValue(interaction)))))
}

// MessageReceived counts an HL7 message of interaction received
// (MetricMessagesReceived).
func (i *Instruments) MessageReceived(ctx context.Context, interaction string) {
	if i == nil {
		return
	}
	i.received.Add(ctx, 1, metric.WithAttributeSet(attribute.NewSet(attribute.String(AttrInteraction, interactionValue(interaction)))))
}

// Attribute values are bounded, so that malformed input cannot create
// unbounded series.
var (
	reasonPattern      = regexp.MustCompile(`^[0-9]{2}$`)
	interactionPattern = regexp.MustCompile(`^[A-Z]{4}_IN[0-9]{6}UK[0-9]{2}$`)
)

func sideValue(s transfer.Side) string {
	if !s.Valid() {
		return "unknown"
	}
	return string(s)
}

func reasonValue(code string) string {
	if code == "" || reasonPattern.MatchString(code) {
		return code
	}
	return "other"
}

func interactionValue(id string) string {
	if interactionPattern.MatchString(id) {
		return id
	}
	return "other"
}

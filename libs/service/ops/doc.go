// Package ops is what an operator needs from a running gp2gp service: its
// metrics, its health, and a view of the transfers it handles.
//
//   - Metrics. NewMeterProvider builds an OpenTelemetry meter provider whose
//     metrics can always be scraped as Prometheus text (MeterProvider.WritePrometheus,
//     served on GET /metrics) and, given an OTLP/HTTP endpoint, are also pushed
//     there periodically. NewInstruments creates gp2gp's own instruments
//     (transfers started and finished, in flight, stage latency, messages
//     sent and received) and ObserveDeadLetters the dead-letter depth gauge;
//     instruments.go documents each metric's name, unit and attributes,
//     which dashboards and alerts depend on.
//   - Health. NewServer returns the ops HTTP handler: GET /healthz
//     (liveness), GET /readyz (readiness checks such as NATSConnected and
//     StreamsPresent), GET /metrics, and the transfer views.
//   - Transfers. GET /transfers/{conversationId} shows both sides' records
//     of one conversation with one merged Timeline; GET /transfers lists
//     transfers by state, practice and age through a TransferReader, which
//     KVTransferReader implements over the transfers key-value bucket.
//     gp2gpctl status and gp2gpctl list print the same views.
//
// The views leave out what identifies the patient (NHS number, name, birth
// date): the ops port has no authentication of its own, and tracing a
// transfer needs only its conversation id.
package ops

package mireporter

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/miapi"
	"github.com/nhsengland/gp2gp/libs/transfer"
	gp2gpv1 "github.com/nhsengland/gp2gp/proto/gp2gp/v1"
)

// Enhanced MI: each lifecycle event becomes the GP Registrations MI API
// events its state change means (README "Enhanced MI events"), put in the
// GP2GP_MI_OUTBOX stream with the event id as dedupe id, then posted by
// the outbox worker until the API takes or refuses them.

// outboxEntry is an outbox message: the event's type, key and body.
type outboxEntry struct {
	Type miapi.EventType `json:"type"`
	Key  string          `json:"key,omitempty"`
	ID   string          `json:"id"`
	Body json.RawMessage `json:"body"`
}

// enhanced turns lifecycle events into enhanced MI events.
type enhanced struct {
	bus      *bus.Bus
	store    *transfer.Store
	supplier string
	secret   []byte // keys the ids of DEGRADES events
	logger   *slog.Logger
}

// secretKey is the MI bucket key of the deployment's secret.
const secretKey = "s.degrades"

// deploymentSecret returns the deployment's random secret, creating it on
// first use: DEGRADES ids derive from it, so they are stable across
// restarts and cannot be linked to a transfer by anyone without it.
func deploymentSecret(ctx context.Context, kv jetstream.KeyValue) ([]byte, error) {
	if e, err := kv.Get(ctx, secretKey); err == nil {
		return e.Value(), nil
	} else if !errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, err
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	secret := []byte(hex.EncodeToString(b))
	if _, err := kv.Create(ctx, secretKey, secret); errors.Is(err, jetstream.ErrKeyExists) {
		return deploymentSecret(ctx, kv) // another instance made it first
	} else if err != nil {
		return nil, err
	}
	return secret, nil
}

// handle publishes the enhanced MI events of one lifecycle event.
func (x *enhanced) handle(ctx context.Context, ev *gp2gpv1.TransferEvent) error {
	side := transfer.Requesting
	if ev.GetSide() == gp2gpv1.Side_SIDE_SENDING {
		side = transfer.Sending
	}
	var t *transfer.Transfer
	if needsTransfer(ev) {
		var err error
		t, err = x.store.Get(ctx, side, ev.GetConversationId())
		if errors.Is(err, transfer.ErrNotFound) {
			x.logger.WarnContext(ctx, "mireporter: no transfer record for a lifecycle event; its MI events carry less detail",
				"conversation_id", ev.GetConversationId(), "side", side)
			t = nil
		} else if err != nil {
			return err
		}
	}
	for _, e := range eventsOf(ev, t, x.supplier, x.secret) {
		if err := x.publish(ctx, e); err != nil {
			return err
		}
	}
	return nil
}

// needsTransfer reports whether ev's MI events need the transfer record.
func needsTransfer(ev *gp2gpv1.TransferEvent) bool {
	switch ev.GetState() {
	case gp2gpv1.TransferState_TRANSFER_STATE_REQUEST_SENT,
		gp2gpv1.TransferState_TRANSFER_STATE_FAILED, gp2gpv1.TransferState_TRANSFER_STATE_EXTRACT_SENT,
		gp2gpv1.TransferState_TRANSFER_STATE_READY_TO_INTEGRATE, gp2gpv1.TransferState_TRANSFER_STATE_INTEGRATED,
		gp2gpv1.TransferState_TRANSFER_STATE_REJECTED:
		return true
	}
	return false
}

// publish puts e in the outbox. An event the API would refuse is not
// queued: it is a bug here, dead-lettered with the reason.
func (x *enhanced) publish(ctx context.Context, e miapi.Event) error {
	if err := e.Validate(); err != nil {
		return bus.Permanent(fmt.Errorf("enhanced MI %s event of %s: %w", e.Type, e.ConversationID, err))
	}
	body, err := json.Marshal(e)
	if err != nil {
		return bus.Permanent(err)
	}
	id := e.ID()
	data, err := json.Marshal(outboxEntry{Type: e.Type, Key: e.Key, ID: id, Body: body})
	if err != nil {
		return bus.Permanent(err)
	}
	_, err = x.bus.Publish(ctx, bus.Outgoing{
		Subject: bus.MIOutboxSubject(string(e.Type)), DedupeID: "mi." + id, Data: data,
		ContentType: "application/json", Headers: bus.Headers{ConversationID: e.ConversationID, MessageID: id},
	})
	return err
}

// eventsOf is the enhanced MI events a lifecycle event means. t is the
// side's transfer record (nil if unknown); supplier is the reporting
// system supplier's ODS code.
func eventsOf(ev *gp2gpv1.TransferEvent, t *transfer.Transfer, supplier string, secret []byte) []miapi.Event {
	env := miapi.Envelope{
		ConversationID:            ev.GetConversationId(),
		RegistrationEventDateTime: ev.GetOccurredAt().AsTime().UTC(),
		ReportingSystemSupplier:   supplier,
		ReportingPracticeODSCode:  ev.GetPracticeOds(),
	}
	requesting := ev.GetSide() != gp2gpv1.Side_SIDE_SENDING
	if requesting {
		env.RequestingPracticeODSCode, env.SendingPracticeODSCode = ev.GetPracticeOds(), ev.GetPeerOds()
	} else {
		env.RequestingPracticeODSCode, env.SendingPracticeODSCode = ev.GetPeerOds(), ev.GetPracticeOds()
	}
	if t != nil && t.Registration != nil && t.Registration.Supplier != "" {
		env.ReportingSystemSupplier = t.Registration.Supplier
	}
	st, prev := ev.GetState(), ev.GetPreviousState()
	var out []miapi.Event
	switch {
	case requesting && st == gp2gpv1.TransferState_TRANSFER_STATE_REQUEST_SENT:
		out = append(out, registration(env, t, true, ""),
			miapi.NewTransferCompatibilityEvent(env, miapi.TransferCompatibilityStatus{
				TransferCompatible: true, InternalTransfer: env.RequestingPracticeODSCode == env.SendingPracticeODSCode,
			}),
			miapi.NewEHRRequestEvent(env))
	case requesting && st == gp2gpv1.TransferState_TRANSFER_STATE_FAILED && prev == gp2gpv1.TransferState_TRANSFER_STATE_REGISTERED:
		// The registration did not lead to a request: the trace or the
		// endpoint lookup failed.
		reason := orDefault(ev.GetDetail(), "no electronic transfer possible")
		out = append(out, registration(env, t, !strings.Contains(ev.GetDetail(), "PDS"), reason),
			miapi.NewTransferCompatibilityEvent(env, miapi.TransferCompatibilityStatus{
				TransferCompatible: false, InternalTransfer: env.RequestingPracticeODSCode == env.SendingPracticeODSCode,
				Reason: truncate(reason, 200),
			}),
			errorEvent(env, ev))
	case requesting && st == gp2gpv1.TransferState_TRANSFER_STATE_READY_TO_INTEGRATE:
		out = append(out, miapi.NewReadyToIntegrateEvent(env))
		if t != nil {
			for _, d := range t.Documents {
				if d.Skeleton {
					continue
				}
				out = append(out, miapi.NewDocumentResponseEvent(env, d.ID,
					miapi.Attachment{ClinicalType: clinicalType(d), MimeType: orDefault(d.ContentType, "application/octet-stream"), SizeBytes: max(d.Size, 0)},
					migration(d)))
			}
		}
	case requesting && st == gp2gpv1.TransferState_TRANSFER_STATE_INTEGRATED:
		out = append(out, miapi.NewEHRIntegrationEvent(env, outcome(t, true)))
		out = append(out, degrades(env, t, secret)...)
	case requesting && st == gp2gpv1.TransferState_TRANSFER_STATE_REJECTED:
		out = append(out, miapi.NewEHRIntegrationEvent(env, outcome(t, false)), errorEvent(env, ev))
		out = append(out, degrades(env, t, secret)...)
	case !requesting && st == gp2gpv1.TransferState_TRANSFER_STATE_EXTRACT_SENT:
		ehr := miapi.EHR{}
		if t != nil {
			if t.Record != nil {
				ehr.StructuredSizeBytes = max(t.Record.Size, 0)
			}
			for _, d := range t.Documents {
				if d.Absent {
					ehr.Placeholders = append(ehr.Placeholders, miapi.Placeholder{
						GeneratedBy: miapi.GeneratedBySender, ClinicalType: clinicalType(d),
						Reason: placeholderReason(d.AbsentReason), OriginalMimeType: orDefault(d.ContentType, "application/octet-stream"),
					})
				}
			}
		}
		out = append(out, miapi.NewEHRResponseEvent(env, ehr))
	case st == gp2gpv1.TransferState_TRANSFER_STATE_FAILED || st == gp2gpv1.TransferState_TRANSFER_STATE_REQUEST_REJECTED:
		out = append(out, errorEvent(env, ev))
	}
	return out
}

// registration is the REGISTRATIONS event of the requesting side.
func registration(env miapi.Envelope, t *transfer.Transfer, matched bool, reason string) miapi.Event {
	reg := miapi.Registration{Type: miapi.RegistrationNewGP}
	at := env.RegistrationEventDateTime
	if t != nil && t.Registration != nil {
		r := t.Registration
		if r.Type == gp2gpv1.RegistrationType_REGISTRATION_TYPE_CHANGE_PATIENT_TYPE.String() {
			reg.Type = miapi.RegistrationChangePatientType
		}
		reg.ReturningPatient, reg.MultifactorAuthenticationPresent = r.ReturningPatient, r.MFA
		if !r.RegisteredAt.IsZero() {
			at = r.RegisteredAt
		}
	}
	trace := miapi.DemographicTraceStatus{Matched: matched, MultifactorAuthenticationPresent: reg.MultifactorAuthenticationPresent}
	if !matched {
		trace.Reason = truncate(reason, 200)
	}
	env.RegistrationEventDateTime = at
	return miapi.NewRegistrationEvent(env, reg, trace, miapi.GPLinks{GPLinksComplete: true})
}

// errorEvent is the ERRORS event of a failure or refusal.
func errorEvent(env miapi.Envelope, ev *gp2gpv1.TransferEvent) miapi.Event {
	code := ev.GetReasonCode()
	if code == "" {
		code = "99"
	}
	return miapi.NewErrorEvent(env, fmt.Sprintf("%s.%d", ev.GetSide(), ev.GetSequence()), miapi.ErrorDetail{
		Code: code, Description: truncate(orDefault(ev.GetDetail(), "transfer failed"), 500),
		FailurePoint: failurePoint(ev),
	})
}

// failurePoint says where in the process a transfer failed.
func failurePoint(ev *gp2gpv1.TransferEvent) miapi.FailurePoint {
	if ev.GetSide() == gp2gpv1.Side_SIDE_SENDING {
		return miapi.FailureEHRResponse
	}
	switch ev.GetPreviousState() {
	case gp2gpv1.TransferState_TRANSFER_STATE_REGISTERED:
		switch {
		case strings.Contains(ev.GetDetail(), "PDS"):
			return miapi.FailurePatientTrace
		case strings.Contains(ev.GetDetail(), "SDS"):
			return miapi.FailureEndpointLookup
		}
		return miapi.FailureOther
	case gp2gpv1.TransferState_TRANSFER_STATE_REQUEST_SENT, gp2gpv1.TransferState_TRANSFER_STATE_REQUEST_ACKNOWLEDGED:
		return miapi.FailureEHRRequested
	case gp2gpv1.TransferState_TRANSFER_STATE_EXTRACT_RECEIVED, gp2gpv1.TransferState_TRANSFER_STATE_CONTINUE_SENT:
		return miapi.FailureEHRReadyToIntegrate
	case gp2gpv1.TransferState_TRANSFER_STATE_READY_TO_INTEGRATE:
		return miapi.FailureEHRIntegration
	}
	return miapi.FailureOther
}

// outcome maps the practice's integration result to the API's outcome.
func outcome(t *transfer.Transfer, integrated bool) miapi.IntegrationOutcome {
	result := ""
	if t != nil && t.Record != nil {
		result = strings.TrimPrefix(t.Record.Outcome, "INTEGRATION_RESULT_")
	}
	switch o := miapi.IntegrationOutcome(result); {
	case o.Valid() && o != miapi.OutcomeInternalTransfer:
		return o
	case integrated:
		return miapi.OutcomeIntegrated
	case result == "FAILED_TO_INTEGRATE":
		return miapi.OutcomeFailedToIntegrate
	}
	return miapi.OutcomeRejected
}

// degrades is the DEGRADES event of a filed record, if it had any. Its id
// is keyed by an HMAC of the conversation id under the deployment's
// secret: stable for re-sends, meaningless to anyone else.
func degrades(env miapi.Envelope, t *transfer.Transfer, secret []byte) []miapi.Event {
	if t == nil || t.Record == nil || len(t.Record.Degrades) == 0 {
		return nil
	}
	ds := make([]miapi.Degrade, 0, len(t.Record.Degrades))
	for _, d := range t.Record.Degrades {
		md := miapi.Degrade{Type: miapi.DegradeType(d.Type), Reason: miapi.DegradeReason(d.Reason)}
		if !md.Type.Valid() {
			md.Type = miapi.DegradeOther
		}
		if !md.Reason.Valid() {
			md.Reason = miapi.DegradeReasonOther
		}
		for _, c := range d.Coding {
			md.Coding = append(md.Coding, miapi.Coding{Code: c.Code, System: c.System})
		}
		ds = append(ds, md)
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(env.ConversationID))
	return []miapi.Event{miapi.NewDegradesEvent(env.ReportingSystemSupplier, hex.EncodeToString(mac.Sum(nil)), ds...)}
}

// clinicalType guesses a document's clinical type from its MIME type.
func clinicalType(d transfer.Document) miapi.ClinicalType {
	ct := strings.ToLower(d.ContentType)
	switch {
	case strings.HasPrefix(ct, "image/"):
		return miapi.ClinicalImage
	case strings.HasPrefix(ct, "audio/"):
		return miapi.ClinicalOtherAudio
	case strings.HasPrefix(ct, "text/"):
		return miapi.ClinicalOriginalTextDocument
	case ct == "application/pdf":
		return miapi.ClinicalScannedDocument
	case ct == "application/edifact" || strings.Contains(ct, "edi"):
		return miapi.ClinicalEDIMessage
	}
	return miapi.ClinicalOther
}

// migration says whether a received document was saved.
func migration(d transfer.Document) miapi.DocumentMigration {
	switch {
	case d.Absent:
		return miapi.DocumentMigration{Successful: false, Reason: truncate(orDefault(d.AbsentReason, "absent"), 200)}
	case d.Code != "":
		return miapi.DocumentMigration{Successful: false, Reason: d.Code}
	}
	return miapi.DocumentMigration{Successful: true}
}

// placeholderReason maps why the sender left a document out.
func placeholderReason(why string) miapi.PlaceholderReason {
	w := strings.ToLower(why)
	switch {
	case strings.Contains(w, "type") || strings.Contains(w, "unsupported"):
		return miapi.PlaceholderFileTypeUnsupported
	case strings.Contains(w, "deleted"):
		return miapi.PlaceholderFileDeleted
	case strings.Contains(w, "not found") || strings.Contains(w, "missing"):
		return miapi.PlaceholderFileNotFound
	case strings.Contains(w, "locked"):
		return miapi.PlaceholderFileLocked
	}
	return miapi.PlaceholderUnableToDetermineProblem
}

func orDefault(s, def string) string {
	if strings.TrimSpace(s) == "" {
		return def
	}
	return s
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// poster posts the outbox's events to the MI API.
type poster struct {
	client *miapi.Client
	logger *slog.Logger
}

// maxRetryAfter bounds how long the API may ask us to wait.
const maxRetryAfter = 10 * time.Minute

// handle posts one outbox event. The runner redelivers it, with backoff,
// until the API takes it; an event the API refuses (400 …) is
// dead-lettered with the API's reason, never dropped.
func (p *poster) handle(ctx context.Context, msg *bus.Msg) error {
	var entry outboxEntry
	if err := json.Unmarshal(msg.Data, &entry); err != nil {
		return bus.Permanent(fmt.Errorf("unreadable outbox entry: %w", err))
	}
	e, err := miapi.Unmarshal(entry.Type, entry.Body)
	if err != nil {
		return bus.Permanent(err)
	}
	e.Key = entry.Key
	id, err := p.client.Post(ctx, e)
	if err != nil {
		if miapi.IsPermanent(err) {
			return bus.Permanent(err)
		}
		var se *miapi.StatusError
		if errors.As(err, &se) && se.RetryAfter > 0 {
			return bus.RetryAfter(min(se.RetryAfter, maxRetryAfter), err)
		}
		return err
	}
	if entry.ID != "" && id != entry.ID && entry.Key == "" && entry.Type != miapi.TypeDegrades {
		p.logger.WarnContext(ctx, "mireporter: the MI API answered another event id than the NHS formula gives",
			"event_type", entry.Type, "event_id", entry.ID, "api_event_id", id)
	}
	p.logger.DebugContext(ctx, "mireporter: enhanced MI event posted", "event_type", entry.Type, "event_id", id)
	return nil
}

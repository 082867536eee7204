package requester

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/directory"
	"github.com/nhsengland/gp2gp/libs/hl7"
	"github.com/nhsengland/gp2gp/libs/stage"
	"github.com/nhsengland/gp2gp/libs/transfer"
	gp2gpv1 "github.com/nhsengland/gp2gp/proto/gp2gp/v1"
)

// Timer kinds.
const timerExtract = "extract"

var (
	odsPattern  = regexp.MustCompile(`^[A-Z0-9]{3,10}$`)
	convPattern = regexp.MustCompile(`^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$`)
)

// conversationNamespace makes conversation ids derived from registration
// event ids the requester's own.
var conversationNamespace = uuid.MustParse("2b0f8f52-9a53-5c1e-8a8e-4f3d1c6b7e90")

// handleRegistration starts a transfer for a registration event: one
// transfer per registration, however often the event is delivered.
func (r *requester) handleRegistration(ctx context.Context, msg *bus.Msg) error {
	ev := &gp2gpv1.RegistrationEvent{}
	if err := bus.Decode(msg, ev); err != nil {
		return err
	}
	practice, err := r.validate(ev, msg.Subject)
	if err != nil {
		return bus.Permanent(fmt.Errorf("registration event %q rejected: %w", ev.GetEventId(), err))
	}
	conv := conversationID(ev)
	ctx = bus.WithConversationID(ctx, conv)

	t := transfer.New(transfer.Requesting, conv, practice)
	t.NHSNumber = ev.Patient.NhsNumber
	t.Registration = &transfer.Registration{
		EventID: ev.EventId, RegisteredAt: ev.RegisteredAt.AsTime().UTC(), ReturningPatient: ev.ReturningPatient,
		Type: ev.Type.String(), MFA: ev.MultifactorAuthenticationPresent, Supplier: ev.ReportingSystemSupplier,
		GivenName: ev.Patient.GivenName, FamilyName: ev.Patient.FamilyName, BirthDate: ev.Patient.BirthDate, Gender: ev.Patient.Gender,
	}
	existing, err := r.Store.Create(ctx, t)
	switch {
	case errors.Is(err, transfer.ErrExists):
		if existing.Registration == nil || existing.Registration.EventID != ev.EventId {
			return bus.Permanentf("registration event %q reuses conversation id %s of registration event %q",
				ev.EventId, conv, registrationEventID(existing))
		}
		if existing.State != transfer.Registered {
			// Delivered again after the request went: make sure its timeout
			// is scheduled (scheduling is idempotent) and stop.
			return r.scheduleExtractTimeout(ctx, existing)
		}
	case err != nil && !errors.Is(err, transfer.ErrEventsPending):
		return err
	}
	r.Logger.InfoContext(ctx, "registration accepted", "event_id", ev.EventId, "practice", practice.ODS)
	return r.sendRequest(ctx, conv, ev, practice, existing)
}

func registrationEventID(t *transfer.Transfer) string {
	if t.Registration == nil {
		return ""
	}
	return t.Registration.EventID
}

// validate checks a registration event and returns the served practice it
// is for. The subject names the practice that published it.
func (r *requester) validate(ev *gp2gpv1.RegistrationEvent, subject string) (transfer.Practice, error) {
	var problems []string
	need := func(ok bool, problem string) {
		if !ok {
			problems = append(problems, problem)
		}
	}
	need(strings.TrimSpace(ev.EventId) != "", "event_id is required")
	nhs := ev.GetPatient().GetNhsNumber()
	need(ev.Patient != nil && nhs != "", "patient.nhs_number is required")
	need(nhs == "" || hl7.ValidNHSNumber(nhs), fmt.Sprintf("patient.nhs_number %q fails the modulus-11 check", nhs))
	ods := strings.ToUpper(strings.TrimSpace(ev.RequestingPracticeOds))
	need(odsPattern.MatchString(ods), fmt.Sprintf("requesting_practice_ods %q is not an ODS code", ev.RequestingPracticeOds))
	if prev := strings.TrimSpace(ev.PreviousPracticeOds); prev != "" {
		need(odsPattern.MatchString(strings.ToUpper(prev)), fmt.Sprintf("previous_practice_ods %q is not an ODS code", prev))
		need(!strings.EqualFold(prev, ods), "previous_practice_ods is the requesting practice")
	}
	need(ev.RegisteredAt != nil && ev.RegisteredAt.IsValid(), "registered_at is required")
	if c := strings.TrimSpace(ev.ConversationId); c != "" {
		need(convPattern.MatchString(strings.ToUpper(c)), fmt.Sprintf("conversation_id %q is not a GUID", c))
	}
	if want := bus.RegistrationSubject(ods); ods != "" && subject != want {
		problems = append(problems, fmt.Sprintf("published on %s, not the requesting practice's subject %s", subject, want))
	}
	practice, served := r.PracticeByODS(ods)
	need(ods == "" || served, fmt.Sprintf("practice %s is not served by this requester", ods))
	if len(problems) > 0 {
		return transfer.Practice{}, errors.New(strings.Join(problems, "; "))
	}
	return practice, nil
}

// conversationID is the vendor's conversation id, or one derived from the
// practice and event id so that a republished event maps to one transfer.
func conversationID(ev *gp2gpv1.RegistrationEvent) string {
	if c := strings.TrimSpace(ev.ConversationId); c != "" {
		return strings.ToUpper(c)
	}
	key := strings.ToUpper(ev.RequestingPracticeOds) + "/" + ev.EventId
	return strings.ToUpper(uuid.NewSHA1(conversationNamespace, []byte(key)).String())
}

// sendRequest resolves the previous practice and sends it the EHR Request.
// held is the record as stored (nil if unknown).
func (r *requester) sendRequest(ctx context.Context, conv string, ev *gp2gpv1.RegistrationEvent, practice transfer.Practice, held *transfer.Transfer) error {
	nhs := ev.Patient.NhsNumber
	prev := strings.ToUpper(strings.TrimSpace(ev.PreviousPracticeOds))
	if prev == "" {
		reg, err := r.PDS.Registration(ctx, nhs)
		switch {
		case errors.Is(err, directory.ErrPatientNotFound):
			return r.fail(ctx, conv, "", "PDS does not know NHS number "+nhs)
		case err != nil:
			return fmt.Errorf("PDS lookup of the previous practice: %w", err)
		}
		prev = strings.ToUpper(reg.PreviousODS)
		if prev == "" || strings.EqualFold(prev, practice.ODS) {
			return r.fail(ctx, conv, "", "the previous practice is not in the registration and PDS does not say")
		}
	}

	self, err := r.Identify(ctx, practice.ODS, string(hl7.EHRRequest))
	if err != nil {
		return r.sdsFailure(ctx, conv, err)
	}
	practice.PartyKey = self.PartyKey
	peer, err := r.Identify(ctx, prev, string(hl7.EHRRequest))
	if err != nil {
		return r.sdsFailure(ctx, conv, err)
	}
	uk06, err := r.Identify(ctx, prev, string(hl7.EHRExtractUK06))
	if err != nil {
		return r.sdsFailure(ctx, conv, err)
	}
	copc, err := r.Identify(ctx, prev, string(hl7.CommonContentCOPC))
	if err != nil && !errors.Is(err, directory.ErrNotFound) {
		return r.sdsFailure(ctx, conv, err)
	}
	now := r.Now()
	deadline := now.Add(directory.ExtractTimeout(uk06, copc, 0, r.cfg.ExtractWeight, r.cfg.COPCWeight))

	to := transfer.Practice{ODS: prev, ASID: peer.ASID, PartyKey: peer.PartyKey}
	req, size, err := r.sendEHRRequest(ctx, conv, nhs, practice, to, peer.CPAID, now)
	if bus.IsPermanent(err) {
		return r.fail(ctx, conv, "99", "Spine refused the EHR Request: "+err.Error())
	}
	if err != nil {
		return err
	}
	update := func(t *transfer.Transfer) error {
		t.Practice.PartyKey = practice.PartyKey
		t.Peer = to
		t.RequestID = req.RequestID
		t.RecordMessage(transfer.Message{ID: req.MessageID, Interaction: string(hl7.EHRRequest), Direction: transfer.Outbound,
			At: now, Role: transfer.RoleEHRRequest, Size: size})
		if t.State == transfer.Registered {
			if t.Deadlines == nil {
				t.Deadlines = map[string]time.Time{}
			}
			t.Deadlines[timerExtract] = deadline
		}
		return t.Transition(transfer.RequestSent, transfer.Reason{Detail: "EHR Request sent to " + prev})
	}
	var t *transfer.Transfer
	if held != nil {
		t, err = r.Store.UpdateFrom(ctx, held, update)
	} else {
		t, err = r.Store.Update(ctx, transfer.Requesting, conv, update)
	}
	if err != nil {
		return err
	}
	return r.scheduleExtractTimeout(ctx, t)
}

// sendEHRRequest builds the conversation's EHR Request, from practice to
// the previous practice to, and sends it. Its ids derive from the
// conversation: sending it again sends the same message.
func (r *requester) sendEHRRequest(ctx context.Context, conv, nhs string, practice, to transfer.Practice, cpa string, now time.Time) (*hl7.Request, int, error) {
	req := &hl7.Request{
		Wrapper:   hl7.Wrapper{MessageID: hl7.DeriveID(conv, "ehr-request"), CreationTime: now, ToASID: to.ASID, FromASID: practice.ASID},
		RequestID: hl7.DeriveID(conv, "ehr-request-id"), NHSNumber: nhs, RequestingODS: practice.ODS, SendingODS: to.ODS,
	}
	payload, err := req.Encode()
	if err != nil {
		return nil, 0, bus.Permanent(err)
	}
	err = r.Send(ctx, stage.Wire{ConversationID: conv, MessageID: req.MessageID, Interaction: hl7.EHRRequest,
		From: practice, To: to, CPAID: cpa, Payload: payload})
	return req, len(payload), err
}

// scheduleExtractTimeout schedules the recorded extract deadline, if any.
func (r *requester) scheduleExtractTimeout(ctx context.Context, t *transfer.Transfer) error {
	due, ok := t.Deadlines[timerExtract]
	if !ok {
		return nil
	}
	return r.Schedule(ctx, timerExtract, t.ConversationID, due)
}

// sdsFailure fails the transfer when SDS has no answer or several (reason
// 24), and retries when SDS is unavailable.
func (r *requester) sdsFailure(ctx context.Context, conv string, err error) error {
	if errors.Is(err, directory.ErrNotFound) || errors.Is(err, directory.ErrAmbiguous) {
		return r.fail(ctx, conv, string(hl7.ReasonSDSLookup), err.Error())
	}
	return err
}

// fail ends a transfer that cannot get as far as a request. No message is
// sent: there is nobody to tell.
func (r *requester) fail(ctx context.Context, conv, code, detail string) error {
	_, err := r.Store.Update(ctx, transfer.Requesting, conv, func(t *transfer.Transfer) error {
		return t.Transition(transfer.Failed, transfer.Reason{Code: code, Detail: detail})
	})
	if err == nil {
		r.Logger.WarnContext(ctx, "transfer failed before the request", "reason_code", code, "detail", detail)
	}
	return err
}

// handleTimer fails a transfer whose extract did not arrive in time.
func (r *requester) handleTimer(ctx context.Context, timer bus.Timer) error {
	ctx = bus.WithConversationID(ctx, timer.ConversationID)
	if timer.Kind != timerExtract {
		return bus.Permanentf("requester: unknown timer kind %q", timer.Kind)
	}
	_, err := r.Store.Update(ctx, transfer.Requesting, timer.Key, func(t *transfer.Transfer) error {
		if !stage.Due(t, timer) {
			return errStale
		}
		delete(t.Deadlines, timerExtract)
		if t.State != transfer.RequestSent && t.State != transfer.RequestAcknowledged {
			return nil // the extract came
		}
		return t.Transition(transfer.Failed, transfer.Reason{
			Detail: fmt.Sprintf("no EHR Extract arrived by %s", timer.Due.Format(time.RFC3339))})
	})
	if errors.Is(err, errStale) || errors.Is(err, transfer.ErrNotFound) {
		return nil
	}
	return err
}

var errStale = errors.New("stale timer")

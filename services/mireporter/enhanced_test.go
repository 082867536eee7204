package mireporter_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/miapi"
	"github.com/nhsengland/gp2gp/libs/miapi/miapitest"
	"github.com/nhsengland/gp2gp/libs/transfer"
	gp2gpv1 "github.com/nhsengland/gp2gp/proto/gp2gp/v1"
	"github.com/nhsengland/gp2gp/services/mireporter"
)

// fakeAPI is the GP Registrations MI API: it checks every body against
// the OpenAPI contract and answers 503 while down.
type fakeAPI struct {
	t    *testing.T
	spec *miapitest.Spec
	up   atomic.Bool

	mu       sync.Mutex
	refused  int
	accepted map[string]miapi.Event // by X-Correlation-ID
	posts    map[string]int
	invalid  []string
}

func newFakeAPI(t *testing.T) (*fakeAPI, *httptest.Server) {
	f := &fakeAPI{t: t, spec: miapitest.Load(t), accepted: map[string]miapi.Event{}, posts: map[string]int{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.up.Load() {
		f.refused++
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	typ, ok := miapi.TypeForPath(r.URL.Path)
	if !ok || r.Header.Get(miapi.APIKeyHeader) != "test-key" {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	if err := f.spec.Check(typ, body); err != nil {
		f.invalid = append(f.invalid, fmt.Sprintf("%s: %v", typ, err))
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	e, err := miapi.Unmarshal(typ, body)
	require.NoError(f.t, err)
	id := r.Header.Get("X-Correlation-ID")
	f.accepted[id] = e
	f.posts[id]++
	w.Header().Set("Content-Type", "application/json")
	_, _ = fmt.Fprintf(w, `{"eventId":%q}`, id)
}

func (f *fakeAPI) events() map[string]miapi.Event {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]miapi.Event, len(f.accepted))
	for k, v := range f.accepted {
		out[k] = v
	}
	return out
}

const (
	reqODS  = "A12345"
	sendODS = "B86041"
	convOK  = "E0000001-0000-4000-8000-000000000000"
	convBad = "E0000002-0000-4000-8000-000000000000"
)

// lifecycle publishes one lifecycle event.
func (r *reporter) lifecycle(side gp2gpv1.Side, conv string, seq uint64, prev, st gp2gpv1.TransferState, at time.Time, code string) {
	r.t.Helper()
	ev := &gp2gpv1.TransferEvent{ConversationId: conv, Side: side, Sequence: seq, PreviousState: prev, State: st,
		OccurredAt: timestamppb.New(at), ReasonCode: code, Detail: "test"}
	ev.PracticeOds, ev.PracticeAsid, ev.PeerOds, ev.PeerAsid = reqODS, reqASID, sendODS, sendASID
	sideName := "requesting"
	if side == gp2gpv1.Side_SIDE_SENDING {
		sideName = "sending"
		ev.PracticeOds, ev.PracticeAsid, ev.PeerOds, ev.PeerAsid = sendODS, sendASID, reqODS, reqASID
	}
	_, err := r.bus.PublishProto(context.Background(), bus.Outgoing{
		Subject:  bus.LifecycleSubject(sideName, conv),
		DedupeID: fmt.Sprintf("lifecycle.%s.%s.%d", sideName, conv, seq),
	}, ev)
	require.NoError(r.t, err)
}

// record stores a transfer record as the stages would.
func (r *reporter) record(t *transfer.Transfer) {
	r.t.Helper()
	kv, err := r.js.KeyValue(context.Background(), bus.BucketTransfers)
	require.NoError(r.t, err)
	data, err := json.Marshal(t)
	require.NoError(r.t, err)
	_, err = kv.Put(context.Background(), string(t.Side)+"."+t.ConversationID, data)
	require.NoError(r.t, err)
}

func TestEnhancedMIEventsReachTheAPIOnceThroughAnOutageAndARestart(t *testing.T) {
	api, srv := newFakeAPI(t)
	at := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	r := newReporterWith(t, func(cfg *mireporter.Config) {
		cfg.APIURL, cfg.APIKey, cfg.SupplierODS = srv.URL, "test-key", "YGA"
	}, func() time.Time { return at.Add(time.Hour) })

	req := transfer.New(transfer.Requesting, convOK, transfer.Practice{ODS: reqODS, ASID: reqASID})
	req.Registration = &transfer.Registration{EventID: "r1", RegisteredAt: at.Add(-time.Minute), ReturningPatient: true,
		Type: gp2gpv1.RegistrationType_REGISTRATION_TYPE_NEW_GP_REGISTRATION.String(), MFA: true}
	req.Documents = []transfer.Document{
		{ID: "D1", ContentType: "image/tiff", Size: 837482, Done: true},
		{ID: "D2", ContentType: "application/pdf", Size: 3084322, Done: true},
		{ID: "D3", ContentType: "text/plain", Absent: true, AbsentReason: "file not found at the sender"},
	}
	req.Record = &transfer.Record{Object: "x", Size: 4096, Outcome: "INTEGRATION_RESULT_INTEGRATED_AND_SUPPRESSED",
		Degrades: []transfer.Degrade{{Type: "MEDICATION", Reason: "CODE", Coding: []transfer.Coding{{Code: "123", System: "http://snomed.info/sct"}}}}}
	r.record(req)
	snd := transfer.New(transfer.Sending, convOK, transfer.Practice{ODS: sendODS, ASID: sendASID})
	snd.Record = &transfer.Record{Object: "y", Size: 4096}
	snd.Documents = []transfer.Document{{ID: "D3", ContentType: "text/plain", Absent: true, AbsentReason: "file locked"}}
	r.record(snd)

	const (
		requesting = gp2gpv1.Side_SIDE_REQUESTING
		sending    = gp2gpv1.Side_SIDE_SENDING
	)
	r.lifecycle(requesting, convOK, 1, 0, gp2gpv1.TransferState_TRANSFER_STATE_REGISTERED, at, "")
	r.lifecycle(requesting, convOK, 2, gp2gpv1.TransferState_TRANSFER_STATE_REGISTERED, gp2gpv1.TransferState_TRANSFER_STATE_REQUEST_SENT, at.Add(time.Second), "")
	r.lifecycle(sending, convOK, 1, 0, gp2gpv1.TransferState_TRANSFER_STATE_REQUEST_RECEIVED, at.Add(2*time.Second), "")
	r.lifecycle(sending, convOK, 3, gp2gpv1.TransferState_TRANSFER_STATE_RECORD_REQUESTED, gp2gpv1.TransferState_TRANSFER_STATE_EXTRACT_SENT, at.Add(3*time.Second), "")
	r.lifecycle(requesting, convOK, 4, gp2gpv1.TransferState_TRANSFER_STATE_EXTRACT_RECEIVED, gp2gpv1.TransferState_TRANSFER_STATE_READY_TO_INTEGRATE, at.Add(4*time.Second), "")
	r.lifecycle(requesting, convOK, 5, gp2gpv1.TransferState_TRANSFER_STATE_READY_TO_INTEGRATE, gp2gpv1.TransferState_TRANSFER_STATE_INTEGRATED, at.Add(5*time.Second), "")
	r.lifecycle(requesting, convBad, 2, gp2gpv1.TransferState_TRANSFER_STATE_REQUEST_SENT, gp2gpv1.TransferState_TRANSFER_STATE_FAILED, at.Add(6*time.Second), "06")

	// The API is down: the events wait in the outbox, across a restart.
	require.Eventually(t, func() bool { api.mu.Lock(); defer api.mu.Unlock(); return api.refused >= 3 },
		20*time.Second, 20*time.Millisecond, "the outbox tries the API")
	r.restart()
	// A lifecycle event delivered again gives the same events (same ids).
	r.lifecycle(requesting, convOK, 2, gp2gpv1.TransferState_TRANSFER_STATE_REGISTERED, gp2gpv1.TransferState_TRANSFER_STATE_REQUEST_SENT, at.Add(time.Second), "")
	api.up.Store(true)

	want := map[miapi.EventType]int{
		miapi.TypeRegistrations: 1, miapi.TypeTransferCompatibilityStatuses: 1, miapi.TypeEHRRequests: 1,
		miapi.TypeEHRResponses: 1, miapi.TypeReadyToIntegrateStatuses: 1, miapi.TypeDocumentResponses: 3,
		miapi.TypeEHRIntegrations: 1, miapi.TypeDegrades: 1, miapi.TypeErrors: 1,
	}
	total := 0
	for _, n := range want {
		total += n
	}
	require.Eventually(t, func() bool { return len(api.events()) >= total }, 60*time.Second, 50*time.Millisecond,
		"every event posted once the API is back")
	time.Sleep(300 * time.Millisecond) // anything sent twice with a new id would arrive now
	got := api.events()
	api.mu.Lock()
	assert.Empty(t, api.invalid, "every body conforms to the OpenAPI contract")
	api.mu.Unlock()
	count := map[miapi.EventType]int{}
	byType := map[miapi.EventType][]miapi.Event{}
	for id, e := range got {
		count[e.Type]++
		byType[e.Type] = append(byType[e.Type], e)
		if e.Type != miapi.TypeDegrades && e.Type != miapi.TypeDocumentResponses && e.Type != miapi.TypeErrors {
			assert.Equal(t, e.ID(), id, "the NHS formula's id for %s", e.Type)
		}
		miapitest.Validate(t, e)
	}
	assert.Equal(t, want, count, "each event exactly once (by id)")

	reg := byType[miapi.TypeRegistrations][0]
	assert.Equal(t, convOK, reg.ConversationID)
	assert.Equal(t, "YGA", reg.ReportingSystemSupplier)
	assert.Equal(t, reqODS, reg.ReportingPracticeODSCode)
	assert.True(t, reg.Payload.Registration.ReturningPatient)
	assert.True(t, reg.Payload.Registration.MultifactorAuthenticationPresent)
	assert.True(t, reg.Payload.DemographicTraceStatus.Matched)

	resp := byType[miapi.TypeEHRResponses][0]
	assert.Equal(t, sendODS, resp.ReportingPracticeODSCode)
	assert.EqualValues(t, 4096, resp.Payload.EHR.StructuredSizeBytes)
	require.Len(t, resp.Payload.EHR.Placeholders, 1)
	assert.Equal(t, miapi.PlaceholderFileLocked, resp.Payload.EHR.Placeholders[0].Reason)

	assert.Equal(t, miapi.OutcomeIntegratedAndSuppressed, byType[miapi.TypeEHRIntegrations][0].Payload.Integration.Outcome)
	deg := byType[miapi.TypeDegrades][0]
	assert.Empty(t, deg.ConversationID, "a degrade does not identify the transfer")
	assert.Equal(t, miapi.DegradeMedication, deg.Payload.Degrades[0].Type)

	errEv := byType[miapi.TypeErrors][0]
	assert.Equal(t, convBad, errEv.ConversationID)
	assert.Equal(t, "06", errEv.Payload.Error.Code)
	assert.Equal(t, miapi.FailureEHRRequested, errEv.Payload.Error.FailurePoint)

	docsOK := 0
	for _, d := range byType[miapi.TypeDocumentResponses] {
		if d.Payload.DocumentMigration.Successful {
			docsOK++
		}
	}
	assert.Equal(t, 2, docsOK, "the absent document is reported as not migrated")
}

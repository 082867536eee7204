package miapi_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/miapi"
	"github.com/nhsengland/gp2gp/libs/miapi/miapitest"
)

// decode returns data as a generic JSON value, so that bodies compare by
// content.
func decode(t *testing.T, data []byte) any {
	t.Helper()
	var v any
	require.NoError(t, json.Unmarshal(data, &v), "%s", data)
	return v
}

// Every request example of the contract (OpenAPI and Postman) reads into
// an Event of its endpoint's type and marshals back to the same content.
func TestRoundTripSpecExamples(t *testing.T) {
	examples := miapitest.Load(t).Examples(t)
	openAPI, postman := map[miapi.EventType]int{}, map[miapi.EventType]int{}
	for _, ex := range examples {
		if strings.HasPrefix(ex.Source, "postman") {
			postman[ex.Type]++
		} else {
			openAPI[ex.Type]++
		}
		t.Run(ex.Source, func(t *testing.T) {
			e, err := miapi.Unmarshal(ex.Type, ex.Body)
			require.NoError(t, err)
			assert.Equal(t, ex.Type, e.Type)
			valid := e
			if valid.Type == miapi.TypeDegrades {
				valid.Key = "k" // not in the body, required to send
			}
			assert.NoError(t, valid.Validate(), "the example is a valid event")
			out, err := json.Marshal(e)
			require.NoError(t, err)
			assert.Equal(t, decode(t, ex.Body), decode(t, out))

			// json.Unmarshal into an Event whose Type is set does the same.
			into := miapi.Event{Type: ex.Type}
			require.NoError(t, json.Unmarshal(ex.Body, &into))
			assert.Equal(t, e, into)
		})
	}
	for _, typ := range miapi.EventTypes() {
		assert.GreaterOrEqual(t, openAPI[typ], 1, "OpenAPI examples of %s", typ)
		assert.GreaterOrEqual(t, postman[typ], 1, "Postman examples of %s", typ)
	}
}

// The events the constructors make survive marshal and unmarshal
// unchanged, Key apart (it is not in the body).
func TestRoundTripConstructed(t *testing.T) {
	for _, tc := range constructed() {
		t.Run(tc.name, func(t *testing.T) {
			body, err := json.Marshal(tc.event)
			require.NoError(t, err)
			assert.NotContains(t, string(body), `"key"`)
			back, err := miapi.Unmarshal(tc.event.Type, body)
			require.NoError(t, err)
			want := tc.event
			want.Key = ""
			if want.Payload != nil {
				for i := range want.Payload.Degrades {
					if want.Payload.Degrades[i].Coding == nil { // sent as []
						want.Payload.Degrades[i].Coding = []miapi.Coding{}
					}
				}
			}
			assert.Equal(t, want, back)
		})
	}
}

func TestMarshalBody(t *testing.T) {
	env := envelope()
	env.RegistrationEventDateTime = time.Date(2020, 2, 8, 9, 30, 25, 987654321, time.FixedZone("CET", 3600))
	for _, tc := range []struct {
		name  string
		event miapi.Event
		want  string
	}{
		{
			name:  "envelope only, time in UTC to the second",
			event: miapi.NewEHRRequestEvent(env),
			want: `{"conversationId":"4345-986959-4930-684038","registrationEventDateTime":"2020-02-08T08:30:25Z",
				"reportingSystemSupplier":"YGJ","reportingPracticeOdsCode":"A12345","requestingPracticeOdsCode":"A12345",
				"sendingPracticeOdsCode":"B86041"}`,
		},
		{
			name:  "empty sending practice left out of ERRORS",
			event: miapi.NewErrorEvent(withoutSending(envelope()), "", miapi.ErrorDetail{Code: "99", Description: "d", FailurePoint: miapi.FailureEHRResponse}),
			want: `{"conversationId":"4345-986959-4930-684038","registrationEventDateTime":"2020-02-08T08:30:25Z",
				"reportingSystemSupplier":"YGJ","reportingPracticeOdsCode":"A12345","requestingPracticeOdsCode":"A12345",
				"payload":{"error":{"errorCode":"99","errorDescription":"d","failurePoint":"EHR_RESPONSE"}}}`,
		},
		{
			name:  "empty sending practice kept where required",
			event: miapi.NewReadyToIntegrateEvent(withoutSending(envelope())),
			want: `{"conversationId":"4345-986959-4930-684038","registrationEventDateTime":"2020-02-08T08:30:25Z",
				"reportingSystemSupplier":"YGJ","reportingPracticeOdsCode":"A12345","requestingPracticeOdsCode":"A12345",
				"sendingPracticeOdsCode":""}`,
		},
		{
			name:  "false booleans and zero sizes are sent",
			event: miapi.NewDocumentResponseEvent(envelope(), "k", miapi.Attachment{ClinicalType: miapi.ClinicalImage, MimeType: "image/png"}, miapi.DocumentMigration{Successful: true}),
			want: `{"conversationId":"4345-986959-4930-684038","registrationEventDateTime":"2020-02-08T08:30:25Z",
				"reportingSystemSupplier":"YGJ","reportingPracticeOdsCode":"A12345","requestingPracticeOdsCode":"A12345",
				"sendingPracticeOdsCode":"B86041","payload":{"attachment":{"clinicalType":"IMAGE","mimeType":"image/png","sizeBytes":0},
				"documentMigration":{"successful":true}}}`,
		},
		{
			name: "degrades carry nothing of the transfer",
			event: func() miapi.Event {
				e := miapi.NewDegradesEvent("YGJ", "k", miapi.Degrade{Type: miapi.DegradePlan, Reason: miapi.DegradeReasonCode})
				e.Envelope = envelope() // even when the caller left the envelope in
				return e
			}(),
			want: `{"reportingSystemSupplier":"YGJ","payload":{"degrades":[{"type":"PLAN","reason":"CODE","coding":[]}]}}`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := json.Marshal(tc.event)
			require.NoError(t, err)
			assert.JSONEq(t, tc.want, string(got))
		})
	}
}

func TestMarshalUnknownType(t *testing.T) {
	_, err := json.Marshal(miapi.Event{Type: "EHR_REQUESTED"})
	require.ErrorIs(t, err, miapi.ErrInvalidEvent)
}

func TestUnmarshalErrors(t *testing.T) {
	const envelopeJSON = `"conversationId":"c","registrationEventDateTime":"2020-02-08T08:30:25Z","reportingSystemSupplier":"YGJ",
		"reportingPracticeOdsCode":"A1","requestingPracticeOdsCode":"A1","sendingPracticeOdsCode":"B1"`
	for _, tc := range []struct {
		name string
		typ  miapi.EventType
		body string
		want string
	}{
		{"unknown type", "EHR_REQUESTED", `{}`, "set Event.Type"},
		{"not JSON", miapi.TypeEHRRequests, `{`, "unexpected EOF"},
		{"trailing data", miapi.TypeEHRRequests, `{` + envelopeJSON + `} {}`, "data after the JSON value"},
		{"unknown envelope field", miapi.TypeEHRRequests, `{` + envelopeJSON + `,"transferProtocol":"GP2GP"}`, `unknown field "transferProtocol"`},
		{"unknown payload field", miapi.TypeEHRIntegrations, `{` + envelopeJSON + `,"payload":{"integration":{"outcome":"INTEGRATED","reason":"x"}}}`, `unknown field "reason"`},
		{"bad date-time", miapi.TypeEHRRequests, `{"registrationEventDateTime":"08/02/2020 08:30"}`, "registrationEventDateTime"},
		{"wrong JSON type", miapi.TypeEHRResponses, `{"payload":{"ehr":{"ehrStructuredSizeBytes":"4096"}}}`, "ehrStructuredSizeBytes"},
		{"degrades naming the transfer", miapi.TypeDegrades, `{"reportingSystemSupplier":"YGJ","conversationId":"c","payload":{"degrades":[]}}`, `unknown field "conversationId"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := miapi.Unmarshal(tc.typ, []byte(tc.body))
			require.ErrorIs(t, err, miapi.ErrInvalidBody)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestUnmarshalKeepsKey(t *testing.T) {
	e := miapi.Event{Type: miapi.TypeDegrades, Key: "k"}
	require.NoError(t, json.Unmarshal([]byte(`{"reportingSystemSupplier":"YGJ","payload":{"degrades":[{"type":"PLAN","reason":"CODE","coding":[]}]}}`), &e))
	assert.Equal(t, "k", e.Key)
	assert.Equal(t, "YGJ", e.ReportingSystemSupplier)
	require.Len(t, e.Payload.Degrades, 1)
}

func TestUnmarshalDateTime(t *testing.T) {
	e, err := miapi.Unmarshal(miapi.TypeEHRRequests, []byte(`{"registrationEventDateTime":"2020-02-08T09:30:25.5+01:00"}`))
	require.NoError(t, err)
	assert.True(t, e.RegistrationEventDateTime.Equal(time.Date(2020, 2, 8, 8, 30, 25, 5e8, time.UTC)))
	assert.Equal(t, "2020-02-08T08:30:25Z", miapi.FormatDateTime(e.RegistrationEventDateTime))
	assert.Empty(t, miapi.FormatDateTime(time.Time{}))
}

package spine_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/natsembed/natstest"
	"github.com/nhsengland/gp2gp/libs/spectest"
	"github.com/nhsengland/gp2gp/libs/spine"
)

// post sends body to h and returns the response.
func post(t *testing.T, h http.Handler, method, contentType string, body []byte) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, "/inbound", bytes.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func accepted(t *testing.T, rec *httptest.ResponseRecorder) spine.InboundResponse {
	t.Helper()
	require.Equal(t, http.StatusAccepted, rec.Code, rec.Body.String())
	assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	var res spine.InboundResponse
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &res))
	return res
}

func inboundJSON(t *testing.T, w wire) []byte {
	t.Helper()
	data, err := w.msg.InboundJSON()
	require.NoError(t, err)
	return data
}

func TestInboundPublishesOnTheRecipientsSubject(t *testing.T) {
	f := newFixture(t)
	h, err := spine.NewInbound(f.bus, spine.WithServedASIDs(requesterASID, senderASID))
	require.NoError(t, err)
	for i, w := range wires(t) {
		t.Run(w.name, func(t *testing.T) {
			body := inboundJSON(t, w)
			res := accepted(t, post(t, h, http.MethodPost, "application/json; charset=utf-8", body))
			subject := bus.SpineInSubject(w.to, w.kind)
			assert.Equal(t, spine.InboundResponse{
				ConversationID: conversationID, MessageID: w.msg.Envelope.MessageID, Kind: w.kind, Subject: subject,
			}, res)
			assert.Equal(t, uint64(i+1), f.count())

			msg := f.last(subject)
			assert.Equal(t, body, msg.Data, "the body as received")
			assertHeaders(t, msg, w)
			got, err := spine.Read(msg)
			require.NoError(t, err)
			assertSameWire(t, w.msg, got)

			again := accepted(t, post(t, h, http.MethodPost, "", body))
			assert.True(t, again.Duplicate, "posted twice")
			assert.Equal(t, subject, again.Subject)
			assert.Equal(t, uint64(i+1), f.count(), "stored once")
		})
	}
}

// Real vendor messages as the MHS adaptor delivers them.
func TestInboundAcceptsEverySpecSample(t *testing.T) {
	spectest.Dir(t)
	want := map[string]struct {
		asid string
		kind bus.SpineKind
	}{
		"nia-ps__emis__scenario3__copc.mhs.json":                  {"276827251543", bus.KindCOPC},
		"nia-ps__emis__scenario3__uk06.mhs.json":                  {"276827251543", bus.KindEHRExtract},
		"nia-ps__scenario7-skeleton__copc-index.mhs.json":         {"276827251543", bus.KindCOPC},
		"nia-ps__scenario7-skeleton__copc0.mhs.json":              {"276827251543", bus.KindCOPC},
		"nia-ps__scenario7-skeleton__uk06.mhs.json":               {"276827251543", bus.KindEHRExtract},
		"nia-ps__tpp__non-unique-fragment-names__uk06.mhs.json":   {"200000001467", bus.KindEHRExtract},
		"nia-ps__vision__scenario6-cid-mid-combo__copc0.mhs.json": {"031759679512", bus.KindCOPC}, // Vision labels it GP2GP_PI
		"nia-ps__vision__scenario6-cid-mid-combo__copc1.mhs.json": {"031759679512", bus.KindCOPC},
		"nia-ps__vision__scenario6-cid-mid-combo__uk06.mhs.json":  {"031759679512", bus.KindEHRExtract},
		"prm-ehr-out__emis__ehr-request.mhs.json":                 {"200000001161", bus.KindEHRRequest},
		"prm-ehr-out__emis__large-core.mhs.json":                  {"200000001613", bus.KindEHRExtract},
		"prm-ehr-out__emis__large-fragment-01.mhs.json":           {"200000001613", bus.KindCOPC},
		"prm-ehr-out__tpp__continue-COPC.mhs.json":                {"200000001613", bus.KindContinue},
		"prm-ehr-out__tpp__large-core-with-mid-refs.mhs.json":     {"200000001613", bus.KindEHRExtract},
		"prm-ehr-out__tpp__large-fragment-03.mhs.json":            {"200000001613", bus.KindCOPC},
	}
	served := map[string]bool{}
	for _, w := range want {
		served[w.asid] = true
	}
	seen := 0
	for _, name := range spectest.SampleNames(t) {
		if !strings.HasSuffix(name, ".mhs.json") {
			continue
		}
		seen++
		t.Run(name, func(t *testing.T) {
			w, ok := want[name]
			require.True(t, ok, "a new sample: add it to the table")
			f := newFixture(t) // samples share message ids
			h, err := spine.NewInbound(f.bus, spine.WithServed(func(asid string) bool { return served[asid] }))
			require.NoError(t, err)
			body := spectest.Sample(t, name)

			res := accepted(t, post(t, h, http.MethodPost, "application/json", body))
			subject := bus.SpineInSubject(w.asid, w.kind)
			assert.Equal(t, subject, res.Subject)
			assert.Equal(t, w.kind, res.Kind)
			assert.False(t, res.Duplicate)

			msg := f.last(subject)
			assert.Equal(t, body, msg.Data)
			got, err := spine.Read(msg)
			require.NoError(t, err)
			hs := msg.Headers()
			assert.Equal(t, got.Envelope.ConversationID, hs.ConversationID)
			assert.Equal(t, got.Envelope.MessageID, hs.MessageID)
			assert.Equal(t, got.Envelope.Action, hs.InteractionID)
			assert.Equal(t, spine.DedupeID(got.Envelope.MessageID, w.asid), msg.Header.Get(bus.HeaderMsgID))
			kind, err := spine.Classify(got)
			require.NoError(t, err)
			assert.Equal(t, w.kind, kind, "what was read classifies the same")
		})
	}
	assert.Equal(t, len(want), seen, "every sample in the table is in the spec")
}

func TestInboundRefusesWithAJSONError(t *testing.T) {
	ack := ackWire(t) // to the requester
	good := inboundJSON(t, ack)
	withEbXML := func(edit func(string) string) []byte {
		var body map[string]any
		require.NoError(t, json.Unmarshal(good, &body))
		body["ebXML"] = edit(body["ebXML"].(string))
		data, err := json.Marshal(body)
		require.NoError(t, err)
		return data
	}
	withPayload := func(payload string) []byte {
		var body map[string]any
		require.NoError(t, json.Unmarshal(good, &body))
		body["payload"] = payload
		data, err := json.Marshal(body)
		require.NoError(t, err)
		return data
	}
	cases := []struct {
		name        string
		method      string
		contentType string
		body        []byte
		chunked     bool
		wantStatus  int
		wantError   string
	}{
		{"malformed JSON", http.MethodPost, "application/json", good[:len(good)-10], false, http.StatusBadRequest, "unreadable MHS JSON"},
		{"a JSON array", http.MethodPost, "application/json", []byte(`[1,2]`), false, http.StatusBadRequest, "unreadable MHS JSON"},
		{"no ebXML", http.MethodPost, "application/json", []byte(`{"payload":"<a/>"}`), false, http.StatusBadRequest, "no ebXML"},
		{"a DOCTYPE inside the ebXML", http.MethodPost, "application/json", withEbXML(func(s string) string {
			return replaceOnce(t, s, "<SOAP:Envelope", `<!DOCTYPE SOAP:Envelope [<!ENTITY e "e">]><SOAP:Envelope`)
		}), false, http.StatusBadRequest, "DOCTYPE"},
		{"a conversation id with a tab", http.MethodPost, "application/json", withEbXML(func(s string) string {
			return replaceOnce(t, s, conversationID, "9F1C2B4A&#9;0000")
		}), false, http.StatusBadRequest, "control character"},
		{"payload not HL7", http.MethodPost, "application/json", withPayload("<html/>"), false, http.StatusBadRequest, "no recipient ASID"},
		{"payload not XML", http.MethodPost, "application/json", withPayload("hello"), false, http.StatusBadRequest, "no recipient ASID"},
		{"recipient ASID with a wildcard", http.MethodPost, "application/json",
			withPayload(replaceOnce(t, string(ack.msg.Payload), `extension="`+requesterASID+`"`, `extension="2000.*"`)), false, http.StatusBadRequest, "not an ASID"},
		{"ASID not served", http.MethodPost, "application/json", inboundJSON(t, requestWire(t)), false, http.StatusNotFound, "ASID " + senderASID},
		{"GET", http.MethodGet, "", nil, false, http.StatusMethodNotAllowed, "use POST"},
		{"PUT", http.MethodPut, "application/json", good, false, http.StatusMethodNotAllowed, "use POST"},
		{"XML", http.MethodPost, "text/xml", good, false, http.StatusUnsupportedMediaType, "application/json"},
		{"over the limit", http.MethodPost, "application/json", append(good, bytes.Repeat([]byte(" "), 4096)...), false, http.StatusRequestEntityTooLarge, "limit"},
		{"over the limit, chunked", http.MethodPost, "application/json", append(good, bytes.Repeat([]byte(" "), 4096)...), true, http.StatusRequestEntityTooLarge, "limit"},
	}
	f := newFixture(t)
	h, err := spine.NewInbound(f.bus, spine.WithServedASIDs(requesterASID), spine.WithMaxBodyBytes(int64(len(good)+1024)))
	require.NoError(t, err)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, "/", bytes.NewReader(tc.body))
			if tc.contentType != "" {
				req.Header.Set("Content-Type", tc.contentType)
			}
			if tc.chunked {
				req.ContentLength = -1
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			assert.Equal(t, tc.wantStatus, rec.Code, rec.Body.String())
			assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
			var res spine.ErrorResponse
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &res))
			assert.Contains(t, res.Error, tc.wantError)
			if tc.wantStatus == http.StatusMethodNotAllowed {
				assert.Equal(t, http.MethodPost, rec.Header().Get("Allow"))
			}
		})
	}
	assert.Zero(t, f.count(), "nothing published")
	accepted(t, post(t, h, http.MethodPost, "application/json", good)) // the limit admits the real thing
}

func TestInboundAsksForARetryWhenPublishingFails(t *testing.T) {
	f := newBareFixture(t) // no GP2GP_SPINE_IN stream
	h, err := spine.NewInbound(f.bus)
	require.NoError(t, err)
	rec := post(t, h, http.MethodPost, "application/json", inboundJSON(t, ackWire(t)))
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
	var res spine.ErrorResponse
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &res))
	assert.Contains(t, res.Error, "post again later")
}

func TestNewInboundValidatesItsOptions(t *testing.T) {
	f := newBareFixture(t)
	cases := map[string]struct {
		b    *bus.Bus
		opts []spine.InboundOption
	}{
		"nil bus":         {nil, nil},
		"nil served":      {f.bus, []spine.InboundOption{spine.WithServed(nil)}},
		"no served ASIDs": {f.bus, []spine.InboundOption{spine.WithServedASIDs()}},
		"zero limit":      {f.bus, []spine.InboundOption{spine.WithMaxBodyBytes(0)}},
		"nil logger":      {f.bus, []spine.InboundOption{spine.WithLogger(nil)}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := spine.NewInbound(tc.b, tc.opts...)
			require.Error(t, err)
		})
	}
}

func TestServeInboundServesUntilTheContextEnds(t *testing.T) {
	f := newFixture(t)
	h, err := spine.NewInbound(f.bus)
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(f.ctx)
	done := make(chan error, 1)
	go func() { done <- spine.ServeInbound(ctx, ln, h) }()

	resp, err := http.Post("http://"+ln.Addr().String()+"/", "application/json", bytes.NewReader(inboundJSON(t, ackWire(t))))
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	assert.Equal(t, http.StatusAccepted, resp.StatusCode)
	assert.Equal(t, uint64(1), f.count())

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("ServeInbound did not return")
	}
	_, err = http.Post("http://"+ln.Addr().String()+"/", "application/json", nil)
	require.Error(t, err, "no longer listening")
}

// The handler answers every input with a status, never a panic.
func FuzzInbound(f *testing.F) {
	for _, w := range wires(f) {
		data, err := w.msg.InboundJSON()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"ebXML":"<!DOCTYPE a><a/>"}`))
	f.Add([]byte(`{"ebXML":"<Envelope><Header><MessageHeader><ConversationId>A</ConversationId><Action>COPC_IN000001UK01</Action><MessageData><MessageId>B</MessageId></MessageData></MessageHeader></Header></Envelope>","payload":"<COPC_IN000001UK01/>","attachments":[{"is_base64":"yes"}]}`))
	f.Add([]byte(`null`))
	f.Add([]byte{0xff, 0xfe, '{'})

	js := natstest.NewServer(f).JetStream()
	ctx := natstest.Context(f, time.Minute)
	if err := bus.Ensure(ctx, js, bus.DevProfile, bus.AcknowledgerTopology("", practices)); err != nil {
		f.Fatal(err)
	}
	b, err := bus.New(js)
	if err != nil {
		f.Fatal(err)
	}
	h, err := spine.NewInbound(b, spine.WithServed(func(string) bool { return false }), spine.WithMaxBodyBytes(1<<20))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body)))
		switch rec.Code {
		case http.StatusBadRequest, http.StatusNotFound, http.StatusRequestEntityTooLarge:
		default:
			t.Fatalf("status %d for %q: %s", rec.Code, body, rec.Body)
		}
		var res spine.ErrorResponse
		if err := json.Unmarshal(rec.Body.Bytes(), &res); err != nil || res.Error == "" {
			t.Fatalf("no JSON error: %s", rec.Body)
		}
	})
}

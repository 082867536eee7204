package spine_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/spine"
)

// fakeMHS is an MHS adaptor's outbound API that records requests and
// answers with respond.
type fakeMHS struct {
	*httptest.Server
	mu       sync.Mutex
	requests []recorded
	respond  func(w http.ResponseWriter, r *http.Request, body []byte)
}

type recorded struct {
	method, path string
	header       http.Header
	body         []byte
}

func newFakeMHS(t *testing.T, respond func(w http.ResponseWriter, r *http.Request, body []byte)) *fakeMHS {
	t.Helper()
	f := &fakeMHS{respond: respond}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		f.requests = append(f.requests, recorded{r.Method, r.URL.Path, r.Header.Clone(), body})
		f.mu.Unlock()
		f.respond(w, r, body)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeMHS) received() []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]recorded(nil), f.requests...)
}

func answer(status int, body string) func(http.ResponseWriter, *http.Request, []byte) {
	return func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

func TestMHSPostsTheOutboundRequest(t *testing.T) {
	for _, path := range []string{"", "/", "/mhs/outbound"} {
		t.Run("path "+path, func(t *testing.T) {
			fake := newFakeMHS(t, answer(http.StatusAccepted, ""))
			m, err := spine.NewMHS(fake.URL+path, spine.WithHeader("apikey", "secret-key"))
			require.NoError(t, err)
			w := extractWire(t, false)
			require.NoError(t, m.Send(context.Background(), w.outbound()))
			require.NoError(t, m.Send(context.Background(), w.outbound()), "a resend")

			reqs := fake.received()
			require.Len(t, reqs, 2)
			assert.Equal(t, reqs[0].header, reqs[1].header, "a resend carries the same ids")
			assert.Equal(t, reqs[0].body, reqs[1].body)
			req := reqs[0]
			assert.Equal(t, http.MethodPost, req.method)
			assert.Equal(t, map[bool]string{true: "/", false: path}[path == ""], req.path)
			for name, want := range map[string]string{
				"Interaction-Id":    "RCMR_IN030000UK06",
				"wait-for-response": "false",
				"Correlation-Id":    conversationID,
				"Message-Id":        w.msg.Envelope.MessageID,
				"ods-code":          requesterODS, // the recipient's
				"Content-Type":      "application/json",
				"Accept":            "application/json",
				"apikey":            "secret-key",
			} {
				assert.Equal(t, []string{want}, req.header.Values(name), name)
			}

			var body struct {
				Payload     string `json:"payload"`
				Attachments []struct {
					ContentType string `json:"content_type"`
					IsBase64    bool   `json:"is_base64"`
					Description string `json:"description"`
					Payload     string `json:"payload"`
					DocumentID  string `json:"document_id"`
				} `json:"attachments"`
				External []struct {
					DocumentID  string `json:"document_id"`
					MessageID   string `json:"message_id"`
					Description string `json:"description"`
				} `json:"external_attachments"`
			}
			require.NoError(t, json.Unmarshal(req.body, &body))
			assert.Equal(t, string(w.msg.Payload), body.Payload)
			require.Len(t, body.Attachments, 2)
			scan, note := w.msg.Attachments[0], w.msg.Attachments[1]
			assert.Equal(t, "image/tiff", body.Attachments[0].ContentType)
			assert.True(t, body.Attachments[0].IsBase64)
			assert.Equal(t, `Filename="scan 1.tif" ContentType=image/tiff Compressed=No LargeAttachment=No OriginalBase64=Yes Length=700`, body.Attachments[0].Description)
			assert.Equal(t, base64.StdEncoding.EncodeToString(scan.Data), body.Attachments[0].Payload)
			assert.Equal(t, scan.DocumentID, body.Attachments[0].DocumentID)
			assert.Equal(t, "text/plain", body.Attachments[1].ContentType)
			assert.False(t, body.Attachments[1].IsBase64)
			assert.Equal(t, note.Description.String(), body.Attachments[1].Description)
			assert.Equal(t, string(note.Data), body.Attachments[1].Payload)
			require.Len(t, body.External, 1)
			assert.Equal(t, "_0557F0E4-A231-41ED-808B-AC162D1F16F0", body.External[0].DocumentID)
			assert.Equal(t, "0635CDC0-A231-41ED-808B-AC162D1F16F0", body.External[0].MessageID)
			assert.Equal(t, `Filename="photo.jpg" ContentType=image/jpeg Compressed=Yes LargeAttachment=Yes OriginalBase64=No Length=14404686`, body.External[0].Description)
		})
	}
}

func TestMHSOutcomes(t *testing.T) {
	const tooLong = `{"errors": {"external_attachments": ["Longer than maximum length 99."]}}`
	cases := []struct {
		name          string
		status        int
		body          string
		wantErr       bool
		wantPermanent bool
		wantTooLong   bool
	}{
		{"202 accepted", http.StatusAccepted, "", false, false, false},
		{"200 ok", http.StatusOK, "done", false, false, false},
		{"400 bad request", http.StatusBadRequest, `{"errors": {"payload": ["Longer than maximum length 5000000."]}}`, true, true, false},
		{"400 external attachments too long", http.StatusBadRequest, tooLong, true, true, true},
		{"413 too large", http.StatusRequestEntityTooLarge, "too large", true, true, false},
		{"404 wrong URL", http.StatusNotFound, "not found", true, false, false},
		{"429 slow down", http.StatusTooManyRequests, "", true, false, false},
		{"500 routing failure", http.StatusInternalServerError, "Error whilst attempting to send the message to the MHS", true, false, false},
		{"503 unavailable", http.StatusServiceUnavailable, "", true, false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fake := newFakeMHS(t, answer(tc.status, tc.body))
			m, err := spine.NewMHS(fake.URL)
			require.NoError(t, err)
			err = m.Send(context.Background(), ackWire(t).outbound())
			if !tc.wantErr {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Equal(t, tc.wantPermanent, bus.IsPermanent(err), "permanent: %v", err)
			var me *spine.MHSError
			require.ErrorAs(t, err, &me)
			assert.Equal(t, tc.status, me.Status)
			assert.Equal(t, tc.body, me.Body)
			assert.Contains(t, err.Error(), ackWire(t).msg.Envelope.MessageID)
			assert.Equal(t, tc.wantTooLong, spine.IsExternalAttachmentsTooLong(err))
		})
	}
}

func TestIsExternalAttachmentsTooLongOnlyForThat400(t *testing.T) {
	body := `external_attachments: Longer than maximum length`
	assert.True(t, spine.IsExternalAttachmentsTooLong(bus.Permanent(&spine.MHSError{Status: 400, Body: body})))
	assert.False(t, spine.IsExternalAttachmentsTooLong(&spine.MHSError{Status: 500, Body: body}))
	assert.False(t, spine.IsExternalAttachmentsTooLong(&spine.MHSError{Status: 400, Body: "attachments: Longer than maximum length"}))
	assert.False(t, spine.IsExternalAttachmentsTooLong(errors.New(body)))
	assert.False(t, spine.IsExternalAttachmentsTooLong(nil))
}

func TestMHSKeepsTheStartOfALongErrorBody(t *testing.T) {
	fake := newFakeMHS(t, answer(http.StatusInternalServerError, strings.Repeat("x", 1<<20)))
	m, err := spine.NewMHS(fake.URL)
	require.NoError(t, err)
	err = m.Send(context.Background(), ackWire(t).outbound())
	var me *spine.MHSError
	require.ErrorAs(t, err, &me)
	assert.Len(t, me.Body, spine.MaxErrorBody)
}

func TestMHSTimeoutsAndConnectionFailuresAreRetryable(t *testing.T) {
	t.Run("timeout", func(t *testing.T) {
		fake := newFakeMHS(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
			<-r.Context().Done() // never answers
		})
		m, err := spine.NewMHS(fake.URL, spine.WithTimeout(50*time.Millisecond))
		require.NoError(t, err)
		err = m.Send(context.Background(), ackWire(t).outbound())
		require.Error(t, err)
		assert.False(t, bus.IsPermanent(err))
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Contains(t, err.Error(), "no answer within 50ms")
	})
	t.Run("caller gives up", func(t *testing.T) {
		fake := newFakeMHS(t, func(w http.ResponseWriter, r *http.Request, _ []byte) { <-r.Context().Done() })
		m, err := spine.NewMHS(fake.URL)
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		err = m.Send(ctx, ackWire(t).outbound())
		require.Error(t, err)
		assert.False(t, bus.IsPermanent(err))
		assert.ErrorIs(t, err, context.DeadlineExceeded)
	})
	t.Run("connection refused", func(t *testing.T) {
		fake := newFakeMHS(t, answer(http.StatusAccepted, ""))
		fake.Close()
		m, err := spine.NewMHS(fake.URL)
		require.NoError(t, err)
		err = m.Send(context.Background(), ackWire(t).outbound())
		require.Error(t, err)
		assert.False(t, bus.IsPermanent(err))
	})
}

func TestMHSRefusesWhatTheAdaptorWouldRefuseWithoutARequest(t *testing.T) {
	cases := []struct {
		name string
		out  func(t *testing.T) *spine.Outbound
	}{
		{"no message", func(*testing.T) *spine.Outbound { return &spine.Outbound{ToODS: senderODS} }},
		{"no recipient ODS", func(t *testing.T) *spine.Outbound {
			out := ackWire(t).outbound()
			out.ToODS = ""
			return out
		}},
		{"content type the adaptor refuses", func(t *testing.T) *spine.Outbound {
			out := extractWire(t, false).outbound()
			out.Message.Attachments[0].ContentType = "image/webp"
			return out
		}},
		{"99 attachments", func(t *testing.T) *spine.Outbound {
			out := extractWire(t, false).outbound()
			for len(out.Message.Attachments) < 99 {
				out.Message.Attachments = append(out.Message.Attachments, out.Message.Attachments[1])
			}
			return out
		}},
		{"no message id", func(t *testing.T) *spine.Outbound {
			out := ackWire(t).outbound()
			out.Message.Envelope.MessageID = ""
			return out
		}},
	}
	fake := newFakeMHS(t, answer(http.StatusAccepted, ""))
	m, err := spine.NewMHS(fake.URL)
	require.NoError(t, err)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := m.Send(context.Background(), tc.out(t))
			require.ErrorIs(t, err, spine.ErrInvalidOutbound)
			assert.True(t, bus.IsPermanent(err))
		})
	}
	assert.Empty(t, fake.received())
}

func TestNewMHSValidatesItsInput(t *testing.T) {
	cases := map[string]struct {
		url  string
		opts []spine.MHSOption
	}{
		"empty URL":               {"", nil},
		"relative URL":            {"/outbound", nil},
		"not http":                {"ftp://mhs/outbound", nil},
		"no host":                 {"http:///outbound", nil},
		"zero timeout":            {"http://mhs", []spine.MHSOption{spine.WithTimeout(0)}},
		"nil client":              {"http://mhs", []spine.MHSOption{spine.WithHTTPClient(nil)}},
		"protocol header":         {"http://mhs", []spine.MHSOption{spine.WithHeader("interaction-id", "X")}},
		"header name with space":  {"http://mhs", []spine.MHSOption{spine.WithHeader("api key", "X")}},
		"header value with CR LF": {"http://mhs", []spine.MHSOption{spine.WithHeader("apikey", "a\r\nInteraction-Id: X")}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := spine.NewMHS(tc.url, tc.opts...)
			require.Error(t, err)
		})
	}
	_, err := spine.NewMHS("https://mhs.example:8443/outbound", spine.WithTimeout(time.Second),
		spine.WithHTTPClient(&http.Client{}), spine.WithHeader("apikey", "k"))
	require.NoError(t, err)
}

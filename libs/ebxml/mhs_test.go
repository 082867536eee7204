package ebxml_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/ebxml"
)

func TestOutboundJSONRoundTrip(t *testing.T) {
	m := testMessage()
	body, err := m.OutboundJSON()
	require.NoError(t, err)
	h, err := m.OutboundHeaders("B86041")
	require.NoError(t, err)
	h2, err := ebxml.ParseOutboundHeaders(h.HTTPHeader())
	require.NoError(t, err)
	assert.Equal(t, h, h2)

	got, err := ebxml.ParseOutboundJSON(body, h2)
	require.NoError(t, err)
	want := withReceived(m, encodedText)
	want.Envelope = ebxml.Envelope{Action: m.Envelope.Action, ConversationID: m.Envelope.ConversationID, MessageID: m.Envelope.MessageID}
	want.PayloadContentID = ""
	for i := range want.Attachments {
		want.Attachments[i].ContentID = "" // MHS assigns content ids
	}
	assert.Equal(t, want, got)
}

func TestOutboundJSONShape(t *testing.T) {
	m := testMessage()
	m.Payload = []byte(`<a b="c">&amp;</a>`)
	m.Attachments[0].Data = []byte{0, 1, 2}
	m.Attachments = m.Attachments[:1]
	body, err := m.OutboundJSON()
	require.NoError(t, err)
	assert.Equal(t, `{"payload":"<a b=\"c\">&amp;</a>",`+
		`"attachments":[{"content_type":"image/tiff","is_base64":true,`+
		`"description":"Filename=\"scan 1.tif\" ContentType=image/tiff Compressed=No LargeAttachment=No OriginalBase64=Yes Length=621",`+
		`"payload":"AAEC","document_id":"_0557F0E0-A231-41ED-808B-AC162D1F16F0"}],`+
		`"external_attachments":[{"document_id":"_0557F0E4-A231-41ED-808B-AC162D1F16F0","message_id":"0635CDC0-A231-41ED-808B-AC162D1F16F0",`+
		`"description":"Filename=\"photo.jpg\" ContentType=image/jpeg Compressed=Yes LargeAttachment=Yes OriginalBase64=No Length=14404686"}]}`,
		string(body))

	m.Attachments, m.External = nil, nil
	body, err = m.OutboundJSON()
	require.NoError(t, err)
	assert.JSONEq(t, `{"payload":"<a b=\"c\">&amp;</a>","attachments":[],"external_attachments":[]}`, string(body))
}

func TestOutboundHeaders(t *testing.T) {
	m := testMessage()
	m.Envelope.ConversationID = strings.ToLower(testConversationID)
	h, err := m.OutboundHeaders(" B86041 ")
	require.NoError(t, err)
	assert.Equal(t, ebxml.OutboundHeaders{
		InteractionID: "RCMR_IN030000UK06", CorrelationID: testConversationID, MessageID: testMessageID, ODSCode: "B86041",
	}, h)
	hdr := h.HTTPHeader()
	assert.Equal(t, "RCMR_IN030000UK06", hdr.Get("Interaction-Id"))
	assert.Equal(t, "false", hdr.Get("wait-for-response"))
	assert.Equal(t, testConversationID, hdr.Get("Correlation-Id"))
	assert.Equal(t, testMessageID, hdr.Get("Message-Id"))
	assert.Equal(t, "B86041", hdr.Get("ods-code"))
	assert.Equal(t, "application/json", hdr.Get("Content-Type"))

	_, err = m.OutboundHeaders("")
	require.ErrorIs(t, err, ebxml.ErrInvalid)
	m.Envelope.Action = ""
	_, err = m.OutboundHeaders("B86041")
	require.ErrorIs(t, err, ebxml.ErrInvalid)

	_, err = ebxml.ParseOutboundHeaders(http.Header{})
	require.ErrorIs(t, err, ebxml.ErrMalformed)
	_, err = ebxml.ParseOutboundHeaders(http.Header{"Interaction-Id": {"X"}, "Wait-For-Response": {"perhaps"}})
	require.ErrorIs(t, err, ebxml.ErrMalformed)
}

func TestOutboundJSONLimits(t *testing.T) {
	tests := []struct {
		name   string
		modify func(m *ebxml.Message)
		err    error // nil: accepted
	}{
		{"98 attachments", func(m *ebxml.Message) { m.Attachments = repeatAttachment(m.Attachments[1], 98) }, nil},
		{"99 attachments", func(m *ebxml.Message) { m.Attachments = repeatAttachment(m.Attachments[1], 99) }, ebxml.ErrLimit},
		{"payload of 5,000,000 characters (10 MB)", func(m *ebxml.Message) {
			m.Payload = []byte(strings.Repeat("é", ebxml.MaxMHSChars))
		}, nil},
		{"payload of 5,000,001 characters", func(m *ebxml.Message) {
			m.Payload = []byte(strings.Repeat("a", ebxml.MaxMHSChars+1))
		}, ebxml.ErrLimit},
		{"base64 attachment of 5,000,000 characters", func(m *ebxml.Message) {
			m.Attachments[0].Data = make([]byte, ebxml.MaxMHSChars/4*3)
		}, nil},
		{"base64 attachment of 5,000,004 characters", func(m *ebxml.Message) {
			m.Attachments[0].Data = make([]byte, ebxml.MaxMHSChars/4*3+1)
		}, ebxml.ErrLimit},
		{"text attachment of 5,000,001 characters", func(m *ebxml.Message) {
			m.Attachments[1].Data = []byte(strings.Repeat("x", ebxml.MaxMHSChars+1))
		}, ebxml.ErrLimit},
		{"content type the MHS refuses", func(m *ebxml.Message) { m.Attachments[0].ContentType = "application/x-gzip" }, ebxml.ErrInvalid},
		{"unparseable content type", func(m *ebxml.Message) { m.Attachments[0].ContentType = "image/" }, ebxml.ErrInvalid},
		{"text attachment that is not UTF-8", func(m *ebxml.Message) { m.Attachments[1].Data = []byte{0xff} }, ebxml.ErrInvalid},
		{"no filename", func(m *ebxml.Message) { m.Attachments[1].Description.Filename = "" }, ebxml.ErrInvalid},
		{"bad document id", func(m *ebxml.Message) { m.External[0].DocumentID = "1abc" }, ebxml.ErrInvalid},
		{"no external message id", func(m *ebxml.Message) { m.External[0].MessageID = "" }, ebxml.ErrInvalid},
		{"no payload", func(m *ebxml.Message) { m.Payload = nil }, ebxml.ErrInvalid},
		{"payload not UTF-8", func(m *ebxml.Message) { m.Payload = []byte("<a>\xff</a>") }, ebxml.ErrInvalid},
		{"no conversation id", func(m *ebxml.Message) { m.Envelope.ConversationID = "" }, ebxml.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := testMessage()
			tt.modify(m)
			body, err := m.OutboundJSON()
			if tt.err == nil {
				require.NoError(t, err)
				assert.True(t, json.Valid(body))
				return
			}
			require.ErrorIs(t, err, tt.err)
			var ee *ebxml.Error
			require.True(t, errors.As(err, &ee))
			assert.NotEmpty(t, ee.Reason)
		})
	}
}

func repeatAttachment(a ebxml.Attachment, n int) []ebxml.Attachment {
	out := make([]ebxml.Attachment, n)
	for i := range out {
		out[i] = a
		out[i].ContentID = ""
	}
	return out
}

func TestInboundJSONRoundTrip(t *testing.T) {
	m := testMessage()
	body, err := m.InboundJSON()
	require.NoError(t, err)
	got, err := ebxml.ParseInboundJSON(body)
	require.NoError(t, err)
	assert.Equal(t, withReceived(m, encodedText), got)
}

func TestParseInboundJSONVariants(t *testing.T) {
	e := testEnvelope()
	e.Manifest = append(e.Manifest, ebxml.Reference{Href: "cid:second@x", Description: `Filename="b.txt" ContentType=text/plain`})
	envXML, err := e.Build()
	require.NoError(t, err)
	ebXML, err := json.Marshal(string(envXML))
	require.NoError(t, err)
	doc := func(attachments, external string) []byte {
		return []byte(`{"ebXML":` + string(ebXML) + `,"payload":"<p/>","attachments":` + attachments + `,"external_attachments":` + external + `}`)
	}
	tests := []struct {
		name  string
		in    []byte
		check func(t *testing.T, m *ebxml.Message)
	}{
		{
			name: "is_base64 as strings, no content ids: matched in order, descriptions from the manifest",
			in:   doc(`[{"payload":"AAEC","is_base64":"True","content_type":"image/tiff"},{"payload":"hi","is_base64":"false","content_type":"text/plain","description":""}]`, `null`),
			check: func(t *testing.T, m *ebxml.Message) {
				require.Len(t, m.Attachments, 2)
				assert.Equal(t, "attachment1@spine.nhs.uk", m.Attachments[0].ContentID)
				assert.Equal(t, []byte{0, 1, 2}, m.Attachments[0].Data)
				assert.True(t, m.Attachments[0].Base64)
				assert.Equal(t, "scan.tif", m.Attachments[0].Description.Filename)
				assert.Equal(t, "_0557F0E0-A231-41ED-808B-AC162D1F16F0", m.Attachments[0].DocumentID)
				assert.Equal(t, "second@x", m.Attachments[1].ContentID)
				assert.Equal(t, []byte("hi"), m.Attachments[1].Data)
				assert.False(t, m.Attachments[1].Base64)
				assert.Equal(t, "b.txt", m.Attachments[1].Description.Filename)
				require.Len(t, m.External, 1, "mid: references are external attachments even when the JSON omits them")
				assert.Equal(t, testCOPCMessageID, m.External[0].MessageID)
				assert.Equal(t, "photo.jpg", m.External[0].Description.Filename)
			},
		},
		{
			name: "content ids out of order and in angle brackets; JSON description wins",
			in:   doc(`[{"payload":"","is_base64":null,"content_id":"<SECOND@X>","description":"Filename=\"c.txt\""},{"payload":"","is_base64":true,"content_id":"attachment1@spine.nhs.uk"}]`, `[]`),
			check: func(t *testing.T, m *ebxml.Message) {
				require.Len(t, m.Attachments, 2)
				assert.Equal(t, "SECOND@X", m.Attachments[0].ContentID)
				assert.Equal(t, "c.txt", m.Attachments[0].Description.Filename)
				assert.Equal(t, "scan.tif", m.Attachments[1].Description.Filename)
			},
		},
		{
			name: "documentId spelling, lower-case message id, an extra external",
			in: doc(`[]`, `[{"documentId":"_DOC","message_id":"`+strings.ToLower(testCOPCMessageID)+`","description":"Filename=\"p.jpg\""},`+
				`{"document_id":"_EXTRA","message_id":"abc","description":"x.bin","title":"x.bin"}]`),
			check: func(t *testing.T, m *ebxml.Message) {
				require.Len(t, m.External, 2)
				assert.Equal(t, ebxml.ExternalAttachment{
					DocumentID: "_DOC", MessageID: testCOPCMessageID,
					DescriptionText: `Filename="p.jpg"`, Description: ebxml.Description{Filename: "p.jpg"},
				}, m.External[0])
				assert.Equal(t, "ABC", m.External[1].MessageID)
				assert.Equal(t, "_EXTRA", m.External[1].DocumentID)
				assert.Equal(t, "x.bin", m.External[1].Description.Filename)
			},
		},
		{
			name: "unknown members are ignored",
			in:   []byte(`{"ebXML":` + string(ebXML) + `,"payload":"<p/>","extra":{"a":[1,2]}}`),
			check: func(t *testing.T, m *ebxml.Message) {
				assert.Equal(t, []byte("<p/>"), m.Payload)
				assert.Empty(t, m.Attachments)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ebxml.ParseInboundJSON(tt.in)
			require.NoError(t, err)
			assert.Equal(t, testConversationID, m.Envelope.ConversationID)
			tt.check(t, m)
		})
	}
}

package ebxml_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/ebxml"
	"github.com/nhsengland/gp2gp/libs/xmldoc"
)

// requireError checks err is an *ebxml.Error about part wrapping sentinel.
func requireError(t *testing.T, err error, part ebxml.Part, sentinel error) *ebxml.Error {
	t.Helper()
	require.Error(t, err)
	require.ErrorIs(t, err, sentinel)
	var ee *ebxml.Error
	require.True(t, errors.As(err, &ee), "error %T is not an *ebxml.Error", err)
	assert.Equal(t, part, ee.Part, "part of %q", err)
	assert.NotEmpty(t, ee.Reason)
	assert.True(t, strings.HasPrefix(err.Error(), "ebxml "+string(part)+": "), err.Error())
	return ee
}

const envelopeWithDoctype = `<?xml version="1.0"?><!DOCTYPE e [<!ENTITY x "boom">]><SOAP:Envelope><SOAP:Header/></SOAP:Envelope>`

const envelopeWithDuplicateAttr = `<SOAP:Envelope><SOAP:Header><eb:MessageHeader eb:version="2.0" eb:version="2.0">` +
	`<eb:ConversationId>c</eb:ConversationId><eb:Action>a</eb:Action><eb:MessageData><eb:MessageId>m</eb:MessageId></eb:MessageData>` +
	`</eb:MessageHeader></SOAP:Header></SOAP:Envelope>`

func mimeWith(envelope string, more ...string) []byte {
	var b strings.Builder
	b.WriteString("--b\r\nContent-Id: <ebXMLHeader@spine.nhs.uk>\r\n\r\n" + envelope + "\r\n")
	for _, p := range more {
		b.WriteString("--b\r\n" + p + "\r\n")
	}
	b.WriteString("--b--\r\n")
	return []byte(b.String())
}

func TestHostileEnvelope(t *testing.T) {
	good, err := func() ([]byte, error) { e := testEnvelope(); return e.Build() }()
	require.NoError(t, err)
	tests := []struct {
		name     string
		in       string
		sentinel error
		xmlErr   bool // the cause is an *xmldoc.Error
	}{
		{"DOCTYPE", envelopeWithDoctype, ebxml.ErrMalformed, true},
		{"duplicate attributes", envelopeWithDuplicateAttr, ebxml.ErrMalformed, true},
		{"not XML", "hello", ebxml.ErrMalformed, true},
		{"truncated XML", string(good[:len(good)/2]), ebxml.ErrMalformed, true},
		{"empty", "  \n", ebxml.ErrNoEnvelope, false},
		{"root is not an Envelope", testPayload, ebxml.ErrNoEnvelope, false},
		{"no MessageHeader", `<S:Envelope><S:Header/><S:Body/></S:Envelope>`, ebxml.ErrMalformed, false},
		{"no Action", strings.Replace(string(good), "<eb:Action>RCMR_IN030000UK06</eb:Action>", "", 1), ebxml.ErrMalformed, false},
		{"no MessageId", strings.Replace(string(good), "<eb:MessageId>"+testMessageID+"</eb:MessageId>", "<eb:MessageId/>", 1), ebxml.ErrMalformed, false},
		{"unreadable Timestamp", strings.Replace(string(good), "2024-03-25T11:02:58Z</eb:Timestamp>", "yesterday</eb:Timestamp>", 1), ebxml.ErrMalformed, false},
		{"entity expansion attempt", `<S:Envelope>&x;</S:Envelope>`, ebxml.ErrMalformed, true},
		{"non-UTF-8 encoding", `<?xml version="1.0" encoding="UTF-16"?><S:Envelope/>`, ebxml.ErrMalformed, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ebxml.ParseEnvelope([]byte(tt.in))
			requireError(t, err, ebxml.PartEnvelope, tt.sentinel)
			var xe *xmldoc.Error
			assert.Equal(t, tt.xmlErr, errors.As(err, &xe), "xmldoc cause in %q", err)

			// The same envelope inside MIME and inside MHS JSON fails the
			// same way: the error says the envelope is at fault.
			_, err = ebxml.ParseMIME(mimeWith(tt.in))
			requireError(t, err, ebxml.PartEnvelope, tt.sentinel)
			js, jerr := json.Marshal(map[string]string{"ebXML": tt.in})
			require.NoError(t, jerr)
			_, err = ebxml.ParseInboundJSON(js)
			if strings.TrimSpace(tt.in) == "" {
				requireError(t, err, ebxml.PartJSON, ebxml.ErrNoEnvelope)
			} else {
				requireError(t, err, ebxml.PartEnvelope, tt.sentinel)
			}
		})
	}
}

func TestHostileMIME(t *testing.T) {
	env, err := func() ([]byte, error) {
		e := testEnvelope()
		e.Manifest = e.Manifest[:2]
		return e.Build()
	}()
	require.NoError(t, err)
	payloadPart := "Content-Id: <" + testMessageID + "@spine.nhs.uk>\r\n\r\n" + testPayload
	tests := []struct {
		name     string
		in       []byte
		part     ebxml.Part
		sentinel error
	}{
		{"no boundary anywhere", []byte("just some text\nwith lines\n"), ebxml.PartMIME, ebxml.ErrNoBoundary},
		{"empty input", nil, ebxml.PartMIME, ebxml.ErrNoBoundary},
		{"declared boundary never appears", append([]byte("Content-Type: multipart/related; boundary=\"nope\"\r\n\r\n"), mimeWith(string(env), payloadPart)...), ebxml.PartMIME, ebxml.ErrNoBoundary},
		{"wrong boundary in the HTTP headers", append([]byte("POST / HTTP/1.1\r\nContent-Type: multipart/related; boundary=other\r\n\r\n"), mimeWith(string(env), payloadPart)...), ebxml.PartMIME, ebxml.ErrNoBoundary},
		{"no closing boundary", []byte(strings.TrimSuffix(string(mimeWith(string(env), payloadPart)), "--b--\r\n")), ebxml.PartMIME, ebxml.ErrTruncated},
		{"ends on a boundary line", []byte("--b\r\nContent-Id: <x>\r\n\r\nabc\r\n--b"), ebxml.PartMIME, ebxml.ErrTruncated},
		{"no parts", []byte("--b--\r\n"), ebxml.PartMIME, ebxml.ErrNoEnvelope},
		{"first part is the HL7, not an envelope", []byte("--b\r\n" + payloadPart + "\r\n--b--"), ebxml.PartEnvelope, ebxml.ErrNoEnvelope},
		{"payload part missing", mimeWith(string(env)), ebxml.PartMIME, ebxml.ErrNoPayload},
		{"invalid base64", mimeWith(string(env), payloadPart, "Content-Id: <attachment1@spine.nhs.uk>\r\nContent-Transfer-Encoding: base64\r\n\r\nAAEC!!!="), ebxml.PartAttachment, ebxml.ErrBase64},
		{"base64 one character too long", mimeWith(string(env), payloadPart, "Content-Id: <a>\r\nContent-Transfer-Encoding: base64\r\n\r\nAAECA"), ebxml.PartAttachment, ebxml.ErrBase64},
		{"padding in the middle", mimeWith(string(env), payloadPart, "Content-Id: <a>\r\nContent-Transfer-Encoding: base64\r\n\r\nAA==AAAA"), ebxml.PartAttachment, ebxml.ErrBase64},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ebxml.ParseMIME(tt.in)
			requireError(t, err, tt.part, tt.sentinel)
		})
	}
}

// TestTruncatedMIME cuts a valid body at many points: every cut fails
// with a typed error, never a panic.
func TestTruncatedMIME(t *testing.T) {
	body, _, err := testMessage().MarshalMIME()
	require.NoError(t, err)
	closeAt := len(body) - len("--\r\n")
	for cut := 0; cut < closeAt; cut += 7 {
		_, err := ebxml.ParseMIME(body[:cut])
		require.Error(t, err, "cut at %d", cut)
		var ee *ebxml.Error
		require.True(t, errors.As(err, &ee), "cut at %d: %T %v", cut, err, err)
	}
	_, err = ebxml.ParseMIME(body[:closeAt+2])
	require.NoError(t, err, "cut right after the closing delimiter")
}

func TestHostileJSON(t *testing.T) {
	envXML, err := func() ([]byte, error) { e := testEnvelope(); return e.Build() }()
	require.NoError(t, err)
	ebXML, err := json.Marshal(string(envXML))
	require.NoError(t, err)
	tests := []struct {
		name     string
		in       string
		part     ebxml.Part
		sentinel error
		typeErr  bool // the cause is a *json.UnmarshalTypeError
	}{
		{"not JSON", `<xml/>`, ebxml.PartJSON, ebxml.ErrMalformed, false},
		{"truncated", `{"ebXML": "abc`, ebxml.PartJSON, ebxml.ErrMalformed, false},
		{"an array", `[]`, ebxml.PartJSON, ebxml.ErrMalformed, true},
		{"ebXML is a number", `{"ebXML": 5}`, ebxml.PartJSON, ebxml.ErrMalformed, true},
		{"payload is an object", `{"ebXML": ` + string(ebXML) + `, "payload": {}}`, ebxml.PartJSON, ebxml.ErrMalformed, true},
		{"attachments is a string", `{"ebXML": ` + string(ebXML) + `, "attachments": "x"}`, ebxml.PartJSON, ebxml.ErrMalformed, true},
		{"is_base64 is a number", `{"ebXML": ` + string(ebXML) + `, "attachments": [{"is_base64": 1}]}`, ebxml.PartJSON, ebxml.ErrMalformed, false},
		{"is_base64 is another word", `{"ebXML": ` + string(ebXML) + `, "attachments": [{"is_base64": "yes please"}]}`, ebxml.PartJSON, ebxml.ErrMalformed, false},
		{"message_id is an array", `{"ebXML": ` + string(ebXML) + `, "external_attachments": [{"message_id": []}]}`, ebxml.PartJSON, ebxml.ErrMalformed, true},
		{"no ebXML", `{"payload": "<a/>"}`, ebxml.PartJSON, ebxml.ErrNoEnvelope, false},
		{"null", `null`, ebxml.PartJSON, ebxml.ErrNoEnvelope, false},
		{"invalid base64 attachment", `{"ebXML": ` + string(ebXML) + `, "attachments": [{"payload": "###", "is_base64": true}]}`, ebxml.PartAttachment, ebxml.ErrBase64, false},
		{"DOCTYPE in the ebXML", `{"ebXML": ` + mustJSON(t, envelopeWithDoctype) + `}`, ebxml.PartEnvelope, ebxml.ErrMalformed, false},
		{"not UTF-8", `{"ebXML": ` + string(ebXML) + `, "payload": "Ren` + "\xe9" + `e"}`, ebxml.PartJSON, ebxml.ErrMalformed, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ebxml.ParseInboundJSON([]byte(tt.in))
			requireError(t, err, tt.part, tt.sentinel)
			var te *json.UnmarshalTypeError
			assert.Equal(t, tt.typeErr, errors.As(err, &te), "json type error cause in %q", err)
			if tt.part == ebxml.PartJSON {
				_, err = ebxml.ParseOutboundJSON([]byte(tt.in), ebxml.OutboundHeaders{})
				if tt.sentinel == ebxml.ErrNoEnvelope {
					require.NoError(t, err, "outbound JSON has no ebXML")
				} else {
					requireError(t, err, tt.part, tt.sentinel)
				}
			}
		})
	}
}

// JSON text is UTF-8: a byte that is not is refused where it is, rather
// than turned into U+FFFD inside the HL7 text as encoding/json would.
func TestJSONNotUTF8(t *testing.T) {
	js, err := testMessage().InboundJSON()
	require.NoError(t, err)
	at := bytes.Index(js, []byte(`"payload":"`)) + len(`"payload":"`) + 10
	bad := append(append(bytes.Clone(js[:at]), 0xff, 0xfe), js[at:]...)
	_, err = ebxml.ParseInboundJSON(bad)
	ee := requireError(t, err, ebxml.PartJSON, ebxml.ErrMalformed)
	assert.Contains(t, ee.Reason, fmt.Sprintf("invalid UTF-8 at byte %d", at))
}

// An attachment whose base64 does not decode fails the parse, but the
// message comes back with the error: its envelope, payload and other
// attachments, so its recipient can answer it.
func TestJSONInvalidBase64KeepsTheMessage(t *testing.T) {
	m := testMessage()
	js, err := m.InboundJSON()
	require.NoError(t, err)
	var body map[string]any
	require.NoError(t, json.Unmarshal(js, &body))
	atts := body["attachments"].([]any)
	require.GreaterOrEqual(t, len(atts), 2)
	first := atts[0].(map[string]any)
	require.Equal(t, true, first["is_base64"])
	first["payload"] = "JVBERi0x!!!not base64"
	js, err = json.Marshal(body)
	require.NoError(t, err)

	got, err := ebxml.ParseInboundJSON(js)
	ee := requireError(t, err, ebxml.PartAttachment, ebxml.ErrBase64)
	assert.Contains(t, ee.Reason, "attachment 0")
	require.NotNil(t, got, "the message is returned with the error")
	assert.Equal(t, m.Envelope.ConversationID, got.Envelope.ConversationID)
	assert.Equal(t, m.Envelope.MessageID, got.Envelope.MessageID)
	assert.Equal(t, string(m.Payload), string(got.Payload))
	require.Len(t, got.Attachments, len(m.Attachments))
	assert.Nil(t, got.Attachments[0].Data, "no data for the attachment that does not decode")
	assert.Equal(t, "JVBERi0x!!!not base64", string(got.Attachments[0].Encoded))
	assert.Equal(t, m.Attachments[1].Data, got.Attachments[1].Data, "the others are decoded")
}

func mustJSON(t *testing.T, s string) string {
	t.Helper()
	b, err := json.Marshal(s)
	require.NoError(t, err)
	return string(b)
}

func TestLimitsAndOptions(t *testing.T) {
	body, _, err := testMessage().MarshalMIME()
	require.NoError(t, err)
	js, err := testMessage().InboundJSON()
	require.NoError(t, err)

	t.Run("size limit", func(t *testing.T) {
		_, err := ebxml.ParseMIME(body, ebxml.WithMaxBytes(len(body)-1))
		requireError(t, err, ebxml.PartMIME, ebxml.ErrTooLarge)
		_, err = ebxml.ParseMIME(body, ebxml.WithMaxBytes(len(body)))
		require.NoError(t, err)
		_, err = ebxml.ParseInboundJSON(js, ebxml.WithMaxBytes(100))
		requireError(t, err, ebxml.PartJSON, ebxml.ErrTooLarge)
		_, err = ebxml.ParseEnvelope(make([]byte, 101), ebxml.WithMaxBytes(100))
		requireError(t, err, ebxml.PartEnvelope, ebxml.ErrTooLarge)
	})
	t.Run("part limit", func(t *testing.T) {
		_, err := ebxml.ParseMIME(body, ebxml.WithMaxParts(3))
		requireError(t, err, ebxml.PartMIME, ebxml.ErrTooLarge)
		_, err = ebxml.ParseMIME(body, ebxml.WithMaxParts(4))
		require.NoError(t, err)
	})
	t.Run("xml limits reach xmldoc", func(t *testing.T) {
		_, err := ebxml.ParseMIME(body, ebxml.WithXMLLimits(xmldoc.Limits{MaxDepth: 3}))
		requireError(t, err, ebxml.PartEnvelope, ebxml.ErrMalformed)
		var xe *xmldoc.Error
		require.ErrorAs(t, err, &xe)
		assert.Contains(t, xe.Reason, "nested deeper than 3")
	})
	t.Run("bad options", func(t *testing.T) {
		for _, opt := range []ebxml.Option{ebxml.WithMaxBytes(0), ebxml.WithMaxParts(-1), ebxml.WithXMLLimits(xmldoc.Limits{MaxAttrs: -1})} {
			_, err := ebxml.ParseMIME(body, opt)
			requireError(t, err, ebxml.PartMessage, ebxml.ErrOption)
			_, err = ebxml.ParseInboundJSON(js, opt)
			requireError(t, err, ebxml.PartMessage, ebxml.ErrOption)
			_, err = ebxml.ParseEnvelope(body, opt)
			requireError(t, err, ebxml.PartMessage, ebxml.ErrOption)
			_, err = ebxml.ParseOutboundJSON(js, ebxml.OutboundHeaders{}, opt)
			requireError(t, err, ebxml.PartMessage, ebxml.ErrOption)
		}
	})
}

func TestMarshalMIMERefuses(t *testing.T) {
	tests := []struct {
		name     string
		modify   func(m *ebxml.Message)
		part     ebxml.Part
		sentinel error
	}{
		{"99 attachments", func(m *ebxml.Message) { m.Attachments = repeatAttachment(m.Attachments[1], 99) }, ebxml.PartMessage, ebxml.ErrLimit},
		{"duplicate content ids", func(m *ebxml.Message) { m.Attachments[1].ContentID = strings.ToUpper(m.Attachments[0].ContentID) }, ebxml.PartMessage, ebxml.ErrInvalid},
		{"content id of the envelope", func(m *ebxml.Message) { m.PayloadContentID = ebxml.EnvelopeContentID }, ebxml.PartMessage, ebxml.ErrInvalid},
		{"content id with brackets", func(m *ebxml.Message) { m.Attachments[0].ContentID = "<a>" }, ebxml.PartMessage, ebxml.ErrInvalid},
		{"envelope without a CPA id", func(m *ebxml.Message) { m.Envelope.CPAID = "" }, ebxml.PartEnvelope, ebxml.ErrInvalid},
		{"no content type", func(m *ebxml.Message) { m.Attachments[0].ContentType = "" }, ebxml.PartAttachment, ebxml.ErrInvalid},
		{"binary data sent as text", func(m *ebxml.Message) { m.Attachments[0].Base64 = false }, ebxml.PartAttachment, ebxml.ErrInvalid},
		{"negative length", func(m *ebxml.Message) { m.Attachments[0].Description.Length = -1 }, ebxml.PartAttachment, ebxml.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := testMessage()
			tt.modify(m)
			_, _, err := m.MarshalMIME()
			requireError(t, err, tt.part, tt.sentinel)
		})
	}
}

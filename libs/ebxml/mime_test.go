package ebxml_test

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/ebxml"
)

func encodedText(a ebxml.Attachment) []byte {
	return []byte(base64.StdEncoding.EncodeToString(a.Data))
}

func TestMIMERoundTrip(t *testing.T) {
	tests := []struct {
		name   string
		modify func(m *ebxml.Message)
	}{
		{name: "binary and text attachments, external attachment", modify: func(*ebxml.Message) {}},
		{name: "no attachments", modify: func(m *ebxml.Message) { m.Attachments, m.External = nil, nil }},
		{name: "empty base64 attachment", modify: func(m *ebxml.Message) {
			m.Attachments[0].Data = []byte{}
			m.Attachments[0].Description.Length = 0
		}},
		{name: "text attachment with the boundary in it", modify: func(m *ebxml.Message) {
			m.Attachments[1].Data = []byte("--" + ebxml.DefaultBoundary + "\r\n--" + ebxml.DefaultBoundary + "_1--\n")
		}},
		{name: "text attachment ending in CR", modify: func(m *ebxml.Message) { m.Attachments[1].Data = []byte("abc\r") }},
		{name: "large binary attachment", modify: func(m *ebxml.Message) {
			m.Attachments[0].Data = bytes.Repeat(binaryData(), 2000)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := testMessage()
			tt.modify(m)
			body, ct, err := m.MarshalMIME()
			require.NoError(t, err)
			assert.True(t, strings.HasPrefix(ct, `multipart/related; boundary="`), ct)
			assert.True(t, strings.HasSuffix(ct, `"; type="text/xml"; start="<ebXMLHeader@spine.nhs.uk>"`), ct)

			// As a capture: HTTP request line and headers, then the body.
			capture := "POST /reliablemessaging/forwardreliable HTTP/1.1\r\nContent-Type: " + ct + "\r\n\r\n" + string(body)
			for _, in := range [][]byte{body, []byte(capture)} {
				got, err := ebxml.ParseMIME(in)
				require.NoError(t, err)
				assert.Equal(t, withReceived(m, encodedText), got)
			}
		})
	}
}

func TestMarshalMIMEShape(t *testing.T) {
	body, ct, err := testMessage().MarshalMIME()
	require.NoError(t, err)
	assert.Equal(t, `multipart/related; boundary="--=_MIME-Boundary"; type="text/xml"; start="<ebXMLHeader@spine.nhs.uk>"`, ct)
	s := string(body)
	assert.True(t, strings.HasPrefix(s, "----=_MIME-Boundary\r\nContent-Id: <ebXMLHeader@spine.nhs.uk>\r\n"))
	assert.True(t, strings.HasSuffix(s, "\r\n----=_MIME-Boundary--\r\n"))
	assert.Contains(t, s, "Content-Id: <attachment1@spine.nhs.uk>\r\nContent-Transfer-Encoding: base64\r\nContent-Type: image/tiff\r\n\r\n")
	assert.Contains(t, s, "Content-Transfer-Encoding: 8bit\r\nContent-Type: text/plain\r\n\r\nLine one")
	// base64 lines are 76 columns.
	start := strings.Index(s, "Content-Type: image/tiff\r\n\r\n") + len("Content-Type: image/tiff\r\n\r\n")
	lines := strings.Split(s[start:strings.Index(s[start:], "\r\n--")+start], "\r\n")
	require.Greater(t, len(lines), 2)
	for _, l := range lines[:len(lines)-1] {
		assert.Len(t, l, 76)
	}
	assert.LessOrEqual(t, len(lines[len(lines)-1]), 76)
}

// TestParseMIMEVariants: what vendors do differently still parses.
func TestParseMIMEVariants(t *testing.T) {
	env, err := func() ([]byte, error) {
		e := testEnvelope()
		e.Manifest = e.Manifest[:2]
		return e.Build()
	}()
	require.NoError(t, err)
	part := func(nl, headers, body string) string {
		return strings.ReplaceAll(headers, "\n", nl) + nl + body
	}
	payloadID := testMessageID + "@spine.nhs.uk"
	assemble := func(nl, boundary string, parts ...string) string {
		var b strings.Builder
		for _, p := range parts {
			b.WriteString("--" + boundary + nl + p + nl)
		}
		b.WriteString("--" + boundary + "--")
		return b.String()
	}
	std := func(nl string) []string {
		return []string{
			part(nl, "Content-Id: <ebXMLHeader@spine.nhs.uk>\nContent-Type: text/xml\n", string(env)),
			part(nl, "Content-Id: <"+payloadID+">\nContent-Type: application/xml\n", testPayload),
			part(nl, "Content-ID: <ATTACHMENT1@spine.nhs.uk>\nContent-Type: image/tiff\nContent-Transfer-Encoding: BASE64\n", "AAEC\nAwQF"),
		}
	}
	tests := []struct {
		name string
		in   string
	}{
		{"LF, boundary from the first line", assemble("\n", "b1", std("\n")...)},
		{"CRLF, boundary from the first line", assemble("\r\n", "b1", std("\r\n")...)},
		{"MIME header with unquoted boundary", "Content-Type: multipart/related; boundary=--=_b; type=text/xml\n\n" + assemble("\n", "--=_b", std("\n")...)},
		{"boundary in a preamble of junk", "\x00\x01junk;boundary=\"zz\";start=\"<ebXMLHeader@spine.nhs.uk>\"\x02--zz\n" + strings.TrimPrefix(assemble("\n", "zz", std("\n")...), "--zz\n")},
		{"trailing garbage after the close", assemble("\n", "b1", std("\n")...) + "\n`;\x00 more junk --b1\n"},
		{"transport padding after delimiters", strings.ReplaceAll(assemble("\n", "b1", std("\n")...), "--b1\n", "--b1 \t\n")},
		{"preamble text before the first delimiter", "This is a MIME message.\n" + assemble("\n", "b1", std("\n")...)},
		{"start names a later part", "Content-Type: multipart/related; boundary=\"b1\"; start=\"<ebXMLHeader@spine.nhs.uk>\"\n\n" +
			assemble("\n", "b1", std("\n")[1], std("\n")[0], std("\n")[2])},
		{"headers run into the content (Vision)", assemble("\r\n", "b1",
			part("\r\n", "Content-Id: <ebXMLHeader@spine.nhs.uk>\nContent-Type: text/xml", "\t"+string(env)),
			std("\r\n")[1], std("\r\n")[2])},
		{"folded header", assemble("\n", "b1", std("\n")[0],
			part("\n", "Content-Id:\n <"+payloadID+">\nContent-Type: application/xml\n", testPayload), std("\n")[2])},
		{"quoted-printable", assemble("\n", "b1", std("\n")[0], std("\n")[1],
			part("\n", "Content-Id: <attachment1@spine.nhs.uk>\nContent-Type: image/tiff\nContent-Transfer-Encoding: quoted-printable\n", "=00=01=02=03=04=05"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ebxml.ParseMIME([]byte(tt.in))
			require.NoError(t, err)
			assert.Equal(t, "RCMR_IN030000UK06", m.Envelope.Action)
			assert.Equal(t, payloadID, m.PayloadContentID)
			assert.Equal(t, testPayload, strings.TrimSpace(string(m.Payload)))
			require.Len(t, m.Attachments, 1)
			a := m.Attachments[0]
			assert.Equal(t, []byte{0, 1, 2, 3, 4, 5}, a.Data)
			assert.Equal(t, "image/tiff", a.ContentType)
			assert.Equal(t, "_0557F0E0-A231-41ED-808B-AC162D1F16F0", a.DocumentID, "matched to its reference ignoring case")
			assert.Equal(t, "scan.tif", a.Description.Filename)
		})
	}
}

func TestParseMIMEEmptyPart(t *testing.T) {
	e := testEnvelope()
	e.Manifest = e.Manifest[:1]
	env, err := e.Build()
	require.NoError(t, err)
	in := "--b\nContent-Id: <ebXMLHeader@spine.nhs.uk>\n\n" + string(env) + "\n--b\nContent-Id: <" + testMessageID + "@spine.nhs.uk>\n\n\n--b\n--b--\n"
	m, err := ebxml.ParseMIME([]byte(in))
	require.NoError(t, err)
	assert.Empty(t, m.Payload)
	require.Len(t, m.Attachments, 1, "the empty part after the payload")
	assert.Empty(t, m.Attachments[0].Data)
}

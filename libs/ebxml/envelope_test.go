package ebxml_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/ebxml"
)

func TestEnvelopeRoundTrip(t *testing.T) {
	tests := []struct {
		name   string
		modify func(e *ebxml.Envelope)
		want   func(e *ebxml.Envelope) // what parsing gives back, from the input
	}{
		{name: "full", modify: func(*ebxml.Envelope) {}},
		{
			name: "minimal: no TimeToLive, flags or manifest",
			modify: func(e *ebxml.Envelope) {
				e.TimeToLive = time.Time{}
				e.DuplicateElimination, e.AckRequested = false, false
				e.Manifest = nil
			},
		},
		{
			name:   "RefToMessageId",
			modify: func(e *ebxml.Envelope) { e.RefToMessageID = "0635CDC1-A231-41ED-808B-AC162D1F16F0" },
		},
		{
			name: "defaults for Service and party types",
			modify: func(e *ebxml.Envelope) {
				e.Service, e.From.Type, e.To.Type = "", "", ""
			},
			want: func(e *ebxml.Envelope) {
				e.Service = ebxml.ServiceGP2GP
				e.From.Type, e.To.Type = ebxml.PartyTypeServiceInstance, ebxml.PartyTypeServiceInstance
			},
		},
		{
			name: "ids are written upper-case, times in UTC to the second",
			modify: func(e *ebxml.Envelope) {
				e.ConversationID = strings.ToLower(e.ConversationID)
				e.MessageID = strings.ToLower(e.MessageID)
				e.Timestamp = time.Date(2024, 3, 25, 12, 2, 58, 999, time.FixedZone("BST", 3600))
			},
			want: func(e *ebxml.Envelope) {
				e.ConversationID = strings.ToUpper(e.ConversationID)
				e.MessageID = strings.ToUpper(e.MessageID)
				e.Timestamp = testTime
			},
		},
		{
			name: "multi-line description",
			modify: func(e *ebxml.Envelope) {
				e.Manifest[1].Description = "Filename=\"a.txt\"\n\tContentType=text/plain\n\tCompressed=No"
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := testEnvelope()
			tt.modify(&in)
			out, err := in.Build()
			require.NoError(t, err)
			got, err := ebxml.ParseEnvelope(out)
			require.NoError(t, err)
			want := in
			if tt.want != nil {
				tt.want(&want)
			}
			assert.Equal(t, &want, got)
		})
	}
}

// TestEnvelopeBuildShape checks the vendor/MHS conventions in the output.
func TestEnvelopeBuildShape(t *testing.T) {
	e := testEnvelope()
	out, err := e.Build()
	require.NoError(t, err)
	s := string(out)
	for _, want := range []string{
		`<?xml version="1.0" encoding="UTF-8"?>`,
		`<SOAP:Envelope xmlns:SOAP="http://schemas.xmlsoap.org/soap/envelope/" xmlns:eb="http://www.oasis-open.org/committees/ebxml-msg/schema/msg-header-2_0.xsd" xmlns:hl7ebxml="urn:hl7-org:transport/ebxml/DSTUv1.0" xmlns:xlink="http://www.w3.org/1999/xlink">`,
		`<eb:MessageHeader SOAP:mustUnderstand="1" eb:version="2.0">`,
		`<eb:PartyId eb:type="urn:nhs:names:partyType:ocs+serviceInstance">YGM24-820388</eb:PartyId>`,
		`<eb:Service>urn:nhs:names:services:gp2gp</eb:Service>`,
		`<eb:Timestamp>2024-03-25T11:02:58Z</eb:Timestamp>`,
		`<eb:DuplicateElimination/>`,
		`<eb:AckRequested SOAP:mustUnderstand="1" eb:version="2.0" eb:signed="false" SOAP:actor="urn:oasis:names:tc:ebxml-msg:actor:nextMSH"/>`,
		`<eb:Manifest SOAP:mustUnderstand="1" eb:version="2.0">`,
		`<eb:Reference xlink:href="cid:` + testMessageID + `@spine.nhs.uk">`,
		`<eb:Description xml:lang="en">HL7 payload</eb:Description>`,
		`<hl7ebxml:Payload style="HL7" encoding="XML" version="3.0"/>`,
		`<eb:Reference xlink:href="mid:` + testCOPCMessageID + `" eb:id="_0557F0E4-A231-41ED-808B-AC162D1F16F0">`,
	} {
		assert.Contains(t, s, want)
	}
	assert.Less(t, strings.Index(s, "<eb:MessageId>"), strings.Index(s, "<eb:Timestamp>"))
	assert.Less(t, strings.Index(s, "<eb:Timestamp>"), strings.Index(s, "<eb:TimeToLive>"))
}

func TestParseEnvelopeTolerant(t *testing.T) {
	header := func(prefix, inner string) string {
		return `<` + prefix + `Header><eb:MessageHeader><eb:From><eb:PartyId eb:type="t">A</eb:PartyId></eb:From>` +
			`<eb:To><eb:PartyId>B</eb:PartyId></eb:To><eb:ConversationId> abc-1 </eb:ConversationId>` +
			`<eb:Action>COPC_IN000001UK01</eb:Action><eb:MessageData><eb:MessageId>def-2</eb:MessageId>` + inner +
			`</eb:MessageData></eb:MessageHeader></` + prefix + `Header>`
	}
	tests := []struct {
		name  string
		xml   string
		check func(t *testing.T, e *ebxml.Envelope)
	}{
		{
			name: "no namespace declarations at all, no optional parts",
			xml:  `<soap:Envelope>` + header("soap:", "") + `</soap:Envelope>`,
			check: func(t *testing.T, e *ebxml.Envelope) {
				assert.Equal(t, "ABC-1", e.ConversationID)
				assert.Equal(t, "DEF-2", e.MessageID)
				assert.Equal(t, ebxml.PartyID{ID: "A", Type: "t"}, e.From)
				assert.Equal(t, ebxml.PartyID{ID: "B"}, e.To)
				assert.True(t, e.Timestamp.IsZero())
				assert.False(t, e.AckRequested)
				assert.Empty(t, e.Manifest)
			},
		},
		{
			name: "default namespace, BOM, surrounding whitespace, timestamp with offset",
			xml: "\xEF\xBB\xBF\n  <Envelope xmlns=\"http://schemas.xmlsoap.org/soap/envelope/\">" +
				header("", "<eb:Timestamp>2020-03-25T12:02:58.5+01:00</eb:Timestamp>") + `</Envelope>  `,
			check: func(t *testing.T, e *ebxml.Envelope) {
				assert.Equal(t, time.Date(2020, 3, 25, 11, 2, 58, 5e8, time.UTC), e.Timestamp)
			},
		},
		{
			name: "timestamp with no zone is UTC",
			xml:  `<S:Envelope>` + header("S:", "<eb:Timestamp>2020-03-25T11:02:58</eb:Timestamp>") + `</S:Envelope>`,
			check: func(t *testing.T, e *ebxml.Envelope) {
				assert.Equal(t, time.Date(2020, 3, 25, 11, 2, 58, 0, time.UTC), e.Timestamp)
			},
		},
		{
			name: "hl7ebXML upper-case prefix, references in any attribute order",
			xml: `<SOAP-ENV:Envelope>` + header("SOAP-ENV:", "") + `<SOAP-ENV:Body><eb:Manifest>` +
				`<eb:Reference eb:id="_X" xlink:href=" CID:payload@vision "><hl7ebXML:Payload/></eb:Reference>` +
				`<eb:Reference xlink:href="MID:abc"><eb:Description xml:lang="en-GB">  Filename="a"  </eb:Description></eb:Reference>` +
				`</eb:Manifest></SOAP-ENV:Body></SOAP-ENV:Envelope>`,
			check: func(t *testing.T, e *ebxml.Envelope) {
				require.Len(t, e.Manifest, 2)
				assert.Equal(t, ebxml.Reference{Href: "CID:payload@vision", ID: "_X", Payload: true}, e.Manifest[0])
				assert.Equal(t, "payload@vision", e.Manifest[0].Target())
				assert.True(t, e.Manifest[1].IsMID())
				assert.Equal(t, `Filename="a"`, e.Manifest[1].Description)
				assert.Equal(t, "a", e.Manifest[1].Metadata().Filename)
			},
		},
		{
			name: "AckRequested and DuplicateElimination with content",
			xml: `<e:Envelope><e:Header><eb:MessageHeader><eb:ConversationId>c</eb:ConversationId><eb:Action>a</eb:Action>` +
				`<eb:MessageData><eb:MessageId>m</eb:MessageId></eb:MessageData><eb:DuplicateElimination>always</eb:DuplicateElimination>` +
				`</eb:MessageHeader><eb:AckRequested/></e:Header></e:Envelope>`,
			check: func(t *testing.T, e *ebxml.Envelope) {
				assert.True(t, e.DuplicateElimination)
				assert.True(t, e.AckRequested)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := ebxml.ParseEnvelope([]byte(tt.xml))
			require.NoError(t, err)
			tt.check(t, e)
		})
	}
}

func TestEnvelopeValidate(t *testing.T) {
	tests := []struct {
		name   string
		modify func(e *ebxml.Envelope)
		reason string
	}{
		{"no From", func(e *ebxml.Envelope) { e.From.ID = "" }, "From party id"},
		{"no CPAId", func(e *ebxml.Envelope) { e.CPAID = "" }, "CPAId"},
		{"no ConversationId", func(e *ebxml.Envelope) { e.ConversationID = "" }, "ConversationId"},
		{"space in MessageId", func(e *ebxml.Envelope) { e.MessageID = "A B" }, "whitespace"},
		{"control character in Action", func(e *ebxml.Envelope) { e.Action = "RCMR\x01" }, "control character"},
		{"invalid UTF-8", func(e *ebxml.Envelope) { e.CPAID = "\xff" }, "invalid UTF-8"},
		{"no Timestamp", func(e *ebxml.Envelope) { e.Timestamp = time.Time{} }, "Timestamp"},
		{"href neither cid nor mid", func(e *ebxml.Envelope) { e.Manifest[1].Href = "http://x" }, "neither cid: nor mid:"},
		{"empty cid", func(e *ebxml.Envelope) { e.Manifest[1].Href = "cid:" }, "missing"},
		{"payload by mid", func(e *ebxml.Envelope) { e.Manifest[0].Href = "mid:X" }, "not cid:"},
		{"two payloads", func(e *ebxml.Envelope) { e.Manifest[1].Payload = true }, "2 HL7 payload references"},
		{"eb:id starting with a digit", func(e *ebxml.Envelope) { e.Manifest[1].ID = "0557F0E0" }, "NCName"},
		{"carriage return in description", func(e *ebxml.Envelope) { e.Manifest[1].Description = "a\rb" }, "control character"},
		{"description with surrounding space", func(e *ebxml.Envelope) { e.Manifest[1].Description = " a" }, "surrounding space"},
		{"non-XML character", func(e *ebxml.Envelope) { e.Manifest[1].Description = "a\uFFFEb" }, "not allowed in XML"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := testEnvelope()
			tt.modify(&e)
			_, err := e.Build()
			require.ErrorIs(t, err, ebxml.ErrInvalid)
			var ee *ebxml.Error
			require.True(t, errors.As(err, &ee))
			assert.Equal(t, ebxml.PartEnvelope, ee.Part)
			assert.Contains(t, err.Error(), tt.reason)
		})
	}
}

func TestReference(t *testing.T) {
	tests := []struct {
		href       string
		cid, mid   bool
		wantTarget string
	}{
		{"cid:payload@tpp-uk.com/SystmOne/GP2GP1.1A", true, false, "payload@tpp-uk.com/SystmOne/GP2GP1.1A"},
		{"CID:<a@b>", true, false, "a@b"},
		{" mid:ABC ", false, true, "ABC"},
		{"Mid:abc", false, true, "abc"},
		{"urn:x", false, false, "urn:x"},
		{"", false, false, ""},
		{"ci", false, false, "ci"},
	}
	for _, tt := range tests {
		t.Run(tt.href, func(t *testing.T) {
			r := ebxml.Reference{Href: tt.href}
			assert.Equal(t, tt.cid, r.IsCID())
			assert.Equal(t, tt.mid, r.IsMID())
			assert.Equal(t, tt.wantTarget, r.Target())
		})
	}
}

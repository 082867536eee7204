package ebxml_test

import (
	"time"

	"github.com/nhsengland/gp2gp/libs/ebxml"
)

// Fixed values, so that built output is reproducible (golden files).
const (
	testConversationID = "DFF5321C-C6EA-468E-BBC2-B0E48000E071"
	testMessageID      = "7F2A1B2C-3D4E-4F50-8A6B-7C8D9E0F1A2B"
	testCOPCMessageID  = "0635CDC0-A231-41ED-808B-AC162D1F16F0"
)

var testTime = time.Date(2024, 3, 25, 11, 2, 58, 0, time.UTC)

// testPayload is a small stand-in for an HL7 EHR Extract.
const testPayload = `<?xml version="1.0" encoding="UTF-8"?>
<RCMR_IN030000UK06 xmlns="urn:hl7-org:v3">
    <id root="7F2A1B2C-3D4E-4F50-8A6B-7C8D9E0F1A2B"/>
    <interactionId root="2.16.840.1.113883.2.1.3.2.4.12" extension="RCMR_IN030000UK06"/>
</RCMR_IN030000UK06>`

func testEnvelope() ebxml.Envelope {
	return ebxml.Envelope{
		From:                 ebxml.PartyID{ID: "YGM24-820388", Type: ebxml.PartyTypeServiceInstance},
		To:                   ebxml.PartyID{ID: "B86041-822103", Type: ebxml.PartyTypeServiceInstance},
		CPAID:                "S2036482A2160104",
		ConversationID:       testConversationID,
		Service:              ebxml.ServiceGP2GP,
		Action:               "RCMR_IN030000UK06",
		MessageID:            testMessageID,
		Timestamp:            testTime,
		TimeToLive:           testTime.Add(6 * time.Hour),
		DuplicateElimination: true,
		AckRequested:         true,
		Manifest: []ebxml.Reference{
			{Href: "cid:" + testMessageID + "@spine.nhs.uk", Description: ebxml.PayloadDescription, Payload: true,
				SchemaLocation: "http://www.nhsia.nhs.uk/schemas/HL7-Message.xsd", SchemaVersion: "1.0"},
			{Href: "cid:attachment1@spine.nhs.uk", ID: "_0557F0E0-A231-41ED-808B-AC162D1F16F0",
				Description: `Filename="scan.tif" ContentType=image/tiff Compressed=No LargeAttachment=No OriginalBase64=No Length=9`},
			{Href: "mid:" + testCOPCMessageID, ID: "_0557F0E4-A231-41ED-808B-AC162D1F16F0",
				Description: `Filename="photo.jpg" ContentType=image/jpeg Compressed=Yes LargeAttachment=Yes OriginalBase64=No Length=14404686`},
		},
	}
}

// binaryData holds every byte value, CRs and LFs included.
func binaryData() []byte {
	b := make([]byte, 0, 600)
	for i := range 600 {
		b = append(b, byte(i*7+i/256))
	}
	return append(b, "\r\n--=_MIME-Boundary\r\n"...)
}

func testMessage() *ebxml.Message {
	env := testEnvelope()
	env.Manifest = nil
	return &ebxml.Message{
		Envelope:         env,
		PayloadContentID: testMessageID + "@spine.nhs.uk",
		Payload:          []byte(testPayload),
		Attachments: []ebxml.Attachment{
			{
				ContentID:   "attachment1@spine.nhs.uk",
				ContentType: "image/tiff",
				Base64:      true,
				DocumentID:  "_0557F0E0-A231-41ED-808B-AC162D1F16F0",
				Description: ebxml.Description{Filename: "scan 1.tif", ContentType: "image/tiff", OriginalBase64: true, Length: int64(len(binaryData())), HasLength: true},
				Data:        binaryData(),
			},
			{
				ContentID:   "attachment2@spine.nhs.uk",
				ContentType: "text/plain",
				DocumentID:  "_0557F0E1-A231-41ED-808B-AC162D1F16F0",
				Description: ebxml.Description{Filename: "notes.txt", ContentType: "text/plain", Length: 27, HasLength: true},
				Data:        []byte("Line one\r\nLine two\nLast é\n"),
			},
		},
		External: []ebxml.ExternalAttachment{
			{
				DocumentID:  "_0557F0E4-A231-41ED-808B-AC162D1F16F0",
				MessageID:   testCOPCMessageID,
				Description: ebxml.Description{Filename: "photo.jpg", ContentType: "image/jpeg", Compressed: true, LargeAttachment: true, Length: 14404686, HasLength: true},
			},
		},
	}
}

// withReceived fills in what parsing adds to a built message: the
// descriptions as text, the manifest, and the base64 text.
func withReceived(m *ebxml.Message, encoded func(ebxml.Attachment) []byte) *ebxml.Message {
	out := *m
	out.Envelope.Manifest = m.Manifest()
	out.Attachments = append([]ebxml.Attachment(nil), m.Attachments...)
	for i := range out.Attachments {
		a := &out.Attachments[i]
		a.DescriptionText = a.Description.String()
		if a.Base64 {
			a.Encoded = encoded(*a)
		}
	}
	out.External = append([]ebxml.ExternalAttachment(nil), m.External...)
	for i := range out.External {
		out.External[i].DescriptionText = out.External[i].Description.String()
	}
	return &out
}

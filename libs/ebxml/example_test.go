package ebxml_test

import (
	"fmt"
	"time"

	"github.com/nhsengland/gp2gp/libs/ebxml"
)

// A GP2GP message as it arrives through Spine: parse it, dispatch on the
// Action, read the attachment metadata.
func ExampleParseMIME() {
	capture := "POST /reliablemessaging/forwardreliable HTTP/1.1\r\n" +
		"Content-Type: multipart/related; boundary=\"--=_MIME-Boundary\"; type=\"text/xml\"; start=\"<ebXMLHeader@spine.nhs.uk>\"\r\n" +
		"\r\n" +
		"----=_MIME-Boundary\r\n" +
		"Content-Id: <ebXMLHeader@spine.nhs.uk>\r\n" +
		"Content-Type: text/xml; charset=UTF-8\r\n" +
		"\r\n" +
		`<SOAP:Envelope xmlns:SOAP="http://schemas.xmlsoap.org/soap/envelope/" xmlns:eb="http://www.oasis-open.org/committees/ebxml-msg/schema/msg-header-2_0.xsd" xmlns:hl7ebxml="urn:hl7-org:transport/ebxml/DSTUv1.0" xmlns:xlink="http://www.w3.org/1999/xlink">
<SOAP:Header><eb:MessageHeader SOAP:mustUnderstand="1" eb:version="2.0">
 <eb:From><eb:PartyId eb:type="urn:nhs:names:partyType:ocs+serviceInstance">YGM24-820388</eb:PartyId></eb:From>
 <eb:To><eb:PartyId eb:type="urn:nhs:names:partyType:ocs+serviceInstance">B86041-822103</eb:PartyId></eb:To>
 <eb:CPAId>S2036482A2160104</eb:CPAId>
 <eb:ConversationId>dff5321c-c6ea-468e-bbc2-b0e48000e071</eb:ConversationId>
 <eb:Service>urn:nhs:names:services:gp2gp</eb:Service>
 <eb:Action>RCMR_IN030000UK06</eb:Action>
 <eb:MessageData><eb:MessageId>7F2A1B2C-3D4E-4F50-8A6B-7C8D9E0F1A2B</eb:MessageId><eb:Timestamp>2024-03-25T11:02:58Z</eb:Timestamp></eb:MessageData>
</eb:MessageHeader></SOAP:Header>
<SOAP:Body><eb:Manifest SOAP:mustUnderstand="1" eb:version="2.0">
 <eb:Reference xlink:href="cid:payload@example"><hl7ebxml:Payload style="HL7" encoding="XML" version="3.0"/></eb:Reference>
 <eb:Reference xlink:href="cid:note@example" eb:id="_DOC1"><eb:Description>Filename="note 1.txt" ContentType=text/plain Compressed=No LargeAttachment=No OriginalBase64=No Length=5</eb:Description></eb:Reference>
 <eb:Reference xlink:href="mid:0635CDC0-A231-41ED-808B-AC162D1F16F0" eb:id="_DOC2"><eb:Description>Filename="scan.tif" ContentType=image/tiff Compressed=No LargeAttachment=Yes OriginalBase64=No Length=14404686</eb:Description></eb:Reference>
</eb:Manifest></SOAP:Body></SOAP:Envelope>` + "\r\n" +
		"----=_MIME-Boundary\r\n" +
		"Content-Id: <payload@example>\r\n" +
		"Content-Type: application/xml\r\n" +
		"\r\n" +
		`<RCMR_IN030000UK06 xmlns="urn:hl7-org:v3"/>` + "\r\n" +
		"----=_MIME-Boundary\r\n" +
		"Content-Id: <note@example>\r\n" +
		"Content-Type: text/plain\r\n" +
		"Content-Transfer-Encoding: base64\r\n" +
		"\r\n" +
		"aGVsbG8=\r\n" +
		"----=_MIME-Boundary--\r\n"

	m, err := ebxml.ParseMIME([]byte(capture))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("action:", m.Envelope.Action)
	fmt.Println("conversation:", m.Envelope.ConversationID)
	fmt.Println("payload:", string(m.Payload))
	for _, a := range m.Attachments {
		fmt.Printf("inline %s %q: %q\n", a.DocumentID, a.Description.Filename, a.Data)
	}
	for _, x := range m.External {
		fmt.Printf("external %s in message %s, large: %v\n", x.Description.Filename, x.MessageID, x.Description.LargeAttachment)
	}
	// Output:
	// action: RCMR_IN030000UK06
	// conversation: DFF5321C-C6EA-468E-BBC2-B0E48000E071
	// payload: <RCMR_IN030000UK06 xmlns="urn:hl7-org:v3"/>
	// inline _DOC1 "note 1.txt": "hello"
	// external scan.tif in message 0635CDC0-A231-41ED-808B-AC162D1F16F0, large: true
}

// Sending through the MHS adaptor: the JSON body and the headers.
func ExampleMessage_OutboundJSON() {
	m := &ebxml.Message{
		Envelope: ebxml.Envelope{
			Action:         "RCMR_IN030000UK06",
			ConversationID: "DFF5321C-C6EA-468E-BBC2-B0E48000E071",
			MessageID:      "7F2A1B2C-3D4E-4F50-8A6B-7C8D9E0F1A2B",
			Timestamp:      time.Date(2024, 3, 25, 11, 2, 58, 0, time.UTC),
		},
		Payload: []byte(`<RCMR_IN030000UK06 xmlns="urn:hl7-org:v3"/>`),
		Attachments: []ebxml.Attachment{{
			ContentType: "text/plain",
			DocumentID:  "_DOC1",
			Description: ebxml.Description{Filename: "note.txt", ContentType: "text/plain", Length: 5, HasLength: true},
			Data:        []byte("hello"),
		}},
	}
	body, err := m.OutboundJSON()
	if err != nil {
		fmt.Println(err)
		return
	}
	h, err := m.OutboundHeaders("B86041")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(body))
	fmt.Printf("%+v\n", h)
	// Output:
	// {"payload":"<RCMR_IN030000UK06 xmlns=\"urn:hl7-org:v3\"/>","attachments":[{"content_type":"text/plain","is_base64":false,"description":"Filename=\"note.txt\" ContentType=text/plain Compressed=No LargeAttachment=No OriginalBase64=No Length=5","payload":"hello","document_id":"_DOC1"}],"external_attachments":[]}
	// {InteractionID:RCMR_IN030000UK06 WaitForResponse:false CorrelationID:DFF5321C-C6EA-468E-BBC2-B0E48000E071 MessageID:7F2A1B2C-3D4E-4F50-8A6B-7C8D9E0F1A2B ODSCode:B86041}
}

func ExampleParseDescription() {
	for _, text := range []string{
		`Filename="Attach1 - Copy (3).jfif" ContentType=image/jpeg Compressed=Yes LargeAttachment=No OriginalBase64=No Length=1566916`,
		"scan%202021.pdf",
		`Filename="x.gzip" ContentType=text/xml Compressed=Yes LargeAttachment=Yes DomainData="X-GP2GP-Skeleton: Yes`,
	} {
		d := ebxml.ParseDescription(text)
		fmt.Printf("%q compressed=%v skeleton=%v\n", d.Filename, d.Compressed, d.Skeleton())
	}
	fmt.Println(ebxml.Description{Filename: "a.pdf", ContentType: "application/pdf", Length: 10, HasLength: true})
	// Output:
	// "Attach1 - Copy (3).jfif" compressed=true skeleton=false
	// "scan 2021.pdf" compressed=false skeleton=false
	// "x.gzip" compressed=true skeleton=true
	// Filename="a.pdf" ContentType=application/pdf Compressed=No LargeAttachment=No OriginalBase64=No Length=10
}

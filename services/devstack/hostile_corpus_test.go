package devstack_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/ebxml"
	"github.com/nhsengland/gp2gp/libs/hl7"
	"github.com/nhsengland/gp2gp/libs/hl7/ehr"
	"github.com/nhsengland/gp2gp/libs/spine"
	"github.com/nhsengland/gp2gp/libs/transfer"
)

// The corpus, entry by entry: testdata/hostile/README.md is the table.

// hostilePayload is a payload no GP2GP reader may accept.
type hostilePayload struct {
	name    string
	payload []byte
	reason  string // what the refusal says
	large   bool   // generated, hundreds of kilobytes: a heavy entry
}

// hostilePayloads are the corpus' XML attacks (files) and limits
// (generated), with root as the root element of the generated ones.
func (c *corpus) hostilePayloads(root string) []hostilePayload {
	vars := c.requestVars(hl7.NewID())
	return []hostilePayload{
		{name: "billion-laughs.xml", payload: c.template("billion-laughs.xml", vars), reason: "DOCTYPE"},
		{name: "xxe-file.xml", payload: c.template("xxe-file.xml", vars), reason: "DOCTYPE"},
		{name: "xxe-http.xml", payload: c.template("xxe-http.xml", vars), reason: "DOCTYPE"},
		{name: "doctype.xml", payload: c.template("doctype.xml", vars), reason: "DOCTYPE"},
		{name: "nul-byte.xml", payload: c.template("nul-byte.xml", vars), reason: "control character 0x00"},
		{name: "latin1.xml", payload: latin1ToUTF8(c.template("latin1.xml", vars)), reason: `unsupported encoding "ISO-8859-1"`},
		{name: "deep nesting (100,000 levels)", payload: deepNesting(root, 100_000), reason: "nested deeper than 256", large: true},
		{name: "many attributes (100,000)", payload: manyAttributes(root, 100_000), reason: "more than 64 attributes", large: true},
		{name: "empty payload", reason: "no root element"},
	}
}

// latin1ToUTF8 is Latin-1 text as the MHS adaptor hands it over: as
// characters, in UTF-8 JSON. (Its raw bytes are not JSON at all: see the
// "JSON not UTF-8" entries.)
func latin1ToUTF8(b []byte) []byte {
	var out strings.Builder
	for _, c := range b {
		out.WriteRune(rune(c))
	}
	return []byte(out.String())
}

// run sends the round's corpus.
func (c *corpus) run() {
	c.endpointOnly()
	for _, route := range []string{viaHTTP, viaBus} {
		c.requests(route)
		c.extracts(route)
		c.largeMessages(route)
		c.attachmentsAndAcks(route)
	}
	c.busOnly()
}

// endpointOnly: what only the HTTP endpoint can be sent.
func (c *corpus) endpointOnly() {
	st, body := c.post(nil, "")
	c.record("empty body", viaHTTP, status(st, body, http.StatusBadRequest, "unreadable MHS JSON"))
	st, body = c.post(c.file("not-json.bin"), "")
	c.record("not-json.bin", viaHTTP, status(st, body, http.StatusBadRequest, "invalid UTF-8 at byte 3"))

	// Spine's own MIME, which the MHS adaptor unwraps: refused as it is,
	// and as JSON.
	for _, name := range []string{"mime-multipart.txt", "mime-truncated.txt", "mime-wrong-boundary.txt", "mime-no-boundary.txt"} {
		head, mimeBody, _ := bytes.Cut(c.file(name), []byte("\r\n\r\n"))
		st, body := c.post(mimeBody, strings.TrimPrefix(string(head), "Content-Type: "))
		c.record(name, viaHTTP, status(st, body, http.StatusUnsupportedMediaType, "want application/json"))
		st, body = c.post(c.file(name), "application/json")
		c.record(name+" as JSON", viaHTTP, status(st, body, http.StatusBadRequest, "unreadable MHS JSON"))
	}

	// 200 MB, declared and chunked: refused without reading it all.
	for _, declared := range []bool{true, false} {
		if !c.heavy(viaHTTP) {
			break
		}
		const size = 200 << 20
		src := &countingReader{r: io.LimitReader(filler('{'), size)}
		req, err := http.NewRequestWithContext(c.hs.h.ctx, http.MethodPost, c.hs.url, io.NopCloser(src))
		require.NoError(c.t(), err)
		req.Header.Set("Content-Type", "application/json")
		name := "200 MB body, chunked"
		if declared {
			req.ContentLength = size
			name = "200 MB body, Content-Length"
		}
		st, body := c.do(req)
		read := src.count()
		c.record(name, viaHTTP, status(st, body, http.StatusRequestEntityTooLarge, "limit"), expectation{
			what: "at most 48 MiB read (the 16 MiB limit plus what the sockets buffer)",
			check: func() (bool, string) {
				return read <= 48<<20, fmt.Sprintf("%.1f MiB of 200 sent", float64(read)/(1<<20))
			},
		})
	}

	// The ebXML envelope itself hostile.
	reqID := hl7.NewID()
	request := c.template("request.xml", c.requestVars(reqID))
	for _, p := range c.hostilePayloads("SOAP:Envelope") {
		if p.payload == nil || p.large && !c.heavy(viaHTTP) {
			continue
		}
		st, body := c.post(inboundJSON(string(p.payload), request), "")
		c.record("ebXML: "+p.name, viaHTTP, status(st, body, http.StatusBadRequest, p.reason))
	}
	env := envelope(hl7.NewID(), reqID, hl7.EHRRequest, c.hs.h.clock.Now())
	env.Manifest = (&ebxml.Message{Envelope: env, Payload: request}).Manifest()
	good, err := env.Build()
	require.NoError(c.t(), err)
	// An attribute of 2 MiB the stages never read: the message is taken
	// like any other (this one is answered 18 for its NHS number).
	if c.heavy(viaHTTP) {
		vars := c.requestVars(reqID)
		vars["NHS_NUMBER"] = "9990001015"
		huge := strings.Replace(string(good), `eb:type="`+ebxml.PartyTypeServiceInstance+`"`, `eb:type="`+strings.Repeat("H", 2<<20)+`"`, 1)
		c.hs.wire.corpusID(reqID)
		st, body = c.post(inboundJSON(huge, c.template("request.xml", vars)), "")
		c.record("ebXML: attribute value of 2 MiB (PartyId type)", viaHTTP, status(st, body, http.StatusAccepted, `"kind":"ehr-request"`),
			c.nack(reqID, hl7.ReasonRequestMalformed, newASID))
	}
	long := strings.Replace(string(good), reqID, strings.Repeat("7", 300), 1)
	st, body = c.post(inboundJSON(long, request), "")
	c.record("ebXML: MessageId of 300 characters", viaHTTP, status(st, body, http.StatusBadRequest, "longer than 256"))
	empty := strings.Replace(string(good), reqID, "", 1)
	st, body = c.post(inboundJSON(empty, request), "")
	c.record("ebXML: no MessageId", viaHTTP, status(st, body, http.StatusBadRequest, "MessageId"))
	newline := strings.Replace(string(good), env.ConversationID, env.ConversationID+"&#10;X", 1)
	st, body = c.post(inboundJSON(newline, request), "")
	c.record("ebXML: ConversationId with a line break", viaHTTP, status(st, body, http.StatusBadRequest, "control character"))

	// The same message twice, and another message under its id: stored
	// once, answered once.
	id := hl7.NewID()
	vars := c.requestVars(id)
	vars["NHS_NUMBER"] = "9990001015"
	conv := hl7.NewID()
	first := c.inbound(conv, id, hl7.EHRRequest, c.template("request.xml", vars))
	c.hs.wire.corpusID(id)
	st1, b1 := c.post(first, "")
	st2, b2 := c.post(first, "")
	other := c.inbound(conv, id, hl7.EHRRequest, c.template("request.xml", c.requestVars(id)))
	st3, b3 := c.post(other, "")
	c.record("duplicate: request posted twice, then another under its MessageId", viaHTTP,
		status(st1, b1, http.StatusAccepted, `"kind":"ehr-request"`),
		status(st2, b2, http.StatusAccepted, `"duplicate":true`),
		status(st3, b3, http.StatusAccepted, `"duplicate":true`),
		c.nack(id, hl7.ReasonRequestMalformed, newASID))

	// Not UTF-8: JSON must be.
	id = hl7.NewID()
	bad := c.template("request.xml", c.requestVars(id))
	bad = bytes.Replace(bad, []byte(`<id root="`+id+`"/>`), []byte("<id root=\""+id+"\"/><text>Ren\xe9e \xff\xfe</text>"), 1)
	st, body = c.post(c.inbound(hl7.NewID(), id, hl7.EHRRequest, bad), "")
	c.record("JSON not UTF-8 (Latin-1 bytes in the payload)", viaHTTP, status(st, body, http.StatusBadRequest, "UTF-8"))
}

// requests: EHR Requests to the old practice.
func (c *corpus) requests(route string) {
	// Malformed beyond answering: nothing to address a NACK to.
	for _, p := range c.hostilePayloads("RCMR_IN010000UK05") {
		if p.large && !c.heavy(route) {
			continue
		}
		id, conv := hl7.NewID(), hl7.NewID()
		m := message{conv: conv, id: id, action: hl7.EHRRequest, kind: bus.KindEHRRequest, toASID: oldASID,
			body: c.inbound(conv, id, hl7.EHRRequest, p.payload)}
		st, body := c.deliver(route, m, "")
		if route == viaHTTP {
			c.record("request: "+p.name, route, status(st, body, http.StatusBadRequest, "no recipient ASID"))
			continue
		}
		c.record("request: "+p.name, route, c.deadLetter(busDedupeID(m), "EHR Request for "+conv+" cannot be answered"), c.deadLetter(busDedupeID(m), p.reason))
	}

	send := func(name string, edit func(vars map[string]string), expect func(m message, st int, body string) []expectation) {
		id, conv := hl7.NewID(), hl7.NewID()
		vars := c.requestVars(id)
		edit(vars)
		m := message{conv: conv, id: id, action: hl7.EHRRequest, kind: bus.KindEHRRequest, toASID: oldASID,
			body: c.inbound(conv, id, hl7.EHRRequest, c.template("request.xml", vars))}
		st, body := c.deliver(route, m, "")
		c.record(name, route, expect(m, st, body)...)
	}
	accepted := func(st int, body string, out []expectation) []expectation {
		if route == viaHTTP {
			out = append([]expectation{status(st, body, http.StatusAccepted, `"kind":"ehr-request"`)}, out...)
		}
		return out
	}
	send("request: NHS number failing its check digit", func(v map[string]string) { v["NHS_NUMBER"] = "9990001015" },
		func(m message, st int, body string) []expectation {
			return accepted(st, body, []expectation{c.nack(m.id, hl7.ReasonRequestMalformed, newASID),
				c.state(transfer.Sending, m.conv, transfer.RequestRejected, hl7.ReasonRequestMalformed)})
		})
	send("request: from an ASID and practice SDS does not know", func(v map[string]string) {
		v["FROM_ASID"], v["REQUESTING_ODS"] = foreignASID, foreignODS
	}, func(m message, st int, body string) []expectation {
		return accepted(st, body, []expectation{c.nack(m.id, hl7.ReasonSDSLookup, foreignASID),
			c.state(transfer.Sending, m.conv, transfer.RequestRejected, hl7.ReasonSDSLookup)})
	})
	if c.heavy(route) {
		send("request: NHS number of 2 MiB (huge attribute value)", func(v map[string]string) { v["NHS_NUMBER"] = strings.Repeat("9", 2<<20) },
			func(m message, st int, body string) []expectation {
				return accepted(st, body, []expectation{c.nack(m.id, hl7.ReasonRequestMalformed, newASID),
					c.state(transfer.Sending, m.conv, transfer.RequestRejected, hl7.ReasonRequestMalformed)})
			})
	}
	send("request: to a foreign ASID", func(v map[string]string) { v["TO_ASID"] = foreignASID },
		func(m message, st int, body string) []expectation {
			if route == viaHTTP {
				return []expectation{status(st, body, http.StatusNotFound, "no practice here has ASID "+foreignASID)}
			}
			return []expectation{c.deadLetter(busDedupeID(m), "ASID "+foreignASID+", which this sender does not serve")}
		})
}

// extracts: EHR Extracts to the new practice, on transfers waiting for one.
func (c *corpus) extracts(route string) {
	for _, p := range c.hostilePayloads("RCMR_IN030000UK06") {
		if p.payload == nil || p.large && !c.heavy(route) {
			continue
		}
		conv, id := c.awaiting(), hl7.NewID()
		m := message{conv: conv, id: id, action: hl7.EHRExtractUK06, kind: bus.KindEHRExtract, toASID: newASID,
			body: c.inbound(conv, id, hl7.EHRExtractUK06, p.payload)}
		st, body := c.deliver(route, m, "")
		var out []expectation
		if route == viaHTTP {
			out = append(out, status(st, body, http.StatusAccepted, `"kind":"ehr-extract"`))
		}
		c.record("extract: "+p.name, route, append(out, c.nack(id, hl7.ReasonExtractMalformed, oldASID),
			c.state(transfer.Requesting, conv, transfer.Rejected, hl7.ReasonExtractMalformed))...)
	}

	accepted := func(st int, body string, out ...expectation) []expectation {
		if route == viaHTTP {
			out = append([]expectation{status(st, body, http.StatusAccepted, `"kind":"ehr-extract"`)}, out...)
		}
		return out
	}
	// For a conversation nobody here started: 09.
	conv, id := hl7.NewID(), hl7.NewID()
	m := message{conv: conv, id: id, action: hl7.EHRExtractUK06, kind: bus.KindEHRExtract, toASID: newASID,
		body: c.inbound(conv, id, hl7.EHRExtractUK06, c.encode(c.extract(conv, id, oldASID, newASID)))}
	st, body := c.deliver(route, m, "")
	c.record("extract: unknown conversation", route, accepted(st, body, c.nack(id, hl7.ReasonUnexpectedExtract, oldASID))...)

	// The conversation of one practice's transfer, addressed to the other
	// practice (the HL7 recipient is not the transfer's): 09 from the
	// practice addressed, and the transfer is not touched.
	conv, id = c.awaiting(), hl7.NewID()
	m = message{conv: conv, id: id, action: hl7.EHRExtractUK06, kind: bus.KindEHRExtract, toASID: oldASID,
		body: c.inbound(conv, id, hl7.EHRExtractUK06, c.encode(c.extract(conv, id, foreignASID, oldASID)))}
	st, body = c.deliver(route, m, "")
	c.record("extract: conversation of another practice's transfer", route, accepted(st, body,
		c.nack(id, hl7.ReasonUnexpectedExtract, foreignASID), c.state(transfer.Requesting, conv, transfer.RequestSent, ""))...)

	// A second extract for a transfer that has one: 12, the transfer goes on.
	id = hl7.NewID()
	m = message{conv: c.ready, id: id, action: hl7.EHRExtractUK06, kind: bus.KindEHRExtract, toASID: newASID,
		body: c.inbound(c.ready, id, hl7.EHRExtractUK06, c.encode(c.extract(c.ready, id, oldASID, newASID)))}
	st, body = c.deliver(route, m, "")
	c.record("extract: a second one (another message id)", route, accepted(st, body,
		c.nack(id, hl7.ReasonDuplicateExtract, oldASID), c.state(transfer.Requesting, c.ready, transfer.ReadyToIntegrate, ""))...)

	// Invalid base64 in an inline attachment.
	conv, id = c.awaiting(), hl7.NewID()
	ex := c.withAttachments(&ebxml.Message{
		Envelope: envelope(conv, id, hl7.EHRExtractUK06, c.hs.h.clock.Now()), Payload: c.encode(c.extract(conv, id, oldASID, newASID)),
		Attachments: []ebxml.Attachment{{ContentID: "attachment1@hostile", ContentType: "application/pdf", Base64: true, DocumentID: "_" + hl7.NewID(),
			Description: ebxml.Description{Filename: "letter.pdf", ContentType: "application/pdf"}, Encoded: []byte("JVBERi0xLjQ!!!not base64 at all***")}},
	})
	m = message{conv: conv, id: id, action: hl7.EHRExtractUK06, kind: bus.KindEHRExtract, toASID: newASID, body: ex}
	st, body = c.deliver(route, m, "")
	c.record("extract: invalid base64 in an attachment", route, accepted(st, body,
		c.nack(id, hl7.ReasonReassemblyFailure, oldASID), c.state(transfer.Requesting, conv, transfer.Rejected, hl7.ReasonReassemblyFailure))...)
}

// largeMessages: gzip bombs inline, as the skeleton and in a COPC.
func (c *corpus) largeMessages(route string) {
	if !c.heavy(route) {
		return
	}
	bomb := c.hs.bomb()
	accepted := func(st int, body string, kind bus.SpineKind, out ...expectation) []expectation {
		if route == viaHTTP {
			out = append([]expectation{status(st, body, http.StatusAccepted, `"kind":"`+string(kind)+`"`)}, out...)
		}
		return out
	}
	compressed := ebxml.Description{Filename: "notes.txt", ContentType: "text/plain", Compressed: true}

	// Announced by mid:, sent after the Continue (first, so that its
	// Continue is not held up behind the other bombs).
	copcConv, copcExtract, mid := c.awaiting(), hl7.NewID(), hl7.NewID()
	m := message{conv: copcConv, id: copcExtract, action: hl7.EHRExtractUK06, kind: bus.KindEHRExtract, toASID: newASID,
		body: c.withAttachments(&ebxml.Message{
			Envelope: envelope(copcConv, copcExtract, hl7.EHRExtractUK06, c.hs.h.clock.Now()), Payload: c.encode(c.extract(copcConv, copcExtract, oldASID, newASID)),
			External: []ebxml.ExternalAttachment{{DocumentID: "_" + hl7.NewID(), MessageID: mid, Description: compressed}},
		})}
	st, body := c.deliver(route, m, "")
	extracted := accepted(st, body, bus.KindEHRExtract)

	conv, id := c.awaiting(), hl7.NewID()
	m = message{conv: conv, id: id, action: hl7.EHRExtractUK06, kind: bus.KindEHRExtract, toASID: newASID,
		body: c.withAttachments(&ebxml.Message{
			Envelope: envelope(conv, id, hl7.EHRExtractUK06, c.hs.h.clock.Now()), Payload: c.encode(c.extract(conv, id, oldASID, newASID)),
			Attachments: []ebxml.Attachment{{ContentID: "attachment1@hostile", ContentType: "text/plain", Base64: true, DocumentID: "_" + hl7.NewID(),
				Description: compressed, Data: bomb}},
		})}
	st, body = c.deliver(route, m, "")
	c.record("gzip bomb: compressed inline attachment (2 GiB of zeros)", route, accepted(st, body, bus.KindEHRExtract,
		c.nack(id, hl7.ReasonReassemblyFailure, oldASID), c.state(transfer.Requesting, conv, transfer.Rejected, hl7.ReasonReassemblyFailure))...)

	conv, id = c.awaiting(), hl7.NewID()
	ex := c.extract(conv, id, oldASID, newASID)
	doc := ehr.SkeletonDocument{ID: hl7.NewID(), Filename: "Original-EHR-Extract.xml.gz", StatementID: hl7.NewID(), CompositionID: hl7.NewID(), Time: c.hs.h.clock.Now()}
	skel, err := ehr.Skeleton(ex.Content, doc)
	require.NoError(c.t(), err)
	ex.Content = skel
	m = message{conv: conv, id: id, action: hl7.EHRExtractUK06, kind: bus.KindEHRExtract, toASID: newASID,
		body: c.withAttachments(&ebxml.Message{
			Envelope: envelope(conv, id, hl7.EHRExtractUK06, c.hs.h.clock.Now()), Payload: c.encode(ex),
			Attachments: []ebxml.Attachment{{ContentID: "skeleton@hostile", ContentType: "text/xml", Base64: true, DocumentID: "_" + doc.ID,
				Description: ebxml.Description{Filename: doc.Filename, ContentType: "text/xml", Compressed: true, DomainData: ebxml.SkeletonDomainData}, Data: bomb}},
		})}
	st, body = c.deliver(route, m, "")
	c.record("gzip bomb: skeleton extract", route, accepted(st, body, bus.KindEHRExtract,
		c.nack(id, hl7.ReasonReassemblyFailure, oldASID), c.state(transfer.Requesting, conv, transfer.Rejected, hl7.ReasonReassemblyFailure))...)

	c.hs.h.waitStateWithin(transfer.Requesting, copcConv, transfer.ContinueSent, time.Minute)
	copc := message{conv: copcConv, id: mid, action: hl7.CommonContentCOPC, kind: bus.KindCOPC, toASID: newASID,
		body: c.withAttachments(&ebxml.Message{
			Envelope: envelope(copcConv, mid, hl7.CommonContentCOPC, c.hs.h.clock.Now()), Payload: c.encode(c.attachmentCOPC(mid)),
			Attachments: []ebxml.Attachment{{ContentID: "attachment1@hostile", ContentType: "text/plain", Base64: true, Description: compressed, Data: bomb}},
		})}
	st, body = c.deliver(route, copc, "")
	c.record("gzip bomb: COPC after the Continue", route, append(extracted, accepted(st, body, bus.KindCOPC,
		c.nack(mid, hl7.ReasonReassemblyFailure, oldASID), c.nack(copcExtract, hl7.ReasonReassemblyFailure, oldASID),
		c.state(transfer.Requesting, copcConv, transfer.Rejected, hl7.ReasonReassemblyFailure))...)...)
}

// attachmentCOPC is a COPC carrying a document, from the old practice.
func (c *corpus) attachmentCOPC(id string) *hl7.COPC {
	return &hl7.COPC{
		Wrapper: hl7.Wrapper{MessageID: id, CreationTime: c.hs.h.clock.Now(), ToASID: newASID, FromASID: oldASID},
		Kind:    hl7.KindAttachment, Recipients: []string{newODS}, From: oldODS, Reference: hl7.FileReference("notes.txt"),
	}
}

// attachmentsAndAcks: COPCs, Continues and acknowledgements that do not
// belong.
func (c *corpus) attachmentsAndAcks(route string) {
	accepted := func(st int, body string, kind bus.SpineKind, out ...expectation) []expectation {
		if route == viaHTTP {
			out = append([]expectation{status(st, body, http.StatusAccepted, `"kind":"`+string(kind)+`"`)}, out...)
		}
		return out
	}
	copc := func(conv, id string) message {
		return message{conv: conv, id: id, action: hl7.CommonContentCOPC, kind: bus.KindCOPC, toASID: newASID,
			body: c.withAttachments(&ebxml.Message{
				Envelope: envelope(conv, id, hl7.CommonContentCOPC, c.hs.h.clock.Now()), Payload: c.encode(c.attachmentCOPC(id)),
				Attachments: []ebxml.Attachment{{ContentID: "attachment1@hostile", ContentType: "text/plain", Description: ebxml.Description{Filename: "notes.txt", ContentType: "text/plain"}, Data: []byte("notes")}},
			})}
	}
	// A COPC for a transfer whose extract announced none: 30.
	m := copc(c.ready, hl7.NewID())
	st, body := c.deliver(route, m, "")
	c.record("COPC: for a transfer expecting none", route, accepted(st, body, bus.KindCOPC,
		c.nack(m.id, hl7.ReasonLargeMessageFailure, oldASID), c.state(transfer.Requesting, c.ready, transfer.ReadyToIntegrate, ""))...)
	// For no transfer at all: nobody to answer.
	m = copc(hl7.NewID(), hl7.NewID())
	st, body = c.deliver(route, m, "")
	c.record("COPC: unknown conversation", route, accepted(st, body, bus.KindCOPC,
		c.deadLetter(spine.DedupeID(m.id, newASID), "which has no transfer here"))...)

	cont := func(conv, id, extract string) message {
		payload := c.encode(&hl7.COPC{
			Wrapper: hl7.Wrapper{MessageID: id, CreationTime: c.hs.h.clock.Now(), ToASID: oldASID, FromASID: newASID},
			Kind:    hl7.KindContinue, Recipients: []string{oldODS}, From: newODS, AcknowledgedID: extract,
		})
		return message{conv: conv, id: id, action: hl7.CommonContentCOPC, kind: bus.KindContinue, toASID: oldASID,
			body: c.inbound(conv, id, hl7.CommonContentCOPC, payload)}
	}
	m = cont(hl7.NewID(), hl7.NewID(), hl7.NewID())
	st, body = c.deliver(route, m, "")
	c.record("Continue: unknown conversation", route, accepted(st, body, bus.KindContinue,
		c.deadLetter(spine.DedupeID(m.id, oldASID), "which has no EHR Request"))...)
	m = cont(c.ready, hl7.NewID(), hl7.NewID())
	st, body = c.deliver(route, m, "")
	c.record("Continue: of an extract the transfer never sent", route, accepted(st, body, bus.KindContinue,
		c.deadLetter(spine.DedupeID(m.id, oldASID), "never sent"), c.state(transfer.Sending, c.ready, transfer.ExtractSent, ""))...)

	ack := func(conv, id, ref string, code hl7.ReasonCode, toASID, fromASID string) message {
		a := &hl7.Ack{Wrapper: hl7.Wrapper{MessageID: id, CreationTime: c.hs.h.clock.Now(), ToASID: toASID, FromASID: fromASID}, Type: hl7.AckAccept, MessageRef: ref}
		if code != "" {
			a.Type, a.Reason = hl7.NackType(code), code
		}
		return message{conv: conv, id: id, action: hl7.ApplicationAck, kind: bus.KindAck, toASID: toASID,
			body: c.inbound(conv, id, hl7.ApplicationAck, c.encode(a))}
	}
	m = ack(hl7.NewID(), hl7.NewID(), hl7.NewID(), "", newASID, oldASID)
	st, body = c.deliver(route, m, "")
	c.record("ack: unknown conversation", route, accepted(st, body, bus.KindAck,
		c.deadLetter(spine.DedupeID(m.id, newASID), "matches no transfer held here"))...)
	// A final NACK on one transfer's conversation naming another's extract.
	m = ack(c.ready, hl7.NewID(), hl7.DeriveID(hl7.NewID(), "extract"), hl7.ReasonIntegrationFailed, oldASID, newASID)
	st, body = c.deliver(route, m, "")
	c.record("ack: naming a message of another conversation", route, accepted(st, body, bus.KindAck,
		c.deadLetter(spine.DedupeID(m.id, oldASID), "unmatched acknowledgement"), c.state(transfer.Sending, c.ready, transfer.ExtractSent, ""))...)
	id, conv := hl7.NewID(), hl7.NewID()
	m = message{conv: conv, id: id, action: hl7.ApplicationAck, kind: bus.KindAck, toASID: oldASID,
		body: c.inbound(conv, id, hl7.ApplicationAck, c.template("billion-laughs.xml", c.requestVars(id)))}
	st, body = c.deliver(route, m, "")
	if route == viaHTTP {
		c.record("ack: billion-laughs.xml", route, status(st, body, http.StatusBadRequest, "DOCTYPE"))
	} else {
		c.record("ack: billion-laughs.xml", route, c.deadLetter(busDedupeID(m), "unreadable acknowledgement"), c.deadLetter(busDedupeID(m), "DOCTYPE"))
	}
}

// busOnly: bodies only a publisher on the bus can send.
func (c *corpus) busOnly() {
	for _, tc := range []struct {
		name, contentType string
		body              func(m message) []byte
		reason            string
	}{
		{"not-json.bin", "", func(message) []byte { return c.file("not-json.bin") }, "invalid UTF-8 at byte 3"},
		{"empty body", "", func(message) []byte { return nil }, "unreadable MHS JSON"},
		{"JSON not UTF-8", "", func(m message) []byte {
			p := c.template("request.xml", c.requestVars(m.id))
			p = bytes.Replace(p, []byte(`<id root="`+m.id+`"/>`), []byte("<id root=\""+m.id+"\"/><text>Ren\xe9e \xff\xfe</text>"), 1)
			return c.inbound(m.conv, m.id, hl7.EHRRequest, p)
		}, "UTF-8"},
		{"Content-Type application/xml", "application/xml", func(m message) []byte {
			return c.inbound(m.conv, m.id, hl7.EHRRequest, c.template("request.xml", c.requestVars(m.id)))
		}, "is not application/json"},
	} {
		m := message{conv: hl7.NewID(), id: hl7.NewID(), action: hl7.EHRRequest, kind: bus.KindEHRRequest, toASID: oldASID}
		m.body = tc.body(m)
		c.deliver(viaBus, m, tc.contentType)
		c.record(tc.name, viaBus, c.deadLetter(busDedupeID(m), tc.reason))
	}
}

// bomb is the gzip bomb, made once.
func (hs *hostileStack) bomb() []byte {
	hs.bombOnce.Do(func() { hs.bombData = gzipBomb(hs.t, 2) })
	return hs.bombData
}

// The MIME files are what the README says they are: Spine's MIME, which
// the MHS adaptor unwraps before the stages see anything (the endpoint
// refuses it, above), read by libs/ebxml as an adaptor would read it.
func TestHostileMIMECorpus(t *testing.T) {
	for _, tc := range []struct {
		file string
		want error
	}{
		{"mime-multipart.txt", nil},
		{"mime-truncated.txt", ebxml.ErrTruncated},
		{"mime-wrong-boundary.txt", ebxml.ErrNoBoundary},
		{"mime-no-boundary.txt", ebxml.ErrNoBoundary},
	} {
		t.Run(tc.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", "hostile", tc.file))
			require.NoError(t, err)
			m, err := ebxml.ParseMIME(data)
			if tc.want == nil {
				require.NoError(t, err)
				assert.Equal(t, string(hl7.EHRRequest), m.Envelope.Action)
				return
			}
			require.ErrorIs(t, err, tc.want)
		})
	}
}

package largemsg_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/ebxml"
	"github.com/nhsengland/gp2gp/libs/hl7"
	"github.com/nhsengland/gp2gp/libs/largemsg"
	"github.com/nhsengland/gp2gp/libs/spectest"
)

const (
	asmConv      = "4D2B1B9E-6A8E-4C36-9F63-0B7C1E2D3A40"
	asmExtractID = "0A1B2C3D-0000-4000-8000-000000000001"
	// asmEMISCID is the content id EMIS gives the first attachment of
	// every message.
	asmEMISCID = "Attachment1@e-mis.com/EMISWeb/GP2GP2.2A"
)

var asmTime = time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)

func asmEnvelope(action hl7.Interaction, id string) ebxml.Envelope {
	return ebxml.Envelope{
		From:                 ebxml.PartyID{ID: "A91000-820001"},
		To:                   ebxml.PartyID{ID: "B86041-822103"},
		CPAID:                "S2036482A2160104",
		ConversationID:       asmConv,
		Action:               string(action),
		MessageID:            id,
		Timestamp:            asmTime,
		DuplicateElimination: true,
		AckRequested:         true,
	}
}

// asmExtractXML is a minimal EHR Extract carrying what Continue reads.
func asmExtractXML(id, toASID, fromASID, sendingODS, requestingODS string) []byte {
	return fmt.Appendf(nil, `<RCMR_IN030000UK06 xmlns="urn:hl7-org:v3">
  <id root="%[1]s"/>
  <creationTime value="20240301100000"/>
  <interactionId root="2.16.840.1.113883.2.1.3.2.4.12" extension="RCMR_IN030000UK06"/>
  <communicationFunctionRcv typeCode="RCV"><device classCode="DEV" determinerCode="INSTANCE"><id root="1.2.826.0.1285.0.2.0.107" extension="%[2]s"/></device></communicationFunctionRcv>
  <communicationFunctionSnd typeCode="SND"><device classCode="DEV" determinerCode="INSTANCE"><id root="1.2.826.0.1285.0.2.0.107" extension="%[3]s"/></device></communicationFunctionSnd>
  <ControlActEvent classCode="CACT" moodCode="EVN">
    <author1 typeCode="AUT"><AgentSystemSDS classCode="AGNT"><agentSystemSDS classCode="DEV" determinerCode="INSTANCE"><id root="1.2.826.0.1285.0.2.0.107" extension="%[3]s"/></agentSystemSDS></AgentSystemSDS></author1>
    <subject typeCode="SUBJ" contextConductionInd="false">
      <EhrExtract classCode="EXTRACT" moodCode="EVN">
        <id root="%[1]s"/>
        <author typeCode="AUT"><AgentOrgSDS classCode="AGNT"><agentOrganizationSDS classCode="ORG" determinerCode="INSTANCE"><id root="1.2.826.0.1285.0.1.10" extension="%[4]s"/></agentOrganizationSDS></AgentOrgSDS></author>
        <destination typeCode="DST"><AgentOrgSDS classCode="AGNT"><agentOrganizationSDS classCode="ORG" determinerCode="INSTANCE"><id root="1.2.826.0.1285.0.1.10" extension="%[5]s"/></agentOrganizationSDS></AgentOrgSDS></destination>
      </EhrExtract>
    </subject>
  </ControlActEvent>
</RCMR_IN030000UK06>`, id, toASID, fromASID, sendingODS, requestingODS)
}

// asmRoundTrip passes m through the MHS inbound JSON, as the receiver gets
// it: with the manifest as received and base64 text in Encoded.
func asmRoundTrip(t testing.TB, m *ebxml.Message) *ebxml.Message {
	t.Helper()
	described := func(d *ebxml.Description) { // the builders want both
		if d.Filename == "" {
			d.Filename = "Untitled"
		}
		if d.ContentType == "" {
			d.ContentType = "application/octet-stream"
		}
	}
	for i := range m.Attachments {
		described(&m.Attachments[i].Description)
	}
	for i := range m.External {
		described(&m.External[i].Description)
	}
	data, err := m.InboundJSON()
	require.NoError(t, err)
	parsed, err := ebxml.ParseInboundJSON(data)
	require.NoError(t, err)
	return parsed
}

// asmCore builds a large extract with inline attachments and mid:
// references.
func asmCore(t testing.TB, inline []ebxml.Attachment, ext ...ebxml.ExternalAttachment) *ebxml.Message {
	t.Helper()
	return asmRoundTrip(t, &ebxml.Message{
		Envelope:    asmEnvelope(hl7.EHRExtractUK06, asmExtractID),
		Payload:     asmExtractXML(asmExtractID, "200000000205", "200000000119", "A91000", "B86041"),
		Attachments: inline,
		External:    ext,
	})
}

func asmCOPCPayload(t testing.TB, id, filename string) []byte {
	t.Helper()
	c := &hl7.COPC{
		Wrapper:    hl7.Wrapper{MessageID: id, CreationTime: asmTime, ToASID: "200000000205", FromASID: "200000000119"},
		Kind:       hl7.KindAttachment,
		Recipients: []string{"B86041"},
		From:       "A91000",
		Reference:  hl7.FileReference(filename),
	}
	payload, err := c.Encode()
	require.NoError(t, err)
	return payload
}

// asmRawCOPC builds an attachment COPC as it is, without the JSON round
// trip: attachments keep the Encoded text they are given.
func asmRawCOPC(t testing.TB, id string, atts []ebxml.Attachment, ext ...ebxml.ExternalAttachment) *ebxml.Message {
	t.Helper()
	return &ebxml.Message{
		Envelope:    asmEnvelope(hl7.CommonContentCOPC, id),
		Payload:     asmCOPCPayload(t, id, "scan.tif"),
		Attachments: atts,
		External:    ext,
	}
}

// asmCOPC builds an attachment COPC as the receiver gets it.
func asmCOPC(t testing.TB, id string, atts []ebxml.Attachment, ext ...ebxml.ExternalAttachment) *ebxml.Message {
	t.Helper()
	return asmRoundTrip(t, asmRawCOPC(t, id, atts, ext...))
}

func asmDesc(filename string) ebxml.Description {
	return ebxml.Description{Filename: filename, ContentType: "image/tiff"}
}

func asmAttachment(cid string, data []byte, d ebxml.Description) ebxml.Attachment {
	return ebxml.Attachment{ContentID: cid, ContentType: "application/octet-stream", Base64: true, Description: d, Data: data}
}

// asmEncoded is an attachment carrying the given base64 text as received.
func asmEncoded(text string) ebxml.Attachment {
	return ebxml.Attachment{ContentID: asmEMISCID, ContentType: "application/octet-stream", Base64: true,
		Description: asmDesc("Untitled"), Data: []byte("ignored"), Encoded: []byte(text)}
}

func asmExternal(docID, mid string, d ebxml.Description) ebxml.ExternalAttachment {
	return ebxml.ExternalAttachment{DocumentID: "_" + docID, MessageID: mid, Description: d}
}

func asmData(seed uint64, n int) []byte {
	r := rand.New(rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8)}))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func asmGzip(t testing.TB, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, err := zw.Write(data)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

// asmChunks cuts data into pieces of size bytes (a multiple of 3 keeps
// each piece's base64 a slice of the whole's, as EMIS's 4.5 MiB does).
func asmChunks(data []byte, size int) [][]byte {
	var out [][]byte
	for len(data) > size {
		out = append(out, data[:size])
		data = data[size:]
	}
	return append(out, data)
}

func asmID(n int) string {
	return fmt.Sprintf("5E0F7A31-%04X-4C2B-9D7E-%012X", n, n)
}

func asmRead(t testing.TB, store largemsg.Store, name string) []byte {
	t.Helper()
	rc, err := store.Open(context.Background(), name)
	require.NoError(t, err)
	defer rc.Close()
	data, err := io.ReadAll(rc)
	require.NoError(t, err)
	return data
}

func asmJSON(t testing.TB, a *largemsg.Assembly) string {
	t.Helper()
	data, err := json.Marshal(a)
	require.NoError(t, err)
	return string(data)
}

func asmLoad(t testing.TB, state string) *largemsg.Assembly {
	t.Helper()
	var a largemsg.Assembly
	require.NoError(t, json.Unmarshal([]byte(state), &a))
	return &a
}

func asmSum(data []byte) string {
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

func asmExpect(t testing.TB, core *ebxml.Message) *largemsg.Assembly {
	t.Helper()
	a, err := largemsg.Expect(core)
	require.NoError(t, err)
	return a
}

func asmReceive(t testing.TB, a *largemsg.Assembly, store largemsg.Store, m *ebxml.Message) largemsg.Outcome {
	t.Helper()
	out, err := a.Receive(context.Background(), store, m)
	require.NoError(t, err)
	return out
}

func asmRequireCode(t testing.TB, err error, code hl7.ReasonCode) *largemsg.AssemblyError {
	t.Helper()
	var ae *largemsg.AssemblyError
	require.ErrorAs(t, err, &ae)
	require.Equal(t, code, ae.Code, "error: %v", err)
	return ae
}

// asmParts lists the part objects left in a MemStore.
func asmParts(store *largemsg.MemStore) []string {
	var parts []string
	for _, n := range store.Names() {
		if strings.Contains(n, "/parts/") {
			parts = append(parts, n)
		}
	}
	return parts
}

func TestExpect(t *testing.T) {
	core := asmCore(t,
		[]ebxml.Attachment{asmAttachment("a1@x", []byte("letter"), ebxml.Description{Filename: "letter.txt", ContentType: "text/plain"})},
		asmExternal("DOC-B", asmID(1), asmDesc("b.tif")),
		asmExternal("DOC-C", asmID(2), ebxml.Description{Filename: "extract.gz", ContentType: "text/xml", Compressed: true, DomainData: ebxml.SkeletonDomainData}),
	)
	a := asmExpect(t, core)
	assert.Equal(t, asmConv, a.Conversation)
	assert.Equal(t, asmExtractID, a.ExtractID)
	require.Len(t, a.Expected, 3)
	assert.Equal(t, "a1@x", a.Expected[0].ID, "an inline attachment without eb:id is named by its content id")
	assert.True(t, a.Expected[0].Inline)
	assert.Equal(t, "DOC-B", a.Expected[1].ID, "the leading _ of the eb:id is dropped")
	assert.Equal(t, asmID(1), a.Expected[1].MessageID)
	assert.Equal(t, "b.tif", a.Expected[1].Metadata().Filename)
	assert.False(t, a.Complete())
	id, ok := a.SkeletonID()
	assert.True(t, ok)
	assert.Equal(t, "DOC-C", id)

	t.Run("mid announced twice", func(t *testing.T) {
		m := *core
		m.External = append(m.External, m.External[0])
		_, err := largemsg.Expect(&m)
		asmRequireCode(t, err, hl7.ReasonLargeMessageFailure)
	})
	t.Run("no extract", func(t *testing.T) {
		_, err := largemsg.Expect(nil)
		require.ErrorIs(t, err, largemsg.ErrNotExtract)
	})
	t.Run("duplicate document ids stay apart", func(t *testing.T) {
		m := asmCore(t, nil, asmExternal("SAME", asmID(1), asmDesc("1")), asmExternal("SAME", asmID(2), asmDesc("2")))
		a := asmExpect(t, m)
		assert.Equal(t, "SAME", a.Expected[0].ID)
		assert.Equal(t, "SAME-2", a.Expected[1].ID)
	})
}

func TestStoreInline(t *testing.T) {
	ctx := context.Background()
	text := []byte("Dear colleague,\nplease find the record attached.\n")
	scan := asmData(1, 10_000)
	zipped := asmGzip(t, scan)
	core := asmCore(t, []ebxml.Attachment{
		asmAttachment("a1@x", text, ebxml.Description{Filename: "letter.txt", ContentType: "text/plain", HasLength: true, Length: int64(len(text))}),
		asmAttachment("a2@x", zipped, ebxml.Description{Filename: "scan.tif", ContentType: "image/tiff", Compressed: true, HasLength: true, Length: int64(len(zipped))}),
	}, asmExternal("DOC-X", asmID(1), asmDesc("x.tif")))
	a := asmExpect(t, core)
	store := largemsg.NewMemStore()
	require.NoError(t, a.StoreInline(ctx, store, core))
	docs := a.Documents()
	require.Len(t, docs, 2)
	assert.Equal(t, largemsg.StoredDocument{ID: "a1@x", Filename: "letter.txt", ContentType: "text/plain", Size: int64(len(text)),
		Object: asmConv + "/attachments/a1@x", SHA256: asmSum(text)}, docs[0])
	assert.Equal(t, text, asmRead(t, store, docs[0].Object))
	assert.Equal(t, scan, asmRead(t, store, docs[1].Object), "Compressed=Yes is gunzipped")
	assert.Equal(t, int64(len(scan)), docs[1].Size)
	assert.False(t, a.Complete(), "the external document is still expected")

	before := asmJSON(t, a)
	require.NoError(t, a.StoreInline(ctx, store, core), "storing again is harmless")
	assert.Equal(t, before, asmJSON(t, a))

	t.Run("length mismatch", func(t *testing.T) {
		core := asmCore(t, []ebxml.Attachment{
			asmAttachment("a1@x", text, ebxml.Description{Filename: "letter.txt", HasLength: true, Length: int64(len(text)) + 1}),
		})
		a := asmExpect(t, core)
		before := asmJSON(t, a)
		err := a.StoreInline(ctx, largemsg.NewMemStore(), core)
		ae := asmRequireCode(t, err, hl7.ReasonReassemblyFailure)
		assert.Equal(t, "a1@x", ae.Document)
		assert.Equal(t, before, asmJSON(t, a), "a failure changes nothing")
	})
	t.Run("not gzip", func(t *testing.T) {
		core := asmCore(t, []ebxml.Attachment{asmAttachment("a1@x", text, ebxml.Description{Filename: "x", Compressed: true})})
		err := asmExpect(t, core).StoreInline(ctx, largemsg.NewMemStore(), core)
		asmRequireCode(t, err, hl7.ReasonReassemblyFailure)
	})
	t.Run("another extract", func(t *testing.T) {
		other := *core
		other.Envelope.MessageID = asmID(99)
		require.ErrorIs(t, a.StoreInline(ctx, store, &other), largemsg.ErrNotExtract)
	})
}

func TestReceiveWholeDocument(t *testing.T) {
	data := asmData(2, 30_000)
	core := asmCore(t, nil, asmExternal("DOC-A", asmID(1), ebxml.Description{Filename: "a.pdf", ContentType: "application/pdf", HasLength: true, Length: int64(len(data))}))
	a := asmExpect(t, core)
	store := largemsg.NewMemStore()
	out := asmReceive(t, a, store, asmCOPC(t, asmID(1), []ebxml.Attachment{asmAttachment(asmEMISCID, data, asmDesc("a.pdf"))}))
	assert.Equal(t, largemsg.RoleDocument, out.Role)
	assert.Equal(t, "DOC-A", out.Document)
	assert.False(t, out.Duplicate)
	require.Len(t, out.Completed, 1)
	assert.Equal(t, largemsg.StoredDocument{ID: "DOC-A", Filename: "a.pdf", ContentType: "application/pdf", Size: int64(len(data)),
		Object: asmConv + "/attachments/DOC-A", SHA256: asmSum(data)}, out.Completed[0])
	assert.Equal(t, data, asmRead(t, store, out.Completed[0].Object))
	assert.True(t, a.Complete())
	assert.Equal(t, out.Completed, a.Documents())

	assert.Equal(t, []string{asmConv + "/parts/" + asmID(1)}, out.Discard)
	assert.Equal(t, out.Discard, asmParts(store), "Receive itself never deletes")
	require.NoError(t, out.Cleanup(context.Background(), store))
	assert.Empty(t, asmParts(store))
	assert.Equal(t, out.Discard, a.PartObjects())
}

func TestReceiveIgnoresIDCase(t *testing.T) {
	lower := strings.ToLower(asmID(1))
	a := asmExpect(t, asmCore(t, nil, asmExternal("DOC", lower, asmDesc("d.tif"))))
	m := asmRawCOPC(t, lower, []ebxml.Attachment{asmAttachment(asmEMISCID, []byte("d"), asmDesc("d.tif"))})
	out := asmReceive(t, a, largemsg.NewMemStore(), m)
	assert.Equal(t, largemsg.RoleDocument, out.Role)
	assert.Equal(t, asmID(1), out.MessageID)
	assert.Len(t, out.Completed, 1)
}

// TestReceiveIndexFirstChunkInline is the EMIS/TPP layout: the index
// carries chunk 0 and names the others by mid:. Every message reuses the
// same content id, as EMIS does.
func TestReceiveIndexFirstChunkInline(t *testing.T) {
	data := asmData(3, 100_000)
	chunks := asmChunks(data, 30_000) // 4 chunks
	core := asmCore(t, nil, asmExternal("DOC-L", asmID(10), ebxml.Description{Filename: "big.tif", ContentType: "image/tiff", LargeAttachment: true, HasLength: true, Length: 30_000}))
	a := asmExpect(t, core)
	store := largemsg.NewMemStore()

	index := asmCOPC(t, asmID(10), []ebxml.Attachment{asmAttachment(asmEMISCID, chunks[0], asmDesc("Untitled"))},
		asmExternal("F1", asmID(11), asmDesc("Untitled")),
		asmExternal("F2", asmID(12), asmDesc("Untitled")),
		asmExternal("F3", asmID(13), asmDesc("Untitled")))
	out := asmReceive(t, a, store, index)
	assert.Equal(t, largemsg.RoleIndex, out.Role)
	assert.Empty(t, out.Completed)
	d := a.Expected[0]
	require.True(t, d.Index)
	require.Len(t, d.Children, 4)
	assert.Equal(t, asmConv+"/parts/"+asmID(10)+"/0", d.Children[0].Object, "an inline chunk is named by the index and its position")
	assert.True(t, d.Children[0].Received)
	assert.Equal(t, asmID(12), d.Children[2].MessageID)
	assert.False(t, d.Children[2].Received)

	// Fragments arrive in any order.
	for _, i := range []int{3, 1} {
		out := asmReceive(t, a, store, asmCOPC(t, asmID(10+i), []ebxml.Attachment{asmAttachment(asmEMISCID, chunks[i], asmDesc("Untitled"))}))
		assert.Equal(t, largemsg.RoleFragment, out.Role)
		assert.Equal(t, "DOC-L", out.Document)
		assert.Empty(t, out.Completed)
	}
	out = asmReceive(t, a, store, asmCOPC(t, asmID(12), []ebxml.Attachment{asmAttachment(asmEMISCID, chunks[2], asmDesc("Untitled"))}))
	require.Len(t, out.Completed, 1)
	assert.Equal(t, int64(len(data)), out.Completed[0].Size, "Length= of a fragmented document is not checked")
	assert.Equal(t, asmSum(data), out.Completed[0].SHA256)
	assert.Equal(t, data, asmRead(t, store, out.Completed[0].Object))
	assert.Len(t, out.Discard, 4)
	assert.True(t, a.Complete())
}

// TestReceiveIndexOnlyMid is NIA-send's layout: the index names every chunk
// by mid:, chunk i carried by its own COPC, the base64 text cut anywhere.
func TestReceiveIndexOnlyMid(t *testing.T) {
	data := asmData(4, 50_000)
	text := base64.StdEncoding.EncodeToString(data)
	cuts := []string{text[:10_001], text[10_001:40_003], text[40_003:]} // not multiples of 4
	core := asmCore(t, nil, asmExternal("DOC-N", asmID(20), ebxml.Description{Filename: "n.bin", ContentType: "application/octet-stream", LargeAttachment: true}))
	a := asmExpect(t, core)
	store := largemsg.NewMemStore()
	index := asmRawCOPC(t, asmID(20), nil,
		asmExternal("", asmID(21), asmDesc(asmID(20)+"_0.messageattachment")),
		asmExternal("", asmID(22), asmDesc(asmID(20)+"_1.messageattachment")),
		asmExternal("", asmID(23), asmDesc(asmID(20)+"_2.messageattachment")))
	out := asmReceive(t, a, store, index)
	assert.Equal(t, largemsg.RoleIndex, out.Role)
	for i, cut := range cuts {
		out = asmReceive(t, a, store, asmRawCOPC(t, asmID(21+i), []ebxml.Attachment{asmEncoded(cut)}))
	}
	require.Len(t, out.Completed, 1)
	assert.Equal(t, data, asmRead(t, store, out.Completed[0].Object))
}

func TestReceiveFragmentsBeforeIndex(t *testing.T) {
	data := asmData(5, 9_000)
	chunks := asmChunks(data, 3_000)
	core := asmCore(t, nil, asmExternal("DOC-O", asmID(30), ebxml.Description{Filename: "o.bin", LargeAttachment: true}))
	a := asmExpect(t, core)
	store := largemsg.NewMemStore()
	for _, i := range []int{2, 1} {
		out := asmReceive(t, a, store, asmCOPC(t, asmID(30+i), []ebxml.Attachment{asmAttachment(asmEMISCID, chunks[i], asmDesc("Untitled"))}))
		assert.Equal(t, largemsg.RoleOrphan, out.Role)
		assert.Empty(t, out.Document)
	}
	assert.Equal(t, []string{asmID(32), asmID(31)}, a.Missing().Orphans)

	index := asmCOPC(t, asmID(30), []ebxml.Attachment{asmAttachment(asmEMISCID, chunks[0], asmDesc("Untitled"))},
		asmExternal("", asmID(31), asmDesc("Untitled")), asmExternal("", asmID(32), asmDesc("Untitled")))
	out := asmReceive(t, a, store, index)
	assert.Equal(t, largemsg.RoleIndex, out.Role)
	require.Len(t, out.Completed, 1, "the index adopts the orphans and finishes the document")
	assert.Equal(t, data, asmRead(t, store, out.Completed[0].Object))
	assert.Empty(t, a.Orphans)
	assert.True(t, a.Complete())
}

func TestReceiveDuplicates(t *testing.T) {
	ctx := context.Background()
	data := asmData(6, 6_000)
	chunks := asmChunks(data, 3_000)
	core := asmCore(t, nil,
		asmExternal("DOC-1", asmID(40), ebxml.Description{Filename: "one.bin", LargeAttachment: true}),
		asmExternal("DOC-2", asmID(50), asmDesc("two.tif")))
	a := asmExpect(t, core)
	store := largemsg.NewMemStore()
	index := asmCOPC(t, asmID(40), nil, asmExternal("", asmID(41), asmDesc("0")), asmExternal("", asmID(42), asmDesc("1")))
	frag1 := asmCOPC(t, asmID(41), []ebxml.Attachment{asmAttachment(asmEMISCID, chunks[0], asmDesc("Untitled"))})
	frag2 := asmCOPC(t, asmID(42), []ebxml.Attachment{asmAttachment(asmEMISCID, chunks[1], asmDesc("Untitled"))})
	orphan := asmCOPC(t, asmID(60), []ebxml.Attachment{asmAttachment(asmEMISCID, []byte("stray"), asmDesc("Untitled"))})

	for _, step := range []struct {
		name string
		m    *ebxml.Message
		role largemsg.Role
	}{
		{"orphan", orphan, largemsg.RoleOrphan},
		{"index", index, largemsg.RoleIndex},
		{"fragment", frag1, largemsg.RoleFragment},
	} {
		first := asmReceive(t, a, store, step.m)
		require.False(t, first.Duplicate, step.name)
		state, names := asmJSON(t, a), store.Names()
		again := asmReceive(t, a, store, step.m)
		assert.True(t, again.Duplicate, step.name)
		assert.Equal(t, step.role, again.Role, step.name)
		assert.Equal(t, state, asmJSON(t, a), "%s: a duplicate changes nothing", step.name)
		assert.Equal(t, names, store.Names(), step.name)
	}
	out := asmReceive(t, a, store, frag2)
	require.Len(t, out.Completed, 1)
	require.NoError(t, out.Cleanup(ctx, store))
	for _, m := range []*ebxml.Message{index, frag1, frag2} {
		again := asmReceive(t, a, store, m)
		assert.True(t, again.Duplicate, "after the document is finished and its parts deleted")
		assert.Empty(t, again.Completed)
	}
}

func TestReceiveCompressed(t *testing.T) {
	original := bytes.Repeat([]byte("<ehrComposition>GP2GP skeleton extract</ehrComposition>\n"), 5_000)
	zipped := asmGzip(t, original)
	text := base64.StdEncoding.EncodeToString(zipped)
	half := len(text)/2 + 1
	core := asmCore(t, nil, asmExternal("SKEL", asmID(70), ebxml.Description{Filename: "extract.gz", ContentType: "text/xml",
		Compressed: true, LargeAttachment: true, DomainData: ebxml.SkeletonDomainData}))
	a := asmExpect(t, core)
	store := largemsg.NewMemStore()
	asmReceive(t, a, store, asmRawCOPC(t, asmID(70), []ebxml.Attachment{asmEncoded(text[:half])}, asmExternal("", asmID(71), asmDesc("1"))))
	out := asmReceive(t, a, store, asmRawCOPC(t, asmID(71), []ebxml.Attachment{asmEncoded(text[half:])}))
	require.Len(t, out.Completed, 1)
	doc := out.Completed[0]
	assert.True(t, doc.Skeleton)
	assert.Equal(t, int64(len(original)), doc.Size)
	assert.Equal(t, original, asmRead(t, store, doc.Object))
	id, ok := a.SkeletonID()
	assert.True(t, ok)
	assert.Equal(t, "SKEL", id)
}

// TestReceiveBase64 feeds whole documents with tricky base64 text.
func TestReceiveBase64(t *testing.T) {
	data := asmData(7, 1_000) // 1000 = 3*333+1: the text ends "=="
	text := base64.StdEncoding.EncodeToString(data)
	for _, tc := range []struct {
		name  string
		parts []string
		want  []byte
		fails bool
	}{
		{name: "padded", parts: []string{text}, want: data},
		{name: "padding missing", parts: []string{strings.TrimRight(text, "=")}, want: data},
		{name: "short padding", parts: []string{strings.TrimSuffix(text, "=")}, want: data},
		{name: "line breaks", parts: []string{text[:76] + "\r\n" + text[76:200] + "\n " + text[200:]}, want: data},
		{name: "cut mid quantum", parts: []string{text[:5], text[5:7], text[7:]}, want: data},
		{name: "padded fragments", parts: []string{"QQ==", "Qg==", "Qw"}, want: []byte("ABC")},
		{name: "illegal character", parts: []string{text[:100] + "*" + text[100:]}, fails: true},
		{name: "url alphabet", parts: []string{"ab-_"}, fails: true},
		{name: "single trailing character", parts: []string{text[:len(text)-4] + "Q"}, fails: true},
		{name: "padding at quantum start", parts: []string{"QUJD=QUJD"}, fails: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			core := asmCore(t, nil, asmExternal("DOC", asmID(80), ebxml.Description{Filename: "d.bin", LargeAttachment: len(tc.parts) > 1}))
			a := asmExpect(t, core)
			store := largemsg.NewMemStore()
			var out largemsg.Outcome
			var err error
			if len(tc.parts) == 1 {
				out, err = a.Receive(context.Background(), store, asmRawCOPC(t, asmID(80), []ebxml.Attachment{asmEncoded(tc.parts[0])}))
			} else {
				var ext []ebxml.ExternalAttachment
				for i := 1; i < len(tc.parts); i++ {
					ext = append(ext, asmExternal("", asmID(80+i), asmDesc("f")))
				}
				asmReceive(t, a, store, asmRawCOPC(t, asmID(80), []ebxml.Attachment{asmEncoded(tc.parts[0])}, ext...))
				for i := 1; i < len(tc.parts) && err == nil; i++ {
					out, err = a.Receive(context.Background(), store, asmRawCOPC(t, asmID(80+i), []ebxml.Attachment{asmEncoded(tc.parts[i])}))
				}
			}
			if tc.fails {
				ae := asmRequireCode(t, err, hl7.ReasonReassemblyFailure)
				assert.Equal(t, "DOC", ae.Document)
				assert.False(t, a.Complete())
				return
			}
			require.NoError(t, err)
			require.Len(t, out.Completed, 1)
			assert.Equal(t, tc.want, asmRead(t, store, out.Completed[0].Object))
		})
	}
}

func TestReceiveReassemblyFailures(t *testing.T) {
	data := asmData(8, 3_000)
	zipped := asmGzip(t, data)
	corrupt := bytes.Clone(zipped)
	corrupt[len(corrupt)/2] ^= 0xFF
	truncated := zipped[:len(zipped)-10]
	binary := ebxml.Attachment{ContentID: asmEMISCID, ContentType: "text/plain", Description: asmDesc("Untitled"), Data: []byte("plain text chunk")}

	for _, tc := range []struct {
		name string
		desc ebxml.Description
		atts []ebxml.Attachment
	}{
		{"corrupted gzip", ebxml.Description{Filename: "x", Compressed: true}, []ebxml.Attachment{asmAttachment(asmEMISCID, corrupt, asmDesc("x"))}},
		{"truncated gzip", ebxml.Description{Filename: "x", Compressed: true}, []ebxml.Attachment{asmAttachment(asmEMISCID, truncated, asmDesc("x"))}},
		{"not gzip", ebxml.Description{Filename: "x", Compressed: true}, []ebxml.Attachment{asmAttachment(asmEMISCID, data, asmDesc("x"))}},
		{"empty but compressed", ebxml.Description{Filename: "x", Compressed: true}, []ebxml.Attachment{asmAttachment(asmEMISCID, nil, asmDesc("x"))}},
		{"length mismatch", ebxml.Description{Filename: "x", HasLength: true, Length: int64(len(data)) - 1}, []ebxml.Attachment{asmAttachment(asmEMISCID, data, asmDesc("x"))}},
		{"length is of the carried bytes", ebxml.Description{Filename: "x", Compressed: true, HasLength: true, Length: int64(len(data))}, []ebxml.Attachment{asmAttachment(asmEMISCID, zipped, asmDesc("x"))}},
		{"bad base64", ebxml.Description{Filename: "x"}, []ebxml.Attachment{asmEncoded("QUJD!!!!")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := asmExpect(t, asmCore(t, nil, asmExternal("DOC", asmID(90), tc.desc)))
			before := asmJSON(t, a)
			store := largemsg.NewMemStore()
			_, err := a.Receive(context.Background(), store, asmRawCOPC(t, asmID(90), tc.atts))
			ae := asmRequireCode(t, err, hl7.ReasonReassemblyFailure)
			assert.Equal(t, "DOC", ae.Document)
			assert.Equal(t, asmID(90), ae.MessageID)
			assert.Equal(t, before, asmJSON(t, a), "a failure leaves the state as it was")
			assert.NotContains(t, store.Names(), asmConv+"/attachments/DOC", "no attachment is left behind")
		})
	}

	t.Run("mixed base64 and binary", func(t *testing.T) {
		a := asmExpect(t, asmCore(t, nil, asmExternal("DOC", asmID(90), ebxml.Description{Filename: "x", LargeAttachment: true})))
		store := largemsg.NewMemStore()
		asmReceive(t, a, store, asmCOPC(t, asmID(90), []ebxml.Attachment{asmAttachment(asmEMISCID, data, asmDesc("x"))}, asmExternal("", asmID(91), asmDesc("1"))))
		_, err := a.Receive(context.Background(), store, asmCOPC(t, asmID(91), []ebxml.Attachment{binary}))
		asmRequireCode(t, err, hl7.ReasonReassemblyFailure)
	})

	t.Run("length not checked", func(t *testing.T) {
		for name, d := range map[string]ebxml.Description{
			"large attachment": {Filename: "x", LargeAttachment: true, HasLength: true, Length: 4_718_592},
			"no length":        {Filename: "x"},
		} {
			a := asmExpect(t, asmCore(t, nil, asmExternal("DOC", asmID(90), d)))
			out, err := a.Receive(context.Background(), largemsg.NewMemStore(), asmCOPC(t, asmID(90), []ebxml.Attachment{asmAttachment(asmEMISCID, data, asmDesc("x"))}))
			require.NoError(t, err, name)
			assert.Len(t, out.Completed, 1, name)
		}
	})
}

func TestReceiveDoesNotBelong(t *testing.T) {
	ctx := context.Background()
	chunk := asmAttachment(asmEMISCID, []byte("chunk"), asmDesc("Untitled"))
	core := asmCore(t, nil,
		asmExternal("DOC-1", asmID(100), ebxml.Description{Filename: "one", LargeAttachment: true}),
		asmExternal("DOC-2", asmID(200), asmDesc("two")))
	index := asmCOPC(t, asmID(100), []ebxml.Attachment{chunk}, asmExternal("", asmID(101), asmDesc("1")))

	continueMsg := func() *ebxml.Message {
		c := &hl7.COPC{Wrapper: hl7.Wrapper{MessageID: asmID(100), CreationTime: asmTime, ToASID: "1", FromASID: "2"},
			Kind: hl7.KindContinue, Recipients: []string{"A91000"}, From: "B86041", AcknowledgedID: asmExtractID}
		payload, err := c.Encode()
		require.NoError(t, err)
		return &ebxml.Message{Envelope: asmEnvelope(hl7.CommonContentCOPC, asmID(100)), Payload: payload}
	}
	for _, tc := range []struct {
		name  string
		setup []*ebxml.Message
		m     func() *ebxml.Message
	}{
		{name: "index nobody announced", m: func() *ebxml.Message {
			return asmCOPC(t, asmID(300), []ebxml.Attachment{chunk}, asmExternal("", asmID(301), asmDesc("1")))
		}},
		{name: "index naming another document's mid", m: func() *ebxml.Message {
			return asmCOPC(t, asmID(100), []ebxml.Attachment{chunk}, asmExternal("", asmID(200), asmDesc("1")))
		}},
		{name: "index naming a mid twice", m: func() *ebxml.Message {
			return asmRawCOPC(t, asmID(100), nil, asmExternal("", asmID(101), asmDesc("1")), asmExternal("", asmID(101), asmDesc("2")))
		}},
		{name: "index naming the extract", m: func() *ebxml.Message {
			return asmCOPC(t, asmID(100), []ebxml.Attachment{chunk}, asmExternal("", asmExtractID, asmDesc("1")))
		}},
		{name: "fragment that is an index", setup: []*ebxml.Message{index}, m: func() *ebxml.Message {
			return asmCOPC(t, asmID(101), []ebxml.Attachment{chunk}, asmExternal("", asmID(102), asmDesc("1")))
		}},
		{name: "a continue", m: continueMsg},
		{name: "not a COPC", m: func() *ebxml.Message {
			m := asmCOPC(t, asmID(200), []ebxml.Attachment{chunk})
			m.Envelope.Action = string(hl7.ApplicationAck)
			return m
		}},
		{name: "unreadable payload", m: func() *ebxml.Message {
			m := asmCOPC(t, asmID(200), []ebxml.Attachment{chunk})
			m.Payload = []byte("<COPC_IN000001UK01")
			return m
		}},
		{name: "no attachment", m: func() *ebxml.Message { return asmCOPC(t, asmID(200), nil) }},
		{name: "manifest names a missing attachment", m: func() *ebxml.Message {
			m := asmCOPC(t, asmID(200), []ebxml.Attachment{chunk})
			m.Attachments = nil
			return m
		}},
		{name: "no message id", m: func() *ebxml.Message {
			m := asmCOPC(t, asmID(200), []ebxml.Attachment{chunk})
			m.Envelope.MessageID = ""
			return m
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := asmExpect(t, core)
			store := largemsg.NewMemStore()
			for _, m := range tc.setup {
				asmReceive(t, a, store, m)
			}
			before := asmJSON(t, a)
			_, err := a.Receive(ctx, store, tc.m())
			asmRequireCode(t, err, hl7.ReasonLargeMessageFailure)
			assert.Equal(t, before, asmJSON(t, a))
		})
	}
}

func TestAssemblyJSONRoundTrip(t *testing.T) {
	data := asmData(9, 12_000)
	chunks := asmChunks(data, 3_000)
	zipped := asmGzip(t, []byte("inline letter"))
	core := asmCore(t,
		[]ebxml.Attachment{asmAttachment("a1@x", zipped, ebxml.Description{Filename: "letter.txt", ContentType: "text/plain", Compressed: true})},
		asmExternal("DOC-F", asmID(110), ebxml.Description{Filename: "f.tif", ContentType: "image/tiff", LargeAttachment: true}),
		asmExternal("DOC-W", asmID(120), asmDesc("w.tif")))
	ctx := context.Background()
	store := largemsg.NewMemStore()
	a := asmExpect(t, core)
	require.NoError(t, a.StoreInline(ctx, store, core))
	frag := func(i int) *ebxml.Message {
		return asmCOPC(t, asmID(110+i), []ebxml.Attachment{asmAttachment(asmEMISCID, chunks[i], asmDesc("Untitled"))})
	}
	asmReceive(t, a, store, frag(3)) // an orphan
	asmReceive(t, a, store, asmCOPC(t, asmID(110), []ebxml.Attachment{asmAttachment(asmEMISCID, chunks[0], asmDesc("Untitled"))},
		asmExternal("", asmID(111), asmDesc("1")), asmExternal("", asmID(112), asmDesc("2")), asmExternal("", asmID(113), asmDesc("3"))))
	asmReceive(t, a, store, frag(1))

	state := asmJSON(t, a)
	assert.Equal(t, state, asmJSON(t, a), "marshalling is deterministic")
	b := asmLoad(t, state)
	assert.Equal(t, a, b)
	assert.Equal(t, state, asmJSON(t, b))

	out := asmReceive(t, b, store, frag(2))
	require.Len(t, out.Completed, 1)
	assert.Equal(t, data, asmRead(t, store, out.Completed[0].Object))
	out = asmReceive(t, b, store, asmCOPC(t, asmID(120), []ebxml.Attachment{asmAttachment(asmEMISCID, []byte("w"), asmDesc("w.tif"))}))
	require.Len(t, out.Completed, 1)
	assert.True(t, b.Complete())
	assert.Len(t, b.Documents(), 3)
	assert.False(t, a.Complete(), "the copy is independent")
}

func TestMissing(t *testing.T) {
	ctx := context.Background()
	core := asmCore(t,
		[]ebxml.Attachment{asmAttachment("a1@x", []byte("letter"), asmDesc("letter.txt"))},
		asmExternal("DOC-A", asmID(130), asmDesc("a.tif")),
		asmExternal("DOC-B", asmID(140), ebxml.Description{Filename: "b.tif", LargeAttachment: true}),
		asmExternal("DOC-C", asmID(150), asmDesc("c.tif")))
	a := asmExpect(t, core)
	store := largemsg.NewMemStore()
	chunk := func(n int) []ebxml.Attachment {
		return []ebxml.Attachment{asmAttachment(asmEMISCID, []byte(fmt.Sprintf("chunk %d.", n)), asmDesc("Untitled"))}
	}

	r := a.Missing()
	assert.Len(t, r.Absent, 4)
	assert.Empty(t, r.Partial)
	assert.Equal(t, hl7.ReasonAttachmentsNotReceived, r.Reason())

	asmReceive(t, a, store, asmCOPC(t, asmID(140), chunk(0), asmExternal("", asmID(141), asmDesc("1")), asmExternal("", asmID(142), asmDesc("2"))))
	asmReceive(t, a, store, asmCOPC(t, asmID(141), chunk(1)))
	asmReceive(t, a, store, asmCOPC(t, asmID(999), chunk(9)))
	r = a.Missing()
	assert.Equal(t, []largemsg.MissingDocument{{ID: "DOC-B", Filename: "b.tif", MessageID: asmID(140), Parts: 3, Received: 2, MissingParts: []string{asmID(142)}}}, r.Partial)
	assert.Equal(t, []largemsg.MissingDocument{
		{ID: "a1@x", Filename: "letter.txt"},
		{ID: "DOC-A", Filename: "a.tif", MessageID: asmID(130)},
		{ID: "DOC-C", Filename: "c.tif", MessageID: asmID(150)},
	}, r.Absent)
	assert.Equal(t, []string{asmID(999)}, r.Orphans)
	assert.Equal(t, hl7.ReasonLargeMessageTimeout, r.Reason(), "a partly received document makes it 25")

	asmReceive(t, a, store, asmCOPC(t, asmID(142), chunk(2)))
	require.NoError(t, a.StoreInline(ctx, store, core))
	asmReceive(t, a, store, asmCOPC(t, asmID(130), chunk(3)))
	r = a.Missing()
	assert.Empty(t, r.Partial)
	assert.Equal(t, []largemsg.MissingDocument{{ID: "DOC-C", Filename: "c.tif", MessageID: asmID(150)}}, r.Absent)
	assert.Equal(t, hl7.ReasonAttachmentsNotReceived, r.Reason())

	asmReceive(t, a, store, asmCOPC(t, asmID(150), chunk(4)))
	r = a.Missing()
	assert.True(t, r.Empty())
	assert.Equal(t, hl7.ReasonCode(""), r.Reason())
	assert.True(t, a.Complete())
}

// asmRecord stands in for the transfer record: an Assembly saved as JSON
// under a revision, updated with compare-and-set.
type asmRecord struct {
	state    string
	revision int
}

func (r *asmRecord) load(t testing.TB) (*largemsg.Assembly, int) {
	return asmLoad(t, r.state), r.revision
}

func (r *asmRecord) commit(t testing.TB, a *largemsg.Assembly, revision int) bool {
	if revision != r.revision {
		return false
	}
	r.state, r.revision = asmJSON(t, a), r.revision+1
	return true
}

// asmReceiveCAS is what the receiver does: receive inside a compare-and-set
// loop, clean up after the commit.
func asmReceiveCAS(t testing.TB, rec *asmRecord, store largemsg.Store, m *ebxml.Message) largemsg.Outcome {
	t.Helper()
	for range 3 {
		a, rev := rec.load(t)
		out, err := a.Receive(context.Background(), store, m)
		if err != nil {
			require.ErrorIs(t, err, largemsg.ErrNoObject)
			continue
		}
		if rec.commit(t, a, rev) {
			require.NoError(t, out.Cleanup(context.Background(), store))
			return out
		}
	}
	t.Fatal("no commit after 3 attempts")
	return largemsg.Outcome{}
}

func TestReceiveCompareAndSet(t *testing.T) {
	ctx := context.Background()
	data := asmData(10, 9_000)
	chunks := asmChunks(data, 3_000)
	frag := func(i int) *ebxml.Message {
		return asmCOPC(t, asmID(160+i), []ebxml.Attachment{asmAttachment(asmEMISCID, chunks[i], asmDesc("Untitled"))})
	}
	core := asmCore(t, nil, asmExternal("DOC", asmID(160), ebxml.Description{Filename: "d", LargeAttachment: true}))
	store := largemsg.NewMemStore()
	rec := &asmRecord{state: asmJSON(t, asmExpect(t, core))}
	asmReceiveCAS(t, rec, store, asmCOPC(t, asmID(160), []ebxml.Attachment{asmAttachment(asmEMISCID, chunks[0], asmDesc("Untitled"))},
		asmExternal("", asmID(161), asmDesc("1")), asmExternal("", asmID(162), asmDesc("2"))))

	t.Run("a retry repeats the same writes and state", func(t *testing.T) {
		store := largemsg.NewMemStore()
		first, _ := rec.load(t)
		out1, err := first.Receive(ctx, store, frag(1))
		require.NoError(t, err)
		names := store.Names()
		second, _ := rec.load(t)
		out2, err := second.Receive(ctx, store, frag(1))
		require.NoError(t, err)
		assert.Equal(t, out1, out2)
		assert.Equal(t, asmJSON(t, first), asmJSON(t, second))
		assert.Equal(t, names, store.Names())
	})

	// Two receivers take the two fragments from the same state; the
	// second loses the race, reloads and finishes the document.
	a, rev := rec.load(t)
	b, revB := rec.load(t)
	_, err := a.Receive(ctx, store, frag(1))
	require.NoError(t, err)
	require.True(t, rec.commit(t, a, rev))
	out, err := b.Receive(ctx, store, frag(2))
	require.NoError(t, err)
	assert.Empty(t, out.Completed, "b does not know of fragment 1 yet")
	require.False(t, rec.commit(t, b, revB), "the state moved on")

	// A third receiver holds the state before the document is finished.
	stale, _ := rec.load(t)
	out = asmReceiveCAS(t, rec, store, frag(2))
	require.Len(t, out.Completed, 1)
	assert.Equal(t, data, asmRead(t, store, out.Completed[0].Object))

	_, err = stale.Receive(ctx, store, frag(2))
	require.ErrorIs(t, err, largemsg.ErrNoObject, "parts cleaned up after the commit: a transient error")
	var ae *largemsg.AssemblyError
	assert.False(t, errors.As(err, &ae))
	again := asmReceiveCAS(t, rec, store, frag(2))
	assert.True(t, again.Duplicate, "with a fresh state the fragment is a duplicate")

	final, _ := rec.load(t)
	assert.True(t, final.Complete())
	for _, name := range final.PartObjects() {
		require.NoError(t, store.Delete(ctx, name), "final sweep")
	}
	assert.Empty(t, asmParts(store))
}

// asmFuzzCore announces a whole document, a compressed fragmented one and
// one with a Length.
func asmFuzzCore(t testing.TB) *ebxml.Message {
	return asmCore(t, nil,
		asmExternal("DOC-W", asmID(500), asmDesc("w.tif")),
		asmExternal("DOC-Z", asmID(510), ebxml.Description{Filename: "z.xml", ContentType: "text/xml", Compressed: true, LargeAttachment: true}),
		asmExternal("DOC-L", asmID(520), ebxml.Description{Filename: "l.txt", ContentType: "text/plain", HasLength: true, Length: 5}))
}

// asmFuzzSetup is received before every fuzz input: the index of DOC-Z
// (chunk 0 inline, two mid: chunks) and chunk 1, so that chunk 2 finishes
// it.
func asmFuzzSetup(t testing.TB, zipped []byte) []*ebxml.Message {
	third := len(zipped) / 3
	return []*ebxml.Message{
		asmCOPC(t, asmID(510), []ebxml.Attachment{asmAttachment(asmEMISCID, zipped[:6], asmDesc("Untitled"))},
			asmExternal("", asmID(511), asmDesc("Untitled")), asmExternal("", asmID(512), asmDesc("Untitled"))),
		asmCOPC(t, asmID(511), []ebxml.Attachment{asmAttachment(asmEMISCID, zipped[6:6+third], asmDesc("Untitled"))}),
	}
}

// FuzzReceive feeds arbitrary MHS inbound JSON to Receive on an assembly
// in progress. It must never panic; a failure must be an *AssemblyError
// that leaves the state as it was; a success must survive a JSON round
// trip and make the same message a duplicate.
func FuzzReceive(f *testing.F) {
	zipped := asmGzip(f, []byte("<EhrExtract>fuzz</EhrExtract>"))
	third := len(zipped) / 3
	for _, m := range []*ebxml.Message{
		asmCOPC(f, asmID(500), []ebxml.Attachment{asmAttachment(asmEMISCID, []byte("whole"), asmDesc("w.tif"))}),
		asmCOPC(f, asmID(511), []ebxml.Attachment{asmAttachment(asmEMISCID, zipped[6:6+third], asmDesc("Untitled"))}),
		asmCOPC(f, asmID(512), []ebxml.Attachment{asmAttachment(asmEMISCID, zipped[6+third:], asmDesc("Untitled"))}),
		asmCOPC(f, asmID(520), []ebxml.Attachment{asmAttachment(asmEMISCID, []byte("12345"), asmDesc("l.txt"))}),
		asmCOPC(f, asmID(530), []ebxml.Attachment{asmAttachment(asmEMISCID, []byte("orphan"), asmDesc("Untitled"))}),
		asmCOPC(f, asmID(500), []ebxml.Attachment{asmAttachment(asmEMISCID, []byte("a"), asmDesc("1")), asmAttachment("b@x", []byte("b"), asmDesc("2"))},
			asmExternal("", asmID(501), asmDesc("3"))),
	} {
		data, err := m.InboundJSON()
		require.NoError(f, err)
		f.Add(data)
	}
	if dir, ok := spectest.Lookup(); ok {
		for _, name := range []string{asmS7Index, asmS7COPC0, asmTPPFrag03, asmEMISFrag01} {
			data, err := os.ReadFile(filepath.Join(dir, "samples", name))
			require.NoError(f, err)
			f.Add(data)
		}
	}
	// The state after the setup, and the parts it stored, are made once:
	// each input starts from a copy.
	ctx := context.Background()
	setupStore := largemsg.NewMemStore()
	setup := asmExpect(f, asmFuzzCore(f))
	for _, m := range asmFuzzSetup(f, zipped) {
		asmReceive(f, setup, setupStore, m)
	}
	initial := asmJSON(f, setup)
	parts := map[string][]byte{}
	for _, name := range setupStore.Names() {
		parts[name] = asmRead(f, setupStore, name)
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ebxml.ParseInboundJSON(data)
		if err != nil {
			return
		}
		store := largemsg.NewMemStore()
		for name, part := range parts {
			_, err := store.Put(ctx, name, bytes.NewReader(part))
			require.NoError(t, err)
		}
		a := asmLoad(t, initial)
		before := asmJSON(t, a)
		out, err := a.Receive(ctx, store, m)
		if err != nil {
			var ae *largemsg.AssemblyError
			require.ErrorAs(t, err, &ae, "a MemStore cannot fail")
			require.Contains(t, []hl7.ReasonCode{hl7.ReasonReassemblyFailure, hl7.ReasonLargeMessageFailure}, ae.Code)
			require.Equal(t, before, asmJSON(t, a))
			return
		}
		state := asmJSON(t, a)
		require.Equal(t, state, asmJSON(t, asmLoad(t, state)))
		again, err := a.Receive(ctx, store, m)
		require.NoError(t, err)
		require.True(t, again.Duplicate)
		require.Equal(t, out.Role, again.Role)
		require.Equal(t, state, asmJSON(t, a))
		for _, d := range out.Completed {
			rc, err := store.Open(ctx, d.Object)
			require.NoError(t, err)
			n, err := io.Copy(io.Discard, rc)
			require.NoError(t, err)
			require.Equal(t, d.Size, n)
		}
		_ = a.Missing()
	})
}

// A fragment that comes before its index is kept as an orphan; the index
// adopts it and the document is finished.
func ExampleAssembly_Receive() {
	ctx := context.Background()
	const (
		conv     = "0F6B1D2E-3A4B-4C5D-8E9F-A0B1C2D3E4F5"
		index    = "1B2C3D4E-0000-4000-8000-000000000001"
		fragment = "1B2C3D4E-0000-4000-8000-000000000002"
	)
	envelope := func(action hl7.Interaction, id string) ebxml.Envelope {
		return ebxml.Envelope{ConversationID: conv, Action: string(action), MessageID: id}
	}
	core := &ebxml.Message{
		Envelope: envelope(hl7.EHRExtractUK06, "1B2C3D4E-0000-4000-8000-000000000000"),
		External: []ebxml.ExternalAttachment{{DocumentID: "_DOC-1", MessageID: index,
			Description: ebxml.Description{Filename: "letter.txt", ContentType: "text/plain", LargeAttachment: true}}},
	}
	copc := func(id string, text string, next ...ebxml.ExternalAttachment) *ebxml.Message {
		payload, err := (&hl7.COPC{
			Wrapper: hl7.Wrapper{MessageID: id, CreationTime: time.Now(), ToASID: "200000000205", FromASID: "200000000119"},
			Kind:    hl7.KindAttachment, Recipients: []string{"B86041"}, From: "A91000", Reference: "letter.txt",
		}).Encode()
		if err != nil {
			panic(err)
		}
		return &ebxml.Message{Envelope: envelope(hl7.CommonContentCOPC, id), Payload: payload,
			Attachments: []ebxml.Attachment{{ContentType: "text/plain", Data: []byte(text)}}, External: next}
	}

	a, err := largemsg.Expect(core)
	if err != nil {
		panic(err)
	}
	store := largemsg.NewMemStore()
	out, _ := a.Receive(ctx, store, copc(fragment, "world"))
	fmt.Println(out.Role)
	out, _ = a.Receive(ctx, store, copc(index, "hello ", ebxml.ExternalAttachment{MessageID: fragment}))
	fmt.Println(out.Role, out.Completed[0].ID, out.Completed[0].Size, a.Complete())
	rc, _ := store.Open(ctx, out.Completed[0].Object)
	text, _ := io.ReadAll(rc)
	fmt.Printf("%s\n", text)
	_ = out.Cleanup(ctx, store) // once the new state is committed
	// Output:
	// orphan
	// index DOC-1 11 true
	// hello world
}

// Unannounced parts are kept up to MaxOrphans; the next is refused with
// code 30 and stores nothing.
func TestAssemblyBoundsOrphans(t *testing.T) {
	core := asmCore(t, nil, asmExternal("DOC-F", asmID(110), asmDesc("f.tif")))
	ctx := context.Background()
	store := largemsg.NewMemStore()
	a := asmExpect(t, core)
	require.NoError(t, a.StoreInline(ctx, store, core))
	orphan := func(i int) *ebxml.Message {
		return asmCOPC(t, asmID(100_000+i), []ebxml.Attachment{asmAttachment(asmEMISCID, []byte("stray"), asmDesc("Untitled"))})
	}
	for i := range largemsg.MaxOrphans {
		out := asmReceive(t, a, store, orphan(i))
		require.Equal(t, largemsg.RoleOrphan, out.Role)
	}
	objects := len(store.Names())
	before := asmJSON(t, a)
	_, err := a.Receive(ctx, store, orphan(largemsg.MaxOrphans))
	ae := asmRequireCode(t, err, hl7.ReasonLargeMessageFailure)
	assert.Contains(t, ae.Reason, "no more are kept")
	assert.Equal(t, before, asmJSON(t, a), "the refused part changed nothing")
	assert.Len(t, store.Names(), objects, "and stored nothing")
	// A part already kept is still recognised as a duplicate.
	out := asmReceive(t, a, store, orphan(0))
	assert.True(t, out.Duplicate)
}

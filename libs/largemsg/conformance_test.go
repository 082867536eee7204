package largemsg_test

import (
	"bytes"
	"context"
	"encoding/base64"
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

// The sample sets of the shared spec (samples/MANIFEST.md).
const (
	asmVisionCore  = "nia-ps__vision__scenario6-cid-mid-combo__uk06.mhs.json"
	asmVisionCOPC0 = "nia-ps__vision__scenario6-cid-mid-combo__copc0.mhs.json"
	asmVisionCOPC1 = "nia-ps__vision__scenario6-cid-mid-combo__copc1.mhs.json"
	asmVisionLM3   = "prm-messenger__vision__lm-example-3__small-ehr-mime.js.txt"
	asmTPPCore     = "prm-ehr-out__tpp__large-core-with-mid-refs.mhs.json"
	asmTPPFrag03   = "prm-ehr-out__tpp__large-fragment-03.mhs.json"
	asmTPPNonUniq  = "nia-ps__tpp__non-unique-fragment-names__uk06.mhs.json"
	asmEMISCore    = "prm-ehr-out__emis__large-core.mhs.json"
	asmEMISFrag01  = "prm-ehr-out__emis__large-fragment-01.mhs.json"
	asmS3Core      = "nia-ps__emis__scenario3__uk06.mhs.json"
	asmS3COPC      = "nia-ps__emis__scenario3__copc.mhs.json"
	asmS7Core      = "nia-ps__scenario7-skeleton__uk06.mhs.json"
	asmS7Index     = "nia-ps__scenario7-skeleton__copc-index.mhs.json"
	asmS7COPC0     = "nia-ps__scenario7-skeleton__copc0.mhs.json"
	asmEx1Core     = "prm-messenger__spec-lm-example-1__ehr-extract-http.txt"
	asmEx1Continue = "prm-messenger__spec-lm-example-1__continue-http.txt"
	asmEx1Frag0    = "prm-messenger__spec-lm-example-1__fragment0-http.txt"
	asmEx2Index    = "prm-messenger__spec-lm-example-2__compressed-fragment-index-http.txt"
)

// asmSample parses a sample with the parser for its wrapper.
func asmSample(t testing.TB, name string) *ebxml.Message {
	t.Helper()
	data := spectest.Sample(t, name)
	var m *ebxml.Message
	var err error
	switch {
	case strings.HasSuffix(name, ".mhs.json"):
		m, err = ebxml.ParseInboundJSON(data)
	case strings.HasSuffix(name, ".js.txt"):
		m, err = ebxml.ParseMIME(spectest.TemplateLiteral(data))
	default:
		m, err = ebxml.ParseMIME(data)
	}
	require.NoError(t, err, "parse %s", name)
	return m
}

func asmDocIDs(a *largemsg.Assembly) []string {
	var ids []string
	for _, d := range a.Expected {
		ids = append(ids, d.ID)
	}
	return ids
}

// Vision scenario 6: the core announces one LargeAttachment by
// mid:477B7133…, and copc0/copc1 are its two fragments. The set has no
// fragment index (no message 477B7133…), so the fragments can only be
// orphans; an index naming them, as the sender would send, finishes the
// document from the orphans.
func TestConformanceVisionScenario6(t *testing.T) {
	spectest.Dir(t)
	ctx := context.Background()
	core := asmSample(t, asmVisionCore)
	copc0, copc1 := asmSample(t, asmVisionCOPC0), asmSample(t, asmVisionCOPC1)
	a := asmExpect(t, core)
	const doc, mid = "477B7133-6CED-4040-8D6F-3872A3CE2192", "477B7133-6CED-4040-8D6F-3872A3CE2192"
	require.Equal(t, []string{doc}, asmDocIDs(a))
	assert.Equal(t, mid, a.Expected[0].MessageID)
	meta := a.Expected[0].Metadata()
	assert.Equal(t, "588210BB-401D-41F9-84D2-978697CEEFE5_00011000.tif", meta.Filename)
	assert.True(t, meta.LargeAttachment)

	store := largemsg.NewMemStore()
	for _, m := range []*ebxml.Message{copc0, copc1} {
		out := asmReceive(t, a, store, m)
		assert.Equal(t, largemsg.RoleOrphan, out.Role, "Vision labels them GP2GP_PI, but they are fragments")
	}
	r := a.Missing()
	assert.Equal(t, []largemsg.MissingDocument{{ID: doc, Filename: meta.Filename, MessageID: mid}}, r.Absent)
	assert.Equal(t, []string{"1FEE18C6-8184-4961-A848-7F13903A2ACF", "482CDD0C-C361-4961-99D6-ACF80B2FE17D"}, r.Orphans)
	assert.Equal(t, hl7.ReasonAttachmentsNotReceived, r.Reason())

	index := asmRawCOPC(t, mid, nil,
		ebxml.ExternalAttachment{MessageID: copc0.Envelope.MessageID, Description: asmDesc(meta.Filename)},
		ebxml.ExternalAttachment{MessageID: copc1.Envelope.MessageID, Description: asmDesc(meta.Filename)})
	out := asmReceive(t, a, store, index)
	require.Len(t, out.Completed, 1)
	want := append(bytes.Clone(copc0.Attachments[0].Data), copc1.Attachments[0].Data...)
	require.Len(t, want, 13_668+10_555, "the fragments' bodies were cut short by the sample's authors")
	assert.Equal(t, largemsg.StoredDocument{ID: doc, Filename: meta.Filename, ContentType: "image/tiff", Size: int64(len(want)),
		Object: "%7B%7BCONVERSATIONID%7D%7D/attachments/" + doc, SHA256: asmSum(want)}, out.Completed[0])
	assert.Equal(t, want, asmRead(t, store, out.Completed[0].Object))
	assert.True(t, a.Complete())
	require.NoError(t, out.Cleanup(ctx, store))
	assert.Empty(t, asmParts(store))
}

// TPP: a core with three inline attachments (bodies emptied by the
// sample's authors) and two mid: documents, and fragment 03, the index of
// the second: chunk 0 inline (emptied too) plus two mid: chunks.
func TestConformanceTPP(t *testing.T) {
	spectest.Dir(t)
	ctx := context.Background()
	core := asmSample(t, asmTPPCore)
	a := asmExpect(t, core)
	assert.Equal(t, []string{
		"0557F0E0-A231-41ED-808B-AC162D1F16F0", "0557F0E1-A231-41ED-808B-AC162D1F16F0", "0557F0E2-A231-41ED-808B-AC162D1F16F0",
		"0557F0E3-A231-41ED-808B-AC162D1F16F0", "0557F0E4-A231-41ED-808B-AC162D1F16F0",
	}, asmDocIDs(a))
	assert.Equal(t, "060FA820-A231-41ED-808B-AC162D1F16F0", a.Expected[3].MessageID)
	assert.Equal(t, "0635CDC0-A231-41ED-808B-AC162D1F16F0", a.Expected[4].MessageID)
	assert.Equal(t, "0557F0E4-A231-41ED-808B-AC162D1F16F0_pexels-lisa-fotios-1540258.jpg", a.Expected[4].Metadata().Filename)

	store := largemsg.NewMemStore()
	err := a.StoreInline(ctx, store, core)
	ae := asmRequireCode(t, err, hl7.ReasonReassemblyFailure)
	assert.Equal(t, "0557F0E0-A231-41ED-808B-AC162D1F16F0", ae.Document, "empty body where Length=1630482")

	out := asmReceive(t, a, store, asmSample(t, asmTPPFrag03))
	assert.Equal(t, largemsg.RoleIndex, out.Role)
	assert.Equal(t, "0557F0E4-A231-41ED-808B-AC162D1F16F0", out.Document)
	d := a.Expected[4]
	require.Len(t, d.Children, 3)
	assert.Equal(t, largemsg.AssemblyPart{Object: "0346D9CC-F472-492A-86D4-43D8B73AC95D/parts/0635CDC0-A231-41ED-808B-AC162D1F16F0/0", Received: true, Base64: true}, d.Children[0])

	r := a.Missing()
	assert.Equal(t, []largemsg.MissingDocument{{
		ID: "0557F0E4-A231-41ED-808B-AC162D1F16F0", Filename: "0557F0E4-A231-41ED-808B-AC162D1F16F0_pexels-lisa-fotios-1540258.jpg",
		MessageID: "0635CDC0-A231-41ED-808B-AC162D1F16F0", Parts: 3, Received: 1,
		MissingParts: []string{"0635CDC1-A231-41ED-808B-AC162D1F16F0", "063817B0-A231-41ED-808B-AC162D1F16F0"},
	}}, r.Partial)
	require.Len(t, r.Absent, 4, "three inline documents (refused) and the other mid: document")
	assert.Equal(t, "0557F0E3-A231-41ED-808B-AC162D1F16F0", r.Absent[3].ID)
	assert.Empty(t, r.Orphans)
	assert.Equal(t, hl7.ReasonLargeMessageTimeout, r.Reason())
}

// EMIS: a core with three inline compressed attachments and two mid:
// documents, and fragment 01, the whole first of them. Every body was
// emptied, and an empty body cannot be gunzipped.
func TestConformanceEMIS(t *testing.T) {
	spectest.Dir(t)
	ctx := context.Background()
	core := asmSample(t, asmEMISCore)
	a := asmExpect(t, core)
	assert.Equal(t, []string{
		"B32B68D2-F66F-4085-885B-7174F9119A83", "CE8ACFDC-78C9-4B5A-8569-9F571B9E3A92", "474D8685-0B3D-4AC5-8009-88C450156DB3",
		"4162A6E0-08D6-44DA-BF45-2BEFC7E0C243", "203C829B-2C6D-45D6-9EEF-B54F065D46F4",
	}, asmDocIDs(a))
	assert.Equal(t, "B32B68D2-F66F-4085-885B-7174F9119A83_Attach1 - Copy (2) - Copy.jfif", a.Expected[0].Metadata().Filename)
	assert.Equal(t, "DD92589A-B5B4-4492-AADD-51534821F07B", a.Expected[3].MessageID)
	assert.Equal(t, "DE4A9436-FFA3-49B1-8180-5570510F0C11", a.Expected[4].MessageID)

	store := largemsg.NewMemStore()
	ae := asmRequireCode(t, a.StoreInline(ctx, store, core), hl7.ReasonReassemblyFailure)
	assert.Equal(t, "B32B68D2-F66F-4085-885B-7174F9119A83", ae.Document)

	before := asmJSON(t, a)
	_, err := a.Receive(ctx, store, asmSample(t, asmEMISFrag01))
	ae = asmRequireCode(t, err, hl7.ReasonReassemblyFailure)
	assert.Equal(t, "4162A6E0-08D6-44DA-BF45-2BEFC7E0C243", ae.Document)
	assert.Equal(t, "DD92589A-B5B4-4492-AADD-51534821F07B", ae.MessageID)
	assert.Equal(t, before, asmJSON(t, a))
	assert.Len(t, a.Missing().Absent, 5)
}

// NIA scenario 3: one mid: document, an mp4 carried whole by the COPC.
func TestConformanceNIAScenario3(t *testing.T) {
	spectest.Dir(t)
	a := asmExpect(t, asmSample(t, asmS3Core))
	copc := asmSample(t, asmS3COPC)
	store := largemsg.NewMemStore()
	out := asmReceive(t, a, store, copc)
	assert.Equal(t, largemsg.RoleDocument, out.Role)
	const doc = "8681AF4F-E577-4C8D-A2CE-43CABE3D5FB4"
	data := copc.Attachments[0].Data
	require.Len(t, data, 245_779)
	require.Len(t, out.Completed, 1)
	assert.Equal(t, largemsg.StoredDocument{ID: doc, Filename: doc + "_sample_mpeg4.mp4", ContentType: "video/mpeg", Size: 245_779,
		Object: "%7B%7BCONVERSATIONID%7D%7D/attachments/" + doc, SHA256: asmSum(data)}, out.Completed[0],
		"named after the core's description, not the COPC's (which says 898A1474…, text/plain)")
	got := asmRead(t, store, out.Completed[0].Object)
	assert.Equal(t, []byte("ftypmp42"), got[4:12])
	assert.True(t, a.Complete())
	assert.True(t, a.Missing().Empty())
}

// NIA scenario 7: a skeleton extract announced by mid:, its index naming
// two mid: fragments, and the first fragment (the second is not in the
// set). Whichever comes first, one fragment is missing.
func TestConformanceScenario7Skeleton(t *testing.T) {
	spectest.Dir(t)
	const doc = "68E2A39F-7A24-449D-83CC-1B7CF1A9DAD7spine.nhs.ukExample1"
	for name, order := range map[string][]string{
		"index first":    {asmS7Index, asmS7COPC0},
		"fragment first": {asmS7COPC0, asmS7Index},
	} {
		t.Run(name, func(t *testing.T) {
			a := asmExpect(t, asmSample(t, asmS7Core))
			require.Equal(t, []string{doc}, asmDocIDs(a))
			id, ok := a.SkeletonID()
			require.True(t, ok)
			assert.Equal(t, doc, id)
			store := largemsg.NewMemStore()
			for _, sample := range order {
				out := asmReceive(t, a, store, asmSample(t, sample))
				assert.Empty(t, out.Completed)
			}
			d := a.Expected[0]
			require.True(t, d.Index)
			assert.Equal(t, []largemsg.AssemblyPart{
				{MessageID: "28B31-4245-4AFC-8DA2-8A40623A5101", Object: "%7B%7BCONVERSATIONID%7D%7D/parts/28B31-4245-4AFC-8DA2-8A40623A5101", Received: true, Base64: true, Size: 250},
				{MessageID: "24AED038-FF3E-466D-820A-AE1B334D68EE", Object: "%7B%7BCONVERSATIONID%7D%7D/parts/24AED038-FF3E-466D-820A-AE1B334D68EE"},
			}, d.Children)
			r := a.Missing()
			assert.Equal(t, []largemsg.MissingDocument{{ID: doc, Filename: doc + ".gzip", MessageID: "66B41202-C358-4B4C-93C6-7A10803F9584",
				Parts: 2, Received: 1, MissingParts: []string{"24AED038-FF3E-466D-820A-AE1B334D68EE"}}}, r.Partial)
			assert.Empty(t, r.Absent)
			assert.Empty(t, r.Orphans)
			assert.Equal(t, hl7.ReasonLargeMessageTimeout, r.Reason())
			assert.False(t, a.Complete())
		})
	}
}

// Example 1 of the 2013 harness: a core with one inline attachment and
// three mid: documents, and fragment 0 of the book.txt document, whose
// index (mid:E39E79A2…) is not in the set.
func TestConformanceExample1(t *testing.T) {
	spectest.Dir(t)
	ctx := context.Background()
	core := asmSample(t, asmEx1Core)
	a := asmExpect(t, core)
	assert.Equal(t, []string{
		"277F29F1-FEAB-4D38-8266-FEB7A1E6227D", "1C135B3C-5AA5-4BF1-A08B-E6002455B806",
		"7CCB6A77-360E-434E-8CF4-97C7C2B47D70", "8681AF4F-E577-4C8D-A2CE-43CABE3D5FB4",
	}, asmDocIDs(a))
	store := largemsg.NewMemStore()
	require.NoError(t, a.StoreInline(ctx, store, core))
	docs := a.Documents()
	require.Len(t, docs, 1)
	assert.Equal(t, "277F29F1-FEAB-4D38-8266-FEB7A1E6227D_LICENSE.txt", docs[0].Filename)
	assert.Equal(t, "text/plain", docs[0].ContentType)
	assert.Equal(t, int64(11_560), docs[0].Size)
	assert.Contains(t, string(asmRead(t, store, docs[0].Object)), "Apache License")

	out := asmReceive(t, a, store, asmSample(t, asmEx1Frag0))
	assert.Equal(t, largemsg.RoleOrphan, out.Role)
	r := a.Missing()
	assert.Equal(t, []string{"77128B31-4245-4AFC-8DA2-8A40623A5101"}, r.Orphans)
	var absent []string
	for _, d := range r.Absent {
		absent = append(absent, d.MessageID)
	}
	assert.Equal(t, []string{"435B1171-31F6-4EF2-AD7F-C7E64EEFF357", "E39E79A2-FA96-48FF-9373-7BBCB9D036E7", "A7B6C8EC-5AB4-4BF3-BB72-5D76E5D205A4"}, absent)
	assert.Equal(t, hl7.ReasonAttachmentsNotReceived, r.Reason())
}

// Example 2 of the 2013 harness: the index of a compressed document, with
// two mid: fragments. Its extract is not in the set: alone it belongs to
// nothing; under an extract announcing it, it becomes the index, and
// fragments under the ids it names finish the document.
func TestConformanceExample2(t *testing.T) {
	spectest.Dir(t)
	ctx := context.Background()
	index := asmSample(t, asmEx2Index)
	const indexID = "CBBAE92D-C7E8-4A9C-8887-F5AEBA1F8CE1"
	require.Equal(t, indexID, index.Envelope.MessageID)

	t.Run("not announced", func(t *testing.T) {
		a := asmExpect(t, asmSample(t, asmS7Core))
		_, err := a.Receive(ctx, largemsg.NewMemStore(), index)
		asmRequireCode(t, err, hl7.ReasonLargeMessageFailure)
	})

	const doc = "2B668BB3-806E-4224-AA42-2001CAC70B65"
	core := asmCore(t, nil, asmExternal(doc, indexID, ebxml.Description{Filename: doc + "_pg2600.txt", ContentType: "text/plain",
		Compressed: true, LargeAttachment: true, OriginalBase64: true}))
	a := asmExpect(t, core)
	store := largemsg.NewMemStore()
	out := asmReceive(t, a, store, index)
	assert.Equal(t, largemsg.RoleIndex, out.Role)
	r := a.Missing()
	require.Len(t, r.Partial, 1)
	assert.Equal(t, 2, r.Partial[0].Parts)
	assert.Zero(t, r.Partial[0].Received)
	assert.Equal(t, []string{"047C22B4-613F-47D3-9A72-44A1758464FB", "095DF934-2804-4BE6-B15C-936A60E940CD"}, r.Partial[0].MissingParts)

	book := bytes.Repeat([]byte("War and Peace, by Leo Tolstoy.\n"), 2_000)
	text := base64.StdEncoding.EncodeToString(asmGzip(t, book))
	for i, cut := range []string{text[:len(text)/2+3], text[len(text)/2+3:]} {
		out = asmReceive(t, a, store, asmRawCOPC(t, r.Partial[0].MissingParts[i], []ebxml.Attachment{asmEncoded(cut)}))
	}
	require.Len(t, out.Completed, 1)
	assert.Equal(t, int64(len(book)), out.Completed[0].Size)
	assert.Equal(t, book, asmRead(t, store, out.Completed[0].Object))
}

// Every large core of the samples gives a Continue that acknowledges its
// ebXML MessageId and is addressed back to its sender.
func TestConformanceContinue(t *testing.T) {
	spectest.Dir(t)
	created := time.Date(2024, 5, 1, 9, 30, 0, 0, time.UTC)
	for _, tc := range []struct {
		sample string
		// requesting is the requester's ODS code where the extract names
		// no destination (the harness and NIA test extracts); the COPCs of
		// those sets are addressed to C81007.
		requesting string
	}{
		{sample: asmTPPCore},
		{sample: asmTPPNonUniq},
		{sample: asmEMISCore},
		{sample: asmVisionCore},
		{sample: asmVisionLM3},
		{sample: asmS3Core, requesting: "C81007"},
		{sample: asmS7Core, requesting: "C81007"},
		{sample: asmEx1Core, requesting: "C81007"},
	} {
		t.Run(tc.sample, func(t *testing.T) {
			core := asmSample(t, tc.sample)
			x, err := hl7.DecodeExtract(core.Payload)
			require.NotNil(t, x, "%v", err)
			id := hl7.DeriveID(core.Envelope.ConversationID, "continue")
			var opts []largemsg.ContinueOption
			requesting := x.RequestingODS
			if tc.requesting != "" {
				require.Empty(t, x.RequestingODS)
				_, err := largemsg.Continue(core, id, created)
				require.ErrorIs(t, err, largemsg.ErrNoAddress)
				opts = append(opts, largemsg.WithRequestingODS(tc.requesting))
				requesting = tc.requesting
			}
			c, err := largemsg.Continue(core, id, created, opts...)
			require.NoError(t, err)
			assert.Equal(t, core.Envelope.MessageID, c.AcknowledgedID)
			assert.Equal(t, []string{x.SendingODS}, c.Recipients)
			assert.Equal(t, requesting, c.From)
			assert.Equal(t, x.FromASID, c.ToASID)
			assert.Equal(t, x.ToASID, c.FromASID)
			payload, err := c.Encode()
			require.NoError(t, err)
			require.NoError(t, spectest.Validate(t, spectest.SchemaCOPC, payload))
		})
	}

	t.Run("the example 1 continue", func(t *testing.T) {
		core := asmSample(t, asmEx1Core)
		sample, err := hl7.DecodeCOPC(asmSample(t, asmEx1Continue).Payload)
		require.NoError(t, err)
		// Its creationTime, 20131025174854117, has milliseconds without a
		// point, which hl7 does not read: the time is not compared.
		c, err := largemsg.Continue(core, sample.MessageID, created, largemsg.WithRequestingODS(sample.From))
		require.NoError(t, err)
		assert.Equal(t, sample.AcknowledgedID, c.AcknowledgedID)
		assert.Equal(t, sample.Recipients, c.Recipients)
		assert.Equal(t, sample.From, c.From)
		assert.Equal(t, sample.ToASID, c.ToASID)
		assert.Equal(t, sample.FromASID, c.FromASID)
	})
}

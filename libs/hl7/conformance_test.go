package hl7_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/hl7"
	"github.com/nhsengland/gp2gp/libs/hl7/ehr"
	"github.com/nhsengland/gp2gp/libs/spectest"
)

// validate requires data to validate against schema.
func validate(t *testing.T, schema string, data []byte) {
	t.Helper()
	require.NoError(t, spectest.Validate(t, schema, data))
}

func TestEncodedMessagesValidateAgainstTheSchemas(t *testing.T) {
	spectest.Dir(t)
	data, err := request().Encode()
	require.NoError(t, err)
	validate(t, spectest.SchemaRequest, data)
	for name, a := range acks() {
		t.Run(name, func(t *testing.T) {
			data, err := a.Encode()
			require.NoError(t, err)
			validate(t, spectest.SchemaAck, data)
		})
	}
	for name, c := range copcs() {
		t.Run(name, func(t *testing.T) {
			data, err := c.Encode()
			require.NoError(t, err)
			validate(t, spectest.SchemaCOPC, data)
		})
	}
	t.Run("extract UK06", func(t *testing.T) {
		data, err := extract(t, ehr.WithAttachments(ehr.Attachment{ID: "5A1B2C3D-0000-4000-8000-000000000001", Filename: "letter.pdf", ContentType: "application/pdf"})).Encode()
		require.NoError(t, err)
		validate(t, spectest.SchemaUK06, data)
	})
	t.Run("extract UK07", func(t *testing.T) {
		e := extract(t, ehr.WithNOPAT(5), ehr.WithLocalCodes(2))
		data, err := e.Encode()
		require.NoError(t, err)
		require.Equal(t, hl7.EHRExtractUK07, e.Interaction)
		validate(t, spectest.SchemaUK07, data)
	})
}

// A real vendor extract, decoded and written again with new ids, is still
// valid: the writer keeps what it does not own and writes what it does in
// the schema's places.
func TestReEncodedVendorExtractValidates(t *testing.T) {
	in, err := hl7.DecodeExtract(spectest.Payload(t, "prm-messenger__tpp-process__07-tpp-ehr-extract.xml"))
	require.NoError(t, err)
	out := &hl7.Extract{
		Wrapper:   wrapper("9A1C4E2B-0000-4000-8000-000000000001", "200000000149", "200000001161"),
		RequestID: "BBBBA01A-A9D1-A411-F824-9F7A00A33757", NHSNumber: in.NHSNumber,
		SendingODS: "M85019", RequestingODS: "B86041", Content: in.Content,
	}
	data, err := out.Encode()
	require.NoError(t, err)
	assert.Equal(t, hl7.EHRExtractUK06, out.Interaction)
	validate(t, spectest.SchemaUK06, data)

	back, err := hl7.DecodeExtract(data)
	require.NoError(t, err)
	assert.Equal(t, "9A1C4E2B-0000-4000-8000-000000000001", back.ExtractID, "extract id = message id")
	assert.Equal(t, "BBBBA01A-A9D1-A411-F824-9F7A00A33757", back.RequestID)
	assert.Equal(t, "9442964410", back.NHSNumber)
	assert.True(t, back.Refers("9a1c4e2b-0000-4000-8000-000000000001", ""))
}

type sampleWant struct {
	file        string
	interaction hl7.Interaction
	id          string
	to, from    string
	nhs         string
	requesting  string // requesting (new) practice ODS
	sending     string // sending (old) practice ODS
	ackType     hl7.AckType
	reason      hl7.ReasonCode
	ref         string // ack messageRef or Continue's acknowledged id
	copc        hl7.COPCKind
	filename    string
}

// The values each sample's MANIFEST row implies, checked by hand against
// the files.
var samples = []sampleWant{
	{file: "prm-messenger__tpp-process__06-ehr-request-to-tpp.xml", interaction: hl7.EHRRequest, id: "DFE22ED3-946B-4A2D-A827-5397C7673599", to: "200000000149", from: "200000001161", nhs: "9442964410", requesting: "B86041", sending: "M85019"},
	{file: "prm-messenger__tpp-process__07-tpp-ehr-extract.xml", interaction: hl7.EHRExtractUK06, id: "76C25210-5271-41EA-9384-E83935108FD5", to: "200000001161", from: "200000000149", nhs: "9442964410", requesting: "B86041", sending: "M85019"},
	{file: "prm-messenger__tpp-process__07-tpp-ack-AA.xml", interaction: hl7.ApplicationAck, id: "75049C80-5271-41EA-9384-E83935108FD5", to: "200000001161", from: "200000000149", ackType: hl7.AckAccept, ref: "BA229526-ADC6-4F1D-970E-CD9E78A6830E"},
	{file: "prm-messenger__tpp-process__07-tpp-nack-AR-18.xml", interaction: hl7.ApplicationAck, id: "1EF64E40-526E-41EA-9384-E83935108FD5", to: "200000001161", from: "200000000149", ackType: hl7.AckReject, reason: "18", ref: "A65AC703-0BE4-4314-8D91-BE57163E1BE5"},
	{file: "prm-messenger__tpp__ack-AA-mime.txt", interaction: hl7.ApplicationAck, id: "2FAFA7F0-6E88-41EA-9384-E83935108FD5", to: "200000001161", from: "200000000149", ackType: hl7.AckAccept, ref: "B0EE8E80-AFC1-4B2D-9F6F-7F67DA34F900"},
	{file: "prm-ehr-out__tpp__continue-COPC.mhs.json", interaction: hl7.CommonContentCOPC, id: "DE304CA0-F984-41ED-808B-AC162D1F16F0", to: "200000001613", from: "200000000149", copc: hl7.KindContinue, ref: "685940E2-3119-4816-9F7E-6E3276E2E5D7"},
	{file: "prm-ehr-out__tpp__large-core-with-mid-refs.mhs.json", interaction: hl7.EHRExtractUK06, id: "05F2F860-A231-41ED-808B-AC162D1F16F0", to: "200000001613", from: "200000000149", nhs: "9693643038", requesting: "B85002", sending: "M85019"},
	{file: "prm-ehr-out__tpp__large-fragment-03.mhs.json", interaction: hl7.CommonContentCOPC, id: "0635CDC0-A231-41ED-808B-AC162D1F16F0", to: "200000001613", from: "200000000149", copc: hl7.KindAttachment, filename: "0557F0E4-A231-41ED-808B-AC162D1F16F0_pexels-lisa-fotios-1540258.jpg"},
	{file: "nia-ps__tpp__non-unique-fragment-names__uk06.mhs.json", interaction: hl7.EHRExtractUK06, id: "91E18EA0-8407-11EE-B3A3-48DF37DF55D0", to: "200000001467", from: "858000001001", nhs: "9729726418", requesting: "P83007", sending: "C88046"},
	{file: "prm-messenger__emis__ehr-request-mime.txt", interaction: hl7.EHRRequest, id: "DFF5321C-C6EA-468E-BBC2-B0E48000E071", to: "200000001161", from: "200000000205", nhs: "9692294935", requesting: "N82668", sending: "B86041"},
	{file: "prm-ehr-out__emis__ehr-request.mhs.json", interaction: hl7.EHRRequest, id: "95C5A27C-9DE3-4C3A-A6CA-D9CD437BC6CC", to: "200000001161", from: "200000000631", nhs: "9692842304", requesting: "A91720", sending: "B86041"},
	{file: "prm-ehr-out__emis__large-core.mhs.json", interaction: hl7.EHRExtractUK06, id: "B1321D36-B5B0-43D1-A372-CAFDA8811258", to: "200000001613", from: "200000000631", nhs: "9693643038", requesting: "B85002", sending: "N82668"},
	{file: "prm-ehr-out__emis__large-fragment-01.mhs.json", interaction: hl7.CommonContentCOPC, id: "DD92589A-B5B4-4492-AADD-51534821F07B", to: "200000001613", from: "200000000631", copc: hl7.KindAttachment, filename: "4162A6E0-08D6-44DA-BF45-2BEFC7E0C243_Attach1 - Copy (3).jfif"},
	{file: "nia-ps__emis__scenario3__uk06.mhs.json", interaction: hl7.EHRExtractUK06, id: "C258107F-7A3F-4FB5-8B36-D7C0F6496A17", to: "276827251543", from: "715373337545", nhs: "{{nhsNumber}}", requesting: "" /* destination id nullFlavor="UNK" */, sending: "B83002"},
	{file: "nia-ps__emis__scenario3__copc.mhs.json", interaction: hl7.CommonContentCOPC, id: "A7B6C8EC-5AB4-4BF3-BB72-5D76E5D205A4", to: "276827251543", from: "715373337545", copc: hl7.KindAttachment},
	{file: "prm-messenger__vision__continue-COPC-mime.txt", interaction: hl7.CommonContentCOPC, id: "14C5BC4D-4142-4C95-AE69-59CFDF226FD9", to: "031759679512", from: "200000000835", copc: hl7.KindContinue, ref: "75D9391B-8BD9-4959-838A-6D062E8C8565"},
	{file: "prm-messenger__vision__lm-example-3__small-ehr-mime.js.txt", interaction: hl7.EHRExtractUK06, id: "F01B395C-15AD-480C-8FA8-EA930B182788", to: "031759679512", from: "200000000835", nhs: "9465731285", requesting: "C88653", sending: "A28009"},
	{file: "nia-ps__vision__scenario6-cid-mid-combo__uk06.mhs.json", interaction: hl7.EHRExtractUK06, id: "F01B395C-15AD-480C-8FA8-EA930B182788", to: "031759679512", from: "200000000835", nhs: "{{nhsNumber}}", requesting: "C88653", sending: "A28009"},
	{file: "nia-ps__vision__scenario6-cid-mid-combo__copc0.mhs.json", interaction: hl7.CommonContentCOPC, id: "1FEE18C6-8184-4961-A848-7F13903A2ACF", to: "031759679512", from: "200000000835", copc: hl7.KindAttachment, filename: "588210BB-401D-41F9-84D2-978697CEEFE5_00011000.tif"},
	{file: "nia-ps__vision__scenario6-cid-mid-combo__copc1.mhs.json", interaction: hl7.CommonContentCOPC, id: "482CDD0C-C361-4961-99D6-ACF80B2FE17D", to: "031759679512", from: "200000000835", copc: hl7.KindAttachment},
	{file: "prm-messenger__spec-lm-example-1__ehr-extract-http.txt", interaction: hl7.EHRExtractUK06, id: "C258107F-7A3F-4FB5-8B36-D7C0F6496A17", to: "276827251543", from: "715373337545", nhs: "9446363101", requesting: "" /* destination id nullFlavor="UNK" */, sending: "B83002"},
	{file: "prm-messenger__spec-lm-example-1__continue-http.txt", interaction: hl7.CommonContentCOPC, id: "FA039330-7E63-446A-8CA4-E9E0D00DA6E8", to: "715373337545", from: "276827251543", copc: hl7.KindContinue, ref: "6E242658-3D8E-41E3-A7DC-172BDA00FA67"},
	{file: "prm-messenger__spec-lm-example-1__fragment0-http.txt", interaction: hl7.CommonContentCOPC, id: "77128B31-4245-4AFC-8DA2-8A40623A5101", to: "276827251543", from: "715373337545", copc: hl7.KindAttachment},
	{file: "prm-messenger__spec-lm-example-2__compressed-fragment-index-http.txt", interaction: hl7.CommonContentCOPC, id: "CBBAE92D-C7E8-4A9C-8887-F5AEBA1F8CE1", to: "276827251543", from: "715373337545", copc: hl7.KindAttachment},
	{file: "nia-ps__scenario7-skeleton__uk06.mhs.json", interaction: hl7.EHRExtractUK06, id: "C258107F-7A3F-4FB5-8B36-D7C0F6496A17", to: "276827251543", from: "715373337545", nhs: "{{nhsNumber}}", requesting: "" /* destination id nullFlavor="UNK" */, sending: "B83002"},
	{file: "nia-ps__scenario7-skeleton__copc-index.mhs.json", interaction: hl7.CommonContentCOPC, id: "66B41202-C358-4B4C-93C6-7A10803F9584", to: "276827251543", from: "715373337545", copc: hl7.KindAttachment, filename: "68E2A39F-7A24-449D-83CC-1B7CF1A9DAD7spine.nhs.ukExample1.gzip"},
	{file: "nia-ps__scenario7-skeleton__copc0.mhs.json", interaction: hl7.CommonContentCOPC, id: "77128B31-4245-4AFC-8DA2-8A40623A5101", to: "276827251543", from: "715373337545", copc: hl7.KindAttachment},
}

func TestEverySampleDecodes(t *testing.T) {
	covered := map[string]bool{}
	for _, want := range samples {
		covered[want.file] = true
		t.Run(want.file, func(t *testing.T) {
			m, err := hl7.Decode(spectest.Payload(t, want.file))
			require.NoError(t, err)
			h := m.Header()
			assert.Equal(t, want.interaction, h.Interaction)
			assert.Equal(t, want.id, h.MessageID)
			assert.Equal(t, want.to, h.ToASID)
			assert.Equal(t, want.from, h.FromASID)
			switch msg := m.(type) {
			case *hl7.Request:
				assert.Equal(t, want.nhs, msg.NHSNumber)
				assert.Equal(t, want.requesting, msg.RequestingODS)
				assert.Equal(t, want.sending, msg.SendingODS)
				assert.NotEmpty(t, msg.RequestID)
			case *hl7.Extract:
				assert.Equal(t, want.nhs, msg.NHSNumber)
				assert.Equal(t, want.requesting, msg.RequestingODS)
				assert.Equal(t, want.sending, msg.SendingODS)
				assert.NotEmpty(t, msg.ExtractID)
				require.NotNil(t, msg.Content)
			case *hl7.Ack:
				assert.Equal(t, want.ackType, msg.Type)
				assert.Equal(t, want.reason, msg.Reason)
				assert.Equal(t, want.ref, msg.MessageRef)
				if want.reason != "" {
					assert.Equal(t, want.reason.Display(), msg.ReasonDisplay)
				}
			case *hl7.COPC:
				assert.Equal(t, want.copc, msg.Kind)
				if want.copc == hl7.KindContinue {
					assert.Equal(t, want.ref, msg.AcknowledgedID)
				}
				if want.filename != "" {
					assert.Equal(t, want.filename, msg.Filename())
				}
			default:
				t.Fatalf("decoded as %T", m)
			}
		})
	}
	for _, name := range spectest.SampleNames(t) {
		assert.True(t, covered[name], "sample %s has no assertions", name)
	}
}

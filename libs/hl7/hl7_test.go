package hl7_test

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/hl7"
	"github.com/nhsengland/gp2gp/libs/hl7/ehr"
)

var update = flag.Bool("update", false, "rewrite the golden files")

var created = time.Date(2026, 11, 21, 9, 30, 0, 0, time.UTC)

func wrapper(id, to, from string) hl7.Wrapper {
	return hl7.Wrapper{MessageID: id, CreationTime: created, ToASID: to, FromASID: from}
}

// golden compares got with testdata/golden/name, or rewrites it with
// -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -update to create it")
	assert.Equal(t, string(want), string(got), "encoder output changed; run go test -update if intended")
}

func request() *hl7.Request {
	return &hl7.Request{
		Wrapper:   wrapper("dfe22ed3-946b-4a2d-a827-5397c7673599", "200000000149", "200000001161"),
		RequestID: "BBBBA01A-A9D1-A411-F824-9F7A00A33757", NHSNumber: "9442964410",
		RequestingODS: "b86041", SendingODS: "M85019",
	}
}

func TestRequestRoundTrip(t *testing.T) {
	data, err := request().Encode()
	require.NoError(t, err)
	golden(t, "request.xml", data)

	got, err := hl7.DecodeRequest(data)
	require.NoError(t, err)
	assert.Equal(t, &hl7.Request{
		Wrapper: hl7.Wrapper{MessageID: "DFE22ED3-946B-4A2D-A827-5397C7673599", CreationTime: created,
			Interaction: hl7.EHRRequest, ToASID: "200000000149", FromASID: "200000001161", AuthorASID: "200000001161"},
		RequestID: "BBBBA01A-A9D1-A411-F824-9F7A00A33757", NHSNumber: "9442964410",
		RequestingODS: "B86041", SendingODS: "M85019",
	}, got)
}

func acks() map[string]*hl7.Ack {
	w := wrapper("1EF64E40-526E-41EA-9384-E83935108FD5", "200000001161", "200000000149")
	return map[string]*hl7.Ack{
		"ack-aa.xml":     {Wrapper: w, Type: hl7.AckAccept, MessageRef: "a65ac703-0be4-4314-8d91-be57163e1be5"},
		"nack-ar-06.xml": hl7.NewNack(w, "A65AC703-0BE4-4314-8D91-BE57163E1BE5", hl7.ReasonPatientNotAtSurgery),
		"nack-ae-99.xml": hl7.NewNack(w, "A65AC703-0BE4-4314-8D91-BE57163E1BE5", hl7.ReasonUnexpectedCondition),
	}
}

func TestAckRoundTrip(t *testing.T) {
	for name, a := range acks() {
		t.Run(name, func(t *testing.T) {
			data, err := a.Encode()
			require.NoError(t, err)
			golden(t, name, data)
			got, err := hl7.DecodeAck(data)
			require.NoError(t, err)
			assert.Equal(t, a.Type, got.Type)
			assert.Equal(t, "A65AC703-0BE4-4314-8D91-BE57163E1BE5", got.MessageRef)
			assert.Equal(t, a.Reason, got.Reason)
			assert.Equal(t, a.Reason.Display(), got.ReasonDisplay)
			assert.True(t, got.Refers("a65ac703-0be4-4314-8d91-be57163e1be5"))
		})
	}
	assert.Equal(t, hl7.AckError, hl7.NackType(hl7.ReasonLargeMessageFailure))
	assert.Equal(t, hl7.AckReject, hl7.NackType(hl7.ReasonRequestMalformed))
}

func copcs() map[string]*hl7.COPC {
	return map[string]*hl7.COPC{
		"continue.xml": {
			Wrapper: wrapper("DE304CA0-F984-41ED-808B-AC162D1F16F0", "200000000149", "200000001613"),
			Kind:    hl7.KindContinue, Recipients: []string{"M85019"}, From: "B85002",
			AcknowledgedID: "685940E2-3119-4816-9F7E-6E3276E2E5D7",
		},
		"copc-attachment.xml": {
			Wrapper: wrapper("0635CDC0-A231-41ED-808B-AC162D1F16F0", "200000001613", "200000000149"),
			Kind:    hl7.KindAttachment, Recipients: []string{"B85002"}, From: "M85019",
			Reference: hl7.FileReference("0557F0E4_scan of letter (2).pdf"),
		},
	}
}

func TestCOPCRoundTrip(t *testing.T) {
	for name, c := range copcs() {
		t.Run(name, func(t *testing.T) {
			data, err := c.Encode()
			require.NoError(t, err)
			golden(t, name, data)
			got, err := hl7.DecodeCOPC(data)
			require.NoError(t, err)
			assert.Equal(t, c.Kind, got.Kind)
			assert.Equal(t, c.MessageID, got.MessageID)
			assert.Equal(t, c.MessageID, got.PayloadID)
			assert.Equal(t, c.Recipients, got.Recipients)
			assert.Equal(t, c.From, got.From)
			assert.Equal(t, c.AcknowledgedID, got.AcknowledgedID)
			assert.Equal(t, c.Reference, got.Reference)
			if c.Kind == hl7.KindAttachment {
				assert.Equal(t, "0557F0E4_scan of letter (2).pdf", got.Filename())
				assert.Equal(t, hl7.CodeAttachmentInfo, got.PayloadCode)
			} else {
				assert.Equal(t, hl7.ContinueSubject, got.Subject)
			}
		})
	}
}

func TestEncodeRefusesIncompleteMessages(t *testing.T) {
	cases := map[string]func() ([]byte, error){
		"request without NHS number": func() ([]byte, error) { r := request(); r.NHSNumber = ""; return r.Encode() },
		"request without ASID":       func() ([]byte, error) { r := request(); r.ToASID = ""; return r.Encode() },
		"request without time":       func() ([]byte, error) { r := request(); r.CreationTime = time.Time{}; return r.Encode() },
		"AA with a reason": func() ([]byte, error) {
			a := acks()["ack-aa.xml"]
			a.Reason = "06"
			return a.Encode()
		},
		"NACK with an unknown code": func() ([]byte, error) {
			a := acks()["nack-ar-06.xml"]
			a.Reason = "05"
			return a.Encode()
		},
		"continue without the extract id": func() ([]byte, error) {
			c := copcs()["continue.xml"]
			c.AcknowledgedID = ""
			return c.Encode()
		},
		"extract without content": func() ([]byte, error) {
			return (&hl7.Extract{Wrapper: wrapper("A", "1", "2"), RequestID: "R", NHSNumber: "9442964410", SendingODS: "A", RequestingODS: "B"}).Encode()
		},
	}
	for name, enc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := enc()
			require.ErrorIs(t, err, hl7.ErrInvalidMessage)
		})
	}
}

func TestDecodeReportsTheElementAndReasonCode(t *testing.T) {
	valid, err := request().Encode()
	require.NoError(t, err)
	cases := []struct {
		name     string
		data     string
		decode   func([]byte) error
		wantPath string
		wantCode hl7.ReasonCode
		wantMsg  string
	}{
		{"request without NHS number", replace(string(valid), `extension="9442964410"`, `extension=""`),
			decodeRequest, "/RCMR_IN010000UK05/ControlActEvent/subject/EhrRequest/recordTarget/patient/id", "18", "missing NHS number"},
		{"request without destination", replace(string(valid), "destination", "elsewhere"),
			decodeRequest, "/RCMR_IN010000UK05/ControlActEvent/subject/EhrRequest/destination", "18", "missing sending practice ODS"},
		{"request not well-formed", string(valid[:len(valid)-20]), decodeRequest, "/RCMR_IN010000UK05", "18", "document ends inside an element"},
		{"request with a DOCTYPE", `<!DOCTYPE x [<!ENTITY e "e">]>` + string(valid[len(`<?xml version="1.0" encoding="UTF-8"?>`):]),
			decodeRequest, "", "18", "DOCTYPE"},
		{"extract that is an ack", `<MCCI_IN010000UK13 xmlns="urn:hl7-org:v3"/>`, decodeExtract, "/MCCI_IN010000UK13", "21", "expected RCMR_IN030000UK06"},
		{"extract without EhrExtract", `<RCMR_IN030000UK06 xmlns="urn:hl7-org:v3"><id root="A"/><communicationFunctionRcv><device><id extension="1"/></device></communicationFunctionRcv><communicationFunctionSnd><device><id extension="2"/></device></communicationFunctionSnd></RCMR_IN030000UK06>`,
			decodeExtract, "/RCMR_IN030000UK06/ControlActEvent/subject/EhrExtract", "21", "missing EhrExtract"},
		{"COPC that is not GP2GP", `<html/>`, decodeCOPC, "/html", "30", "not a GP2GP message"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.decode([]byte(tc.data))
			var ve *hl7.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, tc.wantCode, ve.Code)
			assert.Equal(t, tc.wantPath, ve.Path)
			assert.Contains(t, ve.Error(), tc.wantMsg)
		})
	}
}

func TestDecodeKeepsWhatItCouldReadForTheReply(t *testing.T) {
	valid, err := request().Encode()
	require.NoError(t, err)
	r, err := hl7.DecodeRequest([]byte(replace(string(valid), `extension="9442964410"`, `extension=""`)))
	require.Error(t, err)
	require.NotNil(t, r)
	assert.Equal(t, "DFE22ED3-946B-4A2D-A827-5397C7673599", r.MessageID)
	assert.Equal(t, "200000001161", r.FromASID, "the NACK can be addressed")
}

func decodeRequest(b []byte) error { _, err := hl7.DecodeRequest(b); return err }
func decodeExtract(b []byte) error { _, err := hl7.DecodeExtract(b); return err }
func decodeCOPC(b []byte) error    { _, err := hl7.DecodeCOPC(b); return err }

func replace(s, old, new string) string {
	out, n := "", 0
	for {
		i := indexOf(s, old)
		if i < 0 {
			break
		}
		out += s[:i] + new
		s = s[i+len(old):]
		n++
	}
	if n == 0 {
		panic("replace: " + old + " not found")
	}
	return out + s
}

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

func TestReasonCodes(t *testing.T) {
	all := hl7.Reasons()
	require.Len(t, all, 23, "06 07 09 10 11 12 13 14 15 17 18 19 20 21 23 24 25 26 28 29 30 31 99")
	for _, r := range all {
		assert.Len(t, string(r.Code), 2)
		assert.NotEmpty(t, r.Display, r.Code)
		assert.NotEmpty(t, r.Label, r.Code)
		assert.Contains(t, []hl7.Side{hl7.SideSender, hl7.SideRequester, hl7.SideEither}, r.Side, r.Code)
	}
	assert.Equal(t, "Request message not well-formed or not able to be processed", hl7.ReasonRequestMalformed.Display())
	assert.Equal(t, hl7.ReasonPatientNotAtSurgery, hl7.NormalizeReason(" 6 "))
	assert.False(t, hl7.ReasonCode("05").Known())
}

func TestParseTS(t *testing.T) {
	cases := map[string]time.Time{
		"20200218164108":      time.Date(2020, 2, 18, 16, 41, 8, 0, time.UTC),
		"20200218":            time.Date(2020, 2, 18, 0, 0, 0, 0, time.UTC),
		"202002181641":        time.Date(2020, 2, 18, 16, 41, 0, 0, time.UTC),
		"20200218164108.123":  time.Date(2020, 2, 18, 16, 41, 8, 123e6, time.UTC),
		"20200618164108+0100": time.Date(2020, 6, 18, 15, 41, 8, 0, time.UTC),
	}
	for in, want := range cases {
		got, err := hl7.ParseTS(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, bad := range []string{"", "2020-02-18", "202002181", "abcdefgh"} {
		_, err := hl7.ParseTS(bad)
		assert.Error(t, err, bad)
	}
}

func TestValidNHSNumber(t *testing.T) {
	for _, ok := range []string{"9442964410", "9692842304", "9693643038", "9434765919", "4010232137"} {
		assert.True(t, hl7.ValidNHSNumber(ok), ok)
	}
	for _, bad := range []string{"9442964411", "944296441", "94429644100", "94429644a0", "", "{{nhsNumber}}", "0000000001"} {
		assert.False(t, hl7.ValidNHSNumber(bad), bad)
	}
}

func extract(t *testing.T, opts ...ehr.Option) *hl7.Extract {
	t.Helper()
	content, _, err := ehr.Generate(append([]ehr.Option{ehr.WithSeed(11), ehr.WithEncounters(2)}, opts...)...)
	require.NoError(t, err)
	return &hl7.Extract{
		Wrapper:   wrapper("76c25210-5271-41ea-9384-e83935108fd5", "200000001161", "200000000149"),
		RequestID: "bbbba01a-a9d1-a411-f824-9f7a00a33757", NHSNumber: "9442964410",
		SendingODS: "M85019", RequestingODS: "B86041", Content: content,
	}
}

func TestExtractRoundTrip(t *testing.T) {
	for name, opts := range map[string][]ehr.Option{
		"extract-uk06.xml": nil,
		"extract-uk07.xml": {ehr.WithNOPAT(3)},
	} {
		t.Run(name, func(t *testing.T) {
			e := extract(t, opts...)
			data, err := e.Encode()
			require.NoError(t, err)
			golden(t, name, data)
			want := hl7.EHRExtractUK06
			if opts != nil {
				want = hl7.EHRExtractUK07
			}
			assert.Equal(t, want, e.Interaction)

			got, err := hl7.DecodeExtract(data)
			require.NoError(t, err)
			assert.Equal(t, want, got.Interaction)
			assert.Equal(t, "76C25210-5271-41EA-9384-E83935108FD5", got.MessageID)
			assert.Equal(t, got.MessageID, got.ExtractID, "extract id = message id")
			assert.Equal(t, "BBBBA01A-A9D1-A411-F824-9F7A00A33757", got.RequestID)
			assert.Equal(t, "9442964410", got.NHSNumber)
			assert.Equal(t, "M85019", got.SendingODS)
			assert.Equal(t, "B86041", got.RequestingODS)
			assert.Equal(t, created, got.AvailabilityTime)
			assert.Equal(t, opts != nil, got.Redacted())

			sum, err := ehr.Summarize(got.Content)
			require.NoError(t, err)
			assert.Equal(t, "9442964410", sum.NHSNumber)
			assert.Equal(t, "M85019", sum.AuthorODS)
			assert.Equal(t, 2+1, sum.Compositions-0) // two encounters and the registration composition
		})
	}
}

func TestDeriveID(t *testing.T) {
	a := hl7.DeriveID("7c5a8f1e-3f0b-4a53-9d0e-5b2c1d4e6f70", "ehr-request")
	assert.Equal(t, a, hl7.DeriveID("7C5A8F1E-3F0B-4A53-9D0E-5B2C1D4E6F70", "ehr-request"), "stable, case-blind")
	assert.NotEqual(t, a, hl7.DeriveID("7C5A8F1E-3F0B-4A53-9D0E-5B2C1D4E6F70", "ehr-extract"))
	assert.Regexp(t, `^[0-9A-F]{8}-[0-9A-F]{4}-5[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$`, a)
	assert.NotEqual(t, hl7.NewID(), hl7.NewID())
}

package gp2gpctl_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/ebxml"
	"github.com/nhsengland/gp2gp/libs/hl7"
	"github.com/nhsengland/gp2gp/libs/hl7/ehr"
	"github.com/nhsengland/gp2gp/libs/spectest"
	"github.com/nhsengland/gp2gp/services/gp2gpctl"
)

type report struct {
	File           string         `json:"file"`
	Format         string         `json:"format"`
	Interaction    string         `json:"interaction"`
	MessageID      string         `json:"messageId"`
	ConversationID string         `json:"conversationId"`
	FromASID       string         `json:"fromAsid"`
	ToASID         string         `json:"toAsid"`
	NHSNumber      string         `json:"nhsNumber"`
	RequestingODS  string         `json:"requestingOds"`
	SendingODS     string         `json:"sendingOds"`
	AckType        string         `json:"ackType"`
	ReasonCode     string         `json:"reasonCode"`
	MessageRef     string         `json:"messageRef"`
	COPCKind       string         `json:"copcKind"`
	COPCRole       string         `json:"copcRole"`
	Statements     map[string]int `json:"statements"`
	Attachments    []struct {
		Href            string `json:"href"`
		Filename        string `json:"filename"`
		ContentType     string `json:"contentType"`
		Compressed      bool   `json:"compressed"`
		LargeAttachment bool   `json:"largeAttachment"`
		Length          *int64 `json:"length"`
		Skeleton        bool   `json:"skeleton"`
	} `json:"attachments"`
	Errors []string `json:"errors"`
}

func run(t *testing.T, args ...string) (reports []report, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = gp2gpctl.Run(context.Background(), args, &out, &errOut)
	sc := bufio.NewScanner(&out)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var r report
		require.NoError(t, json.Unmarshal(sc.Bytes(), &r), sc.Text())
		reports = append(reports, r)
	}
	return reports, errOut.String(), code
}

var when = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

// writeFiles makes one file of each wrapping from messages the codec
// writes: bare HL7, a MIME body, MHS inbound JSON.
func writeFiles(t *testing.T) (dir string) {
	t.Helper()
	dir = t.TempDir()
	content, _, err := ehr.Generate(ehr.WithSeed(7), ehr.WithPatient("9442964410"), ehr.WithPractices("M85019", "B86041"),
		ehr.WithAttachments(ehr.Attachment{ID: "5A1B2C3D-0000-4000-8000-000000000001", Filename: "letter (1).pdf", ContentType: "application/pdf"}))
	require.NoError(t, err)
	extract := &hl7.Extract{
		Wrapper:   hl7.Wrapper{MessageID: "7C5A8F1E-3F0B-4A53-9D0E-5B2C1D4E6F70", CreationTime: when, ToASID: "200000000101", FromASID: "200000000102"},
		RequestID: "BBBBA01A-A9D1-A411-F824-9F7A00A33757", NHSNumber: "9442964410", SendingODS: "M85019", RequestingODS: "B86041",
		Content: content,
	}
	payload, err := extract.Encode()
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "extract.xml"), payload, 0o600))

	msg := &ebxml.Message{
		Envelope: ebxml.Envelope{
			From: ebxml.PartyID{ID: "M85019-822652"}, To: ebxml.PartyID{ID: "B86041-822653"}, CPAID: "S20001A000100",
			ConversationID: "0A2B4C6D-1111-4222-8333-944455556666", Action: string(hl7.EHRExtractUK06),
			MessageID: extract.MessageID, Timestamp: when,
		},
		Payload: payload,
		Attachments: []ebxml.Attachment{{
			ContentType: "application/pdf", Base64: true, DocumentID: "_5A1B2C3D-0000-4000-8000-000000000001",
			Description: ebxml.Description{Filename: "letter (1).pdf", ContentType: "application/pdf", Length: 4, HasLength: true},
			Data:        []byte("%PDF"),
		}},
		External: []ebxml.ExternalAttachment{{
			DocumentID: "_6B2C3D4E-0000-4000-8000-000000000002", MessageID: "1E2D3C4B-0000-4000-8000-000000000003",
			Description: ebxml.Description{Filename: "scan.tif", ContentType: "image/tiff", LargeAttachment: true, Length: 9000000, HasLength: true},
		}},
	}
	body, _, err := msg.MarshalMIME()
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "extract.mime"), body, 0o600))
	js, err := msg.InboundJSON()
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "extract.mhs.json"), js, 0o600))

	nack, err := hl7.NewNack(hl7.Wrapper{MessageID: "1EF64E40-526E-41EA-9384-E83935108FD5", CreationTime: when, ToASID: "200000000102", FromASID: "200000000101"},
		extract.MessageID, hl7.ReasonIntegrationFailed).Encode()
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "nack.xml"), nack, 0o600))
	return dir
}

func TestInspectEveryWrapping(t *testing.T) {
	dir := writeFiles(t)
	reports, stderr, code := run(t, "inspect", filepath.Join(dir, "extract.xml"), filepath.Join(dir, "extract.mime"),
		filepath.Join(dir, "extract.mhs.json"), filepath.Join(dir, "nack.xml"))
	require.Equal(t, gp2gpctl.ExitOK, code, stderr)
	require.Len(t, reports, 4)
	for i, format := range []string{"hl7", "mime", "mhs-json"} {
		r := reports[i]
		assert.Equal(t, format, r.Format)
		assert.Equal(t, "RCMR_IN030000UK06", r.Interaction)
		assert.Equal(t, "7C5A8F1E-3F0B-4A53-9D0E-5B2C1D4E6F70", r.MessageID)
		assert.Equal(t, "200000000102", r.FromASID)
		assert.Equal(t, "200000000101", r.ToASID)
		assert.Equal(t, "9442964410", r.NHSNumber)
		assert.Equal(t, "B86041", r.RequestingODS)
		assert.Equal(t, "M85019", r.SendingODS)
		assert.Positive(t, r.Statements["ehrComposition"])
		assert.Positive(t, r.Statements["ObservationStatement"])
		assert.Empty(t, r.Errors)
		if format == "hl7" {
			assert.Empty(t, r.ConversationID)
			assert.Empty(t, r.Attachments)
			continue
		}
		assert.Equal(t, "0A2B4C6D-1111-4222-8333-944455556666", r.ConversationID)
		require.Len(t, r.Attachments, 2)
		assert.True(t, strings.HasPrefix(r.Attachments[0].Href, "cid:"))
		assert.Equal(t, "letter (1).pdf", r.Attachments[0].Filename)
		assert.Equal(t, "mid:1E2D3C4B-0000-4000-8000-000000000003", r.Attachments[1].Href)
		assert.True(t, r.Attachments[1].LargeAttachment)
		require.NotNil(t, r.Attachments[1].Length)
		assert.EqualValues(t, 9000000, *r.Attachments[1].Length)
	}
	nack := reports[3]
	assert.Equal(t, "MCCI_IN010000UK13", nack.Interaction)
	assert.Equal(t, "AR", nack.AckType)
	assert.Equal(t, "11", nack.ReasonCode)
	assert.Equal(t, "7C5A8F1E-3F0B-4A53-9D0E-5B2C1D4E6F70", nack.MessageRef)
}

func TestUnreadableFilesFailButTheOthersArePrinted(t *testing.T) {
	dir := writeFiles(t)
	garbage := filepath.Join(dir, "garbage.txt")
	require.NoError(t, os.WriteFile(garbage, []byte("not a message at all"), 0o600))
	doctype := filepath.Join(dir, "doctype.xml")
	require.NoError(t, os.WriteFile(doctype, []byte(`<!DOCTYPE x [<!ENTITY a "a">]><RCMR_IN010000UK05/>`), 0o600))
	reports, stderr, code := run(t, "inspect", garbage, filepath.Join(dir, "nack.xml"), filepath.Join(dir, "missing.xml"), doctype)
	assert.Equal(t, gp2gpctl.ExitFailure, code)
	require.Len(t, reports, 1)
	assert.Equal(t, "MCCI_IN010000UK13", reports[0].Interaction)
	assert.Contains(t, stderr, "garbage.txt: no readable GP2GP message")
	assert.Contains(t, stderr, "missing.xml: no such file or directory")
	assert.Contains(t, stderr, "doctype.xml: no readable GP2GP message")
	assert.Contains(t, stderr, "DOCTYPE")
}

func TestAPartlyReadableMessageIsReportedWithItsErrors(t *testing.T) {
	dir := writeFiles(t)
	data, err := os.ReadFile(filepath.Join(dir, "nack.xml"))
	require.NoError(t, err)
	broken := filepath.Join(dir, "broken.xml")
	require.NoError(t, os.WriteFile(broken, bytes.Replace(data, []byte("<messageRef>"), []byte("<elsewhere>"), 1), 0o600))
	// still well-formed: rename the closing tag too
	data, _ = os.ReadFile(broken)
	require.NoError(t, os.WriteFile(broken, bytes.Replace(data, []byte("</messageRef>"), []byte("</elsewhere>"), 1), 0o600))
	reports, _, code := run(t, "inspect", broken)
	assert.Equal(t, gp2gpctl.ExitOK, code)
	require.Len(t, reports, 1)
	assert.Equal(t, "AR", reports[0].AckType)
	require.Len(t, reports[0].Errors, 1)
	assert.Contains(t, reports[0].Errors[0], "missing acknowledged message id")
}

func TestUsage(t *testing.T) {
	_, stderr, code := run(t)
	assert.Equal(t, gp2gpctl.ExitUsage, code)
	assert.Contains(t, stderr, "gp2gpctl inspect")
	_, stderr, code = run(t, "inspect")
	assert.Equal(t, gp2gpctl.ExitUsage, code)
	assert.Contains(t, stderr, "name at least one file")
	_, _, code = run(t, "frobnicate")
	assert.Equal(t, gp2gpctl.ExitUsage, code)
	_, stderr, code = run(t, "mi")
	assert.Equal(t, gp2gpctl.ExitUsage, code)
	assert.Contains(t, stderr, "gp2gpctl mi report --spine-csv DIR")
	_, stderr, code = run(t, "mi", "report", "-start", "2026-03-01")
	assert.Equal(t, gp2gpctl.ExitUsage, code)
	assert.Contains(t, stderr, "--spine-csv is required")
	missing := filepath.Join(t.TempDir(), "none")
	_, stderr, code = run(t, "mi", "report", "--spine-csv", missing, "--ods-metadata", missing, "--start", "2026-03-01", "--end", "2026-03-01")
	assert.Equal(t, gp2gpctl.ExitFailure, code)
	assert.Contains(t, stderr, "gp2gpctl mi report: ")
}

// manifestRow is what samples/MANIFEST.md says of a sample.
type manifestRow struct {
	file, interaction string
	cid, mid          int
	hasManifest       bool
}

var manifestCounts = regexp.MustCompile(`manifest cid:(\d+) mid:(\d+)`)

func readManifest(t *testing.T, dir string) []manifestRow {
	data, err := os.ReadFile(filepath.Join(dir, "samples", "MANIFEST.md"))
	require.NoError(t, err)
	var rows []manifestRow
	for _, line := range strings.Split(string(data), "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 8 || !strings.Contains(cells[2], "`") {
			continue
		}
		row := manifestRow{file: strings.Trim(strings.TrimSpace(cells[2]), "`")}
		row.interaction = strings.Fields(strings.TrimSpace(cells[6]))[0]
		row.interaction = strings.TrimSuffix(row.interaction, ";")
		if m := manifestCounts.FindStringSubmatch(cells[6]); m != nil {
			row.cid, _ = strconv.Atoi(m[1])
			row.mid, _ = strconv.Atoi(m[2])
			row.hasManifest = true
		}
		rows = append(rows, row)
	}
	return rows
}

func TestInspectEverySample(t *testing.T) {
	dir := spectest.Dir(t)
	rows := readManifest(t, dir)
	require.Len(t, rows, 27)
	var files []string
	for _, row := range rows {
		files = append(files, filepath.Join(dir, "samples", row.file))
	}
	reports, stderr, code := run(t, append([]string{"inspect"}, files...)...)
	require.Equal(t, gp2gpctl.ExitOK, code, stderr)
	require.Len(t, reports, len(rows))
	for i, row := range rows {
		r := reports[i]
		t.Run(row.file, func(t *testing.T) {
			assert.Equal(t, row.interaction, r.Interaction)
			assert.NotEmpty(t, r.MessageID)
			assert.NotEmpty(t, r.FromASID)
			assert.NotEmpty(t, r.ToASID)
			assert.Empty(t, r.Errors)
			if !row.hasManifest {
				assert.Equal(t, "hl7", r.Format)
				return
			}
			assert.NotEmpty(t, r.ConversationID)
			var mids int
			for _, a := range r.Attachments {
				if strings.HasPrefix(a.Href, "mid:") {
					mids++
				}
			}
			assert.Len(t, r.Attachments, row.cid-1+row.mid, "manifest references besides the payload")
			assert.Equal(t, row.mid, mids)
		})
	}
	byFile := map[string]report{}
	for i, row := range rows {
		byFile[row.file] = reports[i]
	}
	// A few values the MANIFEST rows describe in words.
	assert.Equal(t, "18", byFile["prm-messenger__tpp-process__07-tpp-nack-AR-18.xml"].ReasonCode)
	assert.Equal(t, "AR", byFile["prm-messenger__tpp-process__07-tpp-nack-AR-18.xml"].AckType)
	assert.Equal(t, "continue", byFile["prm-ehr-out__tpp__continue-COPC.mhs.json"].COPCKind)
	assert.Equal(t, "685940E2-3119-4816-9F7E-6E3276E2E5D7", byFile["prm-ehr-out__tpp__continue-COPC.mhs.json"].MessageRef)
	assert.Equal(t, "fragment-index", byFile["prm-ehr-out__tpp__large-fragment-03.mhs.json"].COPCRole)
	assert.Equal(t, "9442964410", byFile["prm-messenger__tpp-process__06-ehr-request-to-tpp.xml"].NHSNumber)
	skeleton := byFile["nia-ps__scenario7-skeleton__uk06.mhs.json"]
	require.Len(t, skeleton.Attachments, 1)
	assert.True(t, skeleton.Attachments[0].Skeleton)
	assert.True(t, skeleton.Attachments[0].LargeAttachment)
	emis := byFile["prm-ehr-out__emis__large-core.mhs.json"]
	require.Len(t, emis.Attachments, 5)
	require.NotNil(t, emis.Attachments[4].Length)
	assert.EqualValues(t, 14045660, *emis.Attachments[4].Length)
	assert.Equal(t, "Untitled", byFile["prm-ehr-out__tpp__large-fragment-03.mhs.json"].Attachments[0].Filename)
}

// The COPC variants of large messaging, as whole messages: an attachment
// split into a fragment index (first chunk inline, the rest as mid:
// references) and fragments, written by the codec and read back.
func TestLargeMessageCOPCVariantsRoundTrip(t *testing.T) {
	dir := t.TempDir()
	const indexID = "0635CDC0-A231-41ED-808B-AC162D1F16F0"
	fragmentIDs := []string{"1A2B3C4D-0000-4000-8000-000000000001", "1A2B3C4D-0000-4000-8000-000000000002"}
	copc := func(id string) []byte {
		data, err := (&hl7.COPC{
			Wrapper: hl7.Wrapper{MessageID: id, CreationTime: when, ToASID: "200000000101", FromASID: "200000000102"},
			Kind:    hl7.KindAttachment, Recipients: []string{"B86041"}, From: "M85019",
			Reference: hl7.FileReference("scan.tif"),
		}).Encode()
		require.NoError(t, err)
		return data
	}
	envelope := func(id string) ebxml.Envelope {
		return ebxml.Envelope{From: ebxml.PartyID{ID: "M85019-822652"}, To: ebxml.PartyID{ID: "B86041-822653"}, CPAID: "S20001A000100",
			ConversationID: "0A2B4C6D-1111-4222-8333-944455556666", Action: string(hl7.CommonContentCOPC), MessageID: id, Timestamp: when}
	}
	chunk := func(n int) ebxml.Attachment {
		return ebxml.Attachment{ContentType: "application/octet-stream", Base64: true,
			Description: ebxml.Description{Filename: indexID + "_" + strconv.Itoa(n) + ".messageattachment", ContentType: "application/octet-stream", OriginalBase64: true, Length: 3, HasLength: true},
			Data:        []byte{byte(n), byte(n), byte(n)}}
	}
	index := &ebxml.Message{Envelope: envelope(indexID), Payload: copc(indexID), Attachments: []ebxml.Attachment{chunk(0)}}
	for i, id := range fragmentIDs {
		index.External = append(index.External, ebxml.ExternalAttachment{DocumentID: "_6B2C3D4E-0000-4000-8000-00000000000" + strconv.Itoa(i), MessageID: id,
			Description: ebxml.Description{Filename: indexID + "_" + strconv.Itoa(i+1) + ".messageattachment", ContentType: "application/octet-stream", OriginalBase64: true, Length: 3, HasLength: true}})
	}
	files := []string{filepath.Join(dir, "index.mime")}
	body, _, err := index.MarshalMIME()
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(files[0], body, 0o600))
	for i, id := range fragmentIDs {
		frag := &ebxml.Message{Envelope: envelope(id), Payload: copc(id), Attachments: []ebxml.Attachment{chunk(i + 1)}}
		js, err := frag.InboundJSON()
		require.NoError(t, err)
		files = append(files, filepath.Join(dir, "fragment"+strconv.Itoa(i+1)+".json"))
		require.NoError(t, os.WriteFile(files[i+1], js, 0o600))
	}

	reports, stderr, code := run(t, append([]string{"inspect"}, files...)...)
	require.Equal(t, gp2gpctl.ExitOK, code, stderr)
	require.Len(t, reports, 3)
	assert.Equal(t, "fragment-index", reports[0].COPCRole)
	require.Len(t, reports[0].Attachments, 3)
	assert.Equal(t, "mid:"+fragmentIDs[1], reports[0].Attachments[2].Href)
	for i, r := range reports[1:] {
		assert.Equal(t, "fragment", r.COPCRole)
		assert.Equal(t, fragmentIDs[i], r.MessageID, "a fragment's id is the mid: its index announced")
		assert.Equal(t, "attachment", r.COPCKind)
		assert.Equal(t, "M85019", r.SendingODS)
		assert.Equal(t, "B86041", r.RequestingODS)
	}
}

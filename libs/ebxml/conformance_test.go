package ebxml_test

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
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
	"github.com/nhsengland/gp2gp/libs/spectest"
)

// manifestRow is what samples/MANIFEST.md states about one sample.
type manifestRow struct {
	file        string
	interaction string
	cid, mid    int
	hasCounts   bool
}

var (
	rowFile        = regexp.MustCompile("^`([^`]+)`$")
	rowInteraction = regexp.MustCompile(`^([A-Z]{4}_IN\d{6}UK\d{2})`)
	rowCounts      = regexp.MustCompile(`manifest cid:(\d+) mid:(\d+)`)
)

// readManifest reads the sample table of samples/MANIFEST.md.
func readManifest(t *testing.T, dir string) []manifestRow {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "samples", "MANIFEST.md"))
	require.NoError(t, err)
	defer f.Close()
	var rows []manifestRow
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		cells := strings.Split(sc.Text(), "|")
		if len(cells) < 8 {
			continue
		}
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		fm := rowFile.FindStringSubmatch(cells[2])
		im := rowInteraction.FindStringSubmatch(cells[6])
		if fm == nil || im == nil {
			continue
		}
		r := manifestRow{file: fm[1], interaction: im[1]}
		if cm := rowCounts.FindStringSubmatch(cells[6]); cm != nil {
			r.cid, _ = strconv.Atoi(cm[1])
			r.mid, _ = strconv.Atoi(cm[2])
			r.hasCounts = true
		}
		rows = append(rows, r)
	}
	require.NoError(t, sc.Err())
	require.NotEmpty(t, rows, "no sample rows found in MANIFEST.md")
	return rows
}

// parseSample parses an envelope sample with the parser for its wrapper.
func parseSample(t *testing.T, dir, name string) *ebxml.Message {
	t.Helper()
	data := sampleBytes(t, name)
	var m *ebxml.Message
	var err error
	if strings.HasSuffix(name, ".mhs.json") {
		m, err = ebxml.ParseInboundJSON(data)
	} else {
		m, err = ebxml.ParseMIME(data)
	}
	require.NoError(t, err, "parse %s", name)
	return m
}

func countRefs(refs []ebxml.Reference) (cid, mid int) {
	for _, r := range refs {
		switch {
		case r.IsCID():
			cid++
		case r.IsMID():
			mid++
		}
	}
	return cid, mid
}

// TestSamplesConformance parses every sample that carries an envelope and
// checks what MANIFEST.md states about it (interaction, number of cid: and
// mid: references), then the sample-specific facts in sampleChecks.
func TestSamplesConformance(t *testing.T) {
	dir := spectest.Dir(t)
	rows := readManifest(t, dir)
	checked := map[string]bool{}
	for _, row := range rows {
		if !isEnvelopeSample(row.file) {
			continue
		}
		t.Run(row.file, func(t *testing.T) {
			require.True(t, row.hasCounts, "MANIFEST row for %s states no manifest counts", row.file)
			m := parseSample(t, dir, row.file)
			assert.Equal(t, row.interaction, m.Envelope.Action)
			cid, mid := countRefs(m.Envelope.Manifest)
			assert.Equal(t, row.cid, cid, "cid: references")
			assert.Equal(t, row.mid, mid, "mid: references")
			assert.Len(t, m.External, row.mid, "external attachments")
			assert.Equal(t, ebxml.ServiceGP2GP, m.Envelope.Service)
			assert.Equal(t, ebxml.PartyTypeServiceInstance, m.Envelope.From.Type)
			assert.Equal(t, ebxml.PartyTypeServiceInstance, m.Envelope.To.Type)
			assert.NotEmpty(t, m.Envelope.From.ID)
			assert.NotEmpty(t, m.Envelope.To.ID)
			assert.False(t, m.Envelope.Timestamp.IsZero(), "Timestamp")
			assert.Equal(t, strings.ToUpper(m.Envelope.ConversationID), m.Envelope.ConversationID)
			assert.Equal(t, strings.ToUpper(m.Envelope.MessageID), m.Envelope.MessageID)
			require.NotEmpty(t, m.Payload, "HL7 payload")
			assert.Contains(t, string(m.Payload), row.interaction, "payload is the %s", row.interaction)
			if check, ok := sampleChecks[row.file]; ok {
				check(t, m)
				checked[row.file] = true
			}
		})
	}
	for name := range sampleChecks {
		assert.True(t, checked[name], "sample %s has checks but was not run", name)
	}
}

// TestSamplesAllListed: every envelope sample on disk has a MANIFEST row,
// so none escapes the conformance test.
func TestSamplesAllListed(t *testing.T) {
	dir := spectest.Dir(t)
	listed := map[string]bool{}
	for _, r := range readManifest(t, dir) {
		listed[r.file] = true
	}
	entries, err := os.ReadDir(filepath.Join(dir, "samples"))
	require.NoError(t, err)
	n := 0
	for _, e := range entries {
		if isEnvelopeSample(e.Name()) {
			n++
			assert.True(t, listed[e.Name()], "%s is not in MANIFEST.md", e.Name())
		}
	}
	assert.Equal(t, 23, n, "envelope samples on disk")
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	tm, err := time.Parse(time.RFC3339Nano, s)
	require.NoError(t, err)
	return tm
}

// sampleChecks are the facts checked for selected samples, beyond what
// MANIFEST.md states for all.
var sampleChecks = map[string]func(t *testing.T, m *ebxml.Message){
	"prm-messenger__tpp__ack-AA-mime.txt": func(t *testing.T, m *ebxml.Message) {
		// Binary junk before the body; the Content-Type with boundary and
		// start="soappart" sits inside that junk.
		e := m.Envelope
		assert.Equal(t, "5A36471B-036B-48E1-BBB4-A89AEE0652E1", e.ConversationID)
		assert.Equal(t, "2FAFA7F0-6E88-41EA-9384-E83935108FD5", e.MessageID)
		assert.Equal(t, ebxml.PartyID{ID: "YGM24-820388", Type: ebxml.PartyTypeServiceInstance}, e.From)
		assert.Equal(t, ebxml.PartyID{ID: "B86041-822103", Type: ebxml.PartyTypeServiceInstance}, e.To)
		assert.Equal(t, "0dcf6ba78c4633f931ca", e.CPAID)
		assert.Equal(t, mustTime(t, "2020-03-25T11:02:58Z"), e.Timestamp)
		assert.Equal(t, mustTime(t, "2020-03-25T11:12:58Z"), e.TimeToLive)
		assert.Empty(t, e.RefToMessageID)
		assert.True(t, e.AckRequested)
		assert.True(t, e.DuplicateElimination)
		assert.Equal(t, "payload@tpp-uk.com/SystmOne/GP2GP1.1A", m.PayloadContentID)
		require.Len(t, e.Manifest, 1)
		assert.True(t, e.Manifest[0].Payload)
		assert.Equal(t, "http://www.nhsia.nhs.uk/schemas/HL7-Message.xsd", e.Manifest[0].SchemaLocation)
		assert.Equal(t, "2.0", e.Manifest[0].SchemaVersion)
		assert.True(t, bytes.HasPrefix(m.Payload, []byte(`<?xml version="1.0" encoding="UTF-8"?>`)))
		assert.True(t, bytes.HasSuffix(bytes.TrimSpace(m.Payload), []byte("</MCCI_IN010000UK13>")))
		assert.Empty(t, m.Attachments)
	},
	"prm-ehr-out__tpp__continue-COPC.mhs.json": func(t *testing.T, m *ebxml.Message) {
		assert.Equal(t, "DBC31D30-F984-41ED-A4C4-956AA80C6B4E", m.Envelope.ConversationID)
		assert.Equal(t, "DE304CA0-F984-41ED-808B-AC162D1F16F0", m.Envelope.MessageID)
		assert.Equal(t, "YGM24-820388", m.Envelope.From.ID)
		assert.Equal(t, "B85002-822652", m.Envelope.To.ID)
		assert.Contains(t, string(m.Payload), "Continue Acknowledgement")
		assert.Empty(t, m.Attachments)
	},
	"prm-ehr-out__tpp__large-core-with-mid-refs.mhs.json": func(t *testing.T, m *ebxml.Message) {
		// Description filenames arrive as &quot;-escaped XML text.
		require.Len(t, m.Attachments, 3)
		for i, a := range m.Attachments {
			assert.Equal(t, "attachment"+strconv.Itoa(i+1)+".0@test.com", a.ContentID)
			assert.True(t, a.Base64)
			assert.Empty(t, a.Data, "payload bodies were emptied by the PRM authors")
			assert.Equal(t, "application/octet-stream", a.Description.ContentType)
			assert.Equal(t, int64(1630482), a.Description.Length)
		}
		assert.Equal(t, "_0557F0E0-A231-41ED-808B-AC162D1F16F0", m.Attachments[0].DocumentID)
		assert.Equal(t, "0557F0E0-A231-41ED-808B-AC162D1F16F0_Attach1_-_Copy__3__-_Copy.jfif", m.Attachments[0].Description.Filename)
		require.Len(t, m.External, 2)
		x := m.External[1]
		assert.Equal(t, "0635CDC0-A231-41ED-808B-AC162D1F16F0", x.MessageID)
		assert.Equal(t, "_0557F0E4-A231-41ED-808B-AC162D1F16F0", x.DocumentID)
		assert.Equal(t, ebxml.Description{
			Filename: "0557F0E4-A231-41ED-808B-AC162D1F16F0_pexels-lisa-fotios-1540258.jpg", ContentType: "image/jpeg",
			Compressed: true, LargeAttachment: true, Length: 14404686, HasLength: true,
		}, x.Description)
		assert.True(t, m.Large())
	},
	"prm-ehr-out__tpp__large-fragment-03.mhs.json": func(t *testing.T, m *ebxml.Message) {
		// TPP names every fragment "Untitled".
		require.Len(t, m.Attachments, 1)
		assert.Equal(t, "Untitled", m.Attachments[0].Description.Filename)
		assert.Equal(t, int64(5037864), m.Attachments[0].Description.Length)
		assert.Equal(t, "attachment0.0@test.com", m.Attachments[0].ContentID)
		require.Len(t, m.External, 2)
		for _, x := range m.External {
			assert.Equal(t, "Untitled", x.Description.Filename)
			assert.Equal(t, "image/jpeg", x.Description.ContentType)
			assert.True(t, x.Description.Compressed)
		}
		assert.Equal(t, "0635CDC1-A231-41ED-808B-AC162D1F16F0", m.External[0].MessageID)
		assert.Equal(t, int64(4328958), m.External[1].Description.Length)
	},
	"nia-ps__tpp__non-unique-fragment-names__uk06.mhs.json": func(t *testing.T, m *ebxml.Message) {
		// The ebXML holds placeholders ({{conversationId}}, a mid: of
		// {{copc-1-1-message-id}}); the JSON lists the real message id.
		assert.Equal(t, "{{CONVERSATIONID}}", m.Envelope.ConversationID)
		assert.Equal(t, "91E18EA0-8407-11EE-B3A3-48DF37DF55D0", m.Envelope.MessageID)
		require.Len(t, m.External, 1)
		x := m.External[0]
		assert.Equal(t, "937DD980-8407-11EE-B3A3-48DF37DF55D0", x.MessageID)
		assert.Equal(t, "E36BBBB1-8407-11EE-B3A3-48DF37DF55D0", x.DocumentID)
		assert.Equal(t, "9186ECF7-8407-11EE-B3A3-48DF37DF55D0_Firstname_Lastname_4465495269_29_Apr_2021_by_IS_2578799336.TIFF", x.Description.Filename)
		assert.True(t, x.Description.LargeAttachment)
		assert.Equal(t, int64(6451080), x.Description.Length)
	},
	"prm-messenger__emis__ehr-request-mime.txt": func(t *testing.T, m *ebxml.Message) {
		// No headers before the first boundary line; "Content-Id:<x>".
		assert.Equal(t, "DFF5321C-C6EA-468E-BBC2-B0E48000E071", m.Envelope.ConversationID)
		assert.Equal(t, "DFF5321C-C6EA-468E-BBC2-B0E48000E071", m.Envelope.MessageID)
		assert.Equal(t, "N82668-820670", m.Envelope.From.ID)
		assert.Equal(t, "B86041-822103", m.Envelope.To.ID)
		assert.Equal(t, mustTime(t, "2020-11-16T17:13:38.682Z"), m.Envelope.Timestamp)
		assert.True(t, m.Envelope.AckRequested)
		assert.True(t, m.Envelope.DuplicateElimination, "an empty <eb:DuplicateElimination/>")
		assert.Equal(t, "Content1@e-mis.com/EMISWeb/GP2GP2.2A", m.PayloadContentID)
		assert.Equal(t, "RCMR_IN010000UK05", m.Envelope.Manifest[0].Description)
	},
	"prm-ehr-out__emis__ehr-request.mhs.json": func(t *testing.T, m *ebxml.Message) {
		assert.Equal(t, "95C5A27C-9DE3-4C3A-A6CA-D9CD437BC6CC", m.Envelope.ConversationID)
		assert.Equal(t, "10CEA77B-6575-4CEE-BBB7-24747214D62E", m.Envelope.MessageID)
		assert.Equal(t, "A91720-9198820", m.Envelope.From.ID)
		assert.Equal(t, "A91368-9199177", m.Envelope.To.ID)
	},
	"prm-ehr-out__emis__large-core.mhs.json": func(t *testing.T, m *ebxml.Message) {
		assert.Equal(t, "05E36C93-2DEF-4586-B842-127C534FB8B7", m.Envelope.ConversationID)
		require.Len(t, m.Attachments, 3)
		assert.Equal(t, "Attachment1@e-mis.com/EMISWeb/GP2GP2.2A", m.Attachments[0].ContentID)
		assert.Equal(t, "B32B68D2-F66F-4085-885B-7174F9119A83_Attach1 - Copy (2) - Copy.jfif", m.Attachments[0].Description.Filename)
		for _, a := range m.Attachments {
			assert.True(t, a.Description.Compressed)
		}
		require.Len(t, m.External, 2)
		x := m.External[1]
		assert.Equal(t, "DE4A9436-FFA3-49B1-8180-5570510F0C11", x.MessageID)
		assert.True(t, x.Description.LargeAttachment)
		assert.True(t, x.Description.HasLength)
		assert.Equal(t, int64(14045660), x.Description.Length)
		// EMIS URL-encodes the same filenames in the payload's
		// file://localhost references; decoded, they equal the manifest's.
		refs := regexp.MustCompile(`file://localhost/([^"\\]+)`).FindAllStringSubmatch(string(m.Payload), -1)
		require.Len(t, refs, 5)
		names := map[string]bool{}
		for _, a := range m.Attachments {
			names[a.Description.Filename] = true
		}
		for _, x := range m.External {
			names[x.Description.Filename] = true
		}
		for _, r := range refs {
			d := ebxml.ParseDescription(`Filename="` + r[1] + `"`)
			assert.True(t, names[d.Filename], "payload reference %s decodes to %q, not a manifest filename", r[1], d.Filename)
		}
	},
	"prm-ehr-out__emis__large-fragment-01.mhs.json": func(t *testing.T, m *ebxml.Message) {
		require.Len(t, m.Attachments, 1)
		a := m.Attachments[0]
		assert.Equal(t, "_1C07D826-4C15-4B90-91E1-3D218D25D8DD", a.DocumentID)
		assert.Equal(t, ebxml.Description{
			Filename: "4162A6E0-08D6-44DA-BF45-2BEFC7E0C243_Attach1 - Copy (3).jfif", ContentType: "application/octet-stream",
			Compressed: true, Length: 1566916, HasLength: true,
		}, a.Description)
		assert.Equal(t, "DD92589A-B5B4-4492-AADD-51534821F07B", m.Envelope.MessageID, "COPC id equals the core's mid:")
	},
	"nia-ps__emis__scenario3__uk06.mhs.json": func(t *testing.T, m *ebxml.Message) {
		require.Len(t, m.External, 1)
		assert.Equal(t, "A7B6C8EC-5AB4-4BF3-BB72-5D76E5D205A4", m.External[0].MessageID)
		assert.Equal(t, "8681AF4F-E577-4C8D-A2CE-43CABE3D5FB4", m.External[0].DocumentID)
		assert.Equal(t, "video/mpeg", m.External[0].Description.ContentType)
	},
	"nia-ps__emis__scenario3__copc.mhs.json": func(t *testing.T, m *ebxml.Message) {
		// is_base64 is the string "true"; no content_id, so the attachment
		// is matched to the manifest's cid: reference by position.
		require.Len(t, m.Attachments, 1)
		a := m.Attachments[0]
		assert.True(t, a.Base64)
		assert.Equal(t, "27c75acf-3d93-11e3-a2cf-e1c5ffeb5098", a.ContentID)
		assert.Equal(t, "video/mpeg", a.ContentType)
		assert.Len(t, a.Data, 245779)
		assert.True(t, bytes.HasPrefix(a.Data, []byte("\x00\x00\x00\x18ftypmp42")), "an MP4 file")
		assert.Equal(t, "898A1474-F39B-491F-AEFF-315E884C26EA_sample_mpeg4.mp4", a.Description.Filename)
	},
	"prm-messenger__vision__continue-COPC-mime.txt": func(t *testing.T, m *ebxml.Message) {
		// CRLF line ends; part headers run into the XML without a blank
		// line; hl7ebXML prefix; undeclared soap-env prefix.
		assert.Equal(t, "C9EF6B94-4C18-458D-8881-ADEB18C12D91", m.Envelope.ConversationID)
		assert.Equal(t, "14C5BC4D-4142-4C95-AE69-59CFDF226FD9", m.Envelope.MessageID)
		assert.Equal(t, "A28009-821605", m.Envelope.From.ID)
		assert.Equal(t, "5EP-807264", m.Envelope.To.ID)
		assert.Equal(t, "ED16EE4D-94EB-40FA-BD05-E7950977B006@inps.co.uk/Vision/3", m.PayloadContentID)
		assert.Equal(t, "_ED16EE4D-94EB-40FA-BD05-E7950977B006", m.Envelope.Manifest[0].ID)
		assert.True(t, m.Envelope.Manifest[0].Payload)
		assert.Contains(t, string(m.Payload), "Continue Acknowledgement")
	},
	"prm-messenger__vision__lm-example-3__small-ehr-mime.js.txt": func(t *testing.T, m *ebxml.Message) {
		assert.Equal(t, "922CBB28-B342-4217-8432-73779A678555", m.Envelope.ConversationID)
		assert.Equal(t, "F01B395C-15AD-480C-8FA8-EA930B182788", m.Envelope.MessageID)
		assert.Equal(t, mustTime(t, "2018-06-19T08:29:17Z"), m.Envelope.TimeToLive)
		assert.True(t, m.Envelope.AckRequested)
		assert.True(t, m.Envelope.DuplicateElimination, "<eb:DuplicateElimination>always</eb:DuplicateElimination>")
		require.Len(t, m.External, 1)
		x := m.External[0]
		assert.Equal(t, "477B7133-6CED-4040-8D6F-3872A3CE2192", x.MessageID)
		assert.Equal(t, "_477B7133-6CED-4040-8D6F-3872A3CE2192", x.DocumentID)
		assert.Equal(t, ebxml.Description{
			Filename: "588210BB-401D-41F9-84D2-978697CEEFE5_00011000.tif", ContentType: "image/tiff",
			LargeAttachment: true, OriginalBase64: true, Length: 4718592, HasLength: true,
		}, x.Description)
	},
	"nia-ps__vision__scenario6-cid-mid-combo__uk06.mhs.json": func(t *testing.T, m *ebxml.Message) {
		require.Len(t, m.External, 1)
		assert.Equal(t, "477B7133-6CED-4040-8D6F-3872A3CE2192", m.External[0].MessageID)
		assert.Equal(t, "image/tiff", m.External[0].Description.ContentType)
	},
	"nia-ps__vision__scenario6-cid-mid-combo__copc0.mhs.json": func(t *testing.T, m *ebxml.Message) {
		// The JSON description is empty; it comes from the manifest.
		require.Len(t, m.Attachments, 1)
		a := m.Attachments[0]
		assert.Equal(t, "09D8E406-B106-4CCB-A3E3-C4EBC2F17BF8@inps.co.uk/Vision/3", a.ContentID)
		assert.Equal(t, "_09D8E406-B106-4CCB-A3E3-C4EBC2F17BF8", a.DocumentID)
		assert.Equal(t, int64(4718592), a.Description.Length)
		assert.Len(t, a.Data, 13668)
		assert.Len(t, a.Encoded, 18224)
	},
	"nia-ps__vision__scenario6-cid-mid-combo__copc1.mhs.json": func(t *testing.T, m *ebxml.Message) {
		// The last fragment's base64 text is 14075 characters ending in a
		// single '=': wrong padding, tolerated.
		require.Len(t, m.Attachments, 1)
		a := m.Attachments[0]
		assert.Equal(t, int64(3448920), a.Description.Length)
		assert.Len(t, a.Encoded, 14075)
		assert.Len(t, a.Data, base64.RawStdEncoding.DecodedLen(14074))
	},
	"prm-messenger__spec-lm-example-1__ehr-extract-http.txt": func(t *testing.T, m *ebxml.Message) {
		// HTTP request line and headers; multi-line Descriptions.
		assert.Equal(t, "6E242658-3D8E-41E3-A7DC-172BDA00FA67", m.Envelope.ConversationID)
		assert.Equal(t, "S2030731A2137919", m.Envelope.CPAID)
		assert.Equal(t, "RHM-801710", m.Envelope.From.ID)
		assert.Equal(t, "RHM-803229", m.Envelope.To.ID)
		assert.Equal(t, "6e242659-3d8e-41e3-a7dc-172bda00fa67@spine.nhs.uk", m.PayloadContentID)
		require.Len(t, m.Attachments, 1)
		a := m.Attachments[0]
		assert.Equal(t, "17C993E0-0302-4C3C-9608-7E4862193784", a.ContentID)
		assert.Equal(t, "277F29F1-FEAB-4D38-8266-FEB7A1E6227D", a.DocumentID)
		assert.Equal(t, ebxml.Description{
			Filename: "277F29F1-FEAB-4D38-8266-FEB7A1E6227D_LICENSE.txt", ContentType: "text/plain", OriginalBase64: true,
		}, a.Description)
		assert.Len(t, a.Data, 11560)
		assert.Contains(t, string(a.Data), "Apache License")
		require.Len(t, m.External, 3)
		assert.Equal(t, "435B1171-31F6-4EF2-AD7F-C7E64EEFF357", m.External[0].MessageID)
		assert.True(t, m.External[1].Description.LargeAttachment)
		assert.Equal(t, "7CCB6A77-360E-434E-8CF4-97C7C2B47D70_book.txt", m.External[1].Description.Filename)
	},
	"prm-messenger__spec-lm-example-1__continue-http.txt": func(t *testing.T, m *ebxml.Message) {
		// a placeholder word where the HTTP Content-Length value belongs; no AckRequested.
		assert.Equal(t, "6E242658-3D8E-41E3-A7DC-172BDA00FA67", m.Envelope.ConversationID)
		assert.False(t, m.Envelope.AckRequested)
		assert.True(t, m.Envelope.DuplicateElimination)
		assert.Empty(t, m.Attachments)
	},
	"prm-messenger__spec-lm-example-1__fragment0-http.txt": func(t *testing.T, m *ebxml.Message) {
		// The 1 MB fragment: base64 in 76-column lines.
		assert.Equal(t, "77128B31-4245-4AFC-8DA2-8A40623A5101", m.Envelope.MessageID)
		require.Len(t, m.Attachments, 1)
		a := m.Attachments[0]
		assert.Equal(t, "3f597271-3faf-41e3-b10c-8bc15657569c", a.ContentID)
		assert.Equal(t, "text/plain", a.ContentType)
		assert.True(t, a.Base64)
		assert.Len(t, a.Data, 748308)
		assert.Equal(t, "94a162ea7cb456b45e98597f87a9b011ffc5c9022947d2af6acb88911034b081", sha(a.Data))
		assert.True(t, bytes.HasPrefix(a.Data, []byte("\n\n\nWAR AND PEACE")))
		// "Attachment": no keys, so EMIS style, all of it the filename.
		assert.Equal(t, ebxml.Description{Filename: "Attachment"}, a.Description)
	},
	"prm-messenger__spec-lm-example-2__compressed-fragment-index-http.txt": func(t *testing.T, m *ebxml.Message) {
		require.Len(t, m.External, 2)
		for i, x := range m.External {
			assert.Equal(t, "CBBAE92D-C7E8-4A9C-8887-F5AEBA1F8CE1_"+strconv.Itoa(i)+".messageattachment", x.Description.Filename)
			assert.Equal(t, "application/x-gzip", x.Description.ContentType)
			assert.Empty(t, x.DocumentID)
		}
		assert.Equal(t, "047C22B4-613F-47D3-9A72-44A1758464FB", m.External[0].MessageID)
	},
	"nia-ps__scenario7-skeleton__uk06.mhs.json": func(t *testing.T, m *ebxml.Message) {
		// In the ebXML, DomainData="X-GP2GP-Skeleton: Yes has no closing
		// quote. The JSON description differs (Compressed=No, quote
		// closed); the JSON one describes the external attachment.
		require.Len(t, m.Envelope.Manifest, 2)
		d := m.Envelope.Manifest[1].Metadata()
		assert.Equal(t, ebxml.SkeletonDomainData, d.DomainData)
		assert.True(t, d.Skeleton())
		assert.True(t, d.LargeAttachment)
		assert.True(t, d.Compressed)
		assert.Equal(t, "text/xml", d.ContentType)
		assert.Equal(t, "68E2A39F-7A24-449D-83CC-1B7CF1A9DAD7spine.nhs.ukExample1.gzip", d.Filename)
		require.Len(t, m.External, 1)
		x := m.External[0]
		assert.Equal(t, "66B41202-C358-4B4C-93C6-7A10803F9584", x.MessageID)
		assert.Equal(t, "68E2A39F-7A24-449D-83CC-1B7CF1A9DAD7spine.nhs.ukExample1", x.DocumentID)
		assert.True(t, x.Description.Skeleton())
		assert.True(t, x.Description.LargeAttachment)
		assert.False(t, x.Description.Compressed)
	},
	"nia-ps__scenario7-skeleton__copc-index.mhs.json": func(t *testing.T, m *ebxml.Message) {
		require.Len(t, m.External, 2)
		assert.Equal(t, "28B31-4245-4AFC-8DA2-8A40623A5101", m.External[0].MessageID)
		assert.Equal(t, "66B41202-C358-4B4C-93C6-7A10803F9584", m.Envelope.MessageID, "index id equals the core's mid:")
	},
	"nia-ps__scenario7-skeleton__copc0.mhs.json": func(t *testing.T, m *ebxml.Message) {
		// The JSON description has pairs but neither Filename nor
		// Compressed; the pairs are read rather than taken as a filename.
		require.Len(t, m.Attachments, 1)
		a := m.Attachments[0]
		assert.Equal(t, ebxml.Description{ContentType: "text/plain", OriginalBase64: true}, a.Description)
		assert.Equal(t, "3f597271-3faf-11e3-b10c-8bc15657569c", a.ContentID)
		assert.Len(t, a.Encoded, 250)
		assert.True(t, bytes.HasPrefix(a.Data, []byte(" <NarrativeStatement")))
	},
}

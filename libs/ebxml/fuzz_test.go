package ebxml_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/nhsengland/gp2gp/libs/ebxml"
	"github.com/nhsengland/gp2gp/libs/spectest"
)

// maxSeed keeps fuzz seeds small enough for the fuzzer to mutate quickly.
const maxSeed = 64 << 10

// fuzzLimit bounds inputs while fuzzing.
var fuzzLimit = ebxml.WithMaxBytes(1 << 20)

// addSampleSeeds adds the spec samples accepted by keep (and no larger
// than maxSeed) when GP2GP_SPEC_DIR is set.
func addSampleSeeds(f *testing.F, keep func(name string) bool, transform func(name string, data []byte) [][]byte) {
	dir, ok := spectest.Lookup()
	if !ok {
		return
	}
	entries, err := os.ReadDir(filepath.Join(dir, "samples"))
	if err != nil {
		f.Fatalf("reading samples: %v", err)
	}
	for _, e := range entries {
		if !keep(e.Name()) {
			continue
		}
		data := sampleBytes(f, e.Name())
		for _, seed := range transform(e.Name(), data) {
			if len(seed) <= maxSeed {
				f.Add(seed)
			}
		}
	}
}

func same(_ string, data []byte) [][]byte { return [][]byte{data} }

// requireTypedError fails unless err is an *ebxml.Error.
func requireTypedError(t *testing.T, err error) {
	t.Helper()
	var ee *ebxml.Error
	if !errors.As(err, &ee) {
		t.Fatalf("error of type %T: %v", err, err)
	}
	if ee.Reason == "" || ee.Part == "" {
		t.Fatalf("error without part or reason: %#v", ee)
	}
}

// FuzzParseMIME: any input parses or fails with an *ebxml.Error; a parsed
// message that can be rebuilt parses back to the same content.
func FuzzParseMIME(f *testing.F) {
	addSampleSeeds(f, func(n string) bool { return strings.HasSuffix(n, ".txt") && n != "MANIFEST.md" }, same)
	body, ct, err := testMessage().MarshalMIME()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(body)
	f.Add([]byte("Content-Type: " + ct + "\r\n\r\n" + string(body)))
	for _, s := range []string{
		"", "--", "--b\n--b--", "--b\r\nContent-Id: <x>\r\n\r\n<S:Envelope/>\r\n--b--",
		"POST / HTTP/1.1\r\nContent-Type: multipart/related; boundary=\"b\"\r\n\r\n--b\r\n\r\n--b--",
		"junk;boundary=\"q\"--q\nContent-Transfer-Encoding: base64\n\nAAAA\n--q--",
		string(mimeWith(envelopeWithDoctype)), string(mimeWith(envelopeWithDuplicateAttr)),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ebxml.ParseMIME(data, fuzzLimit)
		if err != nil {
			requireTypedError(t, err)
			return
		}
		checkIDsUpper(t, &m.Envelope)
		body, _, err := m.MarshalMIME()
		if err != nil {
			requireTypedError(t, err)
			return
		}
		again, err := ebxml.ParseMIME(body)
		if err != nil {
			t.Fatalf("rebuilt message does not parse: %v\nbuilt: %q", err, body)
		}
		compareContent(t, m, again)
	})
}

// FuzzParseInboundJSON: as FuzzParseMIME, for MHS inbound JSON.
func FuzzParseInboundJSON(f *testing.F) {
	addSampleSeeds(f, func(n string) bool { return strings.HasSuffix(n, ".mhs.json") }, same)
	js, err := testMessage().InboundJSON()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(js)
	ebXML, _ := json.Marshal(envelopeWithDuplicateAttr)
	for _, s := range []string{
		"", "null", "[]", `{"ebXML":5}`, `{"ebXML":` + string(ebXML) + `}`,
		`{"ebXML":"<e:Envelope><e:Header><eb:MessageHeader><eb:ConversationId>c</eb:ConversationId><eb:Action>a</eb:Action><eb:MessageData><eb:MessageId>m</eb:MessageId></eb:MessageData></eb:MessageHeader></e:Header></e:Envelope>",` +
			`"attachments":[{"payload":"AAE=","is_base64":"true"}],"external_attachments":[{"documentId":"_d","message_id":"x"}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ebxml.ParseInboundJSON(data, fuzzLimit)
		if err != nil {
			requireTypedError(t, err)
			return
		}
		checkIDsUpper(t, &m.Envelope)
		js, err := m.InboundJSON()
		if err != nil {
			requireTypedError(t, err)
			return
		}
		again, err := ebxml.ParseInboundJSON(js)
		if err != nil {
			t.Fatalf("rebuilt JSON does not parse: %v\nbuilt: %s", err, js)
		}
		compareContent(t, m, again)
	})
}

// FuzzParseEnvelope: any input parses or fails with an *ebxml.Error; an
// envelope that parses and builds parses back to the same value (with
// timestamps cut to the second and GP2GP defaults filled in).
func FuzzParseEnvelope(f *testing.F) {
	addSampleSeeds(f, func(n string) bool { return strings.HasSuffix(n, ".mhs.json") }, func(_ string, data []byte) [][]byte {
		var body struct {
			EbXML string `json:"ebXML"`
		}
		if json.Unmarshal(data, &body) != nil {
			return nil
		}
		return [][]byte{[]byte(body.EbXML)}
	})
	e := testEnvelope()
	built, err := e.Build()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(built)
	for _, s := range []string{
		"", "<a/>", envelopeWithDoctype, envelopeWithDuplicateAttr,
		`<S:Envelope><S:Header><eb:MessageHeader><eb:ConversationId>c</eb:ConversationId><eb:Action>a</eb:Action><eb:MessageData><eb:MessageId>m</eb:MessageId><eb:Timestamp>2020-01-01T00:00:00.5+01:00</eb:Timestamp></eb:MessageData></eb:MessageHeader></S:Header></S:Envelope>`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := ebxml.ParseEnvelope(data, fuzzLimit)
		if err != nil {
			requireTypedError(t, err)
			return
		}
		checkIDsUpper(t, e)
		out, err := e.Build()
		if err != nil {
			requireTypedError(t, err)
			return
		}
		again, err := ebxml.ParseEnvelope(out)
		if err != nil {
			t.Fatalf("built envelope does not parse: %v\nbuilt: %s", err, out)
		}
		want := *e
		want.Timestamp = want.Timestamp.Truncate(time.Second)
		want.TimeToLive = want.TimeToLive.Truncate(time.Second)
		if want.Service == "" {
			want.Service = ebxml.ServiceGP2GP
		}
		for _, p := range []*ebxml.PartyID{&want.From, &want.To} {
			if p.Type == "" {
				p.Type = ebxml.PartyTypeServiceInstance
			}
		}
		if !envelopesEqual(&want, again) {
			t.Fatalf("round trip changed the envelope\nwant %#v\ngot  %#v\nbuilt: %s", want, *again, out)
		}
	})
}

// FuzzParseDescription: any text parses; what parses writes back to text
// that parses to the same value.
func FuzzParseDescription(f *testing.F) {
	addSampleSeeds(f, func(n string) bool { return strings.HasSuffix(n, ".mhs.json") }, func(_ string, data []byte) [][]byte {
		var body struct {
			Attachments []struct{ Description string } `json:"attachments"`
			External    []struct{ Description string } `json:"external_attachments"`
		}
		if json.Unmarshal(data, &body) != nil {
			return nil
		}
		var out [][]byte
		for _, a := range body.Attachments {
			out = append(out, []byte(a.Description))
		}
		for _, x := range body.External {
			out = append(out, []byte(x.Description))
		}
		return out
	})
	for _, s := range []string{
		"", "Attachment", `Filename="a b.txt" ContentType=text/plain Compressed=No LargeAttachment=No OriginalBase64=Yes Length=10`,
		`Filename="x.gz" ContentType=text/xml Compressed=Yes DomainData="X-GP2GP-Skeleton: Yes`,
		"\n\tFilename=\"a\" \n\tContentType=image/tiff\n", `Filename=%41%zz ContentType="a"b" Length=-0`,
		`Filename="say "hi".txt" Colour="x" ContentType=text/plain`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d := ebxml.ParseDescription(string(data))
		if !d.HasLength && d.Length != 0 {
			t.Fatalf("Length %d without HasLength", d.Length)
		}
		if again := ebxml.ParseDescription(d.String()); again != d {
			t.Fatalf("round trip changed the description\ninput %q\nwant  %#v\ntext  %q\ngot   %#v", data, d, d.String(), again)
		}
	})
}

func checkIDsUpper(t *testing.T, e *ebxml.Envelope) {
	t.Helper()
	for _, id := range []string{e.ConversationID, e.MessageID, e.RefToMessageID} {
		if id != strings.ToUpper(id) {
			t.Fatalf("id %q is not upper-case", id)
		}
	}
}

// compareContent checks that a rebuilt and re-parsed message carries the
// same ids, payload and attachment content.
func compareContent(t *testing.T, m, again *ebxml.Message) {
	t.Helper()
	if again.Envelope.Action != m.Envelope.Action || again.Envelope.ConversationID != m.Envelope.ConversationID ||
		again.Envelope.MessageID != m.Envelope.MessageID {
		t.Fatalf("header changed: %+v -> %+v", m.Envelope, again.Envelope)
	}
	if !bytes.Equal(again.Payload, m.Payload) {
		t.Fatalf("payload changed: %q -> %q", m.Payload, again.Payload)
	}
	if len(again.Attachments) != len(m.Attachments) || len(again.External) != len(m.External) {
		t.Fatalf("attachment counts changed: %d/%d -> %d/%d", len(m.Attachments), len(m.External), len(again.Attachments), len(again.External))
	}
	for i := range m.Attachments {
		a, b := m.Attachments[i], again.Attachments[i]
		if !bytes.Equal(a.Data, b.Data) || a.Base64 != b.Base64 || a.Description != b.Description {
			t.Fatalf("attachment %d changed: %+v -> %+v", i, a, b)
		}
	}
	for i := range m.External {
		if m.External[i].Description != again.External[i].Description || m.External[i].MessageID != again.External[i].MessageID {
			t.Fatalf("external attachment %d changed: %+v -> %+v", i, m.External[i], again.External[i])
		}
	}
}

func envelopesEqual(a, b *ebxml.Envelope) bool {
	if !a.Timestamp.Equal(b.Timestamp) || !a.TimeToLive.Equal(b.TimeToLive) || len(a.Manifest) != len(b.Manifest) {
		return false
	}
	for i := range a.Manifest {
		if a.Manifest[i] != b.Manifest[i] {
			return false
		}
	}
	x, y := *a, *b
	x.Timestamp, y.Timestamp, x.TimeToLive, y.TimeToLive = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	x.Manifest, y.Manifest = nil, nil
	return reflect.DeepEqual(x, y)
}

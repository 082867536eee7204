package practicesim

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/nhsengland/gp2gp/libs/hl7/ehr"
)

// document is one of a record's documents before it is sent: a small one
// with its bytes, or a large one whose bytes are generated as they are
// stored.
type document struct {
	id, filename, contentType string
	// body is a small document's content; nil for a large one.
	body []byte
	// large describes a large document's content; nil for a small one.
	large *largeContent
	// absent: the practice cannot supply it (WithAbsentAttachments).
	absent bool
}

// absentReason is why the practice says an absent document is absent.
const absentReason = "the practice's document store did not return it"

// ref is how the generator references d from the extract.
func (d document) ref() ehr.Attachment {
	return ehr.Attachment{ID: d.id, Filename: d.filename, ContentType: d.contentType, Absent: d.absent}
}

// documentKinds are the small documents a record holds, in turn.
var documentKinds = []struct {
	title, contentType, ext string
}{
	{"Clinic letter", "text/plain", "txt"},
	{"Discharge summary", "text/html", "html"},
	{"Blood results", "text/csv", "csv"},
}

// largeKinds are the large documents a record holds, in turn, and the
// head and tail their content has around its pseudo-random middle. A head
// has the same length whatever the middle's length it is given.
var largeKinds = []struct {
	title, contentType, ext string
	head                    func(middle int64) string
	tail                    string
}{
	{
		title: "Scanned correspondence", contentType: "application/pdf", ext: "pdf",
		head: func(middle int64) string {
			return fmt.Sprintf("%%PDF-1.7\n%%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /XObject /Subtype /Image "+
				"/Filter /DCTDecode /Length %-12d >>\nstream\n", middle)
		},
		tail: "\nendstream\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n",
	},
	{
		// Little-endian TIFF, first image directory at offset 8.
		title: "Radiology image", contentType: "image/tiff", ext: "tif",
		head: func(int64) string { return "II*\x00\x08\x00\x00\x00" },
	},
}

// documents returns a patient's documents: the WithAttachments small ones,
// then the WithLargeAttachments large ones. Their ids, names and content
// depend on the practice, the patient and the position only.
func (p *Practice) documents(nhs string) []document {
	if p.attachments == 0 && len(p.largeSizes) == 0 {
		return nil
	}
	out := make([]document, 0, p.attachments+len(p.largeSizes))
	for i := range p.attachments {
		kind := documentKinds[i%len(documentKinds)]
		out = append(out, document{
			id:          derivedUUID("document", p.cfg.ODS, nhs, strconv.Itoa(i)),
			filename:    fmt.Sprintf("%s %d.%s", kind.title, i+1, kind.ext),
			contentType: kind.contentType,
			body:        p.documentBody(kind.contentType, kind.title, nhs, i),
			absent:      i < p.absent,
		})
	}
	for i, size := range p.largeSizes {
		kind := largeKinds[i%len(largeKinds)]
		out = append(out, document{
			id:          derivedUUID("large document", p.cfg.ODS, nhs, strconv.Itoa(i)),
			filename:    fmt.Sprintf("%s %d.%s", kind.title, i+1, kind.ext),
			contentType: kind.contentType,
			large:       newLargeContent(p.cfg.ODS, nhs, i, size),
		})
	}
	return out
}

// documentBody writes a short synthetic document.
func (p *Practice) documentBody(contentType, title, nhs string, i int) []byte {
	var b bytes.Buffer
	switch contentType {
	case "text/html":
		fmt.Fprintf(&b, "<!DOCTYPE html>\n<html><head><title>%s</title></head><body>\n", title)
		fmt.Fprintf(&b, "<h1>%s</h1>\n<p>Patient NHS number %s. Admitted for observation; discharged home the next day.</p>\n", title, nhs)
		fmt.Fprintf(&b, "<p>Follow-up with %s. Document %d of the record.</p>\n</body></html>\n", p.cfg.Name, i+1)
	case "text/csv":
		fmt.Fprintf(&b, "nhs_number,test,value,unit,range\n")
		fmt.Fprintf(&b, "%s,Haemoglobin,%d,g/L,130-180\n", nhs, 128+i%20)
		fmt.Fprintf(&b, "%s,Serum sodium,%d,mmol/L,133-146\n", nhs, 136+i%7)
		fmt.Fprintf(&b, "%s,HbA1c,%d,mmol/mol,20-41\n", nhs, 38+i%9)
	default:
		fmt.Fprintf(&b, "%s\n\n%s\n\nRe: patient NHS number %s\n\n", p.cfg.Name, title, nhs)
		fmt.Fprintf(&b, "Seen in clinic. Examination unremarkable. No change to medication.\n")
		fmt.Fprintf(&b, "Review in six months. (Document %d of the record.)\n", i+1)
	}
	return b.Bytes()
}

// largeContentVersion names the way large content is generated. Change it
// whenever the bytes a largeContent produces change, so that objects
// stored by an older practice are not mistaken for current ones.
const largeContentVersion = "practicesim-large-v1"

// largeContent is the content of a large document: its kind's head, a
// middle of ChaCha8 output seeded from the practice, the patient and the
// position (incompressible, like the scanned images it stands for), and
// its kind's tail, cut to size bytes when size is too small for all three. It is never held in memory:
// open returns a reader that generates it as it is read.
type largeContent struct {
	size, middle int64
	seed         [32]byte
	head, tail   string
}

func newLargeContent(ods, nhs string, i int, size int64) *largeContent {
	kind := largeKinds[i%len(largeKinds)]
	middle := max(0, size-int64(len(kind.head(0)))-int64(len(kind.tail)))
	return &largeContent{
		size:   size,
		middle: middle,
		seed:   sha256.Sum256([]byte(largeContentVersion + "\x00" + ods + "\x00" + nhs + "\x00" + strconv.Itoa(i))),
		head:   kind.head(middle),
		tail:   kind.tail,
	}
}

// key identifies the content: two largeContents with the same key produce
// the same bytes. Stored objects carry it in their metadata.
func (c *largeContent) key() string {
	return largeContentVersion + " " + hex.EncodeToString(c.seed[:]) + " " + strconv.FormatInt(c.size, 10)
}

// open returns a reader of the content. It allocates a few small values
// whatever the size; the bytes are generated by each Read into the
// caller's buffer.
func (c *largeContent) open() io.Reader {
	return io.LimitReader(io.MultiReader(
		strings.NewReader(c.head),
		io.LimitReader(rand.NewChaCha8(c.seed), c.middle),
		strings.NewReader(c.tail),
	), c.size)
}

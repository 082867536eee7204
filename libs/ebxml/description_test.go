package ebxml_test

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/nhsengland/gp2gp/libs/ebxml"
)

func TestParseDescription(t *testing.T) {
	tests := []struct {
		name string
		text string
		want ebxml.Description
	}{
		{
			name: "strict form",
			text: `Filename="a.pdf" ContentType=application/pdf Compressed=No LargeAttachment=No OriginalBase64=Yes Length=12`,
			want: ebxml.Description{Filename: "a.pdf", ContentType: "application/pdf", OriginalBase64: true, Length: 12, HasLength: true},
		},
		{
			name: "newlines and tabs between pairs (2013 harness)",
			text: "\n\t\t\t\tFilename=\"x_book.txt\" \n\t\t\t\tContentType=text/plain \n\t\t\t\tCompressed=No \n\t\t\t\tLargeAttachment=Yes \n\t\t\t\tOriginalBase64=Yes\n\t\t\t",
			want: ebxml.Description{Filename: "x_book.txt", ContentType: "text/plain", LargeAttachment: true, OriginalBase64: true},
		},
		{
			name: "spaces inside a quoted filename (EMIS)",
			text: `Filename="B32B_Attach1 - Copy (2) - Copy.jfif" ContentType=application/octet-stream Compressed=Yes LargeAttachment=No OriginalBase64=No Length=1566916`,
			want: ebxml.Description{Filename: "B32B_Attach1 - Copy (2) - Copy.jfif", ContentType: "application/octet-stream", Compressed: true, Length: 1566916, HasLength: true},
		},
		{
			name: "TPP Untitled",
			text: `Filename="Untitled" ContentType=image/jpeg Compressed=Yes LargeAttachment=No OriginalBase64=No Length=5037864`,
			want: ebxml.Description{Filename: "Untitled", ContentType: "image/jpeg", Compressed: true, Length: 5037864, HasLength: true},
		},
		{
			name: "URL-encoded filename",
			text: `Filename="file://localhost/Attach1%20-%20Copy%20%283%29.jfif" ContentType=image/jpeg`,
			want: ebxml.Description{Filename: "file://localhost/Attach1 - Copy (3).jfif", ContentType: "image/jpeg"},
		},
		{
			name: "a percent sign that is not an escape is kept",
			text: `Filename="100% done %zz %4" ContentType=text/plain`,
			want: ebxml.Description{Filename: "100% done %zz %4", ContentType: "text/plain"},
		},
		{
			name: "EMIS style: only a filename",
			text: "  scan 2021.pdf ",
			want: ebxml.Description{Filename: "scan 2021.pdf"},
		},
		{
			name: "EMIS style, URL-encoded",
			text: "scan%202021.pdf",
			want: ebxml.Description{Filename: "scan 2021.pdf"},
		},
		{
			name: "harness Attachment",
			text: "Attachment",
			want: ebxml.Description{Filename: "Attachment"},
		},
		{
			name: "empty",
			text: "",
			want: ebxml.Description{},
		},
		{
			name: "unquoted values, filename with a space, lower-case keys",
			text: `filename=my scan.pdf contenttype=application/pdf compressed=yes`,
			want: ebxml.Description{Filename: "my scan.pdf", ContentType: "application/pdf", Compressed: true},
		},
		{
			name: "quoted content type, spaces around =",
			text: `Filename = "a.txt" ContentType = "text/plain; charset=utf-8" Compressed=No`,
			want: ebxml.Description{Filename: "a.txt", ContentType: "text/plain; charset=utf-8"},
		},
		{
			name: "skeleton, closing quote missing (NIA scenario 7)",
			text: `Filename="x.gzip" ContentType=text/xml Compressed=Yes LargeAttachment=Yes OriginalBase64=No DomainData="X-GP2GP-Skeleton: Yes `,
			want: ebxml.Description{Filename: "x.gzip", ContentType: "text/xml", Compressed: true, LargeAttachment: true, DomainData: "X-GP2GP-Skeleton: Yes"},
		},
		{
			name: "pairs without Filename or Compressed are still pairs",
			text: `ContentType=text/plain OriginalBase64=Yes`,
			want: ebxml.Description{ContentType: "text/plain", OriginalBase64: true},
		},
		{
			name: "unreadable length, other flag spellings",
			text: `Filename="a" Compressed=true LargeAttachment=1 OriginalBase64=maybe Length=12kB`,
			want: ebxml.Description{Filename: "a", Compressed: true, LargeAttachment: true},
		},
		{
			name: "a key inside a quoted value is part of the value",
			text: `Filename="a Length=5 b.txt" Length=7`,
			want: ebxml.Description{Filename: "a Length=5 b.txt", Length: 7, HasLength: true},
		},
		{
			name: "first occurrence wins",
			text: `Filename="first" Filename="second"`,
			want: ebxml.Description{Filename: "first"},
		},
		{
			name: "empty bare value",
			text: `ContentType= Compressed=Yes`,
			want: ebxml.Description{Compressed: true},
		},
		{
			name: "key at the very end",
			text: `Filename="a" Length=`,
			want: ebxml.Description{Filename: "a"},
		},
		{
			name: "unknown pairs after a quoted value are ignored",
			text: `Filename="a" Colour="blue" Size=3 ContentType=text/plain`,
			want: ebxml.Description{Filename: "a", ContentType: "text/plain"},
		},
		{
			name: "a bare value runs to the next known key",
			text: `ContentType=text/plain Colour=blue Compressed=Yes`,
			want: ebxml.Description{ContentType: "text/plain Colour=blue", Compressed: true},
		},
		{
			name: "a quote inside a quoted filename",
			text: `Filename="say "hi".txt" ContentType=text/plain`,
			want: ebxml.Description{Filename: `say "hi".txt`, ContentType: "text/plain"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, ebxml.ParseDescription(tt.text))
		})
	}
}

func TestDescriptionString(t *testing.T) {
	tests := []struct {
		name string
		d    ebxml.Description
		want string
	}{
		{
			name: "full",
			d:    ebxml.Description{Filename: "a b.pdf", ContentType: "application/pdf", Compressed: true, OriginalBase64: true, Length: 99, HasLength: true},
			want: `Filename="a b.pdf" ContentType=application/pdf Compressed=Yes LargeAttachment=No OriginalBase64=Yes Length=99`,
		},
		{
			name: "skeleton",
			d:    ebxml.Description{Filename: "x.gz", ContentType: "text/xml", Compressed: true, LargeAttachment: true, DomainData: ebxml.SkeletonDomainData},
			want: `Filename="x.gz" ContentType=text/xml Compressed=Yes LargeAttachment=Yes OriginalBase64=No DomainData="X-GP2GP-Skeleton: Yes"`,
		},
		{
			name: "escapes",
			d:    ebxml.Description{Filename: "50% \"off\"\n.txt", ContentType: "text/plain; charset=utf-8"},
			want: `Filename="50%25 %22off%22%0A.txt" ContentType="text/plain; charset=utf-8" Compressed=No LargeAttachment=No OriginalBase64=No`,
		},
		{
			name: "zero value",
			d:    ebxml.Description{},
			want: `Filename="" ContentType="" Compressed=No LargeAttachment=No OriginalBase64=No`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.d.String())
			assert.Equal(t, tt.d, ebxml.ParseDescription(tt.d.String()))
		})
	}
}

func TestDescriptionSkeleton(t *testing.T) {
	for _, tt := range []struct {
		domainData string
		want       bool
	}{
		{"X-GP2GP-Skeleton: Yes", true},
		{"x-gp2gp-skeleton:yes", true},
		{" X-GP2GP-Skeleton :  YES ", true},
		{"X-GP2GP-Skeleton: No", false},
		{"", false},
		{"Skeleton", false},
	} {
		t.Run(tt.domainData, func(t *testing.T) {
			assert.Equal(t, tt.want, ebxml.Description{DomainData: tt.domainData}.Skeleton())
		})
	}
}

// descriptionAlphabet makes random values likely to hit the grammar's
// edge cases: quotes, percent signs, key names, white space, non-ASCII,
// control characters and invalid UTF-8.
var descriptionAlphabet = []string{
	"a", "Z", "0", " ", "  ", "\t", "\n", "\"", "%", "%2", "%41", "=", ";", "/", ".", "-", "_",
	"Filename=", "ContentType=", "Compressed=Yes", " Length=5", " DomainData=\"", "X-GP2GP-Skeleton: Yes",
	"é", "日本", "\x00", "\x1f", "\x7f", "\u0085", "\uFFFE", "\xff", "\xc3", "\U0001F600",
}

func randomDescriptionValue(r *rand.Rand) string {
	var b strings.Builder
	for range r.IntN(8) {
		b.WriteString(descriptionAlphabet[r.IntN(len(descriptionAlphabet))])
	}
	return b.String()
}

// TestDescriptionRoundTripProperty: ParseDescription(d.String()) == d for
// random descriptions (Length is 0 whenever HasLength is false).
func TestDescriptionRoundTripProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 20000 {
		d := ebxml.Description{
			Filename:        randomDescriptionValue(r),
			ContentType:     randomDescriptionValue(r),
			Compressed:      r.IntN(2) == 0,
			LargeAttachment: r.IntN(2) == 0,
			OriginalBase64:  r.IntN(2) == 0,
			DomainData:      randomDescriptionValue(r),
		}
		if r.IntN(2) == 0 {
			d.HasLength = true
			d.Length = r.Int64() - r.Int64()
		}
		if !assert.Equal(t, d, ebxml.ParseDescription(d.String()), "case %d: %q", i, d.String()) {
			return
		}
	}
}

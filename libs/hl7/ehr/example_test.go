package ehr_test

import (
	"fmt"

	"github.com/nhsengland/gp2gp/libs/hl7/ehr"
	"github.com/nhsengland/gp2gp/libs/xmldoc"
)

// Generate an extract for a transfer test and read back what it holds.
func Example() {
	extract, _, err := ehr.Generate(
		ehr.WithSeed(42),
		ehr.WithPatient("9442964410"),
		ehr.WithPractices("M85019", "B86041"),
		ehr.WithEncounters(7),
		ehr.WithAttachments(
			ehr.Attachment{ID: "B32B68D2-F66F-4085-885B-7174F9119A83", Filename: "Discharge letter (2023).pdf", ContentType: "application/pdf"},
			ehr.Attachment{ID: "767395D0-5271-41EA-9384-E83935108FD5", Filename: "scan.tif", ContentType: "image/tiff", Absent: true},
		),
		ehr.WithLocalCodes(1),
		ehr.WithNOPAT(2),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	s, err := ehr.Summarize(extract)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("patient", s.NHSNumber, "from", s.AuthorODS, "to", s.DestinationODS)
	fmt.Println(s.Compositions, "compositions,", s.Statements[ehr.LinkSet], "problem,", s.Statements[ehr.RequestStatement], "referral")
	for _, d := range s.Documents {
		fmt.Println(d.Reference, d.MediaType, "absent:", d.Absent)
	}
	for _, d := range s.Degrades {
		fmt.Println(d.Code.Code, "would degrade to", d.Degrade.Code().Code, d.Degrade.Code().DisplayName)
	}
	fmt.Println(len(s.NOPAT), "NOPAT entries: send as RCMR_IN030000UK07")
	// Output:
	// patient 9442964410 from M85019 to B86041
	// 11 compositions, 1 problem, 1 referral
	// file://localhost/Discharge%20letter%20%282023%29.pdf application/pdf absent: false
	// file://localhost/AbsentAttachment767395D0-5271-41EA-9384-E83935108FD5.txt text/plain absent: true
	// EMISNQPR491 would degrade to 196411000000103 Transfer-degraded record entry
	// 2 NOPAT entries: send as RCMR_IN030000UK07
}

// Summarize reads vendors' extracts whatever their namespace prefix.
func ExampleSummarize() {
	doc, err := xmldoc.Parse([]byte(`<hl7:EhrExtract xmlns:hl7="urn:hl7-org:v3">
  <hl7:id root="76C25210-5271-41EA-9384-E83935108FD5"/>
  <hl7:recordTarget><hl7:patient><hl7:id root="2.16.840.1.113883.2.1.4.1" extension="9442964410"/></hl7:patient></hl7:recordTarget>
  <hl7:component><hl7:ehrFolder><hl7:component><hl7:ehrComposition>
    <hl7:component><hl7:NarrativeStatement>
      <hl7:id root="8F4B6DFD-E84D-4066-909C-594BD04A57B9"/>
      <hl7:text>MRI scan normal (28-Apr-2022)</hl7:text>
      <hl7:reference><hl7:referredToExternalDocument>
        <hl7:id root="B32B68D2-F66F-4085-885B-7174F9119A83"/>
        <hl7:code code="25821000000100" codeSystem="2.16.840.1.113883.2.1.3.2.4.15" displayName="Original text document"/>
        <hl7:text mediaType="application/octet-stream">
          <hl7:reference value="file://localhost/B32B68D2-F66F-4085-885B-7174F9119A83_Attach1%20-%20Copy%20%282%29.jfif"/>
        </hl7:text>
      </hl7:referredToExternalDocument></hl7:reference>
    </hl7:NarrativeStatement></hl7:component>
  </hl7:ehrComposition></hl7:component></hl7:ehrFolder></hl7:component>
</hl7:EhrExtract>`), xmldoc.Limits{})
	if err != nil {
		fmt.Println(err)
		return
	}
	s, err := ehr.Summarize(doc.Root())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(s.NHSNumber, s.Statements)
	fmt.Println(s.Documents[0].Filename)
	// Output:
	// 9442964410 map[NarrativeStatement:1]
	// B32B68D2-F66F-4085-885B-7174F9119A83_Attach1 - Copy (2).jfif
}

func ExampleDecodeFilename() {
	fmt.Println(ehr.DecodeFilename("file://localhost/0557F0E0_Attach1%5f-%5fCopy.jfif"))
	fmt.Println(ehr.DecodeFilename("urn:0557F0E4_pexels.jpg"))
	// Output:
	// 0557F0E0_Attach1_-_Copy.jfif
	// urn:0557F0E4_pexels.jpg
}

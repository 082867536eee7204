package ehr_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/hl7/ehr"
)

// inExtract puts statement XML (default namespace) inside a minimal
// extract's composition.
func inExtract(statements string) string {
	return `<EhrExtract xmlns="urn:hl7-org:v3"><id root="EXTRACT-1"/><component><ehrFolder><component><ehrComposition>` +
		`<id root="COMP-1"/>` + statements + `</ehrComposition></component></ehrFolder></component></EhrExtract>`
}

func TestSummarizeDegradeCandidates(t *testing.T) {
	const (
		snomed = `codeSystem="2.16.840.1.113883.2.1.3.2.4.15"`
		read   = `codeSystem="2.16.840.1.113883.2.1.6.2"`
		local  = `codeSystem="2.16.840.1.113883.2.1.6.3"`
	)
	obs := func(code string) string {
		return `<component><ObservationStatement><id root="S-1"/>` + code + `</ObservationStatement></component>`
	}
	heading := func(classCode, code, inner string) string {
		return `<component><CompoundStatement classCode="` + classCode + `"><id root="H-1"/>` + code + inner + `</CompoundStatement></component>`
	}
	cases := []struct {
		name    string
		xml     string
		typ     string // "" when no candidate is expected
		degrade ehr.Degrade
	}{
		{"SNOMED observation", obs(`<code code="38341003" ` + snomed + `/>`), "", ""},
		{"Read observation with SNOMED translation", obs(`<code code="G20..00" ` + read + `><translation code="38341003" ` + snomed + `/></code>`), "", ""},
		{"translation of a translation", obs(`<code code="X1" ` + local + `><translation code="X2" ` + read + `><translation code="38341003" ` + snomed + `/></translation></code>`), "", ""},
		{"Read observation alone", obs(`<code code="H00..11" ` + read + ` displayName="Common cold"/>`), ehr.ObservationStatement, ehr.DegradeOther},
		{"local observation", obs(`<code code="EMISNQPR489" ` + local + `/>`), ehr.ObservationStatement, ehr.DegradeOther},
		{"code without a system", obs(`<code code="394831002"/>`), ehr.ObservationStatement, ehr.DegradeOther},
		{"SNOMED translation without a code", obs(`<code code="X1" ` + local + `><translation ` + snomed + `/></code>`), ehr.ObservationStatement, ehr.DegradeOther},
		{"uncoded (nullFlavor)", obs(`<code nullFlavor="UNK"/>`), "", ""},
		{"no code at all", obs(``), "", ""},
		{"drug allergy heading", heading("CATEGORY", `<code code="14L..00" `+read+`/>`, obs(`<code code="L1" `+local+`/>`)), ehr.ObservationStatement, ehr.DegradeDrugAllergy},
		{"non-drug allergy heading", heading("CATEGORY", `<code code="SN53.00" `+read+`/>`, obs(`<code code="L1" `+local+`/>`)), ehr.ObservationStatement, ehr.DegradeNonDrugAllergy},
		{"allergy heading by SNOMED translation", heading("CATEGORY", `<code code="X" `+local+`><translation code="416098002" `+snomed+`/></code>`, obs(`<code code="L1" `+local+`/>`)), ehr.ObservationStatement, ehr.DegradeDrugAllergy},
		{"allergy heading by display name", heading("CATEGORY", `<code displayName="Allergies and adverse reactions"/>`, obs(`<code code="L1" `+local+`/>`)), ehr.ObservationStatement, ehr.DegradeNonDrugAllergy},
		{"allergy heading of a SNOMED observation", heading("CATEGORY", `<code code="14L..00" `+read+`/>`, obs(`<code code="91936005" `+snomed+`/>`)), "", ""},
		{"battery member", heading("BATTERY", `<code code="163020007" `+snomed+`/>`, obs(`<code code="L1" `+local+`/>`)), ehr.ObservationStatement, ehr.DegradeOther},
		{"local battery", heading("BATTERY", `<code code="L0" `+local+`/>`, obs(`<code code="163030003" `+snomed+`/>`)), ehr.CompoundStatement, ehr.DegradeOther},
		{"topic heading with a Read code", heading("TOPIC", `<code code="Z....00" `+read+`/>`, obs(`<code code="38341003" `+snomed+`/>`)), "", ""},
		{"medication, local material", `<component><MedicationStatement><id root="S-1"/><consumable><manufacturedProduct><manufacturedMaterial><code code="EMISDRUG1" ` + local + `/></manufacturedMaterial></manufacturedProduct></consumable></MedicationStatement></component>`, ehr.MedicationStatement, ehr.DegradeMedication},
		{"medication, Multilex with dm+d", `<component><MedicationStatement><id root="S-1"/><consumable><manufacturedProduct><manufacturedMaterial><code code="02782001" codeSystem="2.16.840.1.113883.2.1.6.4"><translation code="317919004" ` + snomed + `/></code></manufacturedMaterial></manufacturedProduct></consumable></MedicationStatement></component>`, "", ""},
		{"plan", `<component><PlanStatement><id root="S-1"/><code code="P1" ` + local + `/></PlanStatement></component>`, ehr.PlanStatement, ehr.DegradePlan},
		{"referral by display name", `<component><RequestStatement><id root="S-1"/><code code="R1" ` + local + ` displayName="Referral to MSK"/></RequestStatement></component>`, ehr.RequestStatement, ehr.DegradeReferral},
		{"referral by text", `<component><RequestStatement><id root="S-1"/><code code="R1" ` + local + `/><text>Referred to physiotherapy</text></RequestStatement></component>`, ehr.RequestStatement, ehr.DegradeReferral},
		{"request", `<component><RequestStatement><id root="S-1"/><code code="R1" ` + local + ` displayName="Request for insurance report"/></RequestStatement></component>`, ehr.RequestStatement, ehr.DegradeRequest},
		{"narrative", `<component><NarrativeStatement><id root="S-1"/><text>note</text></NarrativeStatement></component>`, "", ""},
		{"local problem status", `<component><LinkSet><id root="S-1"/><code code="L1" ` + local + `/></LinkSet></component>`, ehr.LinkSet, ehr.DegradeOther},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ehr.Summarize(parseRoot(t, []byte(inExtract(tc.xml))))
			require.NoError(t, err)
			if tc.typ == "" {
				assert.Empty(t, got.Degrades)
				return
			}
			require.Len(t, got.Degrades, 1)
			assert.Equal(t, tc.typ, got.Degrades[0].Type)
			assert.Equal(t, tc.degrade, got.Degrades[0].Degrade)
			assert.NotEmpty(t, got.Degrades[0].ID)
		})
	}
}

func TestSummarizeNOPAT(t *testing.T) {
	const nopat = `<confidentialityCode code="NOPAT" codeSystem="2.16.840.1.113883.4.642.3.47"/>`
	cases := []struct {
		name string
		xml  string
		want []ehr.Entry
	}{
		{"schema position", `<component><ObservationStatement><id root="O-1"/><code code="1"/><availabilityTime value="2020"/>` + nopat + `<value/></ObservationStatement></component>`,
			[]ehr.Entry{{Type: ehr.ObservationStatement, ID: "O-1"}}},
		{"last, as NIA's UK07 test file has it", `<component><NarrativeStatement><id root="N-1"/><text>x</text><Participant/>` + nopat + `</NarrativeStatement></component>`,
			[]ehr.Entry{{Type: ehr.NarrativeStatement, ID: "N-1"}}},
		{"on a document", `<component><NarrativeStatement><id root="N-1"/><reference><referredToExternalDocument><id root="D-1"/><text/>` + nopat + `</referredToExternalDocument></reference></NarrativeStatement></component>`,
			[]ehr.Entry{{Type: ehr.ExternalDocument, ID: "D-1"}}},
		{"lower case", `<component><PlanStatement><id root="P-1"/><confidentialityCode code="nopat"/></PlanStatement></component>`,
			[]ehr.Entry{{Type: ehr.PlanStatement, ID: "P-1"}}},
		{"another code", `<component><PlanStatement><id root="P-1"/><confidentialityCode code="PSY"/></PlanStatement></component>`, nil},
		{"no id", `<component><LinkSet>` + nopat + `</LinkSet></component>`, []ehr.Entry{{Type: ehr.LinkSet}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ehr.Summarize(parseRoot(t, []byte(inExtract(tc.xml))))
			require.NoError(t, err)
			assert.Equal(t, tc.want, got.NOPAT)
		})
	}
}

func TestSummarizeDocuments(t *testing.T) {
	doc := func(ref, mediaType, originalText string) string {
		return `<component><NarrativeStatement><id root="N-1"/><reference><referredToExternalDocument><id root=" D-1 "/>` +
			`<code code="24891000000101" codeSystem="2.16.840.1.113883.2.1.3.2.4.15"><originalText>` + originalText + `</originalText></code>` +
			`<text mediaType="` + mediaType + `"><reference value="` + ref + `"/></text></referredToExternalDocument></reference></NarrativeStatement></component>`
	}
	cases := []struct {
		name     string
		xml      string
		want     ehr.Document
		skeleton bool
	}{
		{"EMIS percent-encoded", doc("file://localhost/D-1_Attach1%20-%20Copy%20%282%29.jfif", "application/octet-stream", "MRI"),
			ehr.Document{Filename: "D-1_Attach1 - Copy (2).jfif", MediaType: "application/octet-stream"}, false},
		{"TPP urn form", doc("urn:D-1_photo.jpg", "image/jpeg", "Photo"),
			ehr.Document{Filename: "urn:D-1_photo.jpg", MediaType: "image/jpeg"}, false},
		{"absent placeholder", doc("file://localhost/AbsentAttachmentD-1.txt", "text/plain", "Letter"),
			ehr.Document{Filename: "AbsentAttachmentD-1.txt", MediaType: "text/plain", Absent: true}, false},
		{"skeleton", doc("cid:D-1@spine.nhs.uk", "text/xml", "Original RCMR_IN03 EhrExtract message"),
			ehr.Document{Filename: "cid:D-1@spine.nhs.uk", MediaType: "text/xml", Skeleton: true}, true},
		{"no text", `<component><NarrativeStatement><id root="N-1"/><reference><referredToExternalDocument><id root="D-1"/></referredToExternalDocument></reference></NarrativeStatement></component>`,
			ehr.Document{}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ehr.Summarize(parseRoot(t, []byte(inExtract(tc.xml))))
			require.NoError(t, err)
			require.Len(t, got.Documents, 1)
			d := got.Documents[0]
			assert.Equal(t, "D-1", d.ID)
			assert.Equal(t, "N-1", d.StatementID)
			assert.Equal(t, tc.want.Filename, d.Filename)
			assert.Equal(t, tc.want.MediaType, d.MediaType)
			assert.Equal(t, tc.want.Absent, d.Absent)
			assert.Equal(t, tc.want.Skeleton, d.Skeleton)
			assert.Equal(t, tc.skeleton, got.Skeleton)
		})
	}
}

func TestSummarizeToleratesOddExtracts(t *testing.T) {
	cases := []struct {
		name string
		xml  string
		want ehr.Summary
	}{
		{"empty", `<EhrExtract/>`, ehr.Summary{}},
		{"prefixed, ids with spaces", `<x:EhrExtract xmlns:x="urn:hl7-org:v3"><x:id root=" E-1 "/>` +
			`<x:recordTarget><x:patient><x:id root="2.16.840.1.113883.2.1.4.1" extension="9442964410 "/></x:patient></x:recordTarget>` +
			`<x:author><x:AgentOrgSDS><x:agentOrganizationSDS><x:id extension="M85019"/></x:agentOrganizationSDS></x:AgentOrgSDS></x:author>` +
			`<x:destination><x:AgentOrgSDS><x:agentOrganizationSDS><x:id nullFlavor="UNK"/></x:agentOrganizationSDS></x:AgentOrgSDS></x:destination>` +
			`</x:EhrExtract>`,
			ehr.Summary{ExtractID: "E-1", NHSNumber: "9442964410", AuthorODS: "M85019"}},
		{"NHS number chosen by root", `<EhrExtract><recordTarget><patient><id root="1.2.3" extension="LOCAL1"/><id root="2.16.840.1.113883.2.1.4.1" extension="9442964410"/></patient></recordTarget></EhrExtract>`,
			ehr.Summary{NHSNumber: "9442964410"}},
		{"statements outside any composition", `<EhrExtract><NarrativeStatement><id root="N"/></NarrativeStatement><ehrComposition/></EhrExtract>`,
			ehr.Summary{Compositions: 1, Statements: map[string]int{"NarrativeStatement": 1}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ehr.Summarize(parseRoot(t, []byte(tc.xml)))
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestDecodeFilename(t *testing.T) {
	cases := []struct {
		reference, want string
	}{
		{"file://localhost/B32B68D2_Attach1%20-%20Copy%20%282%29.jfif", "B32B68D2_Attach1 - Copy (2).jfif"},
		{"file://localhost/0557F0E0_Attach1%5f-%5fCopy.jfif", "0557F0E0_Attach1_-_Copy.jfif"},
		{"FILE://LOCALHOST/name.txt", "name.txt"},
		{"file://localhost/100%.txt", "100%.txt"},
		{"file://localhost/a+b.txt", "a+b.txt"},
		{"urn:0557F0E4_pexels.jpg", "urn:0557F0E4_pexels.jpg"},
		{"cid:68E2A39F@spine.nhs.uk", "cid:68E2A39F@spine.nhs.uk"},
		{"mid:5B4C5E3A", "mid:5B4C5E3A"},
		{"plain.txt", "plain.txt"},
		{"", ""},
	}
	for _, tc := range cases {
		t.Run(tc.reference, func(t *testing.T) {
			assert.Equal(t, tc.want, ehr.DecodeFilename(tc.reference))
		})
	}
}

func TestEncodeFilenameRoundTrips(t *testing.T) {
	for _, name := range []string{"a.txt", "Attach1 - Copy (2).jfif", "100% done?.pdf", "naïve #1 & co.doc", "a/b\\c.txt"} {
		t.Run(name, func(t *testing.T) {
			ref := ehr.EncodeFilename(name)
			assert.Regexp(t, `^file://localhost/[A-Za-z0-9%._~:@!$&'*+,;=-]*$`, ref)
			assert.Equal(t, name, ehr.DecodeFilename(ref))
		})
	}
}

func TestDegradeCodes(t *testing.T) {
	cases := map[ehr.Degrade]string{
		ehr.DegradeDrugAllergy:    "196461000000101",
		ehr.DegradeNonDrugAllergy: "196471000000108",
		ehr.DegradeMedication:     "196421000000109",
		ehr.DegradePlan:           "196451000000104",
		ehr.DegradeReferral:       "196431000000106",
		ehr.DegradeRequest:        "196441000000102",
		ehr.DegradeOther:          "196411000000103",
		ehr.Degrade("unknown"):    "196411000000103",
	}
	for d, code := range cases {
		t.Run(fmt.Sprint(d), func(t *testing.T) {
			assert.Equal(t, ehr.Code{Code: code, System: ehr.SystemSNOMED, DisplayName: d.Code().DisplayName}, d.Code())
			assert.NotEmpty(t, d.Code().DisplayName)
		})
	}
}

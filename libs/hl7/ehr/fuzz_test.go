package ehr_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/hl7/ehr"
	"github.com/nhsengland/gp2gp/libs/spectest"
	"github.com/nhsengland/gp2gp/libs/xmldoc"
)

// FuzzSummarize parses input with xmldoc, as production code does, and
// summarises the first EhrExtract in it. Summarize must never panic and
// must keep its promises whatever the input. Seeds: a generated extract
// with every feature, small hand-written oddities and, when
// GP2GP_SPEC_DIR is set, every sample extract.
func FuzzSummarize(f *testing.F) {
	el, _, err := ehr.Generate(ehr.WithEncounters(2), ehr.WithNOPAT(3), ehr.WithLocalCodes(7),
		ehr.WithAttachments(testAttachments()...))
	require.NoError(f, err)
	f.Add(serialize(f, el))
	f.Add([]byte(inExtract(`<component><CompoundStatement classCode="CATEGORY"><code code="14L..00"/>` +
		`<component><ObservationStatement><id root="A"/><code code="L1" codeSystem="2.16.840.1.113883.2.1.6.3"/>` +
		`<confidentialityCode code="NOPAT"/></ObservationStatement></component></CompoundStatement></component>`)))
	f.Add([]byte(`<RCMR_IN030000UK06><ControlActEvent><subject><EhrExtract><id root="x"/></EhrExtract></subject></ControlActEvent></RCMR_IN030000UK06>`))
	f.Add([]byte(`<hl7:EhrExtract xmlns:hl7="urn:hl7-org:v3"><hl7:referredToExternalDocument><hl7:text><hl7:reference value="file://localhost/%zz"/></hl7:text></hl7:referredToExternalDocument></hl7:EhrExtract>`))
	if dir, ok := spectest.Lookup(); ok {
		for _, s := range sampleExtracts() {
			if data, err := spectest.PayloadOf(dir, s.file); err == nil {
				f.Add(data)
			}
		}
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := xmldoc.Parse(data, xmldoc.Limits{MaxBytes: 1 << 20})
		if err != nil {
			return
		}
		s, err := ehr.Summarize(doc.Root())
		if err != nil {
			require.ErrorIs(t, err, ehr.ErrNoExtract)
			assert.Equal(t, ehr.Summary{}, s)
			return
		}
		assert.GreaterOrEqual(t, s.Compositions, 0)
		statements := 0
		for class, n := range s.Statements {
			assert.Positive(t, n, class)
			statements += n
		}
		assert.GreaterOrEqual(t, statements, len(s.Degrades), "every candidate is a counted statement")
		skeleton := false
		for _, d := range s.Documents {
			assert.Equal(t, ehr.DecodeFilename(d.Reference), d.Filename)
			assert.Equal(t, strings.TrimSpace(d.ID), d.ID)
			skeleton = skeleton || d.Skeleton
		}
		assert.Equal(t, skeleton, s.Skeleton)
		for _, d := range s.Degrades {
			assert.NotEmpty(t, d.Code.Code)
			assert.NotEqual(t, ehr.SystemSNOMED, d.Code.System)
			assert.Equal(t, ehr.SystemSNOMED, d.Degrade.Code().System)
			assert.Contains(t, []ehr.Degrade{ehr.DegradeDrugAllergy, ehr.DegradeNonDrugAllergy, ehr.DegradeMedication,
				ehr.DegradePlan, ehr.DegradeReferral, ehr.DegradeRequest, ehr.DegradeOther}, d.Degrade)
		}
	})
}

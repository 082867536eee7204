package ehr_test

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/hl7/ehr"
	"github.com/nhsengland/gp2gp/libs/xmldoc"
)

// testAttachments exercise names vendors write awkwardly (spaces,
// parentheses, percent signs, non-ASCII) and the absent placeholder.
func testAttachments() []ehr.Attachment {
	return []ehr.Attachment{
		{ID: "B32B68D2-F66F-4085-885B-7174F9119A83", Filename: "Attach1 - Copy (2).jfif", ContentType: "application/octet-stream"},
		{ID: "203C829B-2C6D-45D6-9EEF-B54F065D46F4", Filename: "chest x-ray.jpg", ContentType: "image/jpeg"},
		{ID: "0557F0E0-A231-41ED-808B-AC162D1F16F0", Filename: "discharge_letter 100% final é.pdf", ContentType: "application/pdf"},
		{ID: "767395D0-5271-41EA-9384-E83935108FD5", Filename: "scan.tif", ContentType: "image/tiff", Absent: true},
	}
}

func TestGenerateIsDeterministic(t *testing.T) {
	cases := []struct {
		name string
		opts []ehr.Option
	}{
		{"defaults", nil},
		{"everything", []ehr.Option{ehr.WithEncounters(20), ehr.WithNOPAT(9), ehr.WithLocalCodes(7), ehr.WithAttachments(testAttachments()...)}},
		{"sized", []ehr.Option{ehr.WithTargetSize(200 << 10), ehr.WithNOPAT(3)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			gen := func(seed uint64) ([]byte, ehr.Summary) {
				el, sum, err := ehr.Generate(append([]ehr.Option{ehr.WithSeed(seed)}, tc.opts...)...)
				require.NoError(t, err)
				return serialize(t, el), sum
			}
			a, sumA := gen(7)
			b, sumB := gen(7)
			assert.True(t, bytes.Equal(a, b), "same seed, different bytes")
			assert.Equal(t, sumA, sumB)
			c, _ := gen(8)
			assert.False(t, bytes.Equal(a, c), "different seeds, same bytes")
		})
	}
}

func TestGenerateReachesTargetSize(t *testing.T) {
	cases := []struct {
		name   string
		target int
		opts   []ehr.Option
	}{
		{"30 KB", 30 << 10, nil},
		{"30 KB with everything", 30 << 10, []ehr.Option{ehr.WithNOPAT(5), ehr.WithLocalCodes(7), ehr.WithAttachments(testAttachments()...)}},
		{"250 KB", 250 << 10, nil},
		{"2 MB", 2 << 20, []ehr.Option{ehr.WithNOPAT(40)}},
	}
	for _, tc := range cases {
		for _, seed := range []uint64{1, 2, 3} {
			t.Run(fmt.Sprintf("%s seed %d", tc.name, seed), func(t *testing.T) {
				el, _, err := ehr.Generate(append([]ehr.Option{ehr.WithSeed(seed), ehr.WithTargetSize(tc.target)}, tc.opts...)...)
				require.NoError(t, err)
				got := len(serialize(t, el))
				assert.InEpsilon(t, tc.target, got, 0.2, "size %d for target %d", got, tc.target)
				// Generate promises better than the ±20% benchmarks need.
				assert.InDelta(t, tc.target, got, 64, "size %d for target %d", got, tc.target)
			})
		}
	}
}

func TestGenerateRejectsInvalidOptions(t *testing.T) {
	doc := ehr.Attachment{ID: "B32B68D2-F66F-4085-885B-7174F9119A83", Filename: "a.pdf", ContentType: "application/pdf"}
	cases := []struct {
		name string
		opt  []ehr.Option
	}{
		{"NHS number with a bad check digit", []ehr.Option{ehr.WithPatient("9442964411")}},
		{"NHS number too short", []ehr.Option{ehr.WithPatient("944296441")}},
		{"NHS number with letters", []ehr.Option{ehr.WithPatient("94429644A0")}},
		{"lower-case ODS code", []ehr.Option{ehr.WithPractices("m85019", "B86041")}},
		{"empty requesting ODS code", []ehr.Option{ehr.WithPractices("M85019", "")}},
		{"lower-case GUID extract id", []ehr.Option{ehr.WithExtractID("76c25210-5271-41ea-9384-e83935108fd5")}},
		{"request id with a space", []ehr.Option{ehr.WithRequestID("BBBBA01A A9D1")}},
		{"time before 1990", []ehr.Option{ehr.WithTime(time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC))}},
		{"no encounters", []ehr.Option{ehr.WithEncounters(0)}},
		{"zero target size", []ehr.Option{ehr.WithTargetSize(0)}},
		{"encounters and target size", []ehr.Option{ehr.WithEncounters(3), ehr.WithTargetSize(1 << 20)}},
		{"negative NOPAT", []ehr.Option{ehr.WithNOPAT(-1)}},
		{"negative local codes", []ehr.Option{ehr.WithLocalCodes(-1)}},
		{"more NOPAT than entries", []ehr.Option{ehr.WithEncounters(1), ehr.WithNOPAT(500)}},
		{"attachment id twice", []ehr.Option{ehr.WithAttachments(doc, doc)}},
		{"attachment without file name", []ehr.Option{ehr.WithAttachments(ehr.Attachment{ID: doc.ID, ContentType: "text/plain"})}},
		{"attachment name with a control character", []ehr.Option{ehr.WithAttachments(ehr.Attachment{ID: doc.ID, Filename: "a\x01.txt", ContentType: "text/plain"})}},
		{"attachment with a bad content type", []ehr.Option{ehr.WithAttachments(ehr.Attachment{ID: doc.ID, Filename: "a.txt", ContentType: "text plain"})}},
		{"attachment with a lower-case GUID id", []ehr.Option{ehr.WithAttachments(ehr.Attachment{ID: "0557f0e0-a231-41ed-808b-ac162d1f16f0", Filename: "a.txt", ContentType: "text/plain"})}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			el, _, err := ehr.Generate(tc.opt...)
			require.ErrorIs(t, err, ehr.ErrInvalidOption)
			assert.Nil(t, el)
		})
	}
}

// summaryCases are option sets whose extracts Summarize must report
// exactly.
func summaryCases() []struct {
	name        string
	encounters  int // 0 when sized
	nopat       int
	local       int
	attachments []ehr.Attachment
	opts        []ehr.Option
} {
	return []struct {
		name        string
		encounters  int
		nopat       int
		local       int
		attachments []ehr.Attachment
		opts        []ehr.Option
	}{
		{name: "defaults", encounters: 7},
		{name: "one encounter", encounters: 1, opts: []ehr.Option{ehr.WithEncounters(1)}},
		{name: "attachments", encounters: 7, attachments: testAttachments()},
		{name: "NOPAT", encounters: 30, nopat: 25, opts: []ehr.Option{ehr.WithEncounters(30)}},
		{name: "local codes", encounters: 7, local: 16},
		{name: "everything", encounters: 60, nopat: 40, local: 9, attachments: testAttachments(),
			opts: []ehr.Option{ehr.WithEncounters(60)}},
		{name: "sized", nopat: 12, local: 3, opts: []ehr.Option{ehr.WithTargetSize(400 << 10)}},
	}
}

func TestSummarizeReportsWhatGenerateWrote(t *testing.T) {
	for _, tc := range summaryCases() {
		for _, seed := range []uint64{1, 2, 3} {
			t.Run(fmt.Sprintf("%s seed %d", tc.name, seed), func(t *testing.T) {
				when := time.Date(2023, time.November, 2, 14, 5, 0, 0, time.UTC)
				opts := append([]ehr.Option{
					ehr.WithSeed(seed),
					ehr.WithPatient("9442964410"),
					ehr.WithPractices("M85019", "B86041"),
					ehr.WithExtractID("76C25210-5271-41EA-9384-E83935108FD5"),
					ehr.WithRequestID("BBBBA01A-A9D1-A411-F824-9F7A00A33757"),
					ehr.WithTime(when),
					ehr.WithNOPAT(tc.nopat),
					ehr.WithLocalCodes(tc.local),
					ehr.WithAttachments(tc.attachments...),
				}, tc.opts...)
				el, want, err := ehr.Generate(opts...)
				require.NoError(t, err)

				// In memory, after a round trip through text, and written
				// with an hl7: prefix on every element.
				text := serialize(t, el)
				for name, root := range map[string]*etree.Element{
					"in memory": el,
					"parsed":    parseRoot(t, text),
					"prefixed":  parseRoot(t, prefixed(t, text)),
				} {
					got, err := ehr.Summarize(root)
					require.NoError(t, err, name)
					assert.Equal(t, want, got, name)
				}

				// And what the options asked for.
				assert.Equal(t, "76C25210-5271-41EA-9384-E83935108FD5", want.ExtractID)
				assert.Equal(t, "BBBBA01A-A9D1-A411-F824-9F7A00A33757", want.RequestID)
				assert.Equal(t, "9442964410", want.NHSNumber)
				assert.Equal(t, "M85019", want.AuthorODS)
				assert.Equal(t, "B86041", want.DestinationODS)
				assert.False(t, want.Skeleton)
				if tc.encounters > 0 {
					extra := 1 + len(tc.attachments) // registration, one per document
					if tc.local > 0 {
						extra++
					}
					assert.Equal(t, tc.encounters+extra, want.Compositions)
				}
				assert.Len(t, want.NOPAT, tc.nopat)
				assertAttachments(t, tc.attachments, want.Documents)
				assertDegrades(t, tc.local, want.Degrades)
				if tc.encounters >= 7 {
					for _, class := range []string{ehr.ObservationStatement, ehr.NarrativeStatement, ehr.MedicationStatement,
						ehr.PlanStatement, ehr.RequestStatement, ehr.LinkSet, ehr.CompoundStatement, ehr.RegistrationStatement} {
						assert.Positive(t, want.Statements[class], class)
					}
				}
			})
		}
	}
}

// assertAttachments checks the documents reported against the
// attachments asked for.
func assertAttachments(t *testing.T, asked []ehr.Attachment, got []ehr.Document) {
	t.Helper()
	require.Len(t, got, len(asked))
	for i, a := range asked {
		d := got[i]
		assert.Equal(t, a.ID, d.ID)
		assert.Equal(t, a.Absent, d.Absent)
		assert.Equal(t, ehr.EncodeFilename(d.Filename), d.Reference)
		assert.NotEmpty(t, d.StatementID)
		assert.False(t, d.Skeleton)
		if a.Absent {
			assert.Equal(t, ehr.AbsentFilename(a.ID), d.Filename)
			assert.Equal(t, "text/plain", d.MediaType)
		} else {
			assert.Equal(t, a.Filename, d.Filename)
			assert.Equal(t, a.ContentType, d.MediaType)
		}
		assert.Equal(t, ehr.SystemSNOMED, d.Code.System)
	}
}

// assertDegrades checks the locally-coded entries cycle through the
// degrade categories.
func assertDegrades(t *testing.T, n int, got []ehr.DegradeCandidate) {
	t.Helper()
	require.Len(t, got, n)
	cycle := []ehr.Degrade{ehr.DegradeOther, ehr.DegradeDrugAllergy, ehr.DegradeNonDrugAllergy, ehr.DegradeMedication,
		ehr.DegradePlan, ehr.DegradeReferral, ehr.DegradeRequest}
	types := map[ehr.Degrade]string{
		ehr.DegradeOther: ehr.ObservationStatement, ehr.DegradeDrugAllergy: ehr.ObservationStatement,
		ehr.DegradeNonDrugAllergy: ehr.ObservationStatement, ehr.DegradeMedication: ehr.MedicationStatement,
		ehr.DegradePlan: ehr.PlanStatement, ehr.DegradeReferral: ehr.RequestStatement, ehr.DegradeRequest: ehr.RequestStatement,
	}
	for i, d := range got {
		want := cycle[i%len(cycle)]
		assert.Equal(t, want, d.Degrade, "entry %d", i)
		assert.Equal(t, types[want], d.Type, "entry %d", i)
		assert.Equal(t, ehr.SystemLocal, d.Code.System, "entry %d", i)
		assert.NotEmpty(t, d.Code.Code)
		assert.NotEmpty(t, d.ID)
	}
}

// prefixed rewrites a generated extract with every element in an "hl7:"
// prefix, as some vendors write it.
func prefixed(t *testing.T, text []byte) []byte {
	t.Helper()
	root := parseRoot(t, text)
	var all []*etree.Element
	xmldoc.Descendants(root, func(el *etree.Element) bool { all = append(all, el); return true })
	for _, el := range append(all, root) {
		el.Space = "hl7"
	}
	root.RemoveAttr("xmlns")
	root.CreateAttr("xmlns:hl7", "urn:hl7-org:v3")
	out := serialize(t, root)
	require.Contains(t, string(out), "<hl7:ObservationStatement")
	return out
}

func TestGeneratedContentHangsTogether(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3, 4, 5} {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			el, _, err := ehr.Generate(ehr.WithSeed(seed), ehr.WithEncounters(40), ehr.WithLocalCodes(7),
				ehr.WithAttachments(testAttachments()...))
			require.NoError(t, err)
			root := parseRoot(t, serialize(t, el))
			assert.Equal(t, "EhrExtract", root.Tag)
			assert.Equal(t, "urn:hl7-org:v3", xmldoc.Namespace(root, ""))
			assert.Equal(t, "EXTRACT", xmldoc.Attr(root, "classCode"))
			assert.Equal(t, "EVN", xmldoc.Attr(root, "moodCode"))

			ids := func(parentTag string) map[string]bool {
				out := map[string]bool{}
				xmldoc.Descendants(root, func(e *etree.Element) bool {
					if e.Tag == parentTag {
						out[xmldoc.Attr(xmldoc.Child(e, "id"), "root")] = true
					}
					return true
				})
				return out
			}
			agents := ids("Agent")
			authorisations := ids("ehrSupplyAuthorise")
			statements := map[string]bool{}
			for _, class := range []string{"ObservationStatement", "NarrativeStatement", "MedicationStatement", "CompoundStatement", "PlanStatement", "RequestStatement"} {
				for id := range ids(class) {
					statements[id] = true
				}
			}

			var people, orgs, values, bp, allergies, issues, problems int
			xmldoc.Descendants(root, func(e *etree.Element) bool {
				switch e.Tag {
				case "agentPerson":
					people++
				case "agentOrganization":
					orgs++
				case "agentRef":
					assert.True(t, agents[xmldoc.Attr(xmldoc.Child(e, "id"), "root")], "agentRef to an agent not in the directory")
				case "value":
					if xmldoc.Attr(e, "type") == "PQ" {
						values++
					}
				case "priorMedicationRef":
					issues++
					assert.True(t, authorisations[xmldoc.Attr(xmldoc.Child(e, "id"), "root")], "issue fulfils an unknown authorisation")
				case "statementRef", "namedStatementRef":
					assert.True(t, statements[xmldoc.Attr(xmldoc.Child(e, "id"), "root")], "problem links to an unknown statement")
				case "LinkSet":
					problems++
					assert.NotNil(t, xmldoc.Path(e, "conditionNamed", "namedStatementRef"), "problem without a named condition")
				case "CompoundStatement":
					switch xmldoc.Attr(e, "classCode") {
					case "BATTERY":
						bp++
						obs := xmldoc.Children(e, "component")
						require.Len(t, obs, 2)
						for _, c := range obs {
							assert.Equal(t, "mm[Hg]", xmldoc.Attr(xmldoc.Path(c, "ObservationStatement", "value"), "unit"))
						}
					case "CATEGORY":
						allergies++
						code := xmldoc.Attr(xmldoc.Child(e, "code"), "code")
						assert.Contains(t, []string{"14L..00", "SN53.00"}, code)
						assert.NotNil(t, xmldoc.Path(e, "component", "ObservationStatement"))
					}
				}
				return true
			})
			assert.Positive(t, people)
			assert.GreaterOrEqual(t, orgs, 2, "the practice and at least one hospital")
			assert.Positive(t, values)
			assert.Positive(t, bp)
			assert.GreaterOrEqual(t, allergies, 3, "one allergy encounter and two locally-coded allergies")
			assert.Positive(t, issues)
			assert.Positive(t, problems)
		})
	}
}

func TestSummarizeNeedsAnExtract(t *testing.T) {
	el, _, err := ehr.Generate()
	require.NoError(t, err)
	message := etree.NewElement("RCMR_IN030000UK06")
	message.CreateElement("ControlActEvent").CreateElement("subject").AddChild(el)

	got, err := ehr.Summarize(message)
	require.NoError(t, err, "a whole message holds an extract")
	want, err := ehr.Summarize(el)
	require.NoError(t, err)
	assert.Equal(t, want, got)

	for name, root := range map[string]*etree.Element{
		"nil":              nil,
		"not an extract":   etree.NewElement("MCCI_IN010000UK13"),
		"an empty message": etree.NewElement("RCMR_IN030000UK06"),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ehr.Summarize(root)
			require.ErrorIs(t, err, ehr.ErrNoExtract)
		})
	}
}

package ehr_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/hl7/ehr"
	"github.com/nhsengland/gp2gp/libs/spectest"
)

// sampleDoc is what a test expects of one referenced document.
type sampleDoc struct {
	id, filename, mediaType string
	skeleton                bool
}

// sampleExtracts are the EHR extracts among the spec samples. Expected
// values were checked by hand against the files (grep for the elements).
func sampleExtracts() []struct {
	file        string
	extractID   string
	nhsNumber   string
	authorODS   string
	destODS     string
	comps       int
	statements  map[string]int
	docs        []sampleDoc
	degrades    []ehr.DegradeCandidate
	skeleton    bool
	schemaValid bool
} {
	preferredContact := func(id string) []ehr.DegradeCandidate {
		return []ehr.DegradeCandidate{{
			Entry:   ehr.Entry{Type: ehr.ObservationStatement, ID: id},
			Code:    ehr.Code{Code: "EMISNQPR489", System: ehr.SystemLocal, DisplayName: "Preferred method of contact: unknown"},
			Degrade: ehr.DegradeOther,
		}}
	}
	return []struct {
		file        string
		extractID   string
		nhsNumber   string
		authorODS   string
		destODS     string
		comps       int
		statements  map[string]int
		docs        []sampleDoc
		degrades    []ehr.DegradeCandidate
		skeleton    bool
		schemaValid bool
	}{
		{
			file:      "prm-messenger__tpp-process__07-tpp-ehr-extract.xml",
			extractID: "76C25210-5271-41EA-9384-E83935108FD5", nhsNumber: "9442964410", authorODS: "M85019", destODS: "B86041",
			comps:      5,
			statements: map[string]int{"MedicationStatement": 5, "NarrativeStatement": 2, "RegistrationStatement": 1},
			docs: []sampleDoc{{"767395D0-5271-41EA-9384-E83935108FD5",
				"767395D0-5271-41EA-9384-E83935108FD5_patient-attachment.txt.txt", "text/plain", false}},
			schemaValid: true,
		},
		{
			file:      "prm-ehr-out__emis__large-core.mhs.json",
			extractID: "8FBBFBD5-EAD0-4357-A36C-336F15030147", nhsNumber: "9693643038", authorODS: "N82668", destODS: "B85002",
			comps:      7,
			statements: map[string]int{"CompoundStatement": 12, "LinkSet": 1, "NarrativeStatement": 5, "ObservationStatement": 2},
			docs: []sampleDoc{
				{"B32B68D2-F66F-4085-885B-7174F9119A83", "B32B68D2-F66F-4085-885B-7174F9119A83_Attach1 - Copy (2) - Copy.jfif", "application/octet-stream", false},
				{"CE8ACFDC-78C9-4B5A-8569-9F571B9E3A92", "CE8ACFDC-78C9-4B5A-8569-9F571B9E3A92_Attach1 - Copy (2).jfif", "application/octet-stream", false},
				{"474D8685-0B3D-4AC5-8009-88C450156DB3", "474D8685-0B3D-4AC5-8009-88C450156DB3_Attach1 - Copy (3) - Copy.jfif", "application/octet-stream", false},
				{"4162A6E0-08D6-44DA-BF45-2BEFC7E0C243", "4162A6E0-08D6-44DA-BF45-2BEFC7E0C243_Attach1 - Copy (3).jfif", "application/octet-stream", false},
				{"203C829B-2C6D-45D6-9EEF-B54F065D46F4", "203C829B-2C6D-45D6-9EEF-B54F065D46F4_pexels-lisa-fotios-1540258.jpg", "image/jpeg", false},
			},
			degrades:    preferredContact("F3B40992-0BB7-4D41-87EF-CDB0C2CD11C3"),
			schemaValid: true,
		},
		{
			file:      "prm-ehr-out__tpp__large-core-with-mid-refs.mhs.json",
			extractID: "05F2F860-A231-41ED-808B-AC162D1F16F0", nhsNumber: "9693643038", authorODS: "M85019", destODS: "B85002",
			comps: 10,
			statements: map[string]int{"EhrEmpty": 1, "LinkSet": 1, "NarrativeStatement": 6, "ObservationStatement": 3,
				"RegistrationStatement": 1},
			docs: []sampleDoc{
				{"0557F0E4-A231-41ED-808B-AC162D1F16F0", "0557F0E4-A231-41ED-808B-AC162D1F16F0_pexels-lisa-fotios-1540258.jpg", "image/jpeg", false},
				{"0557F0E0-A231-41ED-808B-AC162D1F16F0", "0557F0E0-A231-41ED-808B-AC162D1F16F0_Attach1_-_Copy__3__-_Copy.jfif", "application/octet-stream", false},
				{"0557F0E1-A231-41ED-808B-AC162D1F16F0", "0557F0E1-A231-41ED-808B-AC162D1F16F0_Attach1_-_Copy__3_.jfif", "application/octet-stream", false},
				{"0557F0E3-A231-41ED-808B-AC162D1F16F0", "0557F0E3-A231-41ED-808B-AC162D1F16F0_Attach1_-_Copy__2__-_Copy.jfif", "application/octet-stream", false},
				{"0557F0E2-A231-41ED-808B-AC162D1F16F0", "0557F0E2-A231-41ED-808B-AC162D1F16F0_Attach1_-_Copy__2_.jfif", "application/octet-stream", false},
			},
			schemaValid: true,
		},
		{
			file:      "nia-ps__tpp__non-unique-fragment-names__uk06.mhs.json",
			extractID: "296FD29D-82F5-4627-8343-BF49C47495BB", nhsNumber: "9729726418", authorODS: "C88046", destODS: "P83007",
			comps:      2,
			statements: map[string]int{"CompoundStatement": 2, "NarrativeStatement": 1, "ObservationStatement": 1},
			docs: []sampleDoc{{"F057E46B-9F42-4248-8546-520B608D6A54",
				"9186ECF7-8407-11EE-B3A3-48DF37DF55D0_Firstname_Lastname_4465495269_29_Apr_2021_by_IS_2578799336.TIFF", "image/jpeg", false}},
			degrades:    preferredContact("990D1C51-3661-466A-9B8E-F132183991FA"),
			schemaValid: true,
		},
		{
			file:      "nia-ps__vision__scenario6-cid-mid-combo__uk06.mhs.json",
			extractID: "29102470-0734-4EBC-98B1-1232A552C2B4", nhsNumber: "{{nhsNumber}}", authorODS: "A28009", destODS: "C88653",
			comps: 2,
			statements: map[string]int{"CompoundStatement": 6, "NarrativeStatement": 4, "ObservationStatement": 6,
				"RegistrationStatement": 1},
			docs:        []sampleDoc{{"09D8E406-B106-4CCB-A3E3-C4EBC2F17BF8", "588210BB-401D-41F9-84D2-978697CEEFE5_00011000.tif", "image/tiff", false}},
			schemaValid: true,
		},
		{
			file:      "prm-messenger__vision__lm-example-3__small-ehr-mime.js.txt",
			extractID: "29102470-0734-4EBC-98B1-1232A552C2B4", nhsNumber: "9465731285", authorODS: "A28009", destODS: "C88653",
			comps: 2,
			statements: map[string]int{"CompoundStatement": 6, "NarrativeStatement": 4, "ObservationStatement": 6,
				"RegistrationStatement": 1},
			docs:        []sampleDoc{{"09D8E406-B106-4CCB-A3E3-C4EBC2F17BF8", "588210BB-401D-41F9-84D2-978697CEEFE5_00011000.tif", "image/tiff", false}},
			schemaValid: true,
		},
		{
			file:      "nia-ps__emis__scenario3__uk06.mhs.json",
			extractID: "7DFAECD9-A169-4187-B0A0-2613EDD7D835", nhsNumber: "{{nhsNumber}}", authorODS: "B83002", destODS: "",
			comps:      1,
			statements: map[string]int{"CompoundStatement": 2, "NarrativeStatement": 4},
			docs:       []sampleDoc{{"_8681AF4F-E577-4C8D-A2CE-43CABE3D5FB4", "8681AF4F-E577-4C8D-A2CE-43CABE3D5FB4_sample_mpeg4.mp4", "video/mpeg", false}},
		},
		{
			file:      "nia-ps__scenario7-skeleton__uk06.mhs.json",
			extractID: "7DFAECD9-A169-4187-B0A0-2613EDD7D835", nhsNumber: "{{nhsNumber}}", authorODS: "B83002", destODS: "",
			comps:      1,
			statements: map[string]int{"CompoundStatement": 2, "NarrativeStatement": 4},
			docs: []sampleDoc{
				{"_277F29F1-FEAB-4D38-8266-FEB7A1E6227D", "277F29F1-FEAB-4D38-8266-FEB7A1E6227D_LICENSE.txt", "text/plain", false},
				{"68E2A39F-7A24-449D-83CC-1B7CF1A9DAD7spine.nhs.ukExample1", "cid:68E2A39F-7A24-449D-83CC-1B7CF1A9DAD7spine.nhs.ukExample1", "text/xml", true},
			},
			skeleton: true,
		},
		{
			file:      "prm-messenger__spec-lm-example-1__ehr-extract-http.txt",
			extractID: "7DFAECD9-A169-4187-B0A0-2613EDD7D835", nhsNumber: "9446363101", authorODS: "B83002", destODS: "",
			comps:      1,
			statements: map[string]int{"CompoundStatement": 2, "NarrativeStatement": 4},
			docs: []sampleDoc{
				{"_1C135B3C-5AA5-4BF1-A08B-E6002455B806", "1C135B3C-5AA5-4BF1-A08B-E6002455B806_image.tif", "application/binary", false},
				{"_277F29F1-FEAB-4D38-8266-FEB7A1E6227D", "277F29F1-FEAB-4D38-8266-FEB7A1E6227D_LICENSE.txt", "text/plain", false},
				{"_7CCB6A77-360E-434E-8CF4-97C7C2B47D70", "7CCB6A77-360E-434E-8CF4-97C7C2B47D70_book.txt", "text/plain", false},
				{"_8681AF4F-E577-4C8D-A2CE-43CABE3D5FB4", "8681AF4F-E577-4C8D-A2CE-43CABE3D5FB4_sample_mpeg4.mp4", "video/mpeg", false},
			},
		},
	}
}

func TestSummarizeSamples(t *testing.T) {
	spectest.Dir(t)
	for _, tc := range sampleExtracts() {
		t.Run(tc.file, func(t *testing.T) {
			payload := spectest.Payload(t, tc.file)
			got, err := ehr.Summarize(parseRoot(t, payload))
			require.NoError(t, err)

			assert.Equal(t, tc.extractID, got.ExtractID)
			assert.Equal(t, tc.nhsNumber, got.NHSNumber)
			assert.Equal(t, tc.authorODS, got.AuthorODS)
			assert.Equal(t, tc.destODS, got.DestinationODS)
			assert.Equal(t, tc.comps, got.Compositions)
			assert.Equal(t, tc.statements, got.Statements)
			assert.Equal(t, tc.degrades, got.Degrades)
			assert.Empty(t, got.NOPAT)
			assert.Equal(t, tc.skeleton, got.Skeleton)
			require.Len(t, got.Documents, len(tc.docs))
			for i, want := range tc.docs {
				d := got.Documents[i]
				assert.Equal(t, want.id, d.ID)
				assert.Equal(t, want.filename, d.Filename)
				assert.Equal(t, want.mediaType, d.MediaType)
				assert.Equal(t, want.skeleton, d.Skeleton)
				assert.False(t, d.Absent)
				assert.Equal(t, ehr.DecodeFilename(d.Reference), d.Filename)
			}
		})
	}
}

// TestSampleExtractsSchemaStatus confirms which samples are schema-valid,
// so that the generator is held to the same bar as the real vendors.
func TestSampleExtractsSchemaStatus(t *testing.T) {
	spectest.Dir(t)
	for _, tc := range sampleExtracts() {
		t.Run(tc.file, func(t *testing.T) {
			payload := spectest.Payload(t, tc.file)
			err := validate(t, uk06, payload)
			if tc.schemaValid {
				assert.NoError(t, err)
			} else {
				assert.Error(t, err)
			}
		})
	}
}

package directory_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/directory"
)

const h4m10 = 4*time.Hour + 10*time.Minute

// validFile is a small valid directory file; tests change copies of it.
func validFile() directory.FileData {
	return directory.FileData{
		Practices: []directory.FilePractice{
			{
				ODS: "A12345", Name: "Riverside", ASID: "200000000101", PartyKey: "A12345-822652",
				CPAID: "S2000000101A0001", MHSAddress: "https://mhs.example.invalid/a", GP2GPEnabled: true,
				PersistDurations:       map[string]string{"RCMR_IN030000UK06": "PT4H10M", "COPC_IN000001UK01": "PT1H"},
				DefaultPersistDuration: "PT30M", Retries: 3, RetryInterval: "PT2H",
			},
			{ODS: "B86041", Name: "Hillside", ASID: "200000000102", PartyKey: "B86041-822653", GP2GPEnabled: true},
			{ODS: "C81010", Name: "Paper Lane Surgery"},
		},
		Patients: []directory.FilePatient{
			{NHSNumber: "9990001014", CurrentODS: "B86041", PreviousODS: "A12345", GivenName: "Ada",
				FamilyName: "Thornbury", BirthDate: "1958-03-14", Gender: "female"},
			{NHSNumber: "9990001022", CurrentODS: "A12345"},
		},
	}
}

func marshal(t *testing.T, fd directory.FileData) []byte {
	t.Helper()
	data, err := json.Marshal(fd)
	require.NoError(t, err)
	return data
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	require.NoError(t, os.WriteFile(path, data, 0o600))
}

func TestLoadFileDevStack(t *testing.T) {
	ctx := context.Background()
	f, err := directory.LoadFile(filepath.Join("devdirectory", "devstack.json"))
	require.NoError(t, err)

	practices := f.Practices()
	require.Len(t, practices, 2)
	want := map[string][2]string{"A12345": {"200000000101", "A12345-822652"}, "B86041": {"200000000102", "B86041-822653"}}
	for ods, ids := range want {
		t.Run("practice "+ods, func(t *testing.T) {
			p, err := f.Practice(ctx, ods)
			require.NoError(t, err)
			assert.True(t, p.GP2GPEnabled)
			for _, interaction := range []string{directory.InteractionEHRRequest, directory.InteractionEHRExtract, directory.InteractionCOPC} {
				ep, err := f.Endpoint(ctx, ods, interaction)
				require.NoError(t, err)
				assert.Equal(t, ods, ep.ODS)
				assert.Equal(t, ids[0], ep.ASID)
				assert.Equal(t, ids[1], ep.PartyKey)
				assert.Equal(t, h4m10, ep.PersistDuration, interaction)
			}
		})
	}

	patients := f.Patients()
	require.Len(t, patients, 7)
	moves := map[[2]string]int{}
	for _, p := range patients {
		reg, err := f.Registration(ctx, p.NHSNumber)
		require.NoError(t, err)
		assert.NotEmpty(t, reg.GivenName)
		assert.NotEmpty(t, reg.FamilyName)
		assert.NotEmpty(t, reg.BirthDate)
		moves[[2]string{reg.PreviousODS, reg.CurrentODS}]++
	}
	assert.Equal(t, map[[2]string]int{{"A12345", "B86041"}: 5, {"B86041", "A12345"}: 2}, moves)
}

func TestFileLookups(t *testing.T) {
	ctx := context.Background()
	f, err := directory.ParseFile(marshal(t, validFile()))
	require.NoError(t, err)

	t.Run("registration", func(t *testing.T) {
		reg, err := f.Registration(ctx, "9990001014")
		require.NoError(t, err)
		assert.Equal(t, directory.Registration{
			NHSNumber: "9990001014", CurrentODS: "B86041", PreviousODS: "A12345",
			GivenName: "Ada", FamilyName: "Thornbury", BirthDate: "1958-03-14", Gender: "female",
		}, reg)
	})
	t.Run("registration without optional fields", func(t *testing.T) {
		reg, err := f.Registration(ctx, "9990001022")
		require.NoError(t, err)
		assert.Equal(t, directory.Registration{NHSNumber: "9990001022", CurrentODS: "A12345"}, reg)
	})
	t.Run("unknown patient", func(t *testing.T) {
		_, err := f.Registration(ctx, "9990001030")
		require.ErrorIs(t, err, directory.ErrPatientNotFound)
	})
	for _, nhs := range []string{"", "999000101", "99900010144", "9990001015", "999000101X", "1234567890"} {
		t.Run("malformed NHS number "+nhs, func(t *testing.T) {
			_, err := f.Registration(ctx, nhs)
			require.ErrorIs(t, err, directory.ErrInvalidArgument)
		})
	}

	endpoints := []struct {
		name, ods, interaction string
		wantPD                 time.Duration
	}{
		{"listed persist duration", "A12345", directory.InteractionEHRExtract, h4m10},
		{"another listed persist duration", "A12345", directory.InteractionCOPC, time.Hour},
		{"default persist duration", "A12345", directory.InteractionEHRRequest, 30 * time.Minute},
		{"no persist duration at all", "B86041", directory.InteractionEHRExtract, 0},
	}
	for _, tc := range endpoints {
		t.Run("endpoint "+tc.name, func(t *testing.T) {
			ep, err := f.Endpoint(ctx, tc.ods, tc.interaction)
			require.NoError(t, err)
			assert.Equal(t, tc.wantPD, ep.PersistDuration)
		})
	}
	t.Run("endpoint carries every field", func(t *testing.T) {
		ep, err := f.Endpoint(ctx, "A12345", directory.InteractionAck)
		require.NoError(t, err)
		assert.Equal(t, directory.Endpoint{
			ODS: "A12345", ASID: "200000000101", PartyKey: "A12345-822652", CPAID: "S2000000101A0001",
			MHSAddress: "https://mhs.example.invalid/a", PersistDuration: 30 * time.Minute,
			Retries: 3, RetryInterval: 2 * time.Hour,
		}, ep)
	})

	endpointErrors := []struct {
		name, ods, interaction string
		want                   error
	}{
		{"unknown practice", "Z99999", directory.InteractionEHRRequest, directory.ErrNotFound},
		{"practice without GP2GP", "C81010", directory.InteractionEHRRequest, directory.ErrNotFound},
		{"interaction that is not GP2GP", "A12345", "QUPA_IN000008UK02", directory.ErrNotFound},
		{"malformed interaction", "A12345", "RCMR_IN010000", directory.ErrInvalidArgument},
		{"malformed ODS", "A1", directory.InteractionEHRRequest, directory.ErrInvalidArgument},
		{"ODS with a separator", "A12345|X", directory.InteractionEHRRequest, directory.ErrInvalidArgument},
	}
	for _, tc := range endpointErrors {
		t.Run("endpoint "+tc.name, func(t *testing.T) {
			_, err := f.Endpoint(ctx, tc.ods, tc.interaction)
			require.ErrorIs(t, err, tc.want)
		})
	}

	t.Run("practice", func(t *testing.T) {
		p, err := f.Practice(ctx, "A12345")
		require.NoError(t, err)
		assert.Equal(t, directory.Practice{ODS: "A12345", Name: "Riverside", GP2GPEnabled: true}, p)
	})
	t.Run("practice without GP2GP is known", func(t *testing.T) {
		p, err := f.Practice(ctx, "C81010")
		require.NoError(t, err)
		assert.Equal(t, directory.Practice{ODS: "C81010", Name: "Paper Lane Surgery"}, p)
	})
	t.Run("unknown practice", func(t *testing.T) {
		_, err := f.Practice(ctx, "Z99999")
		require.ErrorIs(t, err, directory.ErrNotFound)
	})
}

func TestFileODSCaseInsensitive(t *testing.T) {
	ctx := context.Background()
	fd := validFile()
	fd.Practices[0].ODS = "a12345"
	fd.Patients[0].CurrentODS = "b86041"
	fd.Patients[0].PreviousODS = "a12345"
	f, err := directory.ParseFile(marshal(t, fd))
	require.NoError(t, err)

	for _, ods := range []string{"A12345", "a12345"} {
		ep, err := f.Endpoint(ctx, ods, directory.InteractionEHRRequest)
		require.NoError(t, err, ods)
		assert.Equal(t, "A12345", ep.ODS, "stored upper-case")
	}
	p, err := f.Practice(ctx, "b86041")
	require.NoError(t, err)
	assert.Equal(t, "B86041", p.ODS)

	reg, err := f.Registration(ctx, "9990001014")
	require.NoError(t, err)
	assert.Equal(t, "B86041", reg.CurrentODS)
	assert.Equal(t, "A12345", reg.PreviousODS)
	assert.Equal(t, "A12345", f.Practices()[0].ODS)
	assert.Equal(t, "B86041", f.Patients()[0].CurrentODS)

	fd.Practices[1].ODS = "A12345"
	_, err = directory.ParseFile(marshal(t, fd))
	require.ErrorIs(t, err, directory.ErrInvalidFile, "a12345 and A12345 are the same practice")
}

func TestFileValidation(t *testing.T) {
	tests := []struct {
		name              string
		change            func(fd *directory.FileData)
		entry, key, field string
		reason            string
	}{
		{"missing ODS", func(fd *directory.FileData) { fd.Practices[1].ODS = "" },
			"practices[1]", "", "ods", "missing"},
		{"malformed ODS", func(fd *directory.FileData) { fd.Practices[1].ODS = "B8-6041" },
			"practices[1]", "B8-6041", "ods", "3 to 10 letters and digits"},
		{"ODS too long", func(fd *directory.FileData) { fd.Practices[1].ODS = "B86041B86041" },
			"practices[1]", "B86041B86041", "ods", "3 to 10 letters and digits"},
		{"duplicate ODS", func(fd *directory.FileData) { fd.Practices[2].ODS = "A12345" },
			"practices[2]", "A12345", "ods", "duplicate ODS code, also practices[0]"},
		{"missing ASID on a GP2GP practice", func(fd *directory.FileData) { fd.Practices[1].ASID = "" },
			"practices[1]", "B86041", "asid", "required when gp2gpEnabled is true"},
		{"ASID not digits", func(fd *directory.FileData) { fd.Practices[1].ASID = "20000000010X" },
			"practices[1]", "B86041", "asid", "must be 1 to 20 digits"},
		{"ASID too long", func(fd *directory.FileData) { fd.Practices[1].ASID = "123456789012345678901" },
			"practices[1]", "B86041", "asid", "must be 1 to 20 digits"},
		{"duplicate ASID", func(fd *directory.FileData) { fd.Practices[2].ASID = "200000000101" },
			"practices[2]", "C81010", "asid", "duplicate ASID 200000000101, also practices[0]"},
		{"negative retries", func(fd *directory.FileData) { fd.Practices[0].Retries = -1 },
			"practices[0]", "A12345", "retries", "must not be negative"},
		{"malformed persist duration", func(fd *directory.FileData) {
			fd.Practices[1].PersistDurations = map[string]string{"COPC_IN000001UK01": "4h10m"}
		}, "practices[1]", "B86041", "persistDurations.COPC_IN000001UK01", "does not start with P"},
		{"persist duration in months", func(fd *directory.FileData) {
			fd.Practices[1].PersistDurations = map[string]string{"RCMR_IN030000UK06": "P1M"}
		}, "practices[1]", "B86041", "persistDurations.RCMR_IN030000UK06", "months are not supported"},
		{"persist duration for an unknown interaction", func(fd *directory.FileData) {
			fd.Practices[1].PersistDurations = map[string]string{"RCMR_IN03000UK06": "PT1H"}
		}, "practices[1]", "B86041", "persistDurations.RCMR_IN03000UK06", "not a GP2GP interaction"},
		{"malformed default persist duration", func(fd *directory.FileData) { fd.Practices[0].DefaultPersistDuration = "PT" },
			"practices[0]", "A12345", "defaultPersistDuration", "no hours, minutes or seconds after T"},
		{"malformed retry interval", func(fd *directory.FileData) { fd.Practices[0].RetryInterval = "2 hours" },
			"practices[0]", "A12345", "retryInterval", "does not start with P"},
		{"missing NHS number", func(fd *directory.FileData) { fd.Patients[1].NHSNumber = "" },
			"patients[1]", "", "nhsNumber", "missing"},
		{"NHS number with a wrong check digit", func(fd *directory.FileData) { fd.Patients[1].NHSNumber = "9990001023" },
			"patients[1]", "9990001023", "nhsNumber", "not a valid NHS number"},
		{"NHS number whose check digit would be 10", func(fd *directory.FileData) { fd.Patients[1].NHSNumber = "1234567890" },
			"patients[1]", "1234567890", "nhsNumber", "not a valid NHS number"},
		{"NHS number with nine digits", func(fd *directory.FileData) { fd.Patients[1].NHSNumber = "999000102" },
			"patients[1]", "999000102", "nhsNumber", "not a valid NHS number"},
		{"NHS number with spaces", func(fd *directory.FileData) { fd.Patients[1].NHSNumber = "999 000 1022" },
			"patients[1]", "999 000 1022", "nhsNumber", "not a valid NHS number"},
		{"duplicate NHS number", func(fd *directory.FileData) { fd.Patients[1].NHSNumber = "9990001014" },
			"patients[1]", "9990001014", "nhsNumber", "duplicate NHS number, also patients[0]"},
		{"missing current ODS", func(fd *directory.FileData) { fd.Patients[1].CurrentODS = "" },
			"patients[1]", "9990001022", "currentOds", "missing"},
		{"malformed current ODS", func(fd *directory.FileData) { fd.Patients[1].CurrentODS = "A 12345" },
			"patients[1]", "9990001022", "currentOds", "3 to 10 letters and digits"},
		{"malformed previous ODS", func(fd *directory.FileData) { fd.Patients[1].PreviousODS = "AB" },
			"patients[1]", "9990001022", "previousOds", "3 to 10 letters and digits"},
		{"malformed birth date", func(fd *directory.FileData) { fd.Patients[1].BirthDate = "14/03/1958" },
			"patients[1]", "9990001022", "birthDate", "not a date YYYY-MM-DD"},
		{"impossible birth date", func(fd *directory.FileData) { fd.Patients[1].BirthDate = "1958-02-30" },
			"patients[1]", "9990001022", "birthDate", "not a date YYYY-MM-DD"},
		{"unknown gender", func(fd *directory.FileData) { fd.Patients[1].Gender = "F" },
			"patients[1]", "9990001022", "gender", "not one of male, female, other, unknown"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fd := validFile()
			tc.change(&fd)
			f, err := directory.ParseFile(marshal(t, fd))
			require.ErrorIs(t, err, directory.ErrInvalidFile)
			assert.Nil(t, f)
			var ve *directory.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, tc.entry, ve.Entry)
			assert.Equal(t, tc.key, ve.Key)
			assert.Equal(t, tc.field, ve.Field)
			assert.Contains(t, ve.Reason, tc.reason)
			assert.Contains(t, err.Error(), tc.entry)
		})
	}

	t.Run("every problem is reported", func(t *testing.T) {
		fd := validFile()
		fd.Practices[1].ASID = "x"
		fd.Patients[0].NHSNumber = "9990001015"
		fd.Patients[1].Gender = "F"
		_, err := directory.ParseFile(marshal(t, fd))
		require.ErrorIs(t, err, directory.ErrInvalidFile)
		var joined interface{ Unwrap() []error }
		require.ErrorAs(t, err, &joined)
		assert.Len(t, joined.Unwrap(), 3)
		assert.Contains(t, err.Error(), "practices[1] (B86041) asid:")
		assert.Contains(t, err.Error(), "patients[0] (9990001015) nhsNumber:")
		assert.Contains(t, err.Error(), "patients[1] (9990001022) gender:")
	})

	t.Run("a practice without GP2GP needs no ASID", func(t *testing.T) {
		fd := validFile()
		fd.Practices[1].GP2GPEnabled = false
		fd.Practices[1].ASID = ""
		_, err := directory.ParseFile(marshal(t, fd))
		require.NoError(t, err)
	})
	t.Run("an empty file is an empty directory", func(t *testing.T) {
		f, err := directory.ParseFile([]byte(`{}`))
		require.NoError(t, err)
		assert.Empty(t, f.Practices())
		_, err = f.Practice(context.Background(), "A12345")
		require.ErrorIs(t, err, directory.ErrNotFound)
	})
}

func TestFileJSONErrors(t *testing.T) {
	tests := []struct {
		name, data, want string
	}{
		{"syntax error", "{\n  \"practices\": [\n    {\"ods\": \"A12345\",}\n  ]\n}", "line 3, column"},
		{"unknown field", `{"practices": [{"ods": "A12345", "persistDuration": "PT1H"}]}`, `unknown field "persistDuration"`},
		{"wrong type", `{"practices": [{"ods": "A12345", "gp2gpEnabled": "yes"}]}`, "line 1, column"},
		{"truncated", `{"practices": [`, "not a complete JSON object"},
		{"empty", ``, "not a complete JSON object"},
		{"not an object", `[]`, "cannot unmarshal array"},
		{"data after the object", `{} {}`, "data after the JSON object"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := directory.ParseFile([]byte(tc.data))
			require.ErrorIs(t, err, directory.ErrInvalidFile)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestFileLoadErrors(t *testing.T) {
	t.Run("missing file", func(t *testing.T) {
		_, err := directory.LoadFile(filepath.Join(t.TempDir(), "nope.json"))
		require.ErrorIs(t, err, os.ErrNotExist)
	})
	t.Run("invalid file names the path", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "dir.json")
		writeFile(t, path, []byte(`{"patients": [{"nhsNumber": "1", "currentOds": "A12345"}]}`))
		_, err := directory.LoadFile(path)
		require.ErrorIs(t, err, directory.ErrInvalidFile)
		assert.Contains(t, err.Error(), path+": patients[0] (1) nhsNumber:")
	})
	t.Run("a parsed file cannot be reloaded", func(t *testing.T) {
		f, err := directory.ParseFile([]byte(`{}`))
		require.NoError(t, err)
		require.Error(t, f.Reload())
	})
}

func TestFileAccessorsReturnCopies(t *testing.T) {
	f, err := directory.ParseFile(marshal(t, validFile()))
	require.NoError(t, err)
	practices := f.Practices()
	practices[0].ASID = "1"
	practices[0].PersistDurations["RCMR_IN030000UK06"] = "PT1S"
	patients := f.Patients()
	patients[0].CurrentODS = "Z99999"

	assert.Equal(t, "200000000101", f.Practices()[0].ASID)
	assert.Equal(t, "PT4H10M", f.Practices()[0].PersistDurations["RCMR_IN030000UK06"])
	assert.Equal(t, "B86041", f.Patients()[0].CurrentODS)
	ep, err := f.Endpoint(context.Background(), "A12345", directory.InteractionEHRExtract)
	require.NoError(t, err)
	assert.Equal(t, h4m10, ep.PersistDuration)
}

func TestFileReload(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "directory.json")
	fd := validFile()
	writeFile(t, path, marshal(t, fd))
	f, err := directory.LoadFile(path)
	require.NoError(t, err)

	// The operator moves a patient and adds a practice.
	fd.Patients[1].CurrentODS = "B86041"
	fd.Practices = append(fd.Practices, directory.FilePractice{ODS: "D12345", ASID: "200000000104", GP2GPEnabled: true})
	writeFile(t, path, marshal(t, fd))
	require.NoError(t, f.Reload())
	reg, err := f.Registration(ctx, "9990001022")
	require.NoError(t, err)
	assert.Equal(t, "B86041", reg.CurrentODS)
	_, err = f.Endpoint(ctx, "D12345", directory.InteractionEHRRequest)
	require.NoError(t, err)

	bad := []struct {
		name  string
		write func()
	}{
		{"invalid entry", func() {
			broken := fd
			broken.Patients = append([]directory.FilePatient{{NHSNumber: "0000000001", CurrentODS: "A12345"}}, fd.Patients...)
			writeFile(t, path, marshal(t, broken))
		}},
		{"truncated JSON", func() { writeFile(t, path, []byte(`{"practices": [{"ods": "A1`)) }},
		{"file removed", func() { require.NoError(t, os.Remove(path)) }},
	}
	for _, tc := range bad {
		t.Run("keeps the old data on "+tc.name, func(t *testing.T) {
			tc.write()
			require.Error(t, f.Reload())
			reg, err := f.Registration(ctx, "9990001022")
			require.NoError(t, err)
			assert.Equal(t, "B86041", reg.CurrentODS)
			assert.Len(t, f.Practices(), 4)
		})
	}

	t.Run("a fixed file is picked up again", func(t *testing.T) {
		writeFile(t, path, marshal(t, validFile()))
		require.NoError(t, f.Reload())
		assert.Len(t, f.Practices(), 3)
	})
}

// TestFileConcurrentReload reloads between two versions of a file while
// readers look up; run with -race. Each reader checks that what it sees is
// one version or the other, never a mixture.
func TestFileConcurrentReload(t *testing.T) {
	ctx := context.Background()
	version := func(n int) []byte {
		fd := validFile()
		if n == 1 {
			fd.Patients[0].CurrentODS = "A12345"
			fd.Patients[0].GivenName = "Version1"
			fd.Practices[0].PersistDurations["RCMR_IN030000UK06"] = "PT1H"
		}
		return marshal(t, fd)
	}
	path := filepath.Join(t.TempDir(), "directory.json")
	writeFile(t, path, version(0))
	f, err := directory.LoadFile(path)
	require.NoError(t, err)

	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 4 {
		wg.Go(func() {
			for range 500 {
				reg, err := f.Registration(ctx, "9990001014")
				if err != nil {
					errs <- err
					return
				}
				if (reg.CurrentODS == "A12345") != (reg.GivenName == "Version1") {
					errs <- errors.New("registration mixes two versions: " + reg.CurrentODS + " " + reg.GivenName)
					return
				}
				if _, err := f.Endpoint(ctx, "a12345", directory.InteractionEHRExtract); err != nil {
					errs <- err
					return
				}
				_ = f.Practices()
			}
		})
	}
	wg.Go(func() {
		for i := range 100 {
			// Writing the file is not atomic, so a reload may see it half
			// written; that must fail and keep the data, not corrupt it.
			if err := os.WriteFile(path, version(i%2), 0o600); err != nil {
				errs <- err
				return
			}
			_ = f.Reload()
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err)
	}
}

package directory_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/nhsengland/gp2gp/libs/directory"
)

// A requester resolves a newly registered patient's previous practice and
// its routing, and works out how long to wait for the record.
func ExampleFile() {
	dir, err := directory.ParseFile([]byte(`{
	  "practices": [
	    {"ods": "A12345", "name": "Riverside Medical Centre", "asid": "200000000101",
	     "partyKey": "A12345-822652", "gp2gpEnabled": true,
	     "persistDurations": {"RCMR_IN030000UK06": "PT4H10M", "COPC_IN000001UK01": "PT1H"}},
	    {"ods": "C81010", "name": "Paper Lane Surgery", "gp2gpEnabled": false}
	  ],
	  "patients": [
	    {"nhsNumber": "9990001014", "currentOds": "B86041", "previousOds": "A12345",
	     "givenName": "Ada", "familyName": "Thornbury", "birthDate": "1958-03-14", "gender": "female"}
	  ]
	}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()

	reg, _ := dir.Registration(ctx, "9990001014")
	fmt.Println("previous practice:", reg.PreviousODS)

	request, _ := dir.Endpoint(ctx, reg.PreviousODS, directory.InteractionEHRRequest)
	fmt.Println("send the EHR Request to ASID", request.ASID)

	uk06, _ := dir.Endpoint(ctx, reg.PreviousODS, directory.InteractionEHRExtract)
	copc, _ := dir.Endpoint(ctx, reg.PreviousODS, directory.InteractionCOPC)
	fmt.Println("timeout for 3 COPC parts:", directory.ExtractTimeout(uk06, copc, 3,
		directory.DefaultExtractWeighting, directory.DefaultCOPCWeighting))

	p, _ := dir.Practice(ctx, "c81010")
	fmt.Println(p.ODS, "GP2GP enabled:", p.GP2GPEnabled)
	_, err = dir.Endpoint(ctx, "C81010", directory.InteractionEHRRequest)
	fmt.Println("endpoint not found:", errors.Is(err, directory.ErrNotFound))

	_, err = dir.Registration(ctx, "9990001022")
	fmt.Println("patient not found:", errors.Is(err, directory.ErrPatientNotFound))
	// Output:
	// previous practice: A12345
	// send the EHR Request to ASID 200000000101
	// timeout for 3 COPC parts: 7h10m0s
	// C81010 GP2GP enabled: false
	// endpoint not found: true
	// patient not found: true
}

// Validation names the entry and field at fault.
func ExampleParseFile_invalid() {
	_, err := directory.ParseFile([]byte(`{"patients": [{"nhsNumber": "9990001015", "currentOds": "B86041"}]}`))
	fmt.Println(err)
	fmt.Println(errors.Is(err, directory.ErrInvalidFile))
	// Output:
	// directory: patients[0] (9990001015) nhsNumber: not a valid NHS number (ten digits with a modulus 11 check digit)
	// true
}

func ExampleParseISODuration() {
	for _, s := range []string{"PT4H10M", "P1DT30S", "PT0.25S", "P1M"} {
		d, err := directory.ParseISODuration(s)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(s, "=", d)
	}
	// Output:
	// PT4H10M = 4h10m0s
	// P1DT30S = 24h0m30s
	// PT0.25S = 250ms
	// directory: invalid ISO 8601 duration "P1M": months are not supported (minutes go after T, as in PT10M)
}

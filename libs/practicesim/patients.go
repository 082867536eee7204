package practicesim

import "github.com/nhsengland/gp2gp/libs/directory/devdirectory"

// Patient is a synthetic person the dev stack can register.
type Patient struct {
	// NHSNumber is in the 999 range reserved for test patients, with its
	// modulus-11 check digit.
	NHSNumber  string
	GivenName  string
	FamilyName string
	// BirthDate is YYYY-MM-DD.
	BirthDate string
	// Gender is "male", "female", "other" or "unknown".
	Gender   string
	Postcode string
	// CurrentODS and PreviousODS are where PDS says the patient is
	// registered now and was before.
	CurrentODS, PreviousODS string
}

// Patients returns the dev directory's patients (package devdirectory),
// in its order, so that PDS, as the dev stack's directory answers it,
// knows everyone the simulated practices register. Their NHS numbers are
// in the 999 range reserved for test patients, with valid check digits.
func Patients() []Patient {
	f, err := devdirectory.File()
	if err != nil {
		panic("practicesim: the embedded dev directory does not parse: " + err.Error())
	}
	var out []Patient
	for _, p := range f.Patients() {
		out = append(out, Patient{NHSNumber: p.NHSNumber, GivenName: p.GivenName, FamilyName: p.FamilyName,
			BirthDate: p.BirthDate, Gender: p.Gender, CurrentODS: p.CurrentODS, PreviousODS: p.PreviousODS})
	}
	return out
}

// Registration is the request that registers pt, coming from practice
// previousODS ("" to let the requester ask PDS).
func (pt Patient) Registration(previousODS string) RegisterRequest {
	return RegisterRequest{
		NHSNumber:   pt.NHSNumber,
		PreviousODS: previousODS,
		GivenName:   pt.GivenName,
		FamilyName:  pt.FamilyName,
		BirthDate:   pt.BirthDate,
		Gender:      pt.Gender,
		Postcode:    pt.Postcode,
	}
}

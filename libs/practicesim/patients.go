package practicesim

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
}

// Patients returns the fixed list of synthetic patients, in the same order
// every time. Each NHS number is nine digits in the 999 test range
// followed by their modulus-11 check digit (weights 10 down to 2 on the
// nine digits; the check digit is 11 minus the sum mod 11, with 11 written
// as 0), so every number is valid and none belongs to a real person.
func Patients() []Patient {
	return []Patient{
		{NHSNumber: "9991043713", GivenName: "Amelia", FamilyName: "Hartley", BirthDate: "1984-06-12", Gender: "female", Postcode: "LS6 2AB"},
		{NHSNumber: "9992738251", GivenName: "Oliver", FamilyName: "Okafor", BirthDate: "1957-11-03", Gender: "male", Postcode: "M14 5RD"},
		{NHSNumber: "9993112062", GivenName: "Priya", FamilyName: "Raman", BirthDate: "1992-02-29", Gender: "female", Postcode: "B15 2TT"},
		{NHSNumber: "9994685325", GivenName: "George", FamilyName: "Whitlock", BirthDate: "1939-08-21", Gender: "male", Postcode: "EX4 4QJ"},
		{NHSNumber: "9995276941", GivenName: "Sam", FamilyName: "Brennan", BirthDate: "2016-05-09", Gender: "other", Postcode: "NE1 7RU"},
	}
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

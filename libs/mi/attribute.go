package mi

// Practice is the ODS metadata of a practice for one month (§1.6).
type Practice struct {
	ODSCode      string `json:"odsCode"`
	Name         string `json:"name"`
	SICBLODSCode string `json:"sicblOdsCode"`
	SICBLName    string `json:"sicblName"`
}

// PracticeLookup maps an ASID to its practice for the month of a request.
// It reports false when the ASID is unknown. Falling back to the previous
// month's metadata when a month's metadata is missing is the lookup's job.
type PracticeLookup func(asid string, month Month) (Practice, bool)

// Attribute fills RequestingPractice and SendingPractice of each transfer in
// place, looking each ASID up for the transfer's Month. Unknown ASIDs leave
// the field nil.
func Attribute(transfers []Transfer, lookup PracticeLookup) {
	for i := range transfers {
		t := &transfers[i]
		m := t.Month()
		t.RequestingPractice = lookupPractice(lookup, t.RequestingPracticeASID, m)
		t.SendingPractice = lookupPractice(lookup, t.SendingPracticeASID, m)
	}
}

func lookupPractice(lookup PracticeLookup, asid string, m Month) *Practice {
	p, ok := lookup(asid, m)
	if !ok {
		return nil
	}
	return &p
}

package ehr

// The vocabulary Generate draws on. Codes are SNOMED CT concepts (and, for
// medicines, dm+d concepts, which are SNOMED CT identifiers) of the kind
// real extracts carry; where a Read v2 code is given, Generate sometimes
// writes it as the primary code with the SNOMED CT code as translation,
// as EMIS and Vision do.

// concept is one coded thing.
type concept struct {
	code    string // SNOMED CT
	display string
	read    string // Read v2 equivalent, "" when none is used
}

// measure is an observable with a numeric value.
type measure struct {
	concept
	unit     string // UCUM
	min, max float64
	decimals int
}

// drug is a medicine with how it is usually given.
type drug struct {
	concept
	dosage string // dosage instruction
	form   string // unit of supply, e.g. "tablet"
	qty    int    // quantity per issue
}

// localEntry is an entry coded only in a vendor's local scheme.
type localEntry struct {
	code, display string
}

// catalogue holds the vocabulary; built once per Generate call so that
// nothing is shared between calls.
type catalogue struct {
	encounterTypes []concept
	problems       []concept
	symptoms       []concept
	measures       []measure
	smoking        []concept
	drugs          []drug
	acuteDrugs     []drug
	drugAllergies  []concept
	otherAllergies []concept
	reactions      []string
	plans          []concept
	referrals      []concept
	specialties    []string
	histories      []string
	reviews        []string
	letters        []string
	examinations   []string
	advice         []string
	givenNames     []string
	familyNames    []string
	towns          []string
	streets        []string
	local          map[Degrade][]localEntry
}

func newCatalogue() *catalogue {
	return &catalogue{
		encounterTypes: []concept{
			{"25671000000102", "Surgery Consultation Note", ""},
			{"24591000000103", "Other report", ""},
			{"25741000000100", "Third Party Consultation", ""},
			{"37351000000107", "Administration Note", ""},
		},
		problems: []concept{
			{"38341003", "Hypertensive disorder, systemic arterial", "G20..00"},
			{"44054006", "Diabetes mellitus type 2", "C10F.00"},
			{"195967001", "Asthma", "H33..00"},
			{"13645005", "Chronic obstructive lung disease", ""},
			{"49436004", "Atrial fibrillation", "G573.00"},
			{"35489007", "Depressive disorder", ""},
			{"197480006", "Anxiety disorder", ""},
			{"40930008", "Hypothyroidism", ""},
			{"239873007", "Osteoarthritis of knee", ""},
			{"37796009", "Migraine", ""},
			{"90560007", "Gout", ""},
			{"271737000", "Anaemia", ""},
		},
		symptoms: []concept{
			{"82272006", "Common cold", "H00..11"},
			{"49727002", "Cough", ""},
			{"386661006", "Fever", ""},
			{"25064002", "Headache", ""},
			{"21522001", "Abdominal pain", ""},
			{"29857009", "Chest pain", ""},
			{"267036007", "Dyspnoea", ""},
			{"279039007", "Low back pain", ""},
			{"68566005", "Urinary tract infectious disease", ""},
			{"43878008", "Streptococcal sore throat", ""},
			{"65363002", "Otitis media", ""},
			{"24079001", "Atopic dermatitis", ""},
		},
		measures: []measure{
			{concept{"27113001", "Body weight", "22A..00"}, "kg", 48, 118, 1},
			{concept{"50373000", "Body height", "229..00"}, "cm", 150, 196, 0},
			{concept{"60621009", "Body mass index", "22K..00"}, "kg/m2", 18.5, 36, 1},
			{concept{"78564009", "Pulse rate", ""}, "/min", 52, 104, 0},
			{concept{"386725007", "Body temperature", ""}, "Cel", 36.1, 38.6, 1},
			{concept{"431314004", "Peripheral oxygen saturation", ""}, "%", 93, 100, 0},
			{concept{"86290005", "Respiratory rate", ""}, "/min", 12, 22, 0},
			{concept{"160573003", "Alcohol intake", "136..00"}, "/wk", 0, 28, 0},
		},
		smoking: []concept{
			{"266919005", "Never smoked tobacco", "1371.00"},
			{"8517006", "Ex-smoker", "137S.00"},
			{"77176002", "Smoker", "137R.00"},
		},
		drugs: []drug{
			{concept{"317919004", "Bendroflumethiazide 2.5mg tablets", ""}, "take one each morning", "tablet", 28},
			{concept{"320031002", "Atorvastatin 40mg tablets", ""}, "take one at night", "tablet", 28},
			{concept{"319283006", "Amlodipine 5mg tablets", ""}, "take one daily", "tablet", 28},
			{concept{"325278007", "Metformin 500mg tablets", ""}, "take one twice a day with food", "tablet", 56},
			{concept{"317335000", "Omeprazole 20mg gastro-resistant capsules", ""}, "take one daily before breakfast", "capsule", 28},
			{concept{"320176004", "Salbutamol 100micrograms/dose inhaler CFC free", ""}, "two puffs when required", "inhaler", 1},
			{concept{"321208007", "Sertraline 50mg tablets", ""}, "take one daily", "tablet", 28},
			{concept{"319740004", "Aspirin 75mg dispersible tablets", ""}, "take one daily", "tablet", 28},
		},
		acuteDrugs: []drug{
			{concept{"323509004", "Amoxicillin 500mg capsules", ""}, "take one three times a day for 7 days", "capsule", 21},
			{concept{"322236009", "Paracetamol 500mg tablets", ""}, "one or two up to four times a day", "tablet", 32},
			{concept{"329653008", "Ibuprofen 400mg tablets", ""}, "take one three times a day with food", "tablet", 24},
		},
		drugAllergies: []concept{
			{"91936005", "Allergy to penicillin", ""},
			{"294505008", "Allergy to amoxicillin", ""},
			{"293586001", "Allergy to aspirin", ""},
		},
		otherAllergies: []concept{
			{"91935009", "Allergy to peanut", ""},
			{"418689008", "Allergy to grass pollen", ""},
			{"232350006", "House dust mite allergy", ""},
			{"300913006", "Shellfish allergy", ""},
		},
		reactions: []string{"rash", "urticaria", "angioedema", "wheeze", "nausea and vomiting", "anaphylaxis"},
		plans: []concept{
			{"390906007", "Follow-up encounter", ""},
			{"185389009", "Follow-up visit", ""},
			{"396550006", "Blood test", ""},
			{"168537006", "Plain radiography", ""},
			{"16310003", "Diagnostic ultrasonography", ""},
		},
		referrals: []concept{
			{"3457005", "Patient referral", ""},
			{"306206005", "Referral to service", ""},
			{"183444007", "Referral for further care", ""},
		},
		specialties: []string{"cardiology", "dermatology", "orthopaedics", "gastroenterology", "respiratory medicine", "rheumatology", "ENT", "physiotherapy"},
		histories: []string{
			"Two day history of symptoms, worse at night.",
			"Symptoms for one week, no improvement with simple analgesia.",
			"Attends for review, feels generally well.",
			"Intermittent symptoms over the last month.",
			"Seen with partner; concerned about ongoing symptoms.",
			"Telephone consultation; patient describes gradual onset.",
		},
		reviews: []string{
			"Attends for annual review. Feels well, no new symptoms.",
			"Medication review: taking medicines as prescribed, no side effects reported.",
			"Review of long-term condition. Home readings reviewed.",
			"Nurse review. Lifestyle discussed; keen to lose weight.",
		},
		letters: []string{
			"Seen in clinic today.",
			"Thank you for referring this patient.",
			"Investigations were unremarkable.",
			"We have arranged a follow-up appointment in three months.",
			"I have discussed the findings with the patient, who is happy with the plan.",
			"Please continue the current medication and review in primary care.",
			"No further action is needed from the hospital at present.",
			"Bloods showed a normal full blood count and renal function.",
			"The patient was discharged home in a stable condition.",
			"I would be grateful if you could arrange repeat bloods in six weeks.",
		},
		examinations: []string{
			"Chest clear, heart sounds normal.",
			"Afebrile, throat mildly inflamed, no lymphadenopathy.",
			"Abdomen soft, non-tender, bowel sounds present.",
			"Alert and orientated, no focal neurology.",
			"Full range of movement, mild tenderness on palpation.",
		},
		advice: []string{
			"Safety-netting advice given; to return if worse.",
			"Lifestyle advice given on diet and exercise.",
			"Discussed treatment options; patient agrees with plan.",
			"Leaflet given. Review in two weeks.",
		},
		givenNames:  []string{"Amelia", "Oliver", "Priya", "Mohammed", "Sian", "James", "Grace", "Tomasz", "Aisha", "Daniel", "Eleanor", "Kwame"},
		familyNames: []string{"Patel", "Smith", "Jones", "Okafor", "Williams", "Nowak", "Brown", "Khan", "Taylor", "Evans", "Hughes", "Murphy"},
		towns:       []string{"Leeds", "Bradford", "Harrogate", "Wakefield", "Halifax", "Ilkley", "Otley", "Skipton"},
		streets:     []string{"High Street", "Station Road", "Church Lane", "Park Avenue", "Mill Road", "Victoria Street"},
		local: map[Degrade][]localEntry{
			DegradeOther: {
				{"EMISNQPR491", "Preferred method of contact: text message"},
				{"EMISNQCA12", "Carer details recorded"},
				{"EMISNQSH7", "Consent to share record with community team"},
			},
			DegradeDrugAllergy: {
				{"EMISDA1043", "Allergy to flucloxacillin (local code)"},
				{"EMISDA2210", "Allergy to codeine (local code)"},
			},
			DegradeNonDrugAllergy: {
				{"EMISNA317", "Allergy to sticking plaster (local code)"},
				{"EMISNA402", "Allergy to latex gloves (local code)"},
			},
			DegradeMedication: {
				{"EMISDRUG88231", "Aqueous cream 500g (local formulary)"},
				{"EMISDRUG90417", "Emollient bath additive 500ml (local formulary)"},
			},
			DegradePlan: {
				{"EMISPL55", "Recall for annual review (local)"},
				{"EMISPL61", "Book review with practice nurse (local)"},
			},
			DegradeReferral: {
				{"EMISRF230", "Referral to community MSK service (local)"},
				{"EMISRF244", "Referral to social prescriber (local)"},
			},
			DegradeRequest: {
				{"EMISRQ19", "Request for insurance medical report (local)"},
				{"EMISRQ27", "Request for copy of records (local)"},
			},
		},
	}
}

// localCycle is the order locally-coded entries are generated in, so that
// every degrade category occurs once enough are asked for.
func localCycle() []Degrade {
	return []Degrade{DegradeOther, DegradeDrugAllergy, DegradeNonDrugAllergy, DegradeMedication, DegradePlan, DegradeReferral, DegradeRequest}
}

package ehr

// Code systems (OIDs) found in EHR extracts.
const (
	// SystemSNOMED is SNOMED CT, the code system receivers file without
	// degrading.
	SystemSNOMED = "2.16.840.1.113883.2.1.3.2.4.15"
	// SystemRead2 is Read codes version 2 (EMIS and Vision write them,
	// usually with a SNOMED CT translation).
	SystemRead2 = "2.16.840.1.113883.2.1.6.2"
	// SystemLocal is the system vendors use for their own local codes
	// (EMIS "EMISNQ…" codes, for example).
	SystemLocal = "2.16.840.1.113883.2.1.6.3"
	// SystemMultilex is the drug dictionary TPP writes for medication,
	// with a SNOMED CT (dm+d) translation.
	SystemMultilex = "2.16.840.1.113883.2.1.6.4"
	// SystemConfidentiality is the HL7 confidentiality code system of the
	// NOPAT code.
	SystemConfidentiality = "2.16.840.1.113883.4.642.3.47"
)

// NOPAT is the confidentialityCode code marking an entry that must not be
// shown to the patient without the attending clinician's authorisation.
// Only RCMR_MT030101UK05 (the RCMR_IN030000UK07 extract) allows it.
const NOPAT = "NOPAT"

// Identifier roots used in the extract.
const (
	rootNHSNumber = "2.16.840.1.113883.2.1.4.1"
	rootSDSOrg    = "1.2.826.0.1285.0.1.10"
	rootODS       = "2.16.840.1.113883.2.1.4.3"
	rootGMP       = "2.16.840.1.113883.2.1.4.2"
)

// hl7Namespace is the namespace of every HL7 V3 element.
const hl7Namespace = "urn:hl7-org:v3"

// xsiNamespace is the XML Schema instance namespace (for xsi:type).
const xsiNamespace = "http://www.w3.org/2001/XMLSchema-instance"

// Code is a coded value as written in the extract.
type Code struct {
	// Code is the code itself, e.g. "38341003" or "EMISNQPR489".
	Code string
	// System is the code system OID (SystemSNOMED, SystemLocal, …); it
	// may be empty when the sender omitted it.
	System string
	// DisplayName is the code's display name, if any.
	DisplayName string
}

// Degrade names the SNOMED CT "transfer-degraded" concept a receiver files
// in place of an entry that has no SNOMED CT code (protocol section 4.5).
type Degrade string

// The degrade categories, as NIA's requesting adaptor applies them.
const (
	DegradeDrugAllergy    Degrade = "drug allergy"
	DegradeNonDrugAllergy Degrade = "non-drug allergy"
	DegradeMedication     Degrade = "medication"
	DegradePlan           Degrade = "plan"
	DegradeReferral       Degrade = "referral"
	DegradeRequest        Degrade = "request"
	DegradeOther          Degrade = "other"
)

// Code returns the SNOMED CT transfer-degraded concept for d; an unknown
// d gives the "other record entry" concept.
func (d Degrade) Code() Code {
	switch d {
	case DegradeDrugAllergy:
		return Code{"196461000000101", SystemSNOMED, "Transfer-degraded drug allergy"}
	case DegradeNonDrugAllergy:
		return Code{"196471000000108", SystemSNOMED, "Transfer-degraded non-drug allergy"}
	case DegradeMedication:
		return Code{"196421000000109", SystemSNOMED, "Transfer-degraded medication entry"}
	case DegradePlan:
		return Code{"196451000000104", SystemSNOMED, "Transfer-degraded plan"}
	case DegradeReferral:
		return Code{"196431000000106", SystemSNOMED, "Transfer-degraded referral"}
	case DegradeRequest:
		return Code{"196441000000102", SystemSNOMED, "Transfer-degraded request"}
	default:
		return Code{"196411000000103", SystemSNOMED, "Transfer-degraded record entry"}
	}
}

// Statement class names (element local names) that Summary counts.
const (
	ObservationStatement  = "ObservationStatement"
	NarrativeStatement    = "NarrativeStatement"
	MedicationStatement   = "MedicationStatement"
	PlanStatement         = "PlanStatement"
	RequestStatement      = "RequestStatement"
	LinkSet               = "LinkSet"
	CompoundStatement     = "CompoundStatement"
	RegistrationStatement = "RegistrationStatement"
	EhrEmpty              = "EhrEmpty"
)

// Other element local names that Entry.Type can take (a NOPAT mark may sit
// on a composition or a document reference as well as on a statement).
const (
	EhrComposition   = "ehrComposition"
	ExternalDocument = "referredToExternalDocument"
)

// isStatement reports whether local is a statement class counted in
// Summary.Statements.
func isStatement(local string) bool {
	switch local {
	case ObservationStatement, NarrativeStatement, MedicationStatement, PlanStatement,
		RequestStatement, LinkSet, CompoundStatement, RegistrationStatement, EhrEmpty:
		return true
	}
	return false
}

package hl7

import "fmt"

// Interaction is an HL7 interaction id.
type Interaction string

// The GP2GP interactions.
const (
	EHRRequest        Interaction = "RCMR_IN010000UK05"
	EHRExtractUK06    Interaction = "RCMR_IN030000UK06"
	EHRExtractUK07    Interaction = "RCMR_IN030000UK07"
	ApplicationAck    Interaction = "MCCI_IN010000UK13"
	CommonContentCOPC Interaction = "COPC_IN000001UK01"
)

// Interactions lists every GP2GP interaction.
var Interactions = []Interaction{EHRRequest, EHRExtractUK06, EHRExtractUK07, ApplicationAck, CommonContentCOPC}

// Known reports whether i is a GP2GP interaction.
func (i Interaction) Known() bool {
	for _, k := range Interactions {
		if i == k {
			return true
		}
	}
	return false
}

// IsExtract reports whether i is either EHR Extract interaction.
func (i Interaction) IsExtract() bool { return i == EHRExtractUK06 || i == EHRExtractUK07 }

// Service is the SOAP action / SDS service name of i, for example
// urn:nhs:names:services:gp2gp/RCMR_IN010000UK05.
func (i Interaction) Service() string { return "urn:nhs:names:services:gp2gp/" + string(i) }

// versionCode is what each interaction is written with, as the reference
// implementations and vendors send it.
func (i Interaction) versionCode() string {
	switch i {
	case ApplicationAck:
		return "V3NPfIT4.2.00"
	case CommonContentCOPC:
		return "V3NPfIT3.0"
	}
	return "V3NPfIT3.1.10"
}

// NackCode is the reason code a negative acknowledgement carries when a
// message of interaction i cannot be read: 18 for a request, 21 for an
// extract, 30 for a COPC. An unreadable acknowledgement cannot be
// acknowledged, so it has none.
func (i Interaction) NackCode() ReasonCode {
	switch {
	case i == EHRRequest:
		return ReasonRequestMalformed
	case i.IsExtract():
		return ReasonExtractMalformed
	case i == CommonContentCOPC:
		return ReasonLargeMessageFailure
	}
	return ""
}

// OIDs used in GP2GP messages.
const (
	OIDInteraction  = "2.16.840.1.113883.2.1.3.2.4.12"
	OIDASID         = "1.2.826.0.1285.0.2.0.107"
	OIDODS          = "1.2.826.0.1285.0.1.10"
	OIDNHSNumber    = "2.16.840.1.113883.2.1.4.1"
	OIDReasonCode   = "2.16.840.1.113883.2.1.3.2.4.17.101"
	OIDAckQualifier = "2.16.840.1.113883.2.1.3.2.4.17.104"
	OIDCOPCCode     = "2.16.840.1.113883.2.1.3.2.4.17.202"
	OIDMessageType  = "2.16.840.1.113883.2.1.3.2.4.18.17"
	OIDSNOMED       = "2.16.840.1.113883.2.1.3.2.4.15"
	OIDNOPAT        = "2.16.840.1.113883.4.642.3.47"
)

// XML namespaces.
const (
	NamespaceHL7   = "urn:hl7-org:v3"
	NamespaceGP2GP = "urn:nhs:names:services:gp2gp"
	NamespaceNPfIT = "NPFIT:HL7:Localisation"
	NamespaceXSI   = "http://www.w3.org/2001/XMLSchema-instance"
)

func (i Interaction) String() string { return string(i) }

// ParseInteraction accepts an interaction id, bare or as the service URN
// (urn:nhs:names:services:gp2gp/RCMR_IN010000UK05).
func ParseInteraction(s string) (Interaction, error) {
	const prefix = "urn:nhs:names:services:gp2gp/"
	if len(s) > len(prefix) && s[:len(prefix)] == prefix {
		s = s[len(prefix):]
	}
	i := Interaction(s)
	if !i.Known() {
		return "", fmt.Errorf("hl7: %q is not a GP2GP interaction", s)
	}
	return i, nil
}

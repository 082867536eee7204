package hl7

import (
	"strings"

	"github.com/google/uuid"
)

// idNamespace makes gp2gp's derived ids its own (a UUID for the project).
var idNamespace = uuid.MustParse("6f1e6d2a-3c9b-5b6e-9c1f-4d2a7b8e0c55")

// DeriveID returns the id a stage gives the message (or id) of purpose in
// conversation: an upper-case name-based UUID, the same every time. A
// stage that handles a redelivered message therefore writes the very same
// message, and the bus and the receiving systems recognise it as a
// duplicate.
func DeriveID(conversationID, purpose string) string {
	return strings.ToUpper(uuid.NewSHA1(idNamespace, []byte(NormalizeID(conversationID)+"/"+purpose)).String())
}

// NewID returns a fresh upper-case random UUID.
func NewID() string { return strings.ToUpper(uuid.NewString()) }

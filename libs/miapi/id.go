package miapi

import (
	"crypto/md5"

	"github.com/google/uuid"
)

// KeySeparator comes between the NHS id formula's name and Event.Key in
// the name of an id (see Event.ID).
const KeySeparator = "#"

// ID returns the event's id, the same for every re-send of the event so
// that the receiver can drop duplicates.
//
// For every type but DEGRADES it is the id the API assigns
// (GP2GP-MI.md §3.1): a name-based version 3 (MD5) UUID of
// conversationId + eventType + registrationEventDateTime, where eventType
// is Type.Stored() ("ERROR" for ERRORS) and the time is as sent
// (FormatDateTime). The API is written in Java and the document names no
// namespace, which is how Java's UUID.nameUUIDFromBytes (its only
// name-based UUID) works: the MD5 of the name alone, no namespace in
// front. ID hashes the name the same way (uuid.NewMD5 always prefixes a
// namespace, so it could not give the API's id). This reading of the
// document has not been checked against the live API: Client.Post
// returns the API's own eventId, which callers can compare. With an empty
// Key, ID is that formula exactly; with a Key, the name is followed by
// KeySeparator and Key, so events of one conversation, type and second
// (one DOCUMENT_RESPONSES per attachment, several ERRORS) get distinct
// ids that the API does not know.
//
// The API gives DEGRADES random ids. Here a DEGRADES id is the version 3
// UUID of "DEGRADES" + KeySeparator + Key, so it is "" when Key is empty.
func (e Event) ID() string {
	if e.Type == TypeDegrades {
		if e.Key == "" {
			return ""
		}
		return nameUUID(e.Type.Stored() + KeySeparator + e.Key)
	}
	name := e.ConversationID + e.Type.Stored() + FormatDateTime(e.RegistrationEventDateTime)
	if e.Key != "" {
		name += KeySeparator + e.Key
	}
	return nameUUID(name)
}

// nameUUID is Java's UUID.nameUUIDFromBytes: the MD5 of name with the
// version set to 3 and the RFC 4122 variant.
func nameUUID(name string) string {
	sum := md5.Sum([]byte(name))
	sum[6] = sum[6]&0x0f | 0x30
	sum[8] = sum[8]&0x3f | 0x80
	return uuid.UUID(sum).String()
}

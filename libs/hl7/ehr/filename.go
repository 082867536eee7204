package ehr

import (
	"net/url"
	"strings"
)

// fileReferencePrefix starts a reference to a document travelling with
// the extract.
const fileReferencePrefix = "file://localhost/"

// DecodeFilename turns a document reference into the file name it names:
// "file://localhost/" is removed and percent-encoding undone (EMIS writes
// "%20", TPP "%5f"). A reference in any other form (TPP's "urn:…", "cid:…",
// "mid:…") is returned unchanged, and so is a name whose percent-encoding
// is malformed.
func DecodeFilename(reference string) string {
	if len(reference) < len(fileReferencePrefix) || !strings.EqualFold(reference[:len(fileReferencePrefix)], fileReferencePrefix) {
		return reference
	}
	name := reference[len(fileReferencePrefix):]
	if decoded, err := url.PathUnescape(name); err == nil {
		return decoded
	}
	return name
}

// EncodeFilename is the reference a generated extract writes for a file
// name: "file://localhost/" followed by the name percent-encoded as EMIS
// does (spaces as %20, parentheses as %28 and %29). DecodeFilename undoes
// it.
func EncodeFilename(name string) string {
	return fileReferencePrefix + url.PathEscape(name)
}

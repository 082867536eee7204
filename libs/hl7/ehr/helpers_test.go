package ehr_test

import (
	"testing"

	"github.com/beevik/etree"
	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/xmldoc"
)

// serialize writes el as a document without indentation.
func serialize(t testing.TB, el *etree.Element) []byte {
	t.Helper()
	doc := etree.NewDocument()
	doc.SetRoot(el.Copy())
	b, err := doc.WriteToBytes()
	require.NoError(t, err)
	return b
}

// parseRoot parses data with xmldoc and returns the root element.
func parseRoot(t testing.TB, data []byte) *etree.Element {
	t.Helper()
	doc, err := xmldoc.Parse(data, xmldoc.Limits{})
	require.NoError(t, err)
	return doc.Root()
}

package ehr_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/hl7/ehr"
	"github.com/nhsengland/gp2gp/libs/spectest"
)

func skeletonDoc() ehr.SkeletonDocument {
	return ehr.SkeletonDocument{
		ID: "0B0E9C4E-5C3B-4B52-9D1E-2C1F6C9E1A01", Filename: "Original-extract.xml.gz",
		StatementID: "0B0E9C4E-5C3B-4B52-9D1E-2C1F6C9E1A02", CompositionID: "0B0E9C4E-5C3B-4B52-9D1E-2C1F6C9E1A03",
		Time: time.Date(2024, 3, 14, 10, 30, 0, 0, time.UTC),
	}
}

// A skeleton keeps the extract's header and folder shell, drops every
// composition and refers to the compressed original; it reads back as a
// skeleton and validates against the extract schema.
func TestSkeletonStandsInForTheExtract(t *testing.T) {
	extract, full, err := ehr.Generate(ehr.WithSeed(7), ehr.WithTargetSize(200_000), ehr.WithAttachments(testAttachments()...))
	require.NoError(t, err)
	before := len(extract.FindElements("//ehrComposition"))
	require.Greater(t, before, 5)

	skel, err := ehr.Skeleton(extract, skeletonDoc())
	require.NoError(t, err)
	assert.Len(t, extract.FindElements("//ehrComposition"), before, "the original is not changed")

	sum, err := ehr.Summarize(skel)
	require.NoError(t, err)
	assert.True(t, sum.Skeleton)
	assert.Equal(t, full.ExtractID, sum.ExtractID)
	assert.Equal(t, full.NHSNumber, sum.NHSNumber)
	assert.Equal(t, full.AuthorODS, sum.AuthorODS)
	assert.Equal(t, full.DestinationODS, sum.DestinationODS)
	assert.Equal(t, full.RequestID, sum.RequestID)
	require.Len(t, sum.Documents, 1)
	doc := sum.Documents[0]
	assert.Equal(t, skeletonDoc().ID, doc.ID)
	assert.Equal(t, "Original-extract.xml.gz", doc.Filename)
	assert.Equal(t, "text/xml", doc.MediaType)
	assert.True(t, doc.Skeleton)
	assert.Len(t, skel.FindElements("//ehrComposition"), 1)

	if _, ok := spectest.Lookup(); ok {
		require.NoError(t, validate(t, uk06, wrapExtract(t, uk06, skel)))
	}
}

func TestSkeletonRefusesWhatItCannotBuild(t *testing.T) {
	extract, _, err := ehr.Generate(ehr.WithSeed(7))
	require.NoError(t, err)
	bad := skeletonDoc()
	bad.ID = "not a guid"
	_, err = ehr.Skeleton(extract, bad)
	assert.ErrorContains(t, err, "GUIDs")
	noTime := skeletonDoc()
	noTime.Time = time.Time{}
	_, err = ehr.Skeleton(extract, noTime)
	assert.ErrorContains(t, err, "no time")
	_, err = ehr.Skeleton(extract.SelectElement("recordTarget"), skeletonDoc())
	assert.ErrorContains(t, err, "not an EhrExtract")
	folderless := extract.Copy()
	folderless.RemoveChild(folderless.SelectElement("component"))
	_, err = ehr.Skeleton(folderless, skeletonDoc())
	assert.ErrorContains(t, err, "no ehrFolder")
}

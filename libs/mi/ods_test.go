package mi_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/mi"
)

var march = mi.Month{Year: 2026, Month: 3}

func TestLoadMetadata(t *testing.T) {
	tests := []struct {
		name string
		doc  string
	}{
		{"camelCase", `{
			"generatedOn": "2026-04-01T00:00:00Z",
			"practices": [
				{"odsCode": "A12345", "name": "Riverside", "asids": ["200000000101", "200000000102"]},
				{"odsCode": "B86041", "name": "Hilltop", "asids": ["200000000201"]},
				{"odsCode": "C00001", "name": "No ASIDs"}
			],
			"sicbls": [{"odsCode": "00L", "name": "North", "practices": ["A12345", "C00001"]}]
		}`},
		{"NHS snake_case with ccgs", `{
			"generated_on": "2026-04-01T00:00:00",
			"practices": [
				{"ods_code": "A12345", "name": "Riverside", "asids": ["200000000101", "200000000102"]},
				{"ods_code": "B86041", "name": "Hilltop", "asids": ["200000000201"]},
				{"ods_code": "C00001", "name": "No ASIDs", "asids": []}
			],
			"ccgs": [{"ods_code": "00L", "name": "North", "practices": ["A12345", "C00001"]}]
		}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			md, err := mi.LoadMetadata(strings.NewReader(tt.doc))
			require.NoError(t, err)
			assert.Empty(t, md.Warnings())
			practices, sicbls := md.Len()
			assert.Equal(t, 3, practices)
			assert.Equal(t, 1, sicbls)
			lookup := md.Lookup()
			for _, asid := range []string{"200000000101", "200000000102"} {
				p, ok := lookup(asid, march)
				assert.True(t, ok)
				assert.Equal(t, mi.Practice{ODSCode: "A12345", Name: "Riverside", SICBLODSCode: "00L", SICBLName: "North"}, p)
			}
			p, ok := lookup("200000000201", march.Previous())
			assert.True(t, ok)
			assert.Equal(t, mi.Practice{ODSCode: "B86041", Name: "Hilltop"}, p, "a practice in no SICBL")
			_, ok = lookup("999", march)
			assert.False(t, ok)
		})
	}
}

func TestLoadMetadataUnknownPracticeIsAWarning(t *testing.T) {
	md, err := mi.LoadMetadata(strings.NewReader(`{"practices":[{"odsCode":"A1","asids":["1"]}],
		"sicbls":[{"odsCode":"00L","name":"North","practices":["A1","Z9"]}]}`))
	require.NoError(t, err)
	require.Len(t, md.Warnings(), 1)
	assert.Contains(t, md.Warnings()[0], "sicbls[0].practices[1]")
	assert.Contains(t, md.Warnings()[0], "Z9")
	p, ok := md.Lookup()("1", march)
	assert.True(t, ok)
	assert.Equal(t, "00L", p.SICBLODSCode)
}

func TestLoadMetadataErrors(t *testing.T) {
	tests := []struct {
		name, doc, path, contains string
	}{
		{"empty", ``, "", "empty document"},
		{"not JSON", `{"practices": [}`, "", "malformed JSON at byte"},
		{"truncated", `{"practices": [`, "", "ends early"},
		{"two documents", `{} {}`, "", "more than one"},
		{"wrong type", `{"practices": [{"odsCode": "A1", "asids": "200000000101"}]}`, "practices.asids", "string where []string expected"},
		{"practice without code", `{"practices": [{"odsCode": "A1"}, {"name": "x"}]}`, "practices[1]", "no odsCode"},
		{"empty practice code", `{"practices": [{"ods_code": " "}]}`, "practices[0].ods_code", "empty"},
		{"spellings differ", `{"practices": [{"odsCode": "A1", "ods_code": "A2"}]}`, "practices[0]", "differ"},
		{"duplicate practice", `{"practices": [{"odsCode": "A1"}, {"odsCode": "A1"}]}`, "practices[1]", "already listed at practices[0]"},
		{"empty ASID", `{"practices": [{"odsCode": "A1", "asids": ["1", ""]}]}`, "practices[0].asids[1]", "empty"},
		{"duplicate ASID", `{"practices": [{"odsCode": "A1", "asids": ["1"]}, {"odsCode": "B2", "asids": ["2", "1"]}]}`,
			"practices[1].asids[1]", "ASID 1 already belongs to practice A1 (practices[0])"},
		{"both sicbls and ccgs", `{"sicbls": [], "ccgs": []}`, "", "both sicbls and ccgs"},
		{"SICBL without code", `{"ccgs": [{"name": "x"}]}`, "ccgs[0]", "no odsCode"},
		{"duplicate SICBL", `{"sicbls": [{"odsCode": "00L"}, {"odsCode": "00L"}]}`, "sicbls[1]", "already listed at sicbls[0]"},
		{"practice in two SICBLs", `{"practices": [{"odsCode": "A1"}], "sicbls": [{"odsCode": "00L", "practices": ["A1"]}, {"odsCode": "01M", "practices": ["A1"]}]}`,
			"sicbls[1].practices[0]", "already belongs to Sub-ICB location 00L (sicbls[0])"},
		{"empty member", `{"sicbls": [{"odsCode": "00L", "practices": [""]}]}`, "sicbls[0].practices[0]", "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			md, err := mi.LoadMetadata(strings.NewReader(tt.doc))
			require.Error(t, err)
			assert.Nil(t, md)
			var me *mi.MetadataError
			require.True(t, errors.As(err, &me), "%T %v", err, err)
			assert.Equal(t, tt.path, me.Path)
			assert.Contains(t, err.Error(), tt.contains)
			assert.True(t, strings.HasPrefix(err.Error(), "ods metadata: "), err.Error())
		})
	}
}

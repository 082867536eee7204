package mi_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/mi"
)

const csvHeader = "_time,conversationID,GUID,interactionID,messageSender,messageRecipient,messageRef,jdiEvent,fromSystem,toSystem\n"

func TestParseSpineCSV(t *testing.T) {
	in := csvHeader +
		"2026-06-01 10:00:00.123 BST,c1,g1,urn:nhs:names:services:gp2gp/RCMR_IN010000UK05,111,222,NotProvided,NONE,EMIS Web,SystmOne\n" +
		"2026-06-01 09:01:00 UTC,c1,g2,urn:nhs:names:services:gp2gp/MCCI_IN010000UK13,222,111,g1,7,SystmOne,EMIS Web\n" +
		"2026-06-01T09:02:00Z,c1,g3,RCMR_IN030000UK06,222,111,,,SystmOne,EMIS Web\n"
	evs, err := mi.ParseSpineCSV(strings.NewReader(in))
	require.NoError(t, err)
	require.Len(t, evs, 3)
	assert.Equal(t, time.Date(2026, 6, 1, 9, 0, 0, 123e6, time.UTC), evs[0].Time)
	assert.Equal(t, mi.InteractionEHRRequest, evs[0].Kind())
	assert.Empty(t, evs[0].MessageRef)
	assert.Nil(t, evs[0].ErrorCode)
	assert.Equal(t, "EMIS Web", evs[0].FromSystem)
	assert.Equal(t, mi.Code(7), evs[1].ErrorCode)
	assert.Equal(t, "g1", evs[1].MessageRef)
	assert.Nil(t, evs[2].ErrorCode)

	got := mi.Classify(evs, 14*day)
	require.Len(t, got, 1)
	assert.Equal(t, mi.ReasonFatalSenderError, got[0].FailureReason)
	assert.Equal(t, "SystmOne", got[0].SendingSupplier)
}

func TestParseSpineTime(t *testing.T) {
	want := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	for _, s := range []string{
		"2026-06-01 10:00:00 BST", "2026-06-01 09:00:00 UTC", "2026-06-01 09:00:00.000 GMT",
		"2026-06-01T10:00:00 BST", "2026-06-01T09:00:00Z", "2026-06-01T10:00:00+01:00",
		"2026-06-01 10:00:00+0100", "2026-06-01 09:00:00.000+00:00",
	} {
		got, err := mi.ParseSpineTime(s)
		if assert.NoError(t, err, s) {
			assert.Equal(t, want, got, s)
		}
	}
	for _, s := range []string{"", "2026-06-01 09:00:00", "2026-06-01 09:00:00 CET", "yesterday UTC"} {
		_, err := mi.ParseSpineTime(s)
		assert.ErrorIs(t, err, mi.ErrBadTime, s)
	}
}

func TestParseSpineCSVErrors(t *testing.T) {
	row := "2026-06-01 09:00:00 UTC,c1,g1,RCMR_IN010000UK05,111,222,NotProvided,NONE,a,b\n"
	tests := []struct {
		name   string
		in     string
		line   int
		column string
		is     error
	}{
		{"empty", "", 1, "", mi.ErrEmptyInput},
		{"missing column", "_time,conversationID\n", 1, "GUID", mi.ErrMissingColumn},
		{"bad time", csvHeader + row + "soon,c1,g1,x,1,2,,,a,b\n", 3, "_time", mi.ErrBadTime},
		{"bad code", csvHeader + row + row + strings.Replace(row, "NONE", "x7", 1), 4, "jdiEvent", mi.ErrBadErrorCode},
		{"wrong field count", csvHeader + "a,b\n", 2, "", nil},
		{"bad quoting", csvHeader + `"a"b,` + "\n", 2, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs, err := mi.ParseSpineCSV(strings.NewReader(tt.in))
			require.Error(t, err)
			assert.Nil(t, evs)
			var pe *mi.ParseError
			require.True(t, errors.As(err, &pe), "%v", err)
			assert.Equal(t, tt.line, pe.Line)
			assert.Equal(t, tt.column, pe.Column)
			if tt.is != nil {
				assert.ErrorIs(t, err, tt.is)
			}
		})
	}
}

func TestParseSpineCSVOptionalSupplierColumns(t *testing.T) {
	in := "conversationID,_time,GUID,interactionID,messageSender,messageRecipient,messageRef,jdiEvent\n" +
		"c1,2026-06-01 09:00:00 UTC,g1,RCMR_IN010000UK05,111,222,NotProvided,NONE\n"
	evs, err := mi.ParseSpineCSV(strings.NewReader(in))
	require.NoError(t, err)
	require.Len(t, evs, 1)
	assert.Equal(t, "c1", evs[0].ConversationID)
	assert.Empty(t, evs[0].FromSystem)
}

func FuzzParseSpineCSV(f *testing.F) {
	f.Add(csvHeader + "2026-06-01 10:00:00.123 BST,c1,g1,RCMR_IN010000UK05,111,222,NotProvided,NONE,a,b\n")
	f.Add(csvHeader + "2026-06-01T09:02:00Z,c1,g3,MCCI_IN010000UK13,222,111,g1,12,a,b\n")
	f.Add("_time\n\"")
	f.Add("")
	f.Fuzz(func(t *testing.T, in string) {
		evs, err := mi.ParseSpineCSV(strings.NewReader(in))
		if err != nil {
			var pe *mi.ParseError
			require.True(t, errors.As(err, &pe))
			require.Nil(t, evs)
			return
		}
		for _, e := range evs {
			require.False(t, e.Time.IsZero())
		}
		mi.Classify(evs, 14*day) // must not panic either
	})
}

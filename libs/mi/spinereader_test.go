package mi_test

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/mi"
)

func TestSpineReaderBytes(t *testing.T) {
	in := csvHeader +
		"2026-06-01 10:00:00.123 BST,c1,g1,urn:nhs:names:services:gp2gp/RCMR_IN010000UK05,111,222,NotProvided,NONE,EMIS Web,SystmOne\r\n" +
		"2026-06-01 09:01:00 UTC,c1,g2,MCCI_IN010000UK13,222,111,g1, 7 ,\"Sys, \"\"One\"\"\",EMIS Web\n" +
		"2026-06-01 09:02:00 UTC,c1,g3,RCMR_IN030000UK06,222,111,,,SystmOne,EMIS Web"
	data := []byte(in)
	sr, err := mi.NewSpineReaderBytes(data)
	require.NoError(t, err)

	row, err := sr.ReadRow()
	require.NoError(t, err)
	assert.Equal(t, time.Date(2026, 6, 1, 9, 0, 0, 123e6, time.UTC), row.Time)
	assert.False(t, row.HasErrorCode)
	assert.Empty(t, row.MessageRef, "NotProvided")
	for _, f := range [][]byte{row.ConversationID, row.MessageID, row.Interaction, row.FromSystem, row.ToSystem} {
		off, ok := sr.Offset(f)
		require.True(t, ok, "%s", f)
		assert.Equal(t, string(f), string(data[off:off+len(f)]))
	}
	assert.Equal(t, "SystmOne", string(row.ToSystem), "before the normalised line end")

	row, err = sr.ReadRow()
	require.NoError(t, err)
	assert.Equal(t, `Sys, "One"`, string(row.FromSystem))
	assert.True(t, row.HasErrorCode)
	assert.Equal(t, 7, row.ErrorCode)
	_, ok := sr.Offset(row.FromSystem)
	assert.False(t, ok, "a quoted row is copied")

	row, err = sr.ReadRow()
	require.NoError(t, err)
	assert.Equal(t, "EMIS Web", string(row.ToSystem), "last line without a line end")
	_, err = sr.ReadRow()
	assert.ErrorIs(t, err, io.EOF)

	_, ok = sr.Offset([]byte("elsewhere"))
	assert.False(t, ok)
	r2, err := mi.NewSpineReader(strings.NewReader(in))
	require.NoError(t, err)
	row, err = r2.ReadRow()
	require.NoError(t, err)
	_, ok = r2.Offset(row.MessageID)
	assert.False(t, ok, "not a reader of bytes")
}

func TestSpineReaderReadRowDoesNotAllocate(t *testing.T) {
	row := "2026-06-01 10:00:00.123 BST,c1,g1,urn:nhs:names:services:gp2gp/RCMR_IN010000UK05,111,222,NotProvided,NONE,EMIS Web,SystmOne\n" +
		"2026-06-01 09:01:00 UTC,c1,g2,urn:nhs:names:services:gp2gp/MCCI_IN010000UK13,222,111,g1,25,SystmOne,EMIS Web\n"
	data := []byte(csvHeader + strings.Repeat(row, 200))
	sr, err := mi.NewSpineReaderBytes(data)
	require.NoError(t, err)
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := sr.ReadRow(); err != nil {
			t.Fatal(err)
		}
	})
	assert.Zero(t, allocs)
}

func TestSpineReaderEmptyBytes(t *testing.T) {
	_, err := mi.NewSpineReaderBytes(nil)
	var pe *mi.ParseError
	require.True(t, errors.As(err, &pe))
	assert.ErrorIs(t, err, mi.ErrEmptyInput)
}

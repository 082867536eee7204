package mireporter

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/timestamppb"

	gp2gpv1 "github.com/nhsengland/gp2gp/proto/gp2gp/v1"
)

func TestStoredEventOfNormalisesAndRefusesMalformedEvents(t *testing.T) {
	at := timestamppb.New(time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC))
	s, err := storedEventOf(&gp2gpv1.MessageEvent{ConversationId: " abc-1 ", MessageId: "m-1", MessageRef: "r-1",
		Interaction: "urn:nhs:names:services:gp2gp/MCCI_IN010000UK13", ErrorCode: "06", OccurredAt: at})
	require.NoError(t, err)
	assert.Equal(t, "ABC-1", s.Conversation)
	assert.Equal(t, "M-1", s.ID)
	assert.Equal(t, "R-1", s.Ref)
	assert.Equal(t, "MCCI_IN010000UK13", s.Interaction)
	require.NotNil(t, s.Code)
	assert.Equal(t, 6, *s.Code)

	for name, ev := range map[string]*gp2gpv1.MessageEvent{
		"no conversation":   {MessageId: "m", OccurredAt: at},
		"no message id":     {ConversationId: "c", OccurredAt: at},
		"no time":           {ConversationId: "c", MessageId: "m"},
		"code not a number": {ConversationId: "c", MessageId: "m", OccurredAt: at, ErrorCode: "AE"},
		"negative code":     {ConversationId: "c", MessageId: "m", OccurredAt: at, ErrorCode: "-1"},
	} {
		_, err := storedEventOf(ev)
		assert.Error(t, err, name)
	}
}

func TestKeyTokenKeepsPlainIDsAndHashesOthers(t *testing.T) {
	assert.Equal(t, "ABC-1_X", keyToken("abc-1_x"))
	odd := keyToken("a.b>*")
	assert.Regexp(t, `^H_[0-9a-f]{32}$`, odd)
	assert.Equal(t, odd, keyToken("A.B>*"), "ids compare without case")
	assert.NotEqual(t, odd, keyToken("a.b>"))
	assert.Equal(t, "m.C.M", messageKey("c", "m"))
}

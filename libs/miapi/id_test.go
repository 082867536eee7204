package miapi_test

import (
	"crypto/md5"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/miapi"
)

// javaNameUUID is what Java's UUID.nameUUIDFromBytes(name.getBytes())
// returns, written out independently of the package.
func javaNameUUID(name string) string {
	b := md5.Sum([]byte(name))
	b[6] = b[6]&0x0f | 0x30
	b[8] = b[8]&0x3f | 0x80
	return uuid.UUID(b).String()
}

func TestJavaNameUUIDVectors(t *testing.T) {
	// Published outputs of Java's UUID.nameUUIDFromBytes.
	assert.Equal(t, "d41d8cd9-8f00-3204-a980-0998ecf8427e", javaNameUUID(""))
	assert.Equal(t, "5d41402a-bc4b-3a76-b971-9d911017c592", javaNameUUID("hello"))
}

func TestIDIsTheNHSFormula(t *testing.T) {
	e := miapi.NewEHRRequestEvent(envelope())
	want := javaNameUUID("4345-986959-4930-684038" + "EHR_REQUESTS" + "2020-02-08T08:30:25Z")
	assert.Equal(t, want, e.ID())

	u, err := uuid.Parse(e.ID())
	require.NoError(t, err)
	assert.Equal(t, uuid.Version(3), u.Version())
	assert.Equal(t, uuid.RFC4122, u.Variant())
	assert.NotEqual(t, uuid.NewMD5(uuid.NameSpaceOID, []byte("4345-986959-4930-684038EHR_REQUESTS2020-02-08T08:30:25Z")).String(), e.ID(),
		"no namespace is prefixed")

	errEvent := miapi.NewErrorEvent(envelope(), "", miapi.ErrorDetail{Code: "99", Description: "d", FailurePoint: miapi.FailureOther})
	assert.Equal(t, javaNameUUID("4345-986959-4930-684038"+"ERROR"+"2020-02-08T08:30:25Z"), errEvent.ID(),
		"ERRORS events are stored, and hashed, as ERROR")

	keyed := miapi.NewDocumentResponseEvent(envelope(), "doc-7", miapi.Attachment{}, miapi.DocumentMigration{})
	assert.Equal(t, javaNameUUID("4345-986959-4930-684038"+"DOCUMENT_RESPONSES"+"2020-02-08T08:30:25Z"+miapi.KeySeparator+"doc-7"), keyed.ID())
}

func TestIDDeterministic(t *testing.T) {
	for _, tc := range constructed() {
		t.Run(tc.name, func(t *testing.T) {
			a, b := tc.event.ID(), tc.event.ID()
			require.NotEmpty(t, a)
			assert.Equal(t, a, b)
		})
	}
	// The same event read back from its body (a re-send from an outbox)
	// has the same id.
	e := constructed()[0].event
	body, err := e.MarshalJSON()
	require.NoError(t, err)
	back, err := miapi.Unmarshal(e.Type, body)
	require.NoError(t, err)
	assert.Equal(t, e.ID(), back.ID())
}

func TestIDDiffers(t *testing.T) {
	base := miapi.NewEHRRequestEvent(envelope())
	change := func(f func(e *miapi.Event)) miapi.Event {
		e := base
		f(&e)
		return e
	}
	for _, tc := range []struct {
		name  string
		other miapi.Event
		same  bool
	}{
		{"type", change(func(e *miapi.Event) { e.Type = miapi.TypeReadyToIntegrateStatuses }), false},
		{"one second later", change(func(e *miapi.Event) { e.RegistrationEventDateTime = at.Add(time.Second) }), false},
		{"conversation", change(func(e *miapi.Event) { e.ConversationID = "other" }), false},
		{"key", change(func(e *miapi.Event) { e.Key = "doc-1" }), false},
		{"another key", change(func(e *miapi.Event) { e.Key = "doc-2" }), false},
		{"less than a second later", change(func(e *miapi.Event) { e.RegistrationEventDateTime = at.Add(999 * time.Millisecond) }), true},
		{"same instant in another zone", change(func(e *miapi.Event) { e.RegistrationEventDateTime = at.In(time.FixedZone("X", -5*3600)) }), true},
		{"fields outside the formula", change(func(e *miapi.Event) { e.ReportingPracticeODSCode = "B86041" }), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.same {
				assert.Equal(t, base.ID(), tc.other.ID())
			} else {
				assert.NotEqual(t, base.ID(), tc.other.ID())
			}
		})
	}
	k1 := change(func(e *miapi.Event) { e.Key = "doc-1" })
	k2 := change(func(e *miapi.Event) { e.Key = "doc-2" })
	assert.NotEqual(t, k1.ID(), k2.ID())
}

func TestDegradesID(t *testing.T) {
	d := miapi.Degrade{Type: miapi.DegradePlan, Reason: miapi.DegradeReasonCode}
	a := miapi.NewDegradesEvent("YGJ", "k1", d)
	assert.Equal(t, javaNameUUID("DEGRADES"+miapi.KeySeparator+"k1"), a.ID())
	assert.Equal(t, a.ID(), miapi.NewDegradesEvent("YGC", "k1", d, d).ID(), "the body plays no part")
	assert.NotEqual(t, a.ID(), miapi.NewDegradesEvent("YGJ", "k2", d).ID())
	assert.Empty(t, miapi.NewDegradesEvent("YGJ", "", d).ID(), "no key, no id")
}

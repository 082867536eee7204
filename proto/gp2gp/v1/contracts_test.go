package gp2gpv1

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Every enum's zero value must be <ENUM_NAME>_UNSPECIFIED, so that an unset
// field never reads as a meaningful value.
func TestEnumsHaveUnspecifiedZero(t *testing.T) {
	var enums int
	protoregistry.GlobalFiles.RangeFilesByPackage("gp2gp.v1", func(fd protoreflect.FileDescriptor) bool {
		for i := 0; i < fd.Enums().Len(); i++ {
			ed := fd.Enums().Get(i)
			enums++
			zero := ed.Values().ByNumber(0)
			if !assert.NotNil(t, zero, "%s has no value 0", ed.FullName()) {
				continue
			}
			assert.Equal(t, upperSnake(string(ed.Name()))+"_UNSPECIFIED", string(zero.Name()),
				"zero value of %s (%s)", ed.FullName(), fd.Path())
		}
		return true
	})
	assert.Positive(t, enums, "no enums registered for package gp2gp.v1")
}

func upperSnake(s string) string {
	var b strings.Builder
	for i, r := range s {
		if i > 0 && r >= 'A' && r <= 'Z' {
			b.WriteByte('_')
		}
		b.WriteRune(r)
	}
	return strings.ToUpper(b.String())
}

func TestRegistrationEventRoundTrip(t *testing.T) {
	in := &RegistrationEvent{
		EventId:        "evt-0001",
		ConversationId: "3F2504E0-4F89-11D3-9A0C-0305E82C3301",
		Patient: &Patient{
			NhsNumber:  "9434765919",
			GivenName:  "Jane",
			FamilyName: "Smith",
			BirthDate:  "1980-02-29",
			Gender:     "female",
			Postcode:   "LS1 4AP",
		},
		RequestingPracticeOds:            "B86041",
		PreviousPracticeOds:              "A82038",
		RegisteredAt:                     timestamppb.New(time.Date(2026, 3, 1, 9, 30, 0, 123000000, time.UTC)),
		Type:                             RegistrationType_REGISTRATION_TYPE_CHANGE_PATIENT_TYPE,
		ReturningPatient:                 true,
		MultifactorAuthenticationPresent: true,
		ReportingSystemSupplier:          "SUPPLIER-X",
	}
	// Every field is set, so a field added to the message without being
	// added here fails the test rather than going untested.
	for _, m := range []proto.Message{in, in.GetPatient()} {
		fields := m.ProtoReflect().Descriptor().Fields()
		for i := 0; i < fields.Len(); i++ {
			assert.True(t, m.ProtoReflect().Has(fields.Get(i)), "%s not set", fields.Get(i).FullName())
		}
	}

	t.Run("binary", func(t *testing.T) {
		b, err := proto.Marshal(in)
		require.NoError(t, err)
		out := &RegistrationEvent{}
		require.NoError(t, proto.Unmarshal(b, out))
		assert.True(t, proto.Equal(in, out), "got %v", out)
	})

	t.Run("protojson", func(t *testing.T) {
		b, err := protojson.Marshal(in)
		require.NoError(t, err)
		assert.Contains(t, string(b), `"REGISTRATION_TYPE_CHANGE_PATIENT_TYPE"`)
		assert.Contains(t, string(b), `"2026-03-01T09:30:00.123Z"`)
		out := &RegistrationEvent{}
		require.NoError(t, protojson.Unmarshal(b, out))
		assert.True(t, proto.Equal(in, out), "got %v", out)
	})
}

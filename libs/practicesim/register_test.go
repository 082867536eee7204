package practicesim_test

import (
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/practicesim"
	gp2gpv1 "github.com/nhsengland/gp2gp/proto/gp2gp/v1"
)

var upperGUID = regexp.MustCompile(`^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$`)

// registrations returns the registration events published, with their
// messages.
func (f *fixture) registrations() []*gp2gpv1.RegistrationEvent {
	f.t.Helper()
	var out []*gp2gpv1.RegistrationEvent
	for _, m := range f.messages(bus.StreamRegistrations) {
		ev := &gp2gpv1.RegistrationEvent{}
		require.NoError(f.t, proto.Unmarshal(m.Data, ev))
		out = append(out, ev)
	}
	return out
}

func TestRegisterPublishesRegistrationEvent(t *testing.T) {
	f := newFixture(t)
	p := f.start(newODS, practicesim.WithClock(fixedClock))
	pt := practicesim.Patients()[0]
	req := pt.Registration(previousODS)
	req.ReturningPatient = true

	conv, err := p.Register(f.ctx, req)
	require.NoError(t, err)
	assert.Regexp(t, upperGUID, conv)

	msgs := f.messages(bus.StreamRegistrations)
	require.Len(t, msgs, 1)
	assert.Equal(t, bus.RegistrationSubject(newODS), msgs[0].Subject)
	assert.Equal(t, conv, bus.HeadersOf(msgs[0].Header).ConversationID)
	ev := f.registrations()[0]
	assert.Regexp(t, upperGUID, ev.GetEventId())
	assert.Equal(t, "registration."+newODS+"."+ev.GetEventId(), msgs[0].Header.Get(bus.HeaderMsgID))
	assert.Equal(t, conv, ev.GetConversationId())
	assert.Equal(t, newODS, ev.GetRequestingPracticeOds())
	assert.Equal(t, previousODS, ev.GetPreviousPracticeOds())
	assert.True(t, fixedNow.Equal(ev.GetRegisteredAt().AsTime()))
	assert.Equal(t, gp2gpv1.RegistrationType_REGISTRATION_TYPE_NEW_GP_REGISTRATION, ev.GetType())
	assert.True(t, ev.GetReturningPatient())
	assert.Equal(t, "SIMULATED", ev.GetReportingSystemSupplier())
	assert.True(t, proto.Equal(&gp2gpv1.Patient{
		NhsNumber: pt.NHSNumber, GivenName: pt.GivenName, FamilyName: pt.FamilyName,
		BirthDate: pt.BirthDate, Gender: pt.Gender, Postcode: pt.Postcode,
	}, ev.GetPatient()), "patient: %v", ev.GetPatient())
}

func TestRegisterKeepsGivenIDs(t *testing.T) {
	f := newFixture(t)
	p := f.start(newODS)
	req := practicesim.RegisterRequest{NHSNumber: patientNHS, ConversationID: conv1, EventID: "EMIS-REG-0001"}

	for range 2 {
		conv, err := p.Register(f.ctx, req)
		require.NoError(t, err)
		assert.Equal(t, conv1, conv)
	}
	evs := f.registrations()
	require.Len(t, evs, 1, "the same event registered twice is stored once")
	assert.Equal(t, "EMIS-REG-0001", evs[0].GetEventId())
	assert.Equal(t, conv1, evs[0].GetConversationId())
	assert.Empty(t, evs[0].GetPreviousPracticeOds())

	// Without ids, every registration is a new event and conversation.
	a, err := p.Register(f.ctx, practicesim.RegisterRequest{NHSNumber: patientNHS})
	require.NoError(t, err)
	b, err := p.Register(f.ctx, practicesim.RegisterRequest{NHSNumber: patientNHS})
	require.NoError(t, err)
	assert.NotEqual(t, a, b)
	assert.Len(t, f.registrations(), 3)
}

func TestRegisterRefusesInvalidRequest(t *testing.T) {
	valid := practicesim.Patients()[1].Registration(previousODS)
	tests := []struct {
		name   string
		change func(r *practicesim.RegisterRequest)
	}{
		{"no NHS number", func(r *practicesim.RegisterRequest) { r.NHSNumber = "" }},
		{"bad check digit", func(r *practicesim.RegisterRequest) { r.NHSNumber = "9992738252" }},
		{"previous practice not an ODS code", func(r *practicesim.RegisterRequest) { r.PreviousODS = "b86041" }},
		{"previous practice is this one", func(r *practicesim.RegisterRequest) { r.PreviousODS = newODS }},
		{"lower-case conversation id", func(r *practicesim.RegisterRequest) { r.ConversationID = "6e2b8a0c-4f1d-4c55-9e3a-0b7d2c1f9a01" }},
		{"gender", func(r *practicesim.RegisterRequest) { r.Gender = "F" }},
		{"birth date", func(r *practicesim.RegisterRequest) { r.BirthDate = "03/11/1957" }},
	}
	f := newFixture(t)
	p := f.start(newODS)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := valid
			tt.change(&r)
			conv, err := p.Register(f.ctx, r)
			require.ErrorIs(t, err, practicesim.ErrInvalidRegistration)
			assert.Empty(t, conv)
		})
	}
	assert.Empty(t, f.registrations())
}

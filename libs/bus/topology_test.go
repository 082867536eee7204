package bus_test

import (
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/natsembed/natstest"
)

var practices = []bus.Practice{{ODS: "A12345", ASID: "200000000001"}, {ODS: "B86041", ASID: "200000000002"}}

func TestSubjects(t *testing.T) {
	cases := map[string]string{
		bus.RegistrationSubject("A12345"):                   "gp2gp.practice.A12345.registration",
		bus.RecordRequestSubject("A12345"):                  "gp2gp.practice.A12345.record.request",
		bus.RecordResponseSubject("A12345"):                 "gp2gp.practice.A12345.record.response",
		bus.RecordReadySubject("A12345"):                    "gp2gp.practice.A12345.record.ready",
		bus.IntegrationOutcomeSubject("A12345"):             "gp2gp.practice.A12345.integration.outcome",
		bus.AckSubject("200000000001"):                      "gp2gp.ack.200000000001",
		bus.TimerSubject("requester", "extract", "ABC-1"):   "gp2gp.timer.requester.extract.ABC-1",
		bus.SpineInSubject("200000000001", bus.KindAck):     "gp2gp.spine.in.200000000001.ack",
		bus.LifecycleSubject("requesting", "ABC-1"):         "gp2gp.lifecycle.requesting.ABC-1",
		bus.DeadLetterSubject("GP2GP_SPINE_IN", "receiver"): "gp2gp.dlq.GP2GP_SPINE_IN.receiver",
		bus.CommandSubject("sending", "A12345", "resend"):   "gp2gp.command.sending.A12345.resend",
		bus.MessageSubject("ABC-1"):                         "gp2gp.message.ABC-1",
		bus.MIOutboxSubject("EHR_REQUESTS"):                 "gp2gp.mi.outbox.EHR_REQUESTS",
	}
	for got, want := range cases {
		assert.Equal(t, want, got)
		assert.True(t, bus.ValidSubject(got), got)
	}
}

func TestEverySubjectBelongsToExactlyOneStream(t *testing.T) {
	srv := natstest.NewServer(t)
	js := srv.JetStream()
	ctx := natstest.Context(t, 30*time.Second)
	all := bus.Topology{Streams: bus.Streams()}
	require.NoError(t, bus.Ensure(ctx, js, bus.DevProfile, all), "stream subjects must not overlap")

	subjects := map[string]string{
		bus.RegistrationSubject("A12345"):                      bus.StreamRegistrations,
		bus.RecordRequestSubject("A12345"):                     bus.StreamRecordRequests,
		bus.RecordResponseSubject("A12345"):                    bus.StreamRecordResponses,
		bus.RecordReadySubject("A12345"):                       bus.StreamRecordsReady,
		bus.IntegrationOutcomeSubject("A12345"):                bus.StreamIntegrations,
		bus.AckSubject("200000000001"):                         bus.StreamAcks,
		bus.TimerSubject("sender", "final-ack", "ABC-1"):       bus.StreamTimers,
		bus.SpineInSubject("200000000001", bus.KindEHRExtract): bus.StreamSpineIn,
		bus.LifecycleSubject("sending", "ABC-1"):               bus.StreamLifecycle,
		bus.DeadLetterSubject(bus.StreamSpineIn, "x"):          bus.StreamDeadLetter,
		bus.CommandSubject("requesting", "B86041", "resend"):   bus.StreamCommands,
		bus.MessageSubject("ABC-1"):                            bus.StreamMessages,
		bus.MIOutboxSubject("ERRORS"):                          bus.StreamMIOutbox,
	}
	for subject, stream := range subjects {
		name, err := js.StreamNameBySubject(ctx, subject)
		require.NoError(t, err, subject)
		assert.Equal(t, stream, name, subject)
	}
}

func TestEnsureIsIdempotentAndFollowsConfiguration(t *testing.T) {
	srv := natstest.NewServer(t)
	js := srv.JetStream()
	ctx := natstest.Context(t, 30*time.Second)
	topologies := map[string]bus.Topology{
		"requester":    bus.RequesterTopology("", practices),
		"sender":       bus.SenderTopology("", practices),
		"receiver":     bus.ReceiverTopology("", practices),
		"acknowledger": bus.AcknowledgerTopology("", practices),
		"mireporter":   bus.MIReporterTopology(""),
	}
	for name, topo := range topologies {
		require.NoError(t, bus.Ensure(ctx, js, bus.DevProfile, topo), name)
		require.NoError(t, bus.Ensure(ctx, js, bus.DevProfile, topo), "%s again", name)
	}

	c, err := js.Consumer(ctx, bus.StreamSpineIn, "sender-requests")
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{
		"gp2gp.spine.in.200000000001.ehr-request", "gp2gp.spine.in.200000000001.continue",
		"gp2gp.spine.in.200000000002.ehr-request", "gp2gp.spine.in.200000000002.continue",
	}, c.CachedInfo().Config.FilterSubjects)
	assert.Equal(t, -1, c.CachedInfo().Config.MaxDeliver, "the runner, not the server, gives up on a message")

	// The practice list changes: the same durable follows it.
	require.NoError(t, bus.Ensure(ctx, js, bus.DevProfile, bus.SenderTopology("", practices[:1])))
	c, err = js.Consumer(ctx, bus.StreamSpineIn, "sender-requests")
	require.NoError(t, err)
	assert.Equal(t, "gp2gp.spine.in.200000000001.ehr-request", c.CachedInfo().Config.FilterSubjects[0])
	assert.Len(t, c.CachedInfo().Config.FilterSubjects, 2)

	kv, err := js.KeyValue(ctx, bus.BucketTransfers)
	require.NoError(t, err)
	st, err := kv.Status(ctx)
	require.NoError(t, err)
	assert.Equal(t, 84*24*time.Hour, st.TTL())

	s, err := js.Stream(ctx, bus.StreamSpineIn)
	require.NoError(t, err)
	assert.Equal(t, jetstream.FileStorage, s.CachedInfo().Config.Storage)
	assert.Equal(t, 1, s.CachedInfo().Config.Replicas)
}

// Each practice's records are in an object store of its own, so that a
// vendor's credentials can be limited to its practices' stores: the
// stages serving practices declare one per practice, a practice's system
// only its own, and none is shared.
func TestRecordsStoresArePerPractice(t *testing.T) {
	assert.Equal(t, "gp2gp_records_A12345", bus.RecordsBucket("A12345"))
	st := bus.RecordsStore("B86041")
	assert.Equal(t, "gp2gp_records_B86041", st.Bucket)
	assert.Contains(t, st.Description, "B86041")
	assert.Equal(t, 84*24*time.Hour, st.TTL)
	assert.Equal(t, []bus.ObjectStoreSpec{bus.RecordsStore("A12345"), bus.RecordsStore("B86041")}, bus.RecordsStores(practices))
	assert.Empty(t, bus.RecordsStores(nil))

	buckets := func(topo bus.Topology) []string {
		var out []string
		for _, o := range topo.ObjectStores {
			out = append(out, o.Bucket)
		}
		return out
	}
	both := []string{bus.BucketBodies, "gp2gp_records_A12345", "gp2gp_records_B86041"}
	assert.ElementsMatch(t, both, buckets(bus.SenderTopology("", practices)))
	assert.ElementsMatch(t, both, buckets(bus.ReceiverTopology("", practices)))
	assert.ElementsMatch(t, []string{bus.BucketBodies, "gp2gp_records_A12345"}, buckets(bus.SenderTopology("", practices[:1])))
	assert.ElementsMatch(t, []string{bus.BucketBodies, "gp2gp_records_B86041"}, buckets(bus.PracticeTopology("B86041")))
	assert.ElementsMatch(t, []string{bus.BucketBodies}, buckets(bus.RequesterTopology("", practices)))

	srv := natstest.NewServer(t)
	js := srv.JetStream()
	ctx := natstest.Context(t, 30*time.Second)
	require.NoError(t, bus.Ensure(ctx, js, bus.DevProfile, bus.ReceiverTopology("", practices)))
	for _, p := range practices {
		obs, err := js.ObjectStore(ctx, bus.RecordsBucket(p.ODS))
		require.NoError(t, err, p.ODS)
		status, err := obs.Status(ctx)
		require.NoError(t, err)
		assert.Equal(t, 84*24*time.Hour, status.TTL())
	}
	_, err := js.ObjectStore(ctx, "gp2gp_records")
	require.ErrorIs(t, err, jetstream.ErrBucketNotFound, "no records store is shared by every practice")
}

func TestEnsureRefusesConsumersThatWouldReadEveryPractice(t *testing.T) {
	srv := natstest.NewServer(t)
	ctx := natstest.Context(t, 30*time.Second)
	err := bus.Ensure(ctx, srv.JetStream(), bus.DevProfile, bus.RequesterTopology("", nil))
	require.ErrorContains(t, err, "no filter subjects")
}

func TestDurableNamesIncludeTheGroup(t *testing.T) {
	assert.Equal(t, "requester-registrations", bus.RequesterRegistrations("", practices).Durable)
	assert.Equal(t, "requester-registrations-north", bus.RequesterRegistrations("north", practices).Durable)
}

func TestProfiles(t *testing.T) {
	p, err := bus.ProfileNamed("prod")
	require.NoError(t, err)
	assert.Equal(t, 3, p.Replicas)
	_, err = bus.ProfileNamed("staging")
	require.Error(t, err)
	require.Error(t, bus.Ensure(natstest.Context(t, time.Second), nil, bus.Profile{Name: "bad", Replicas: 0}, bus.Topology{}))
}

func TestBackoffDoublesUpToMax(t *testing.T) {
	b := bus.Backoff{Min: time.Second, Max: 10 * time.Second}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second, 10 * time.Second}
	for i, w := range want {
		assert.Equal(t, w, b.Delay(uint64(i+1)), "attempt %d", i+1)
	}
	j := bus.Backoff{Min: time.Second, Max: time.Second, Jitter: 0.5}
	for range 100 {
		d := j.Delay(1)
		assert.GreaterOrEqual(t, d, 500*time.Millisecond)
		assert.LessOrEqual(t, d, 1500*time.Millisecond)
	}
}

// What exists otherwise than declared (an older release's settings) is
// updated to the declaration; Ensure creates first, so it must notice.
func TestEnsureUpdatesWhatExistsOtherwise(t *testing.T) {
	srv := natstest.NewServer(t)
	js := srv.JetStream()
	ctx := natstest.Context(t, 30*time.Second)
	_, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: bus.StreamRegistrations, Description: "old",
		Subjects: []string{"gp2gp.practice.*.registration"}, Storage: jetstream.FileStorage})
	require.NoError(t, err)
	_, err = js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: bus.BucketTransfers, TTL: time.Hour, Storage: jetstream.FileStorage})
	require.NoError(t, err)
	_, err = js.CreateObjectStore(ctx, jetstream.ObjectStoreConfig{Bucket: bus.RecordsBucket("A12345"), Description: "old", Storage: jetstream.FileStorage})
	require.NoError(t, err)

	require.NoError(t, bus.Ensure(ctx, js, bus.DevProfile, bus.RequesterTopology("", practices)))
	require.NoError(t, bus.Ensure(ctx, js, bus.DevProfile, bus.ReceiverTopology("", practices)))

	s, err := js.Stream(ctx, bus.StreamRegistrations)
	require.NoError(t, err)
	assert.NotEqual(t, "old", s.CachedInfo().Config.Description)
	kv, err := js.KeyValue(ctx, bus.BucketTransfers)
	require.NoError(t, err)
	st, err := kv.Status(ctx)
	require.NoError(t, err)
	assert.Equal(t, 84*24*time.Hour, st.TTL())
	obs, err := js.ObjectStore(ctx, bus.RecordsBucket("A12345"))
	require.NoError(t, err)
	ost, err := obs.Status(ctx)
	require.NoError(t, err)
	assert.NotEqual(t, "old", ost.Description())
}

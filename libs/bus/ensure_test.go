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

func TestEnsureRefusesStreamsNotPlacedAsTheProfileRequires(t *testing.T) {
	srv := natstest.NewServer(t)
	js := srv.JetStream()
	ctx := natstest.Context(t, 30*time.Second)
	ps := []bus.Practice{{ODS: "A12345", ASID: "200000000101"}}
	topo := bus.RequesterTopology("", ps)
	require.NoError(t, bus.Ensure(ctx, js, bus.DevProfile, topo))

	// Started with the production profile against streams made with one
	// replica: refused, naming the stream and what is wrong, and nothing
	// is changed.
	err := bus.Ensure(ctx, js, bus.ProdProfile, topo)
	require.ErrorIs(t, err, bus.ErrMisconfigured)
	assert.Contains(t, err.Error(), "has 1 replicas, profile prod requires 3")
	assert.Contains(t, err.Error(), "GP2GP_PROFILE")
	st, err := js.Stream(ctx, topo.Streams[0].Name)
	require.NoError(t, err)
	assert.Equal(t, 1, st.CachedInfo().Config.Replicas)

	// A stream somebody made on memory storage, and one with the wrong
	// retention.
	cfg := bus.Streams()[0].Config(bus.DevProfile)
	require.NoError(t, js.DeleteStream(ctx, cfg.Name))
	cfg.Storage = jetstream.MemoryStorage
	_, err = js.CreateStream(ctx, cfg)
	require.NoError(t, err)
	err = bus.Ensure(ctx, js, bus.DevProfile, topo)
	require.ErrorIs(t, err, bus.ErrMisconfigured)
	assert.Contains(t, err.Error(), "stream "+cfg.Name+" is on Memory storage, profile dev requires File")

	require.NoError(t, js.DeleteStream(ctx, cfg.Name))
	cfg = bus.Streams()[0].Config(bus.DevProfile)
	cfg.Retention = jetstream.InterestPolicy
	_, err = js.CreateStream(ctx, cfg)
	require.NoError(t, err)
	err = bus.Ensure(ctx, js, bus.DevProfile, topo)
	require.ErrorIs(t, err, bus.ErrMisconfigured)
	assert.Contains(t, err.Error(), "retention")

	// Buckets are checked the same way.
	require.NoError(t, js.DeleteStream(ctx, cfg.Name))
	require.NoError(t, js.DeleteKeyValue(ctx, bus.BucketTransfers))
	kv := bus.TransfersBucket.Config(bus.DevProfile)
	kv.Storage = jetstream.MemoryStorage
	_, err = js.CreateKeyValue(ctx, kv)
	require.NoError(t, err)
	err = bus.Ensure(ctx, js, bus.DevProfile, topo)
	require.ErrorIs(t, err, bus.ErrMisconfigured)
	assert.Contains(t, err.Error(), "stream KV_"+bus.BucketTransfers+" is on Memory storage")
}

func TestEnsureExplainsAProductionProfileOnOneServer(t *testing.T) {
	srv := natstest.NewServer(t)
	err := bus.Ensure(natstest.Context(t, 30*time.Second), srv.JetStream(), bus.ProdProfile,
		bus.RequesterTopology("", []bus.Practice{{ODS: "A12345", ASID: "200000000101"}}))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "profile prod needs a JetStream cluster of at least 3 servers")
}

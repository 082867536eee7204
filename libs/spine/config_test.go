package spine_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/spine"
)

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestLoadConfig(t *testing.T) {
	cases := []struct {
		name string
		env  map[string]string
		want spine.Config
	}{
		{"defaults", nil, spine.Config{Transport: spine.TransportLoopback, MHSTimeout: 120 * time.Second}},
		{"blank values are unset", map[string]string{spine.EnvTransport: " ", spine.EnvMHSTimeout: ""},
			spine.Config{Transport: spine.TransportLoopback, MHSTimeout: spine.DefaultMHSTimeout}},
		{"mhs", map[string]string{
			spine.EnvTransport:      "MHS",
			spine.EnvMHSOutboundURL: "http://mhs-outbound/",
			spine.EnvMHSInboundAddr: ":8081",
			spine.EnvMHSTimeout:     "30s",
		}, spine.Config{Transport: spine.TransportMHS, MHSOutboundURL: "http://mhs-outbound/", MHSInboundAddr: ":8081", MHSTimeout: 30 * time.Second}},
		{"loopback with an inbound endpoint for stand-ins", map[string]string{spine.EnvTransport: "loopback", spine.EnvMHSInboundAddr: "127.0.0.1:8081"},
			spine.Config{Transport: spine.TransportLoopback, MHSInboundAddr: "127.0.0.1:8081", MHSTimeout: spine.DefaultMHSTimeout}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := spine.LoadConfig(env(tc.env))
			require.NoError(t, err)
			assert.Equal(t, tc.want, c)
			require.NoError(t, c.Validate())
		})
	}
}

func TestConfigErrorsNameTheVariable(t *testing.T) {
	loadErrors := map[string]struct {
		env  map[string]string
		want string
	}{
		"unknown transport": {map[string]string{spine.EnvTransport: "amqp"}, spine.EnvTransport},
		"bad timeout":       {map[string]string{spine.EnvMHSTimeout: "soon"}, spine.EnvMHSTimeout},
	}
	for name, tc := range loadErrors {
		t.Run(name, func(t *testing.T) {
			_, err := spine.LoadConfig(env(tc.env))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}

	ok := spine.Config{Transport: spine.TransportMHS, MHSOutboundURL: "http://mhs/", MHSTimeout: time.Second}
	invalid := map[string]struct {
		edit func(*spine.Config)
		want string
	}{
		"mhs without a URL": {func(c *spine.Config) { c.MHSOutboundURL = "" }, spine.EnvMHSOutboundURL + " is required"},
		"relative URL":      {func(c *spine.Config) { c.MHSOutboundURL = "mhs/outbound" }, spine.EnvMHSOutboundURL},
		"bad listen addr":   {func(c *spine.Config) { c.MHSInboundAddr = "8081" }, spine.EnvMHSInboundAddr},
		"zero timeout":      {func(c *spine.Config) { c.MHSTimeout = 0 }, spine.EnvMHSTimeout},
		"no transport":      {func(c *spine.Config) { c.Transport = "" }, spine.EnvTransport},
	}
	for name, tc := range invalid {
		t.Run(name, func(t *testing.T) {
			c := ok
			tc.edit(&c)
			err := c.Validate()
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestNewBuildsTheConfiguredTransport(t *testing.T) {
	f := newFixture(t)
	served := func(asid string) bool { return asid == requesterASID }

	tr, err := spine.New(spine.DefaultConfig(), f.bus, served)
	require.NoError(t, err)
	require.IsType(t, &spine.Loopback{}, tr)
	require.NoError(t, tr.Send(f.ctx, ackWire(t).outbound()))
	err = tr.Send(f.ctx, requestWire(t).outbound()) // to the sender, not served
	require.ErrorIs(t, err, spine.ErrNotServed)
	assert.True(t, bus.IsPermanent(err))

	fake := newFakeMHS(t, answer(http.StatusAccepted, ""))
	tr, err = spine.New(spine.Config{Transport: spine.TransportMHS, MHSOutboundURL: fake.URL, MHSTimeout: time.Second}, nil, served)
	require.NoError(t, err)
	require.IsType(t, &spine.MHS{}, tr)
	require.NoError(t, tr.Send(context.Background(), requestWire(t).outbound()), "the MHS sends anywhere")
	assert.Len(t, fake.received(), 1)

	tr, err = spine.New(spine.Config{Transport: spine.TransportMHS, MHSTimeout: time.Second}, f.bus, nil)
	require.Error(t, err)
	assert.Nil(t, tr)
	tr, err = spine.New(spine.DefaultConfig(), nil, nil)
	require.Error(t, err, "the loopback needs a bus")
	assert.Nil(t, tr)
}

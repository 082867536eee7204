package natsauth_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/natsauth"
	"github.com/nhsengland/gp2gp/libs/natsauth/natsauthtest"
	"github.com/nhsengland/gp2gp/libs/natsembed/natstest"
)

var (
	practiceA = bus.Practice{ODS: "A12345", ASID: "200000000101"}
	practiceB = bus.Practice{ODS: "B86041", ASID: "200000000102"}
)

// deployed is the permission set deployed with the NATS Helm chart
// (deploy/nats/auth-spec.json): the tests load exactly it into a server.
// It serves practices A12345 and B86041, each with its own vendor.
func deployed(t *testing.T) natsauth.Spec {
	t.Helper()
	spec, err := natsauth.ReadSpecFile(filepath.Join(deployDir, "auth-spec.json"))
	require.NoError(t, err)
	require.Equal(t, []bus.Practice{practiceA, practiceB}, spec.Practices)
	return spec
}

// vendorOf is the certificate CN of the deployed vendor serving ods alone.
func vendorOf(t *testing.T, spec natsauth.Spec, ods string) string {
	t.Helper()
	for _, v := range spec.Vendors {
		if len(v.ODS) == 1 && v.ODS[0] == ods {
			return natsauth.CommonName("vendor-" + v.Name)
		}
	}
	t.Fatalf("no vendor of %s alone in the deployed spec", ods)
	return ""
}

// secure is an embedded server running gp2gp's permission set with TLS
// and verify_and_map.
type secure struct {
	t   *testing.T
	srv *natsauthtest.Server
}

func startSecure(t *testing.T, spec natsauth.Spec) *secure {
	t.Helper()
	users, err := spec.Users()
	require.NoError(t, err)
	return &secure{t: t, srv: natsauthtest.Start(t, users, nil)}
}

// client is a connection as one user, recording the permission
// violations the server reports to it.
type client struct {
	nc         *nats.Conn
	js         jetstream.JetStream
	mu         sync.Mutex
	violations []string
	seen       chan struct{}
}

func (c *client) violated() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.violations...)
}

// connectAs connects with a certificate for cn issued by the server's CA.
func (s *secure) connectAs(cn string) *client {
	s.t.Helper()
	c, err := s.dial(s.srv.CA, cn, natsauth.InboxPrefix(cn))
	require.NoError(s.t, err, "connect as %s", cn)
	return c
}

func (s *secure) dial(ca *natsauth.CA, cn, inbox string) (*client, error) {
	files := natsauthtest.ClientFiles(s.t, ca, cn)
	c := &client{seen: make(chan struct{}, 100)}
	nc, err := nats.Connect(s.srv.URL(), nats.RootCAs(s.srv.CAFile),
		nats.ClientCert(files.Cert, files.Key), nats.CustomInboxPrefix(inbox), nats.MaxReconnects(0),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			if errors.Is(err, nats.ErrPermissionViolation) {
				c.mu.Lock()
				c.violations = append(c.violations, err.Error())
				c.mu.Unlock()
				c.seen <- struct{}{}
			}
		}))
	if err != nil {
		return nil, err
	}
	s.t.Cleanup(nc.Close)
	c.nc = nc
	c.js, err = jetstream.New(nc)
	return c, err
}

// refused runs op, which must be refused by the server: op fails or the
// server reports a permissions violation naming subject.
func (c *client) refused(t *testing.T, subject string, op func(ctx context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := op(ctx)
	_ = c.nc.Flush()
	deadline := time.After(3 * time.Second)
	for {
		for _, v := range c.violated() {
			if strings.Contains(v, `"`+subject+`"`) {
				return
			}
		}
		select {
		case <-c.seen:
		case <-deadline:
			t.Fatalf("%s: not refused (op error: %v; violations: %v)", subject, err, c.violated())
		}
	}
}

func (c *client) noViolations(t *testing.T) {
	t.Helper()
	require.NoError(t, c.nc.Flush())
	time.Sleep(50 * time.Millisecond)
	assert.Empty(t, c.violated())
}

func corePublish(c *client, subject string) func(context.Context) error {
	return func(context.Context) error { return c.nc.Publish(subject, []byte("x")) }
}

func subscribe(c *client, subject string) func(context.Context) error {
	return func(context.Context) error { _, err := c.nc.SubscribeSync(subject); return err }
}

func jsPublish(c *client, subject string) func(context.Context) error {
	return func(ctx context.Context) error { _, err := c.js.Publish(ctx, subject, []byte("x")); return err }
}

func topology(t *testing.T, service string) bus.Topology {
	t.Helper()
	ps := []bus.Practice{practiceA, practiceB}
	switch service {
	case "requester":
		return bus.RequesterTopology("", ps)
	case "sender":
		return bus.SenderTopology("", ps)
	case "receiver":
		return bus.ReceiverTopology("", ps)
	case "acknowledger":
		return bus.AcknowledgerTopology("", ps)
	case "mireporter":
		return bus.MIReporterTopology("")
	}
	t.Fatalf("no service %s", service)
	return bus.Topology{}
}

// ensureAll creates every service's topology as that service, as the
// services do at startup.
func ensureAll(t *testing.T, s *secure) map[string]*client {
	t.Helper()
	ctx := natstest.Context(t, 30*time.Second)
	clients := map[string]*client{}
	for _, svc := range natsauth.Services {
		c := s.connectAs(natsauth.ServiceCommonName(svc, ""))
		require.NoError(t, bus.Ensure(ctx, c.js, bus.DevProfile, topology(t, svc)), "%s ensures its topology", svc)
		clients[svc] = c
	}
	return clients
}

func TestEveryServiceWorksWithinItsPermissions(t *testing.T) {
	s := startSecure(t, deployed(t))
	clients := ensureAll(t, s)
	ctx := natstest.Context(t, 30*time.Second)
	conv := "6BAEF314-0F35-4C87-AA5B-FD337B1CB4E8"

	// What each service publishes, for a practice it serves.
	produces := map[string][]string{
		"requester": {bus.SpineInSubject(practiceA.ASID, bus.KindEHRRequest), bus.AckSubject(practiceB.ASID),
			bus.LifecycleSubject("requesting", conv), bus.MessageSubject(conv), bus.TimerSubject("requester", "extract", conv)},
		"sender": {bus.SpineInSubject(practiceB.ASID, bus.KindEHRExtract), bus.AckSubject(practiceA.ASID),
			bus.RecordRequestSubject(practiceA.ODS), bus.LifecycleSubject("sending", conv), bus.MessageSubject(conv),
			bus.TimerSubject("sender", "final-ack", conv)},
		"receiver": {bus.SpineInSubject(practiceA.ASID, bus.KindContinue), bus.AckSubject(practiceB.ASID),
			bus.RecordReadySubject(practiceB.ODS), bus.LifecycleSubject("requesting", conv), bus.MessageSubject(conv),
			bus.TimerSubject("receiver", "parts", conv)},
		"acknowledger": {bus.SpineInSubject(practiceA.ASID, bus.KindAck), bus.LifecycleSubject("requesting", conv),
			bus.LifecycleSubject("sending", conv), bus.MessageSubject(conv)},
		"mireporter": {bus.MIOutboxSubject("EHR_REQUESTS")},
	}
	for svc, subjects := range produces {
		c := clients[svc]
		for _, subj := range subjects {
			_, err := c.js.Publish(ctx, subj, []byte("x"))
			require.NoError(t, err, "%s publishes on %s", svc, subj)
		}
	}
	// Each consumes through its durable consumers and acknowledges, and can
	// dead-letter what it consumes.
	for _, svc := range natsauth.Services {
		c := clients[svc]
		for _, spec := range topology(t, svc).Consumers {
			cons, err := c.js.Consumer(ctx, spec.Stream, spec.Durable)
			require.NoError(t, err, "%s looks up %s", svc, spec.Durable)
			batch, err := cons.Fetch(1, jetstream.FetchMaxWait(200*time.Millisecond))
			require.NoError(t, err)
			for m := range batch.Messages() {
				require.NoError(t, m.DoubleAck(ctx), "%s acks on %s", svc, spec.Durable)
			}
			require.NoError(t, batch.Error())
			_, err = c.js.Publish(ctx, bus.DeadLetterSubject(spec.Stream, spec.Durable), []byte("x"))
			require.NoError(t, err, "%s dead-letters from %s", svc, spec.Durable)
		}
	}
	// Transfer state and records.
	for _, svc := range []string{"requester", "sender", "receiver", "acknowledger"} {
		kv, err := clients[svc].js.KeyValue(ctx, bus.BucketTransfers)
		require.NoError(t, err)
		_, err = kv.Put(ctx, "requesting."+svc, []byte("{}"))
		require.NoError(t, err, "%s writes transfer state", svc)
		_, err = kv.Get(ctx, "requesting."+svc)
		require.NoError(t, err, "%s reads transfer state", svc)
		// The transfer store looks up an old outbox event.
		lc, err := clients[svc].js.Stream(ctx, bus.StreamLifecycle)
		require.NoError(t, err)
		_, err = lc.GetLastMsgForSubject(ctx, bus.LifecycleSubject("requesting", conv))
		require.NoError(t, err, "%s reads the last lifecycle event of a transfer", svc)
	}
	for _, svc := range []string{"sender", "receiver"} {
		for _, p := range []bus.Practice{practiceA, practiceB} {
			obj, err := clients[svc].js.ObjectStore(ctx, bus.RecordsBucket(p.ODS))
			require.NoError(t, err)
			_, err = obj.PutBytes(ctx, svc+"/record", []byte("record"))
			require.NoError(t, err, "%s stores a record of %s", svc, p.ODS)
			got, err := obj.GetBytes(ctx, svc+"/record")
			require.NoError(t, err, "%s reads a record of %s", svc, p.ODS)
			assert.Equal(t, "record", string(got))
		}
	}
	mi, err := clients["mireporter"].js.KeyValue(ctx, bus.BucketMI)
	require.NoError(t, err)
	w, err := mi.WatchAll(ctx)
	require.NoError(t, err, "the mireporter watches its bucket")
	require.NoError(t, w.Stop())
	for svc, c := range clients {
		t.Run(svc, func(t *testing.T) { c.noViolations(t) })
	}
}

func TestServicesAreRefusedOutsideTheirSubjects(t *testing.T) {
	s := startSecure(t, deployed(t))
	clients := ensureAll(t, s)
	conv := "6BAEF314-0F35-4C87-AA5B-FD337B1CB4E8"
	cases := []struct {
		service, subject string
		op               func(*client, string) func(context.Context) error
	}{
		{"requester", bus.RecordReadySubject(practiceA.ODS), corePublish},
		{"mireporter", bus.LifecycleSubject("sending", conv), corePublish},
		{"requester", bus.SpineInSubject("999999999999", bus.KindEHRRequest), corePublish},
		{"requester", bus.TimerSubject("sender", "final-ack", conv), corePublish},
		{"requester", bus.RegistrationSubject(practiceA.ODS), corePublish},
		{"sender", bus.RecordReadySubject(practiceA.ODS), corePublish},
		{"receiver", bus.RecordRequestSubject(practiceA.ODS), corePublish},
		{"acknowledger", bus.RecordReadySubject(practiceA.ODS), corePublish},
		{"acknowledger", bus.MIOutboxSubject("EHR_REQUESTS"), corePublish},
		{"mireporter", bus.SpineInSubject(practiceA.ASID, bus.KindEHRRequest), corePublish},
		{"mireporter", "$O." + bus.RecordsBucket(practiceA.ODS) + ".C.x", corePublish},
		{"mireporter", "$JS.API.STREAM.DELETE." + bus.StreamLifecycle, corePublish},
		{"requester", "$JS.API.STREAM.DELETE." + bus.StreamRegistrations, corePublish},
		{"requester", "$JS.API.CONSUMER.CREATE." + bus.StreamRecordsReady + ".spy", corePublish},
		{"requester", "gp2gp.>", subscribe},
		{"requester", "_INBOX_gp2gp-sender.>", subscribe},
		{"receiver", "$O." + bus.RecordsBucket(practiceA.ODS) + ".>", subscribe},
	}
	for _, tc := range cases {
		t.Run(tc.service+" "+tc.subject, func(t *testing.T) {
			c := clients[tc.service]
			c.refused(t, tc.subject, tc.op(c, tc.subject))
		})
	}
}

func TestVendorsReachOnlyTheirPractices(t *testing.T) {
	spec := deployed(t)
	s := startSecure(t, spec)
	ensureAll(t, s)
	ctx := natstest.Context(t, 30*time.Second)
	alpha := s.connectAs(vendorOf(t, spec, "A12345"))

	// Its own practice: register, answer, report outcomes, read its record
	// requests and received records, use its records bucket.
	for _, subj := range []string{bus.RegistrationSubject("A12345"), bus.RecordResponseSubject("A12345"), bus.IntegrationOutcomeSubject("A12345")} {
		_, err := alpha.js.Publish(ctx, subj, []byte("x"))
		require.NoError(t, err, subj)
	}
	for _, spec := range []bus.ConsumerSpec{bus.PracticeRecordRequests("A12345"), bus.PracticeRecordsReady("A12345")} {
		cons, err := alpha.js.CreateOrUpdateConsumer(ctx, spec.Stream, spec.Config())
		require.NoError(t, err, spec.Durable)
		_, err = cons.Fetch(1, jetstream.FetchMaxWait(100*time.Millisecond))
		require.NoError(t, err)
		_, err = alpha.js.Publish(ctx, bus.DeadLetterSubject(spec.Stream, spec.Durable), []byte("x"))
		require.NoError(t, err)
	}
	own, err := alpha.js.ObjectStore(ctx, bus.RecordsBucket("A12345"))
	require.NoError(t, err)
	_, err = own.PutBytes(ctx, "content", []byte("record"))
	require.NoError(t, err)
	_, err = own.GetBytes(ctx, "content")
	require.NoError(t, err)
	alpha.noViolations(t)

	readyB := bus.PracticeRecordsReady("B86041")
	anyReady := bus.PracticeRecordsReady("A12345")
	anyReady.FilterSubjects = []string{bus.RecordReadySubject("*")}
	cases := []struct {
		name, subject string
		op            func(context.Context) error
	}{
		{"register at another practice", bus.RegistrationSubject("B86041"), jsPublish(alpha, bus.RegistrationSubject("B86041"))},
		{"answer for another practice", bus.RecordResponseSubject("B86041"), corePublish(alpha, bus.RecordResponseSubject("B86041"))},
		{"integrate for another practice", bus.IntegrationOutcomeSubject("B86041"), corePublish(alpha, bus.IntegrationOutcomeSubject("B86041"))},
		{"read another practice's records", "$JS.API.CONSUMER.CREATE." + readyB.Stream + "." + readyB.Durable + "." + readyB.FilterSubjects[0],
			func(ctx context.Context) error {
				_, err := alpha.js.CreateOrUpdateConsumer(ctx, readyB.Stream, readyB.Config())
				return err
			}},
		{"widen its own consumer's filter", "$JS.API.CONSUMER.CREATE." + anyReady.Stream + "." + anyReady.Durable + "." + anyReady.FilterSubjects[0],
			func(ctx context.Context) error {
				_, err := alpha.js.CreateOrUpdateConsumer(ctx, anyReady.Stream, anyReady.Config())
				return err
			}},
		{"pull from another practice's consumer", "$JS.API.CONSUMER.MSG.NEXT." + readyB.Stream + "." + readyB.Durable,
			corePublish(alpha, "$JS.API.CONSUMER.MSG.NEXT."+readyB.Stream+"."+readyB.Durable)},
		{"read another practice's records bucket", "$JS.API.STREAM.INFO.OBJ_" + bus.RecordsBucket("B86041"),
			func(ctx context.Context) error {
				_, err := alpha.js.ObjectStore(ctx, bus.RecordsBucket("B86041"))
				return err
			}},
		{"read a stream directly", "$JS.API.DIRECT.GET." + bus.StreamRecordsReady,
			corePublish(alpha, "$JS.API.DIRECT.GET."+bus.StreamRecordsReady)},
		{"listen to another practice", "gp2gp.practice.B86041.>", subscribe(alpha, "gp2gp.practice.B86041.>")},
		{"listen to the Spine", "gp2gp.spine.in.>", subscribe(alpha, "gp2gp.spine.in.>")},
		{"create a stream", "$JS.API.STREAM.CREATE.SPY", corePublish(alpha, "$JS.API.STREAM.CREATE.SPY")},
		{"read transfer state", "$KV." + bus.BucketTransfers + ".>", subscribe(alpha, "$KV."+bus.BucketTransfers+".>")},
		{"read the dead letters", "$JS.API.CONSUMER.CREATE." + bus.StreamDeadLetter, corePublish(alpha, "$JS.API.CONSUMER.CREATE."+bus.StreamDeadLetter)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { alpha.refused(t, tc.subject, tc.op) })
	}
}

func TestOnlyKnownCertificatesConnect(t *testing.T) {
	s := startSecure(t, deployed(t))
	// A certificate from the right CA for a user the server does not know.
	_, err := s.dial(s.srv.CA, "gp2gp-intruder", "_INBOX_gp2gp-intruder")
	require.Error(t, err)
	assert.Contains(t, strings.ToLower(err.Error()), "authorization violation")
	// A known user's name on a certificate from another CA.
	other, err := natsauth.NewCA("another CA", time.Hour)
	require.NoError(t, err)
	_, err = s.dial(other, "gp2gp-requester", natsauth.InboxPrefix("gp2gp-requester"))
	require.Error(t, err, "a client certificate the server's CA did not issue")
}

func TestOperatorInspectsButCannotReconfigure(t *testing.T) {
	s := startSecure(t, deployed(t))
	ensureAll(t, s)
	ctx := natstest.Context(t, 30*time.Second)
	op := s.connectAs(natsauth.CommonName("operator-" + deployed(t).Operators[0]))
	kv, err := op.js.KeyValue(ctx, bus.BucketTransfers)
	require.NoError(t, err)
	_, err = kv.Keys(ctx)
	require.ErrorIs(t, err, jetstream.ErrNoKeysFound)
	_, err = op.js.Stream(ctx, bus.StreamDeadLetter)
	require.NoError(t, err)
	_, err = op.js.Publish(ctx, bus.CommandSubject("sending", "A12345", bus.CommandResend), []byte("x"))
	require.NoError(t, err)
	op.noViolations(t)
	op.refused(t, "$JS.API.STREAM.DELETE."+bus.StreamTimers, corePublish(op, "$JS.API.STREAM.DELETE."+bus.StreamTimers))
	op.refused(t, "$JS.API.DIRECT.GET.OBJ_"+bus.RecordsBucket("A12345"), corePublish(op, "$JS.API.DIRECT.GET.OBJ_"+bus.RecordsBucket("A12345")))
}

func TestSpecRejectsBadNames(t *testing.T) {
	testSpec := deployed(t)
	for _, spec := range []natsauth.Spec{
		{Practices: testSpec.Practices, Vendors: []natsauth.VendorSpec{{Name: "Bad Name", ODS: []string{"A12345"}}}},
		{Practices: testSpec.Practices, Vendors: []natsauth.VendorSpec{{Name: "v", ODS: []string{"a1"}}}},
		{Practices: testSpec.Practices, Vendors: []natsauth.VendorSpec{{Name: "v"}}},
		{Practices: testSpec.Practices, Operators: []string{"x", "x"}},
		{},
	} {
		_, err := spec.Users()
		assert.Error(t, err, fmt.Sprintf("%+v", spec))
	}
}

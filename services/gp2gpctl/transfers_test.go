package gp2gpctl_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/natsembed/natstest"
	"github.com/nhsengland/gp2gp/libs/service"
	"github.com/nhsengland/gp2gp/libs/service/ops"
	"github.com/nhsengland/gp2gp/libs/transfer"
	"github.com/nhsengland/gp2gp/services/gp2gpctl"
)

const (
	convDone   = "11111111-0000-4000-8000-000000000001" // both sides: INTEGRATED, COMPLETED
	convFailed = "22222222-0000-4000-8000-000000000002" // both sides: FAILED, REQUEST_REJECTED (06)
	convStuck  = "33333333-0000-4000-8000-000000000003" // requesting only: REQUEST_SENT ten days ago
	convAbsent = "66666666-0000-4000-8000-000000000006"
)

var (
	newPractice = transfer.Practice{ODS: "A12345", ASID: "200000000101"}
	oldPractice = transfer.Practice{ODS: "B86041", ASID: "200000000102"}
)

// deployment is an embedded JetStream holding transfers written by the
// transfer store at chosen times, relative to the real clock (gp2gpctl
// measures ages with it). base is ten days and a half hour ago, so that
// printed ages (in whole hours) do not depend on how long the test takes.
type deployment struct {
	t     *testing.T
	ctx   context.Context
	url   string
	store *transfer.Store
	base  time.Time

	mu  sync.Mutex
	now time.Time
}

func (d *deployment) clock() time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.now
}

func (d *deployment) at(offset time.Duration) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.now = d.base.Add(offset)
}

func newDeployment(t *testing.T) *deployment {
	t.Helper()
	srv := natstest.NewServer(t)
	js := srv.JetStream()
	ctx := natstest.Context(t, 60*time.Second)
	var lifecycle bus.StreamSpec
	for _, s := range bus.Streams() {
		if s.Name == bus.StreamLifecycle {
			lifecycle = s
		}
	}
	require.NoError(t, bus.Ensure(ctx, js, bus.DevProfile, bus.Topology{
		Streams:   []bus.StreamSpec{lifecycle},
		KeyValues: []bus.KeyValueSpec{bus.TransfersBucket},
	}))
	b, err := bus.New(js)
	require.NoError(t, err)
	d := &deployment{t: t, ctx: ctx, url: srv.URL(), base: time.Now().UTC().Add(-10*24*time.Hour - 30*time.Minute).Truncate(time.Second)}
	d.now = d.base
	d.store, err = transfer.NewStore(ctx, b, transfer.WithClock(d.clock))
	require.NoError(t, err)
	return d
}

func (d *deployment) create(side transfer.Side, conv string, practice, peer transfer.Practice, msgs ...transfer.Message) {
	d.t.Helper()
	rec := transfer.New(side, conv, practice)
	rec.Peer = peer
	for _, m := range msgs {
		m.At = d.clock()
		rec.RecordMessage(m)
	}
	_, err := d.store.Create(d.ctx, rec)
	require.NoError(d.t, err)
}

func (d *deployment) step(side transfer.Side, conv string, to transfer.State, r transfer.Reason, msgs ...transfer.Message) {
	d.t.Helper()
	_, err := d.store.Update(d.ctx, side, conv, func(rec *transfer.Transfer) error {
		for _, m := range msgs {
			m.At = d.clock()
			rec.RecordMessage(m)
		}
		return rec.Transition(to, r)
	})
	require.NoError(d.t, err)
}

func message(id, interaction, role string, dir transfer.Direction) transfer.Message {
	return transfer.Message{ID: id, Interaction: interaction, Role: role, Direction: dir}
}

// seed writes the three transfers.
func (d *deployment) seed() {
	d.t.Helper()
	const (
		R = transfer.Requesting
		S = transfer.Sending
	)
	in, out := transfer.Inbound, transfer.Outbound
	none := transfer.Reason{}
	day, sec := 24*time.Hour, time.Second

	d.at(0)
	d.create(R, convStuck, newPractice, oldPractice)
	d.at(sec)
	_, err := d.store.Update(d.ctx, R, convStuck, func(rec *transfer.Transfer) error {
		rec.RecordMessage(transfer.Message{ID: "A3", Interaction: "RCMR_IN010000UK05", Role: transfer.RoleEHRRequest, Direction: out, At: d.clock()})
		rec.Deadlines = map[string]time.Time{"request-ack": d.clock().Add(8 * day)}
		return rec.Transition(transfer.RequestSent, none)
	})
	require.NoError(d.t, err)

	reqDone := message("A1", "RCMR_IN010000UK05", transfer.RoleEHRRequest, out)
	extDone := message("B1", "RCMR_IN030000UK06", transfer.RoleEHRExtract, in)
	ackDone := transfer.Message{ID: "C1", Interaction: "MCCI_IN010000UK13", Role: transfer.RoleFinalAck, AckType: "AA", Ref: "B1", Direction: out}
	d.at(5 * day)
	d.create(R, convDone, newPractice, oldPractice)
	d.at(5*day + sec)
	d.step(R, convDone, transfer.RequestSent, none, reqDone)
	d.at(5*day + 2*sec)
	reqIn := reqDone
	reqIn.Direction = in
	d.create(S, convDone, oldPractice, newPractice, reqIn)
	d.at(5*day + 3*sec)
	d.step(S, convDone, transfer.RecordRequested, none)
	d.at(5*day + 4*sec)
	extOut := extDone
	extOut.Direction = out
	d.step(S, convDone, transfer.ExtractSent, none, extOut)
	d.at(5*day + 5*sec)
	d.step(R, convDone, transfer.ExtractReceived, none, extDone)
	d.at(5*day + 6*sec)
	d.step(R, convDone, transfer.ReadyToIntegrate, none)
	d.at(5*day + 7*sec)
	d.step(R, convDone, transfer.Integrated, none, ackDone)
	d.at(5*day + 8*sec)
	ackIn := ackDone
	ackIn.Direction = in
	d.step(S, convDone, transfer.Completed, none, ackIn)

	notHere := transfer.Reason{Code: "06", Detail: "patient not at surgery"}
	nack := transfer.Message{ID: "C2", Interaction: "MCCI_IN010000UK13", Role: transfer.RoleRequestAck, AckType: "AR", Code: "06", Ref: "A2"}
	d.at(8 * day)
	d.create(R, convFailed, newPractice, oldPractice)
	d.step(R, convFailed, transfer.RequestSent, none, message("A2", "RCMR_IN010000UK05", transfer.RoleEHRRequest, out))
	d.at(8*day + sec)
	d.create(S, convFailed, oldPractice, newPractice, message("A2", "RCMR_IN010000UK05", transfer.RoleEHRRequest, in))
	d.at(8*day + 2*sec)
	nackOut := nack
	nackOut.Direction = out
	d.step(S, convFailed, transfer.RequestRejected, notHere, nackOut)
	d.at(8*day + 3*sec)
	nackIn := nack
	nackIn.Direction = in
	d.step(R, convFailed, transfer.Failed, notHere, nackIn)
}

func ctl(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = gp2gpctl.Run(context.Background(), args, &out, &errOut)
	return out.String(), errOut.String(), code
}

// inOrder asserts that each of parts appears in s after the one before.
func inOrder(t *testing.T, s string, parts ...string) {
	t.Helper()
	rest := s
	for _, p := range parts {
		i := strings.Index(rest, p)
		if !assert.GreaterOrEqual(t, i, 0, "%q missing or out of order in\n%s", p, s) {
			return
		}
		rest = rest[i+len(p):]
	}
}

func TestStatus(t *testing.T) {
	d := newDeployment(t)
	d.seed()

	t.Run("text, both sides", func(t *testing.T) {
		out, errOut, code := ctl(t, "status", "-nats", d.url, strings.ToLower(convDone))
		require.Equal(t, gp2gpctl.ExitOK, code, errOut)
		assert.Empty(t, errOut)
		inOrder(t, out,
			"conversation "+convDone,
			"requesting  INTEGRATED (final)",
			"practice A12345 (ASID 200000000101), peer B86041 (ASID 200000000102)",
			"last change "+d.base.Add(5*24*time.Hour+7*time.Second).Format("2006-01-02T15:04:05.000Z"),
			"sending     COMPLETED (final)",
			"practice B86041 (ASID 200000000102), peer A12345 (ASID 200000000101)",
			"timeline",
			"TIME", "SIDE", "KIND", "WHAT", "REASON", "DETAIL",
		)
		lines := strings.Split(strings.TrimSpace(out[strings.Index(out, "\ntimeline\n"):]), "\n")
		require.Len(t, lines, 2+15, out) // "timeline", the header, 15 entries
		want := []string{
			"requesting  state    started REGISTERED",
			"requesting  message  sent EHR Request (RCMR_IN010000UK05)",
			"requesting  state    REGISTERED → REQUEST_SENT",
			"sending     state    started REQUEST_RECEIVED",
			"sending     message  received EHR Request (RCMR_IN010000UK05)",
			"sending     state    REQUEST_RECEIVED → RECORD_REQUESTED",
			"sending     message  sent EHR Extract (RCMR_IN030000UK06)",
			"sending     state    RECORD_REQUESTED → EXTRACT_SENT",
			"requesting  message  received EHR Extract (RCMR_IN030000UK06)",
			"requesting  state    REQUEST_SENT → EXTRACT_RECEIVED",
			"requesting  state    EXTRACT_RECEIVED → READY_TO_INTEGRATE",
			"requesting  message  sent final acknowledgement AA (MCCI_IN010000UK13)",
			"requesting  state    READY_TO_INTEGRATE → INTEGRATED (final)",
			"sending     message  received final acknowledgement AA (MCCI_IN010000UK13)",
			"sending     state    EXTRACT_SENT → COMPLETED (final)",
		}
		for i, w := range want {
			assert.Contains(t, lines[2+i], w, "timeline line %d", i)
		}
		assert.Contains(t, lines[2], d.base.Add(5*24*time.Hour).Format("2006-01-02T15:04:05.000Z"))
		assert.Contains(t, lines[13], "id C1; acknowledges B1")
	})
	t.Run("text, a failure and its reason", func(t *testing.T) {
		out, errOut, code := ctl(t, "status", convFailed, "-nats", d.url)
		require.Equal(t, gp2gpctl.ExitOK, code, errOut)
		inOrder(t, out,
			"requesting  FAILED (final)",
			"reason 06 Patient not at surgery. — patient not at surgery",
			"sending     REQUEST_REJECTED (final)",
			"reason 06 Patient not at surgery. — patient not at surgery",
			"timeline",
			"sending     message  sent request acknowledgement AR (MCCI_IN010000UK13)      06 Not at surgery",
			"sending     state    REQUEST_RECEIVED → REQUEST_REJECTED (final)",
			"06 Not at surgery  patient not at surgery",
			"requesting  state    REQUEST_SENT → FAILED (final)",
		)
	})
	t.Run("text, one side and an overdue deadline", func(t *testing.T) {
		out, errOut, code := ctl(t, "status", "-nats", d.url, convStuck)
		require.Equal(t, gp2gpctl.ExitOK, code, errOut)
		inOrder(t, out,
			"requesting  REQUEST_SENT\n",
			"last change", "(10d00h ago)",
			"deadline request-ack", "(2d00h overdue)",
			"sending     no record (this deployment does not hold the sending side)",
		)
	})
	t.Run("JSON", func(t *testing.T) {
		out, errOut, code := ctl(t, "status", "-json", convFailed, "-nats", d.url)
		require.Equal(t, gp2gpctl.ExitOK, code, errOut)
		var st ops.Status
		require.NoError(t, json.Unmarshal([]byte(out), &st), out)
		assert.Equal(t, convFailed, st.ConversationID)
		require.NotNil(t, st.Requesting)
		require.NotNil(t, st.Sending)
		assert.Equal(t, transfer.Failed, st.Requesting.State)
		assert.Equal(t, "06", st.Requesting.ReasonCode)
		assert.Equal(t, transfer.RequestRejected, st.Sending.State)
		require.Len(t, st.Timeline, 9)
		assert.Equal(t, ops.EntryState, st.Timeline[8].Kind)
		assert.Equal(t, "patient not at surgery", st.Timeline[8].Detail)
		assert.Equal(t, "06", st.Timeline[7].ReasonCode)
		assert.Equal(t, "C2", st.Timeline[7].Message.ID)
	})
	t.Run("unknown conversation", func(t *testing.T) {
		out, errOut, code := ctl(t, "status", "-nats", d.url, convAbsent)
		assert.Equal(t, gp2gpctl.ExitFailure, code)
		assert.Empty(t, out)
		assert.Equal(t, "gp2gpctl status: no transfer with conversation id "+convAbsent+" (on either side)\n", errOut)
	})
	t.Run("usage", func(t *testing.T) {
		for _, args := range [][]string{
			{"status", "-nats", d.url},
			{"status", "-nats", d.url, convDone, convFailed},
			{"status", "-frobnicate", convDone},
		} {
			_, errOut, code := ctl(t, args...)
			assert.Equal(t, gp2gpctl.ExitUsage, code, args)
			assert.NotEmpty(t, errOut, args)
		}
	})
}

func TestList(t *testing.T) {
	d := newDeployment(t)
	d.seed()

	// rows parses the text table: the fields of each line after the header.
	rows := func(t *testing.T, out string) [][]string {
		t.Helper()
		lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
		require.NotEmpty(t, lines)
		assert.Equal(t, []string{"CONVERSATION", "SIDE", "STATE", "PRACTICE", "→", "PEER", "AGE", "REASON"}, strings.Fields(lines[0]))
		var out2 [][]string
		for _, l := range lines[1:] {
			out2 = append(out2, strings.Fields(l))
		}
		return out2
	}

	t.Run("text, everything, most recent first", func(t *testing.T) {
		out, errOut, code := ctl(t, "list", "-nats", d.url)
		require.Equal(t, gp2gpctl.ExitOK, code, errOut)
		assert.Equal(t, [][]string{
			{convFailed, "requesting", "FAILED", "A12345", "→", "B86041", "2d00h", "06", "Not", "at", "surgery"},
			{convFailed, "sending", "REQUEST_REJECTED", "B86041", "→", "A12345", "2d00h", "06", "Not", "at", "surgery"},
			{convDone, "sending", "COMPLETED", "B86041", "→", "A12345", "5d00h"},
			{convDone, "requesting", "INTEGRATED", "A12345", "→", "B86041", "5d00h"},
			{convStuck, "requesting", "REQUEST_SENT", "A12345", "→", "B86041", "10d00h"},
		}, rows(t, out))
	})

	ids := func(t *testing.T, out string) []string {
		t.Helper()
		var got []string
		for _, r := range rows(t, out) {
			if r[0] == "…" {
				continue
			}
			got = append(got, r[0]+" "+r[1])
		}
		return got
	}
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"state", []string{"-state", "request_rejected"}, []string{convFailed + " sending"}},
		{"active", []string{"-state", "active"}, []string{convStuck + " requesting"}},
		{"terminal on one side", []string{"-state", "terminal", "-side", "requesting"}, []string{convFailed + " requesting", convDone + " requesting"}},
		{"practice", []string{"-practice", "B86041", "-side", "sending"}, []string{convFailed + " sending", convDone + " sending"}},
		{"stuck", []string{"-stuck", "2d"}, []string{convStuck + " requesting"}},
		{"stuck for longer than anything", []string{"-stuck", "11d"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := ctl(t, append([]string{"list", "-nats", d.url}, tt.args...)...)
			require.Equal(t, gp2gpctl.ExitOK, code, errOut)
			if tt.want == nil {
				assert.Empty(t, out)
				assert.Equal(t, "gp2gpctl list: no transfers match\n", errOut)
				return
			}
			assert.Equal(t, tt.want, ids(t, out))
		})
	}

	t.Run("limit", func(t *testing.T) {
		out, errOut, code := ctl(t, "list", "-nats", d.url, "-limit", "2")
		require.Equal(t, gp2gpctl.ExitOK, code, errOut)
		assert.Equal(t, []string{convFailed + " requesting", convFailed + " sending"}, ids(t, out))
		assert.True(t, strings.HasSuffix(out, "… and 3 more (5 matched); use -limit to see more\n"), out)
	})
	t.Run("JSON", func(t *testing.T) {
		out, errOut, code := ctl(t, "list", "-json", "-nats", d.url, "-state", "FAILED")
		require.Equal(t, gp2gpctl.ExitOK, code, errOut)
		var l ops.TransferList
		require.NoError(t, json.Unmarshal([]byte(out), &l), out)
		assert.Equal(t, 1, l.Matched)
		require.Len(t, l.Transfers, 1)
		assert.Equal(t, ops.Summary{
			ConversationID: convFailed, Side: transfer.Requesting, State: transfer.Failed, Terminal: true,
			Practice: "A12345", Peer: "B86041", LastChangeAt: d.base.Add(8*24*time.Hour + 3*time.Second), ReasonCode: "06",
		}, l.Transfers[0])
	})
	t.Run("JSON, nothing matches", func(t *testing.T) {
		out, errOut, code := ctl(t, "list", "-json", "-nats", d.url, "-practice", "Z99999")
		require.Equal(t, gp2gpctl.ExitOK, code, errOut)
		assert.JSONEq(t, `{"matched":0,"transfers":[]}`, out)
	})
	t.Run("usage", func(t *testing.T) {
		for _, args := range [][]string{
			{"-stuck", "banana"}, {"-stuck", "-3h"}, {"-side", "both"}, {"-state", "DONE"}, {"-limit", "0"},
			{"-limit", "20000"}, {"extra"},
		} {
			out, errOut, code := ctl(t, append([]string{"list", "-nats", d.url}, args...)...)
			assert.Equal(t, gp2gpctl.ExitUsage, code, args)
			assert.Empty(t, out, args)
			assert.NotEmpty(t, errOut, args)
		}
	})
}

func TestConnectionProblems(t *testing.T) {
	t.Run("no server", func(t *testing.T) {
		for _, cmd := range [][]string{{"status", convDone}, {"list"}} {
			out, errOut, code := ctl(t, append(cmd, "-nats", "nats://alice:s3cret@127.0.0.1:1")...)
			assert.Equal(t, gp2gpctl.ExitFailure, code)
			assert.Empty(t, out)
			assert.Equal(t, "gp2gpctl "+cmd[0]+": cannot connect to NATS at nats://alice:xxxxx@127.0.0.1:1: nats: no servers available for connection\n", errOut)
		}
	})
	t.Run("no transfers bucket", func(t *testing.T) {
		srv := natstest.NewServer(t)
		_, errOut, code := ctl(t, "list", "-nats", srv.URL())
		assert.Equal(t, gp2gpctl.ExitFailure, code)
		assert.Equal(t, "gp2gpctl list: NATS at "+srv.URL()+" has no gp2gp_transfers bucket: no gp2gp service has run there\n", errOut)
	})
}

func TestConfigFromEnvironment(t *testing.T) {
	d := newDeployment(t)
	d.seed()

	t.Run("GP2GP_NATS_URL", func(t *testing.T) {
		t.Setenv(service.EnvNATSURL, d.url)
		_, errOut, code := ctl(t, "status", convDone)
		assert.Equal(t, gp2gpctl.ExitOK, code, errOut)
	})
	t.Run("-nats overrides GP2GP_NATS_URL", func(t *testing.T) {
		t.Setenv(service.EnvNATSURL, "nats://127.0.0.1:1")
		_, errOut, code := ctl(t, "status", "-nats", d.url, convDone)
		assert.Equal(t, gp2gpctl.ExitOK, code, errOut)
	})
	t.Run("a certificate without its key", func(t *testing.T) {
		t.Setenv(service.EnvNATSTLSCert, "/etc/gp2gp/client.pem")
		_, errOut, code := ctl(t, "list", "-nats", d.url)
		assert.Equal(t, gp2gpctl.ExitFailure, code)
		assert.Contains(t, errOut, "GP2GP_NATS_TLS_CERT and GP2GP_NATS_TLS_KEY go together")
	})
	t.Run("a credentials file that is not there", func(t *testing.T) {
		t.Setenv(service.EnvNATSCreds, t.TempDir()+"/missing.creds")
		_, errOut, code := ctl(t, "list", "-nats", d.url)
		assert.Equal(t, gp2gpctl.ExitFailure, code)
		assert.Contains(t, errOut, "gp2gpctl list: configuration: GP2GP_NATS_CREDS: stat ")
		assert.Contains(t, errOut, "missing.creds: no such file or directory")
		assert.Equal(t, 1, strings.Count(errOut, "\n"))
	})
	t.Run("the services' other variables are not gp2gpctl's concern", func(t *testing.T) {
		t.Setenv(service.EnvPractices, "not a practice list")
		t.Setenv(service.EnvLogLevel, "chatty")
		_, errOut, code := ctl(t, "list", "-nats", d.url)
		assert.Equal(t, gp2gpctl.ExitOK, code, errOut)
	})
}

func TestUsageNamesTheTransferCommands(t *testing.T) {
	out, _, code := ctl(t, "help")
	assert.Equal(t, gp2gpctl.ExitOK, code)
	for _, s := range []string{"gp2gpctl inspect", "gp2gpctl status CONVERSATION-ID", "gp2gpctl list", "-stuck", "GP2GP_NATS_URL"} {
		assert.Contains(t, out, s)
	}
}

package ops_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/service/ops"
	"github.com/nhsengland/gp2gp/libs/transfer"
)

// key names a listed side as "<side> <conversation>".
func keys(res *ops.ListResult) []string {
	out := []string{}
	for _, t := range res.Transfers {
		out = append(out, string(t.Side)+" "+t.ConversationID)
	}
	return out
}

const (
	reqDone   = "requesting " + convDone
	sendDone  = "sending " + convDone
	reqFailed = "requesting " + convFailed
	sendFail  = "sending " + convFailed
	reqStuck  = "requesting " + convStuck
	reqOther  = "requesting " + convOther
)

func TestKVTransferReaderList(t *testing.T) {
	f := newFixture(t)
	f.seed()
	r := f.reader()
	day := 24 * time.Hour

	tests := []struct {
		name        string
		filter      ops.Filter
		now         time.Duration // clock, from t0; default 10 days
		want        []string
		wantMatched int
	}{
		{name: "everything, most recent change first", filter: ops.Filter{},
			want: []string{reqOther, reqFailed, sendFail, sendDone, reqDone, reqStuck}},
		{name: "one side", filter: ops.Filter{Side: transfer.Sending},
			want: []string{sendFail, sendDone}},
		{name: "exact state, any case", filter: ops.Filter{State: "request_sent"},
			want: []string{reqStuck}},
		{name: "state shared by both sides", filter: ops.Filter{State: "FAILED"},
			want: []string{reqFailed}},
		{name: "active", filter: ops.Filter{State: ops.StateActive},
			want: []string{reqOther, reqStuck}},
		{name: "terminal", filter: ops.Filter{State: ops.StateTerminal},
			want: []string{reqFailed, sendFail, sendDone, reqDone}},
		{name: "practice matches the side's practice or its peer", filter: ops.Filter{Practice: "b86041", Side: transfer.Requesting},
			want: []string{reqFailed, reqDone, reqStuck}},
		{name: "practice with no transfers", filter: ops.Filter{Practice: "Z99999"},
			want: []string{}},
		{name: "another practice", filter: ops.Filter{Practice: "C81001"},
			want: []string{reqOther}},
		{name: "stuck for a day: non-terminal and unchanged, longest first", filter: ops.Filter{Stuck: day}, now: 10*day + time.Hour,
			want: []string{reqStuck, reqOther}},
		{name: "stuck for two days", filter: ops.Filter{Stuck: 2 * day},
			want: []string{reqStuck}},
		{name: "stuck measured from the injected clock", filter: ops.Filter{Stuck: 2 * day}, now: 9*day + time.Hour,
			want: []string{reqStuck}},
		{name: "a transfer registered an hour ago is not stuck", filter: ops.Filter{Stuck: day}, now: 9*day + time.Hour,
			want: []string{reqStuck}},
		{name: "stuck boundary is exclusive", filter: ops.Filter{Stuck: 10*day - time.Second}, now: 10 * day,
			want: []string{}},
		{name: "just past the boundary", filter: ops.Filter{Stuck: 10*day - time.Second}, now: 10*day + time.Millisecond,
			want: []string{reqStuck}},
		{name: "limit keeps the first, counts them all", filter: ops.Filter{Limit: 2},
			want: []string{reqOther, reqFailed}, wantMatched: 6},
		{name: "limit with a filter", filter: ops.Filter{State: ops.StateTerminal, Limit: 1},
			want: []string{reqFailed}, wantMatched: 4},
		{name: "filters combine", filter: ops.Filter{Side: transfer.Requesting, State: ops.StateActive, Practice: "A12345"},
			want: []string{reqStuck}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := tt.now
			if now == 0 {
				now = 10 * day
			}
			f.at(now)
			res, err := r.List(f.ctx, tt.filter)
			require.NoError(t, err)
			assert.Equal(t, tt.want, keys(res))
			matched := tt.wantMatched
			if matched == 0 {
				matched = len(tt.want)
			}
			assert.Equal(t, matched, res.Matched)
			assert.Empty(t, res.Unreadable)
		})
	}
}

func TestKVTransferReaderDefaultLimit(t *testing.T) {
	f := newFixture(t)
	for i := range ops.DefaultLimit + 5 {
		f.at(time.Duration(i) * time.Minute)
		f.create(transfer.Requesting, "99999999-0000-4000-8000-"+pad12(i), newPractice, oldPractice)
	}
	res, err := f.reader().List(f.ctx, ops.Filter{})
	require.NoError(t, err)
	assert.Len(t, res.Transfers, ops.DefaultLimit)
	assert.Equal(t, ops.DefaultLimit+5, res.Matched)
	// Most recent first: the five oldest are the ones left out.
	assert.Equal(t, "99999999-0000-4000-8000-"+pad12(ops.DefaultLimit+4), res.Transfers[0].ConversationID)
	assert.Equal(t, "99999999-0000-4000-8000-"+pad12(5), res.Transfers[ops.DefaultLimit-1].ConversationID)
}

func pad12(i int) string { return fmt.Sprintf("%012d", i) }

func TestKVTransferReaderUnreadable(t *testing.T) {
	f := newFixture(t)
	f.seed()
	_, err := f.kv.Put(f.ctx, "requesting.JUNK", []byte("not json"))
	require.NoError(t, err)
	_, err = f.kv.Put(f.ctx, "elsewhere.X", []byte("{}"))
	require.NoError(t, err)

	res, err := f.reader().List(f.ctx, ops.Filter{})
	require.NoError(t, err)
	assert.Len(t, res.Transfers, 6)
	assert.ElementsMatch(t, []string{"requesting.JUNK", "elsewhere.X"}, res.Unreadable)

	res, err = f.reader().List(f.ctx, ops.Filter{Side: transfer.Sending})
	require.NoError(t, err)
	assert.Len(t, res.Transfers, 2)
	assert.Empty(t, res.Unreadable, "a side filter lists that side's keys only")
}

func TestKVTransferReaderEmptyBucket(t *testing.T) {
	f := newFixture(t)
	res, err := f.reader().List(f.ctx, ops.Filter{})
	require.NoError(t, err)
	assert.Empty(t, res.Transfers)
	assert.Zero(t, res.Matched)
}

func TestFilterValidate(t *testing.T) {
	tests := []struct {
		name   string
		filter ops.Filter
		ok     bool
	}{
		{"zero", ops.Filter{}, true},
		{"requesting state on its side", ops.Filter{Side: transfer.Requesting, State: "integrated"}, true},
		{"sending state on the requesting side", ops.Filter{Side: transfer.Requesting, State: "COMPLETED"}, false},
		{"unknown state", ops.Filter{State: "DONE"}, false},
		{"unknown side", ops.Filter{Side: "both"}, false},
		{"negative stuck", ops.Filter{Stuck: -time.Hour}, false},
		{"negative limit", ops.Filter{Limit: -1}, false},
		{"limit too large", ops.Filter{Limit: ops.MaxLimit + 1}, false},
		{"largest limit", ops.Filter{Limit: ops.MaxLimit}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.filter.Validate()
			if tt.ok {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, ops.ErrInvalidFilter)
			}
		})
	}
}

func TestGetStatus(t *testing.T) {
	f := newFixture(t)
	f.seed()
	r := f.reader()

	st, err := ops.GetStatus(f.ctx, r, convFailed)
	require.NoError(t, err)
	require.NotNil(t, st.Requesting)
	require.NotNil(t, st.Sending)
	assert.Equal(t, transfer.Failed, st.Requesting.State)
	assert.True(t, st.Requesting.Terminal)
	assert.Equal(t, "06", st.Requesting.ReasonCode)
	assert.Equal(t, transfer.RequestRejected, st.Sending.State)
	assert.Equal(t, oldPractice, st.Requesting.Peer)
	assert.Len(t, st.Timeline, 9)

	st, err = ops.GetStatus(f.ctx, r, convStuck) // lower case is fine too
	require.NoError(t, err)
	assert.Nil(t, st.Sending)
	assert.Equal(t, transfer.RequestSent, st.Requesting.State)

	_, err = ops.GetStatus(f.ctx, r, "66666666-0000-4000-8000-000000000006")
	require.ErrorIs(t, err, transfer.ErrNotFound)
	_, err = ops.GetStatus(f.ctx, r, "not a conversation id")
	require.ErrorIs(t, err, transfer.ErrInvalid)
}

func TestParseAndFormatAge(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want time.Duration
	}{{"24h", 24 * time.Hour}, {"3d", 72 * time.Hour}, {"90m", 90 * time.Minute}, {"0d", 0}} {
		got, err := ops.ParseAge(tt.in)
		require.NoError(t, err, tt.in)
		assert.Equal(t, tt.want, got, tt.in)
	}
	for _, bad := range []string{"", "-1h", "3days", "d", "-2d", "1.5d"} {
		_, err := ops.ParseAge(bad)
		assert.ErrorIs(t, err, ops.ErrInvalidFilter, bad)
	}
	for d, want := range map[time.Duration]string{
		-time.Second: "0s", 42 * time.Second: "42s", 12 * time.Minute: "12m",
		3*time.Hour + 5*time.Minute: "3h05m", 52 * time.Hour: "2d04h",
	} {
		assert.Equal(t, want, ops.FormatAge(d))
	}
}

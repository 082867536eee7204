package devstack_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/mi"
	"github.com/nhsengland/gp2gp/libs/practicesim"
	"github.com/nhsengland/gp2gp/libs/service"
	"github.com/nhsengland/gp2gp/libs/transfer"
	gp2gpv1 "github.com/nhsengland/gp2gp/proto/gp2gp/v1"
	"github.com/nhsengland/gp2gp/services/mireporter"
)

// runMIReporter runs the mireporter beside the harness's stages with ODS
// metadata for the two practices, and returns its API's base URL.
func (h *harness) runMIReporter() string {
	h.t.Helper()
	path := filepath.Join(h.t.TempDir(), "ods.json")
	require.NoError(h.t, os.WriteFile(path, []byte(miMetadata()), 0o600))
	cfg := mireporter.Config{Config: h.cfg.Service, Cutoff: mireporter.DefaultCutoff, ODSMetadata: path, HTTPAddr: "127.0.0.1:0"}
	addr := make(chan string, 1)
	ctx, cancel := context.WithCancel(h.ctx)
	done := make(chan error, 1)
	go func() {
		done <- mireporter.Run(ctx, cfg, mireporter.WithClock(h.clock.Now), mireporter.WithClassifyInterval(20*time.Millisecond),
			mireporter.WithHTTPListening(func(a string) { addr <- a }),
			mireporter.WithStartOptions(service.WithLogOutput(testLog{h.t, "mireporter"})))
	}()
	h.t.Cleanup(func() {
		cancel()
		require.NoError(h.t, <-done)
	})
	select {
	case a := <-addr:
		return "http://" + a
	case err := <-done:
		h.t.Fatalf("mireporter stopped: %v", err)
	case <-time.After(30 * time.Second):
		h.t.Fatal("mireporter did not start")
	}
	return ""
}

// messageEvents reads every message event of the deployment, as the
// Spine message log would list them.
func (h *harness) messageEvents() []mi.Event {
	h.t.Helper()
	s, err := h.js.Stream(h.ctx, bus.StreamMessages)
	require.NoError(h.t, err)
	info, err := s.Info(h.ctx)
	require.NoError(h.t, err)
	var out []mi.Event
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && seq > 0; seq++ {
		raw, err := s.GetMsg(h.ctx, seq)
		if err != nil {
			continue
		}
		var ev gp2gpv1.MessageEvent
		require.NoError(h.t, bus.Decode(&bus.Msg{Data: raw.Data, Header: raw.Header}, &ev))
		e := mi.Event{ConversationID: ev.ConversationId, MessageID: ev.MessageId, Interaction: ev.Interaction,
			Sender: ev.SenderAsid, Recipient: ev.RecipientAsid, MessageRef: ev.MessageRef, Time: ev.OccurredAt.AsTime(),
			FromSystem: ev.FromSystem, ToSystem: ev.ToSystem}
		if ev.ErrorCode != "" {
			n, err := strconv.Atoi(ev.ErrorCode)
			require.NoError(h.t, err)
			e.ErrorCode = &n
		}
		out = append(out, e)
	}
	return out
}

func getJSON(t *testing.T, url string, into any) int {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	if resp.StatusCode == http.StatusOK {
		require.NoError(t, json.Unmarshal(data, into), string(data))
	}
	return resp.StatusCode
}

// Every wire message of real transfers is a message event; the mireporter
// classifies the transfers from them as the NHS classifier classifies the
// same messages from the Spine log.
func TestMIClassifiesRealTransfersAsTheNHSClassifierDoes(t *testing.T) {
	refused := practicesim.Patients()[1].NHSNumber
	h := newHarness(t, withRecords(func(nhs string) practicesim.RecordBehaviour {
		if nhs == refused {
			return practicesim.FailRecord(gp2gpv1.RecordFailureReason_RECORD_FAILURE_REASON_PATIENT_NOT_AT_PRACTICE)
		}
		return practicesim.SendRecord()
	}))
	h.start()
	base := h.runMIReporter()

	ok := h.register()
	bad, err := h.practice[newODS].Register(h.ctx, practicesim.Patients()[1].Registration(oldODS))
	require.NoError(t, err)
	h.waitState(transfer.Requesting, ok, transfer.Integrated)
	h.waitState(transfer.Requesting, bad, transfer.Failed)

	want := map[string]mi.Status{ok: mi.StatusIntegratedOnTime, bad: mi.StatusTechnicalFailure}
	got := map[string]mi.Transfer{}
	for conv, status := range want {
		require.Eventually(t, func() bool {
			var tr mi.Transfer
			if getJSON(t, base+"/api/v1/transfers/"+conv, &tr) != http.StatusOK || tr.Status != status {
				got[conv] = tr
				return false
			}
			got[conv] = tr
			return true
		}, 30*time.Second, 50*time.Millisecond, "MI classification of %s: %+v", conv, got)
	}
	assert.Equal(t, mi.ReasonFatalSenderError, got[bad].FailureReason)
	assert.False(t, got[ok].InProgress)
	require.NotNil(t, got[ok].RequestingPractice)
	assert.Equal(t, newODS, got[ok].RequestingPractice.ODSCode)
	assert.Equal(t, "gp2gp", got[ok].RequestingSupplier, "the deployment's system name")

	// The same events through the import path's classifier.
	md, err := mi.LoadMetadata(strings.NewReader(miMetadata()))
	require.NoError(t, err)
	imported := mi.Classify(h.messageEvents(), 14*24*time.Hour)
	mi.Attribute(imported, md.Lookup())
	require.Len(t, imported, 2)
	for _, w := range imported {
		g := got[w.ConversationID]
		g.InProgress = false
		wj, _ := json.Marshal(w)
		gj, _ := json.Marshal(g)
		assert.JSONEq(t, string(wj), string(gj), w.ConversationID)
	}

	var national struct {
		Metrics []mi.NationalMonth `json:"metrics"`
	}
	require.Equal(t, http.StatusOK, getJSON(t, base+"/api/v1/national?month=2026-11", &national))
	require.Len(t, national.Metrics, 1)
	assert.Equal(t, 2, national.Metrics[0].TransferCount)
	assert.Equal(t, 1, national.Metrics[0].IntegratedOnTime.TransferCount)
	assert.Equal(t, 1, national.Metrics[0].PaperFallback.TechnicalFailure.TransferCount)

	// Each message is one event, whichever stage sent it.
	seen := map[string]int{}
	for _, e := range h.messageEvents() {
		seen[e.MessageID]++
	}
	for id, n := range seen {
		assert.Equal(t, 1, n, "message %s", id)
	}
}

// miMetadata is the ODS metadata of the two practices, in one Sub-ICB
// location.
func miMetadata() string {
	return fmt.Sprintf(`{"practices":[{"odsCode":%q,"name":"New","asids":[%q]},{"odsCode":%q,"name":"Old","asids":[%q]}],
		"sicbls":[{"odsCode":"00L","name":"Test SICBL","practices":[%q,%q]}]}`, newODS, newASID, oldODS, oldASID, newODS, oldODS)
}

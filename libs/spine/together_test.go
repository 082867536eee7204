package spine_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/ebxml"
	"github.com/nhsengland/gp2gp/libs/spine"
)

// standInMHS is an MHS adaptor and Spine in one: it takes the outbound
// request, completes the envelope as the adaptor does from SDS, and
// delivers the inbound JSON to the recipient's inbound endpoint, as the
// recipient's adaptor and its queue bridge would.
func standInMHS(t *testing.T, inboundURL string) *fakeMHS {
	return newFakeMHS(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		err := func() error {
			h, err := ebxml.ParseOutboundHeaders(r.Header)
			if err != nil {
				return err
			}
			m, err := ebxml.ParseOutboundJSON(body, h)
			if err != nil {
				return err
			}
			mhsEnvelope(&m.Envelope)
			in, err := m.InboundJSON()
			if err != nil {
				return err
			}
			resp, err := http.Post(inboundURL, "application/json", bytes.NewReader(in))
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusAccepted {
				text, _ := io.ReadAll(resp.Body)
				return fmt.Errorf("inbound answered %d: %s", resp.StatusCode, text)
			}
			return nil
		}()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	})
}

// A message sent through the MHS adaptor and received through the inbound
// endpoint reaches the bus exactly as the loopback puts it there.
func TestMHSAndInboundDeliverLikeTheLoopback(t *testing.T) {
	for _, w := range wires(t) {
		t.Run(w.name, func(t *testing.T) {
			subject := bus.SpineInSubject(w.to, w.kind)

			lf := newFixture(t)
			loopback, err := spine.NewLoopback(lf.bus)
			require.NoError(t, err)
			require.NoError(t, loopback.Send(lf.ctx, w.outbound()))
			viaLoopback := lf.last(subject)

			mf := newFixture(t)
			inbound, err := spine.NewInbound(mf.bus, spine.WithServedASIDs(requesterASID, senderASID))
			require.NoError(t, err)
			inboundSrv := httptest.NewServer(inbound)
			t.Cleanup(inboundSrv.Close)
			mhs, err := spine.NewMHS(standInMHS(t, inboundSrv.URL).URL)
			require.NoError(t, err)
			require.NoError(t, mhs.Send(context.Background(), w.outbound()))
			viaMHS := mf.last(subject)

			assert.Equal(t, viaLoopback.Subject, viaMHS.Subject)
			assert.Equal(t, viaLoopback.Header, viaMHS.Header)
			assert.Equal(t, string(viaLoopback.Data), string(viaMHS.Data), "the same inbound JSON")
			a, err := spine.Read(viaLoopback)
			require.NoError(t, err)
			b, err := spine.Read(viaMHS)
			require.NoError(t, err)
			assert.Equal(t, a, b)
			assertSameWire(t, w.msg, b)
		})
	}
}

package hl7_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/nhsengland/gp2gp/libs/hl7"
	"github.com/nhsengland/gp2gp/libs/spectest"
)

// FuzzDecode: every input decodes or gives a *ValidationError; nothing
// panics; a message that decodes cleanly re-encodes (the writer accepts
// whatever the reader produced from a complete message) and decodes to the
// same ids.
func FuzzDecode(f *testing.F) {
	golden, _ := filepath.Glob(filepath.Join("testdata", "golden", "*.xml"))
	for _, g := range golden {
		if data, err := os.ReadFile(g); err == nil {
			f.Add(data)
		}
	}
	if dir, ok := spectest.Lookup(); ok {
		for _, s := range samples {
			if data, err := spectest.PayloadOf(dir, s.file); err == nil {
				f.Add(data)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := hl7.Decode(data)
		if err != nil {
			if _, ok := err.(*hl7.ValidationError); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		if m == nil {
			t.Fatal("nil message without an error")
		}
		reencodeKeepsIDs(t, m)
	})
}

func reencodeKeepsIDs(t *testing.T, m hl7.Message) {
	h := m.Header()
	if h.CreationTime.IsZero() {
		return // the writer needs a time the reader does not insist on
	}
	var out []byte
	var err error
	switch msg := m.(type) {
	case *hl7.Request:
		out, err = msg.Encode()
	case *hl7.Ack:
		if !msg.Reason.Known() && msg.Type.Negative() || msg.Type == hl7.AckAccept && msg.Reason != "" {
			return // the reader tolerates reason codes the writer refuses
		}
		out, err = msg.Encode()
	default:
		return // extracts and COPCs need values the reader does not insist on
	}
	if err != nil {
		return // a message the reader accepts may still lack a value the writer requires
	}
	back, err := hl7.Decode(out)
	if err != nil {
		t.Fatalf("re-encoded message does not decode: %v\n%s", err, out)
	}
	if back.Header().MessageID != h.MessageID || back.Header().ToASID != h.ToASID {
		t.Fatalf("ids changed in re-encoding: %+v vs %+v", back.Header(), h)
	}
}

package largemsg

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nhsengland/gp2gp/libs/ebxml"
	"github.com/nhsengland/gp2gp/libs/hl7"
)

// ErrNotLarge is returned by Continue for an extract that announces no
// external attachment: it needs no Continue.
var ErrNotLarge = errors.New("largemsg: the extract announces no external attachment")

// ErrNoAddress is returned by Continue when the extract does not say who
// sent it or to whom (ASIDs, ODS codes) and no option supplies it.
var ErrNoAddress = errors.New("largemsg: cannot address the continue")

// ContinueOption tunes Continue.
type ContinueOption func(*continueConfig) error

type continueConfig struct {
	requestingODS, sendingODS string
}

// WithRequestingODS sets the ODS code of the requesting practice (the
// Continue's From) instead of the extract's destination, which some
// senders leave out.
func WithRequestingODS(ods string) ContinueOption {
	return func(c *continueConfig) error {
		v, err := continueODS(ods)
		c.requestingODS = v
		return err
	}
}

// WithSendingODS sets the ODS code of the sending practice (the
// Continue's Recipient) instead of the extract's author.
func WithSendingODS(ods string) ContinueOption {
	return func(c *continueConfig) error {
		v, err := continueODS(ods)
		c.sendingODS = v
		return err
	}
}

func continueODS(ods string) (string, error) {
	v := strings.ToUpper(strings.TrimSpace(ods))
	if v == "" || strings.ContainsFunc(v, func(r rune) bool { return r <= ' ' || r > '~' }) {
		return "", fmt.Errorf("largemsg: ODS code %q is not a printable token", ods)
	}
	return v, nil
}

// Continue builds the Continue the requester sends for a large extract
// (protocol §1.7(a)): a COPC whose acknowledged id (messageRef) is the
// extract's ebXML MessageId, addressed back to the sender (the recipient
// ASID is the extract's sender ASID and the sender ASID its recipient
// ASID; Recipient is the sending practice's ODS code and From the
// requesting practice's, both read from the extract unless an option
// gives them). messageID and created are the Continue's own id and time:
// derive them (for example hl7.DeriveID(conversation, "continue")) so that
// a redelivered extract produces the very same Continue. Encode the result
// with its Encode method.
func Continue(core *ebxml.Message, messageID string, created time.Time, opts ...ContinueOption) (*hl7.COPC, error) {
	var cfg continueConfig
	for _, opt := range opts {
		if err := opt(&cfg); err != nil {
			return nil, err
		}
	}
	if core == nil {
		return nil, fmt.Errorf("%w: no extract", ErrNotExtract)
	}
	if !core.Large() {
		return nil, ErrNotLarge
	}
	extractID := hl7.NormalizeID(core.Envelope.MessageID)
	if extractID == "" {
		return nil, fmt.Errorf("%w: the extract has no ebXML MessageId", ErrNotExtract)
	}
	id := hl7.NormalizeID(messageID)
	if id == "" || created.IsZero() {
		return nil, errors.New("largemsg: the continue needs its message id and creation time")
	}
	x, err := hl7.DecodeExtract(core.Payload)
	if x == nil {
		// A *hl7.ValidationError still gives what could be read; only
		// an extract that cannot be read at all stops here.
		return nil, fmt.Errorf("largemsg: continue: %w", err)
	}
	sending, requesting := strings.ToUpper(x.SendingODS), strings.ToUpper(x.RequestingODS)
	if cfg.sendingODS != "" {
		sending = cfg.sendingODS
	}
	if cfg.requestingODS != "" {
		requesting = cfg.requestingODS
	}
	for _, f := range []struct{ name, value string }{
		{"sender ASID", x.FromASID},
		{"recipient ASID", x.ToASID},
		{"sending practice ODS code", sending},
		{"requesting practice ODS code", requesting},
	} {
		if strings.TrimSpace(f.value) == "" {
			return nil, fmt.Errorf("%w: the extract has no %s", ErrNoAddress, f.name)
		}
	}
	return &hl7.COPC{
		Wrapper: hl7.Wrapper{
			MessageID:    id,
			CreationTime: created,
			Interaction:  hl7.CommonContentCOPC,
			ToASID:       x.FromASID,
			FromASID:     x.ToASID,
		},
		Kind:           hl7.KindContinue,
		Recipients:     []string{sending},
		From:           requesting,
		Subject:        hl7.ContinueSubject,
		AcknowledgedID: extractID,
	}, nil
}

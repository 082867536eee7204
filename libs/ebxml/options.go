package ebxml

import (
	"fmt"

	"github.com/nhsengland/gp2gp/libs/xmldoc"
)

// DefaultMaxBytes is the largest input the parse functions accept unless
// WithMaxBytes says otherwise: well above Spine's 5 MB per message, and
// above the largest reassembled records seen, while still refusing
// absurd inputs before reading them.
const DefaultMaxBytes = 128 << 20

// DefaultMaxParts is the most MIME parts ParseMIME accepts unless
// WithMaxParts says otherwise. Spine allows 100 (envelope, payload and 98
// attachments); the default leaves room for sloppy peers.
const DefaultMaxParts = 1000

// Option tunes a parse function. Options validate their argument; a bad
// one makes the parse function fail with ErrOption before reading input.
type Option func(*options) error

type options struct {
	maxBytes int
	maxParts int
	xml      xmldoc.Limits
}

// WithMaxBytes refuses inputs longer than n bytes (n > 0) before parsing
// them. The limit also bounds the ebXML envelope's XML.
func WithMaxBytes(n int) Option {
	return func(o *options) error {
		if n <= 0 {
			return fmt.Errorf("max bytes must be positive, got %d", n)
		}
		o.maxBytes = n
		return nil
	}
}

// WithMaxParts refuses a MIME body with more than n parts (n > 0).
func WithMaxParts(n int) Option {
	return func(o *options) error {
		if n <= 0 {
			return fmt.Errorf("max parts must be positive, got %d", n)
		}
		o.maxParts = n
		return nil
	}
}

// WithXMLLimits sets the limits passed to xmldoc.Parse for the ebXML
// envelope (zero fields keep xmldoc's defaults; MaxBytes is further capped
// by WithMaxBytes). Negative fields are refused.
func WithXMLLimits(l xmldoc.Limits) Option {
	return func(o *options) error {
		if l.MaxBytes < 0 || l.MaxDepth < 0 || l.MaxAttrs < 0 {
			return fmt.Errorf("xml limits must not be negative, got %+v", l)
		}
		o.xml = l
		return nil
	}
}

func buildOptions(opts []Option) (options, error) {
	o := options{maxBytes: DefaultMaxBytes, maxParts: DefaultMaxParts}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&o); err != nil {
			return o, newError(PartMessage, ErrOption, err, "invalid option")
		}
	}
	if o.xml.MaxBytes == 0 || o.xml.MaxBytes > o.maxBytes {
		o.xml.MaxBytes = o.maxBytes
	}
	return o, nil
}

// checkSize refuses data over the size limit.
func (o options) checkSize(part Part, data []byte) error {
	if len(data) > o.maxBytes {
		return newError(part, ErrTooLarge, nil, "input of %d bytes exceeds the %d-byte limit", len(data), o.maxBytes)
	}
	return nil
}

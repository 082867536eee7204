package practicesim

import (
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/nhsengland/gp2gp/libs/bus"
	gp2gpv1 "github.com/nhsengland/gp2gp/proto/gp2gp/v1"
)

// Option configures a Practice. Options validate their values: New fails
// with an error wrapping ErrInvalidOption when one cannot be used.
type Option func(*Practice) error

// Record content defaults and bounds.
const (
	// DefaultRecordSize is the size of a generated EhrExtract, in bytes,
	// unless WithRecordSize says otherwise.
	DefaultRecordSize = 30_000
	// MaxRecordSize bounds WithRecordSize.
	MaxRecordSize = 100 << 20
	// MaxAttachments bounds WithAttachments.
	MaxAttachments = 500
	// MaxLargeAttachments bounds how many sizes WithLargeAttachments takes.
	MaxLargeAttachments = 16
	// MaxLargeAttachmentSize bounds each size given to WithLargeAttachments.
	MaxLargeAttachmentSize = 1 << 30
	// InlineLimit is the size from which an extract travels through the
	// object store instead of inside the RecordResponse. It also bounds
	// the RecordResponse: documents that would take its encoded size
	// (extract included, when inline) past InlineLimit travel through the
	// object store, which keeps the message well inside the bus inline
	// limit (bus.DefaultInlineLimit) whatever the number of documents.
	InlineLimit = 512 << 10
	// AttachmentInlineLimit is the size from which a document always
	// travels through the object store, however much room the
	// RecordResponse has left.
	AttachmentInlineLimit = 64 << 10
)

func invalidOption(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidOption}, args...)...)
}

// WithLogger sets the logger. Wrap its handler with bus.NewLogHandler to
// get the conversation id on every line. Default: discard.
func WithLogger(l *slog.Logger) Option {
	return func(p *Practice) error {
		if l == nil {
			return invalidOption("WithLogger: nil logger")
		}
		p.logger = l
		return nil
	}
}

// WithClock sets the time source for the times the practice writes
// (registered_at, decided_at) and records. Delays are measured on the wall
// clock, as JetStream redelivers on it. Default: time.Now.
func WithClock(now func() time.Time) Option {
	return func(p *Practice) error {
		if now == nil {
			return invalidOption("WithClock: nil clock")
		}
		p.now = now
		return nil
	}
}

// WithRecords sets how the practice answers a record request for each
// patient. policy is called once per delivery of a request, with its NHS
// number; it must be safe for concurrent use. Default: send the record.
// A request for a malformed NHS number is answered
// PATIENT_NOT_AT_PRACTICE without asking the policy.
func WithRecords(policy func(nhsNumber string) RecordBehaviour) Option {
	return func(p *Practice) error {
		if policy == nil {
			return invalidOption("WithRecords: nil policy")
		}
		p.records = policy
		return nil
	}
}

// WithIntegration sets what the practice reports for each record ready to
// integrate. policy is called once per delivery of a record that the
// receiver did not auto-integrate; it must not modify the message and must
// be safe for concurrent use. Default: report INTEGRATED.
func WithIntegration(policy func(ready *gp2gpv1.RecordReady) IntegrationBehaviour) Option {
	return func(p *Practice) error {
		if policy == nil {
			return invalidOption("WithIntegration: nil policy")
		}
		p.integration = policy
		return nil
	}
}

// WithRecordSize sets the size of the EhrExtract the practice generates,
// in bytes (1 to MaxRecordSize; small values give the smallest record the
// other options allow). Extracts of InlineLimit bytes or more are sent
// through the object store. Default: DefaultRecordSize.
func WithRecordSize(n int) Option {
	return func(p *Practice) error {
		if n < 1 || n > MaxRecordSize {
			return invalidOption("WithRecordSize(%d): want 1 to %d bytes", n, MaxRecordSize)
		}
		p.recordSize = n
		return nil
	}
}

// WithAttachments gives every record n documents (0 to MaxAttachments):
// small text letters, reports and summaries of a few hundred bytes,
// referenced from the extract. They travel inline in the RecordResponse
// while it has room (see InlineLimit and AttachmentInlineLimit), the rest
// through the practice's records object store (bus.RecordsBucket).
// Default: none.
func WithAttachments(n int) Option {
	return func(p *Practice) error {
		if n < 0 || n > MaxAttachments {
			return invalidOption("WithAttachments(%d): want 0 to %d", n, MaxAttachments)
		}
		p.attachments = n
		return nil
	}
}

// WithAbsentAttachments marks the first n of the WithAttachments
// documents absent: the practice's document store could not supply them,
// so the extract refers to a placeholder (ehr.AbsentFilename) and the
// RecordResponse lists them as absent with a reason and no content, for
// the sender to send its placeholder instead. Default: none.
func WithAbsentAttachments(n int) Option {
	return func(p *Practice) error {
		if n < 0 || n > MaxAttachments {
			return invalidOption("WithAbsentAttachments(%d): want 0 to %d", n, MaxAttachments)
		}
		p.absent = n
		return nil
	}
}

// WithLargeAttachments gives every record one large document per size
// given, in bytes (each 1 to MaxLargeAttachmentSize; at most
// MaxLargeAttachments of them), after the WithAttachments documents and
// referenced from the extract like them: scanned correspondence
// (application/pdf, "Scanned correspondence <n>.pdf") and radiology images
// (image/tiff, "Radiology image <n>.tif") in turn. Their content is
// pseudo-random and incompressible, determined by the practice, the
// patient and the position. They always travel through the records object
// store, generated as they are written: a document is never held in
// memory, however large, and its SHA-256 is computed on the way. A request
// answered again reuses the objects already stored for it. A later call
// replaces the sizes of an earlier one. Default: none.
func WithLargeAttachments(sizes ...int64) Option {
	return func(p *Practice) error {
		if len(sizes) > MaxLargeAttachments {
			return invalidOption("WithLargeAttachments: %d sizes, want at most %d", len(sizes), MaxLargeAttachments)
		}
		for _, size := range sizes {
			if size < 1 || size > MaxLargeAttachmentSize {
				return invalidOption("WithLargeAttachments(%d): want 1 to %d bytes", size, MaxLargeAttachmentSize)
			}
		}
		p.largeSizes = slices.Clone(sizes)
		return nil
	}
}

// WithNOPAT marks n entries of every record NOPAT (not to be disclosed to
// the patient), which makes the sender send it as RCMR_IN030000UK07. A
// record too small to hold n markable entries fails to generate and is
// answered GENERATION_FAILED. Default: none.
func WithNOPAT(n int) Option {
	return func(p *Practice) error {
		if n < 0 {
			return invalidOption("WithNOPAT(%d): negative", n)
		}
		p.nopat = n
		return nil
	}
}

// WithLocalCodes adds n entries coded only in a local code system to every
// record, which the receiving practice would degrade. Default: none.
func WithLocalCodes(n int) Option {
	return func(p *Practice) error {
		if n < 0 {
			return invalidOption("WithLocalCodes(%d): negative", n)
		}
		p.localCodes = n
		return nil
	}
}

// WithProfile sets the deployment profile Run ensures the practice's
// streams, stores and consumers with. Default: bus.DevProfile.
func WithProfile(profile bus.Profile) Option {
	return func(p *Practice) error {
		if profile.Replicas < 1 || profile.Replicas > 5 {
			return invalidOption("WithProfile(%q): replicas %d out of range 1 to 5", profile.Name, profile.Replicas)
		}
		p.profile = profile
		return nil
	}
}

// WithVendorPermissions runs the practice as a vendor's system runs under
// gp2gp's NATS permissions (libs/natsauth): it may not create or change
// streams or object stores, only its two durable consumers, so Ensure
// creates just those, waiting for the services to have created the
// streams. Default: Ensure creates everything the practice uses, which
// suits tests and a dev stack without security.
func WithVendorPermissions() Option {
	return func(p *Practice) error {
		p.consumersOnly = true
		return nil
	}
}

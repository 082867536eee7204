package chaos

import (
	"context"
	"fmt"
	"time"

	"github.com/nhsengland/gp2gp/libs/bus"
)

// poison is a message that must end in the dead-letter stream: a
// registration the requester cannot take, whatever happens to the
// processes.
type poison struct {
	// DedupeID is the message's Nats-Msg-Id; the dead-lettered copy
	// carries it in Gp2gp-Dlq-Msg-Id.
	DedupeID string
	Kind     string
	Subject  string
	Data     []byte
	// ContentType of Data.
	ContentType string
}

// newPoison is the i-th poison message, in turn: a registration with an
// NHS number whose check digit is wrong, a body that is not protobuf, and
// JSON with a field the contract does not have.
func newPoison(i int, validNHS string) poison {
	p := poison{DedupeID: fmt.Sprintf("chaos-poison-%d", i), Subject: bus.RegistrationSubject(requesters[i%len(requesters)])}
	ods := requesters[i%len(requesters)]
	switch i % 3 {
	case 0:
		// The same number with another last digit fails the modulus 11 check.
		bad := validNHS[:9] + string('0'+(validNHS[9]-'0'+1)%10)
		p.Kind = "bad NHS number"
		p.ContentType = bus.ContentTypeJSON
		p.Data = fmt.Appendf(nil, `{"eventId":"chaos-poison-%d","patient":{"nhsNumber":%q,"givenName":"Poison","familyName":"Pill"},"requestingPracticeOds":%q,"previousPracticeOds":%q,"registeredAt":%q}`,
			i, bad, ods, smallODS, time.Now().UTC().Format(time.RFC3339))
	case 1:
		p.Kind = "undecodable body"
		p.ContentType = bus.ContentTypeProtobuf
		p.Data = []byte("\xff\xff\xff not a protobuf message")
	default:
		p.Kind = "unknown JSON field"
		p.ContentType = bus.ContentTypeJSON
		p.Data = fmt.Appendf(nil, `{"eventId":"chaos-poison-%d","nhsNumber":%q,"requestingPracticeOds":%q}`, i, validNHS, ods)
	}
	return p
}

// inject publishes p, retrying while the broker is away.
func (p poison) inject(ctx context.Context, b *bus.Bus) error {
	for {
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err := b.Publish(pctx, bus.Outgoing{Subject: p.Subject, DedupeID: p.DedupeID, Data: p.Data, ContentType: p.ContentType})
		cancel()
		if err == nil || ctx.Err() != nil {
			return err
		}
		sleep(ctx, 250*time.Millisecond)
	}
}

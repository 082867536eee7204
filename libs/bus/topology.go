package bus

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// This file is the single place where gp2gp's streams, subjects, buckets
// and durable consumers are declared. The README's subject map documents
// the same table for people; keep them in step.

// Subject root for everything gp2gp publishes.
const subjectRoot = "gp2gp"

// Stream names.
const (
	// StreamRegistrations holds vendor registration events.
	StreamRegistrations = "GP2GP_REGISTRATIONS"
	// StreamRecordRequests holds the sender's requests for a record, addressed
	// to the sending practice's system.
	StreamRecordRequests = "GP2GP_RECORD_REQUESTS"
	// StreamRecordResponses holds practice systems' answers to record
	// requests.
	StreamRecordResponses = "GP2GP_RECORD_RESPONSES"
	// StreamRecordsReady holds received records handed to the requesting
	// practice's system.
	StreamRecordsReady = "GP2GP_RECORDS_READY"
	// StreamIntegrations holds practice systems' integration outcomes.
	StreamIntegrations = "GP2GP_INTEGRATIONS"
	// StreamSpineIn holds every HL7 wire message received from Spine (or
	// from the loopback transport), addressed by recipient ASID and
	// classified by kind. Bodies are MHS inbound JSON envelopes.
	StreamSpineIn = "GP2GP_SPINE_IN"
	// StreamAcks holds requests to the acknowledger to send an application
	// acknowledgement (gp2gp.v1.AckRequest).
	StreamAcks = "GP2GP_ACKS"
	// StreamTimers holds durable timeouts, each delivered to its owner once
	// due (a work queue: a fired timer is removed).
	StreamTimers = "GP2GP_TIMERS"
	// StreamLifecycle holds transfer lifecycle events.
	StreamLifecycle = "GP2GP_LIFECYCLE"
	// StreamDeadLetter holds messages no handler could process, with why.
	StreamDeadLetter = "GP2GP_DLQ"
	// StreamCommands holds operators' commands to the stage owning one
	// side of a transfer (gp2gp.v1.ResendCommand).
	StreamCommands = "GP2GP_COMMANDS"
	// StreamMessages holds one event per GP2GP wire message sent or
	// received (gp2gp.v1.MessageEvent): the live Spine message log the
	// mireporter classifies transfers from.
	StreamMessages = "GP2GP_MESSAGES"
	// StreamMIOutbox holds enhanced MI events (GP Registrations MI API
	// request bodies) waiting to be posted, and those posted.
	StreamMIOutbox = "GP2GP_MI_OUTBOX"
)

// Buckets.
const (
	// BucketTransfers is the key-value bucket holding one entry per transfer
	// side and conversation id.
	BucketTransfers = "gp2gp_transfers"
	// BucketPatients is the key-value bucket indexing past transfers by
	// practice and NHS number (returning patients).
	BucketPatients = "gp2gp_patients"
	// BucketBodies is the object store holding message bodies too large for
	// a bus message (claim checks).
	BucketBodies = "gp2gp_bodies"
	// BucketMI is the key-value bucket holding the mireporter's state: one
	// entry per conversation (its message events and classification).
	BucketMI = "gp2gp_mi"
)

// SpineKind classifies a wire message for routing to the stage that owns it.
type SpineKind string

// The wire message kinds. COPC_IN000001UK01 is split in two because the
// Continue goes to the sender while attachment COPCs go to the receiver.
const (
	KindEHRRequest SpineKind = "ehr-request" // RCMR_IN010000UK05 → sender
	KindEHRExtract SpineKind = "ehr-extract" // RCMR_IN030000UK06/UK07 → receiver
	KindContinue   SpineKind = "continue"    // COPC_IN000001UK01 Continue → sender
	KindCOPC       SpineKind = "copc"        // COPC_IN000001UK01 attachment, index, fragment → receiver
	KindAck        SpineKind = "ack"         // MCCI_IN010000UK13 → acknowledger
)

// SpineKinds lists every kind.
var SpineKinds = []SpineKind{KindEHRRequest, KindEHRExtract, KindContinue, KindCOPC, KindAck}

// Subjects. Each function builds a literal subject; Publish rejects one
// with an empty or wildcard token.

// RegistrationSubject is where a practice's system publishes registration
// events for practice ods.
func RegistrationSubject(ods string) string { return practiceSubject(ods, "registration") }

// RecordRequestSubject is where the sender asks practice ods's system for a
// record.
func RecordRequestSubject(ods string) string { return practiceSubject(ods, "record.request") }

// RecordResponseSubject is where practice ods's system answers record
// requests.
func RecordResponseSubject(ods string) string { return practiceSubject(ods, "record.response") }

// RecordReadySubject is where the receiver hands practice ods's system a
// received record.
func RecordReadySubject(ods string) string { return practiceSubject(ods, "record.ready") }

// IntegrationOutcomeSubject is where practice ods's system reports what it
// did with a record.
func IntegrationOutcomeSubject(ods string) string {
	return practiceSubject(ods, "integration.outcome")
}

func practiceSubject(ods, suffix string) string {
	return subjectRoot + ".practice." + ods + "." + suffix
}

// SpineInSubject is where a received wire message of kind addressed to
// toASID is published.
func SpineInSubject(toASID string, kind SpineKind) string {
	return subjectRoot + ".spine.in." + toASID + "." + string(kind)
}

// AckSubject is where a stage asks the acknowledger to send an
// acknowledgement from the practice with ASID fromASID.
func AckSubject(fromASID string) string { return subjectRoot + ".ack." + fromASID }

// TimerSubject is where service's timer of kind for key is scheduled.
func TimerSubject(service, kind, key string) string {
	return subjectRoot + ".timer." + service + "." + kind + "." + key
}

// LifecycleSubject is where state changes of one side of a transfer are
// published. side is "requesting" or "sending".
func LifecycleSubject(side, conversationID string) string {
	return subjectRoot + ".lifecycle." + side + "." + conversationID
}

// MessageSubject is where the event of a wire message of conversationID
// is published.
func MessageSubject(conversationID string) string {
	return subjectRoot + ".message." + conversationID
}

// MIOutboxSubject is where an enhanced MI event of eventType (the MI API's
// event type, e.g. EHR_REQUESTS) waits to be posted.
func MIOutboxSubject(eventType string) string { return subjectRoot + ".mi.outbox." + eventType }

// Operator commands.
const (
	CommandResend = "resend"
)

// CommandSubject is where an operator's command of name goes to the stage
// owning side ("requesting" or "sending") of practice ods's transfers.
func CommandSubject(side, ods, name string) string {
	return subjectRoot + ".command." + side + "." + ods + "." + name
}

// DeadLetterSubject is where messages that consumer of stream could not
// process are copied.
func DeadLetterSubject(stream, consumer string) string {
	return subjectRoot + ".dlq." + stream + "." + consumer
}

// ValidSubject reports whether s is a literal subject: non-empty tokens, no
// wildcards, no whitespace.
func ValidSubject(s string) bool {
	if s == "" {
		return false
	}
	for _, tok := range strings.Split(s, ".") {
		if tok == "" || tok == "*" || tok == ">" || strings.ContainsAny(tok, " \t\r\n*>") {
			return false
		}
	}
	return true
}

// Profile is the deployment profile streams are created with.
type Profile struct {
	// Name identifies the profile in errors and logs.
	Name string
	// Replicas of every stream and bucket (1 in dev, 3 in production).
	Replicas int
	// Storage of every stream and bucket.
	Storage jetstream.StorageType
}

// Profiles.
var (
	// DevProfile: one replica on file storage (the dev stack, tests).
	DevProfile = Profile{Name: "dev", Replicas: 1, Storage: jetstream.FileStorage}
	// ProdProfile: three replicas on file storage. The servers must also run
	// with sync_interval: always.
	ProdProfile = Profile{Name: "prod", Replicas: 3, Storage: jetstream.FileStorage}
)

// ProfileNamed returns the profile called name ("dev" or "prod").
func ProfileNamed(name string) (Profile, error) {
	switch name {
	case DevProfile.Name:
		return DevProfile, nil
	case ProdProfile.Name:
		return ProdProfile, nil
	}
	return Profile{}, fmt.Errorf("bus: unknown profile %q (want dev or prod)", name)
}

// StreamSpec declares a stream independent of the deployment profile.
type StreamSpec struct {
	Name        string
	Description string
	Subjects    []string
	// MaxAge bounds how long patient data stays on the bus.
	MaxAge time.Duration
	// Duplicates is the dedupe window for Nats-Msg-Id.
	Duplicates time.Duration
	// WorkQueue removes a message once a consumer acknowledges it.
	WorkQueue bool
}

// Config is the JetStream configuration of s under profile p.
func (s StreamSpec) Config(p Profile) jetstream.StreamConfig {
	retention := jetstream.LimitsPolicy
	if s.WorkQueue {
		retention = jetstream.WorkQueuePolicy
	}
	return jetstream.StreamConfig{
		Name:        s.Name,
		Description: s.Description,
		Subjects:    s.Subjects,
		Retention:   retention,
		MaxAge:      s.MaxAge,
		Duplicates:  s.Duplicates,
		Storage:     p.Storage,
		Replicas:    p.Replicas,
		Discard:     jetstream.DiscardOld,
	}
}

// Retention and dedupe defaults.
const (
	day                = 24 * time.Hour
	busRetention       = 30 * day  // longer than any GP2GP timeout (8 days)
	lifecycleRetention = 400 * day // a year of MI plus a month's grace
	dedupeWindow       = DedupeWindow
)

// DedupeWindow is how long every stream remembers a Nats-Msg-Id: a message
// published again under the same id within it is acknowledged as a
// duplicate and not stored.
const DedupeWindow = time.Hour

var (
	registrationsStream = StreamSpec{
		Name: StreamRegistrations, Description: "Vendor registration events (gp2gp.v1.RegistrationEvent)",
		Subjects: []string{RegistrationSubject("*")}, MaxAge: busRetention, Duplicates: dedupeWindow,
	}
	recordRequestsStream = StreamSpec{
		Name: StreamRecordRequests, Description: "Record requests to sending practices (gp2gp.v1.RecordRequest)",
		Subjects: []string{RecordRequestSubject("*")}, MaxAge: busRetention, Duplicates: dedupeWindow,
	}
	recordResponsesStream = StreamSpec{
		Name: StreamRecordResponses, Description: "Sending practices' record responses (gp2gp.v1.RecordResponse)",
		Subjects: []string{RecordResponseSubject("*")}, MaxAge: busRetention, Duplicates: dedupeWindow,
	}
	recordsReadyStream = StreamSpec{
		Name: StreamRecordsReady, Description: "Records ready to integrate (gp2gp.v1.RecordReady)",
		Subjects: []string{RecordReadySubject("*")}, MaxAge: busRetention, Duplicates: dedupeWindow,
	}
	integrationsStream = StreamSpec{
		Name: StreamIntegrations, Description: "Integration outcomes (gp2gp.v1.IntegrationOutcome)",
		Subjects: []string{IntegrationOutcomeSubject("*")}, MaxAge: busRetention, Duplicates: dedupeWindow,
	}
	spineInStream = StreamSpec{
		Name: StreamSpineIn, Description: "HL7 wire messages received from Spine",
		Subjects: []string{SpineInSubject("*", "*")}, MaxAge: busRetention, Duplicates: dedupeWindow,
	}
	acksStream = StreamSpec{
		Name: StreamAcks, Description: "Requests to send application acknowledgements (gp2gp.v1.AckRequest)",
		Subjects: []string{AckSubject("*")}, MaxAge: busRetention, Duplicates: dedupeWindow,
	}
	timersStream = StreamSpec{
		Name: StreamTimers, Description: "Durable timeouts, delivered to their owner when due",
		Subjects: []string{TimerSubject("*", "*", "*")}, MaxAge: 60 * day, Duplicates: dedupeWindow,
		WorkQueue: true,
	}
	lifecycleStream = StreamSpec{
		Name: StreamLifecycle, Description: "Transfer lifecycle events (gp2gp.v1.TransferEvent)",
		Subjects: []string{LifecycleSubject("*", "*")}, MaxAge: lifecycleRetention, Duplicates: dedupeWindow,
	}
	commandsStream = StreamSpec{
		Name: StreamCommands, Description: "Operators' commands to the stages (gp2gp.v1.ResendCommand)",
		Subjects: []string{CommandSubject("*", "*", "*")}, MaxAge: busRetention, Duplicates: dedupeWindow,
	}
	messagesStream = StreamSpec{
		Name: StreamMessages, Description: "One event per GP2GP wire message sent or received (gp2gp.v1.MessageEvent)",
		Subjects: []string{MessageSubject("*")}, MaxAge: lifecycleRetention, Duplicates: dedupeWindow,
	}
	miOutboxStream = StreamSpec{
		Name: StreamMIOutbox, Description: "Enhanced MI events to post to the GP Registrations MI API (JSON request bodies)",
		Subjects: []string{MIOutboxSubject("*")}, MaxAge: busRetention, Duplicates: dedupeWindow,
	}
	deadLetterStream = StreamSpec{
		Name: StreamDeadLetter, Description: "Messages that could not be processed, with the reason",
		Subjects: []string{DeadLetterSubject("*", "*")}, MaxAge: busRetention, Duplicates: dedupeWindow,
	}
)

// Streams lists every stream of the system.
func Streams() []StreamSpec {
	return []StreamSpec{
		registrationsStream, recordRequestsStream, recordResponsesStream, recordsReadyStream,
		integrationsStream, spineInStream, acksStream, timersStream, lifecycleStream, deadLetterStream,
		commandsStream, messagesStream, miOutboxStream,
	}
}

// KeyValueSpec declares a key-value bucket.
type KeyValueSpec struct {
	Bucket      string
	Description string
	// History is how many revisions of each key are kept.
	History uint8
	// TTL expires keys not updated for this long (0: never).
	TTL time.Duration
}

// Config is the JetStream configuration of k under profile p.
func (k KeyValueSpec) Config(p Profile) jetstream.KeyValueConfig {
	return jetstream.KeyValueConfig{
		Bucket: k.Bucket, Description: k.Description, History: k.History, TTL: k.TTL,
		Storage: p.Storage, Replicas: p.Replicas,
	}
}

// TransfersBucket holds transfer state: one key per side and conversation.
// Kept 84 days (12 weeks) after the last update, the retention the NHS
// sending adaptor applies to transfer records.
var TransfersBucket = KeyValueSpec{
	Bucket: BucketTransfers, Description: "Transfer state, one key per side and conversation id",
	History: 8, TTL: 84 * day,
}

// PatientsBucket indexes sent records by practice and NHS number, to
// recognise a returning patient (A-B-A). Kept two years.
var PatientsBucket = KeyValueSpec{
	Bucket: BucketPatients, Description: "Records sent, by practice ODS and NHS number",
	History: 1, TTL: 730 * day,
}

// ObjectStoreSpec declares an object store bucket.
type ObjectStoreSpec struct {
	Bucket      string
	Description string
	// TTL expires objects this long after they are stored (0: never).
	TTL time.Duration
}

// Config is the JetStream configuration of o under profile p.
func (o ObjectStoreSpec) Config(p Profile) jetstream.ObjectStoreConfig {
	return jetstream.ObjectStoreConfig{
		Bucket: o.Bucket, Description: o.Description, TTL: o.TTL,
		Storage: p.Storage, Replicas: p.Replicas, Compression: true,
	}
}

// BodiesStore holds bus message bodies over the inline limit, as long as
// the messages themselves are kept.
var BodiesStore = ObjectStoreSpec{Bucket: BucketBodies, Description: "Bus message bodies too large to travel inline", TTL: busRetention}

// recordsBucketPrefix starts the name of every practice's records object
// store.
const recordsBucketPrefix = "gp2gp_records_"

// RecordsBucket is the name of the object store holding practice ods's
// records: the extracts it received, their summaries and attachments, and
// the content its system supplies by reference when it sends a record.
// Each practice has its own, so that a vendor's credentials can be given
// the object stores of its own practices and no other (NATS permissions
// cannot tell one object of a bucket from another). ods is an ODS code as
// configured (upper-case letters and digits, 3 to 10 of them), which makes
// a valid bucket name.
func RecordsBucket(ods string) string { return recordsBucketPrefix + ods }

// RecordsStore is practice ods's records object store, kept as long as
// transfer state is.
func RecordsStore(ods string) ObjectStoreSpec {
	return ObjectStoreSpec{Bucket: RecordsBucket(ods),
		Description: "Patient records of practice " + ods + ": extracts, summaries, attachments", TTL: 84 * day}
}

// RecordsStores are the records object stores of practices ps, one each.
func RecordsStores(ps []Practice) []ObjectStoreSpec {
	out := make([]ObjectStoreSpec, 0, len(ps))
	for _, p := range ps {
		out = append(out, RecordsStore(p.ODS))
	}
	return out
}

// ConsumerSpec declares a durable pull consumer and how the runner treats
// its messages.
type ConsumerSpec struct {
	Stream      string
	Durable     string
	Description string
	// FilterSubjects restricts the consumer to these subjects (may use
	// wildcards). Required unless WholeStream is set.
	FilterSubjects []string
	// WholeStream consumes every subject of the stream. It must be said
	// explicitly: a per-practice consumer whose practice list came out empty
	// would otherwise consume every practice's messages.
	WholeStream bool
	// AckWait is how long the server waits for an ack before redelivering.
	// The runner extends it with in-progress signals while a handler runs.
	AckWait time.Duration
	// MaxAckPending bounds unacknowledged messages across all instances
	// (0: DefaultMaxAckPending; -1: no limit).
	MaxAckPending int
	// MaxDeliveries is enforced by the runner: on the last delivery a
	// failing message is dead-lettered rather than dropped. The server-side
	// limit is unlimited so the server never discards a message on its own.
	MaxDeliveries int
}

// Consumer defaults.
const (
	DefaultAckWait       = 30 * time.Second
	DefaultMaxAckPending = 1000
	DefaultMaxDeliveries = 10
)

// Validate reports a declaration that cannot be right.
func (c ConsumerSpec) Validate() error {
	switch {
	case c.Stream == "" || c.Durable == "":
		return fmt.Errorf("bus: consumer %q on stream %q: stream and durable name are required", c.Durable, c.Stream)
	case c.WholeStream && len(c.FilterSubjects) > 0:
		return fmt.Errorf("bus: consumer %s: WholeStream and FilterSubjects are exclusive", c.Durable)
	case !c.WholeStream && len(c.FilterSubjects) == 0:
		return fmt.Errorf("bus: consumer %s: no filter subjects (no practices configured?)", c.Durable)
	}
	return nil
}

// Config is the JetStream configuration of c.
func (c ConsumerSpec) Config() jetstream.ConsumerConfig {
	cfg := jetstream.ConsumerConfig{
		Durable:       c.Durable,
		Description:   c.Description,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       c.AckWait,
		MaxAckPending: c.MaxAckPending,
		MaxDeliver:    -1,
		DeliverPolicy: jetstream.DeliverAllPolicy,
	}
	if cfg.AckWait == 0 {
		cfg.AckWait = DefaultAckWait
	}
	if cfg.MaxAckPending == 0 {
		cfg.MaxAckPending = DefaultMaxAckPending
	}
	switch len(c.FilterSubjects) {
	case 0:
	case 1:
		cfg.FilterSubject = c.FilterSubjects[0]
	default:
		cfg.FilterSubjects = c.FilterSubjects
	}
	return cfg
}

func (c ConsumerSpec) maxDeliveries() int {
	if c.MaxDeliveries <= 0 {
		return DefaultMaxDeliveries
	}
	return c.MaxDeliveries
}

// Practice identifies a practice a service serves.
type Practice struct {
	ODS  string
	ASID string
}

func odsFilters(ps []Practice, subject func(string) string) []string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		out = append(out, subject(p.ODS))
	}
	return out
}

func spineInFilters(ps []Practice, kinds ...SpineKind) []string {
	out := make([]string, 0, len(ps)*len(kinds))
	for _, p := range ps {
		for _, k := range kinds {
			out = append(out, SpineInSubject(p.ASID, k))
		}
	}
	return out
}

// durableName joins a service's durable name with the optional group that
// tells apart two deployments of one service serving different practices.
func durableName(group, name string) string {
	if group == "" {
		return name
	}
	return name + "-" + group
}

// Topology is what one service ensures at startup.
type Topology struct {
	Streams      []StreamSpec
	KeyValues    []KeyValueSpec
	ObjectStores []ObjectStoreSpec
	Consumers    []ConsumerSpec
}

// TimerOwner names the owner of a service deployment's timers: the service,
// suffixed with its consumer group if it has one.
func TimerOwner(group, service string) string { return durableName(group, service) }

// TimerConsumer consumes a service deployment's durable timers. Timers wait
// by being redelivered until due, so the runner must not count those
// deliveries as failures: MaxDeliveries is effectively unlimited.
func TimerConsumer(group, service string) ConsumerSpec {
	owner := TimerOwner(group, service)
	return ConsumerSpec{
		Stream: StreamTimers, Durable: owner + "-timers",
		Description:    service + ": its durable timeouts",
		FilterSubjects: []string{TimerSubject(owner, "*", "*")},
		MaxDeliveries:  math.MaxInt32,
		// Timer handlers are quick; a short ack wait brings a timer that
		// was waiting when the broker restarted back within seconds.
		AckWait: 5 * time.Second,
		// Every timer not yet due is a pending delivery: with a limit, a
		// thousand 8-day timers would keep a due one from being delivered.
		MaxAckPending: -1,
	}
}

// common is what every stage that changes transfer state needs.
func common(extra ...StreamSpec) []StreamSpec {
	return append([]StreamSpec{spineInStream, lifecycleStream, deadLetterStream, timersStream, commandsStream, messagesStream}, extra...)
}

// commandConsumer consumes the operator commands for side of the practices
// served, for the stage named service.
func commandConsumer(group, service, side string, ps []Practice) ConsumerSpec {
	return ConsumerSpec{
		Stream: StreamCommands, Durable: durableName(group, service+"-commands"),
		Description:    service + ": operators' commands for the " + side + " side of the practices it serves",
		FilterSubjects: odsFilters(ps, func(ods string) string { return CommandSubject(side, ods, "*") }),
	}
}

// RequesterCommands consumes operators' commands for requesting sides.
func RequesterCommands(group string, ps []Practice) ConsumerSpec {
	return commandConsumer(group, "requester", "requesting", ps)
}

// SenderCommands consumes operators' commands for sending sides.
func SenderCommands(group string, ps []Practice) ConsumerSpec {
	return commandConsumer(group, "sender", "sending", ps)
}

// RequesterTopology: registrations in; EHR Requests out; transfer state.
func RequesterTopology(group string, ps []Practice) Topology {
	return Topology{
		Streams:      common(registrationsStream, acksStream),
		KeyValues:    []KeyValueSpec{TransfersBucket, PatientsBucket},
		ObjectStores: []ObjectStoreSpec{BodiesStore},
		Consumers: []ConsumerSpec{RequesterRegistrations(group, ps), TimerConsumer(group, "requester"),
			RequesterCommands(group, ps)},
	}
}

// RequesterRegistrations consumes registration events for the practices
// served.
func RequesterRegistrations(group string, ps []Practice) ConsumerSpec {
	return ConsumerSpec{
		Stream: StreamRegistrations, Durable: durableName(group, "requester-registrations"),
		Description:    "requester: registration events of the practices it serves",
		FilterSubjects: odsFilters(ps, RegistrationSubject),
	}
}

// SenderTopology: EHR Requests and Continues in; record requests out and
// responses in; extracts and attachment messages out; acknowledgement
// requests out.
func SenderTopology(group string, ps []Practice) Topology {
	return Topology{
		Streams:      common(recordRequestsStream, recordResponsesStream, acksStream),
		KeyValues:    []KeyValueSpec{TransfersBucket, PatientsBucket},
		ObjectStores: append([]ObjectStoreSpec{BodiesStore}, RecordsStores(ps)...),
		Consumers: []ConsumerSpec{SenderRequests(group, ps), SenderRecordResponses(group, ps), TimerConsumer(group, "sender"),
			SenderCommands(group, ps)},
	}
}

// SenderRequests consumes EHR Requests and Continues addressed to the
// practices served.
func SenderRequests(group string, ps []Practice) ConsumerSpec {
	return ConsumerSpec{
		Stream: StreamSpineIn, Durable: durableName(group, "sender-requests"),
		Description:    "sender: EHR Requests and Continues for the practices it serves",
		FilterSubjects: spineInFilters(ps, KindEHRRequest, KindContinue),
	}
}

// SenderRecordResponses consumes practice systems' record responses.
func SenderRecordResponses(group string, ps []Practice) ConsumerSpec {
	return ConsumerSpec{
		Stream: StreamRecordResponses, Durable: durableName(group, "sender-record-responses"),
		Description:    "sender: record responses from the practices it serves",
		FilterSubjects: odsFilters(ps, RecordResponseSubject),
	}
}

// ReceiverTopology: extracts and attachment messages in; records ready
// out; integration outcomes in; acknowledgement requests out.
func ReceiverTopology(group string, ps []Practice) Topology {
	return Topology{
		Streams:      common(recordsReadyStream, integrationsStream, acksStream),
		KeyValues:    []KeyValueSpec{TransfersBucket, PatientsBucket},
		ObjectStores: append([]ObjectStoreSpec{BodiesStore}, RecordsStores(ps)...),
		Consumers:    []ConsumerSpec{ReceiverExtracts(group, ps), ReceiverIntegrations(group, ps), TimerConsumer(group, "receiver")},
	}
}

// ReceiverExtracts consumes EHR Extracts and attachment COPCs addressed to
// the practices served.
func ReceiverExtracts(group string, ps []Practice) ConsumerSpec {
	return ConsumerSpec{
		Stream: StreamSpineIn, Durable: durableName(group, "receiver-extracts"),
		Description:    "receiver: EHR Extracts and attachment COPCs for the practices it serves",
		FilterSubjects: spineInFilters(ps, KindEHRExtract, KindCOPC),
	}
}

// ReceiverIntegrations consumes integration outcomes of the practices
// served.
func ReceiverIntegrations(group string, ps []Practice) ConsumerSpec {
	return ConsumerSpec{
		Stream: StreamIntegrations, Durable: durableName(group, "receiver-integrations"),
		Description:    "receiver: integration outcomes from the practices it serves",
		FilterSubjects: odsFilters(ps, IntegrationOutcomeSubject),
	}
}

// AcknowledgerTopology: acknowledgement requests in, acknowledgements out
// and in.
func AcknowledgerTopology(group string, ps []Practice) Topology {
	return Topology{
		Streams:      common(acksStream),
		KeyValues:    []KeyValueSpec{TransfersBucket, PatientsBucket},
		ObjectStores: []ObjectStoreSpec{BodiesStore},
		Consumers:    []ConsumerSpec{AcknowledgerAcks(group, ps), AcknowledgerRequests(group, ps)},
	}
}

// AcknowledgerAcks consumes MCCI acknowledgements addressed to the
// practices served.
func AcknowledgerAcks(group string, ps []Practice) ConsumerSpec {
	return ConsumerSpec{
		Stream: StreamSpineIn, Durable: durableName(group, "acknowledger-acks"),
		Description:    "acknowledger: application acknowledgements for the practices it serves",
		FilterSubjects: spineInFilters(ps, KindAck),
	}
}

// AcknowledgerRequests consumes requests to send acknowledgements from the
// practices served.
func AcknowledgerRequests(group string, ps []Practice) ConsumerSpec {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		out = append(out, AckSubject(p.ASID))
	}
	return ConsumerSpec{
		Stream: StreamAcks, Durable: durableName(group, "acknowledger-requests"),
		Description:    "acknowledger: acknowledgements to send for the practices it serves",
		FilterSubjects: out,
	}
}

// MIBucket holds the mireporter's per-conversation state. Kept 400 days
// after the last update, as long as lifecycle and message events.
var MIBucket = KeyValueSpec{
	Bucket: BucketMI, Description: "MI state: message events and classification, one key per conversation",
	History: 1, TTL: lifecycleRetention,
}

// MIReporterTopology: lifecycle and message events in; MI state; the
// enhanced MI outbox; the transfers bucket watched for the in-flight
// gauge.
func MIReporterTopology(group string) Topology {
	return Topology{
		Streams:   []StreamSpec{lifecycleStream, messagesStream, miOutboxStream, deadLetterStream},
		KeyValues: []KeyValueSpec{TransfersBucket, MIBucket},
		Consumers: []ConsumerSpec{MIReporterLifecycle(group), MIReporterMessages(group), MIReporterOutbox(group)},
	}
}

// MIReporterMessages consumes every message event.
func MIReporterMessages(group string) ConsumerSpec {
	return ConsumerSpec{
		Stream: StreamMessages, Durable: durableName(group, "mireporter-messages"),
		Description: "mireporter: every GP2GP wire message event",
		WholeStream: true,
	}
}

// MIReporterOutbox posts the enhanced MI events. An event is retried until
// the API takes or refuses it: an outage of the API loses nothing.
func MIReporterOutbox(group string) ConsumerSpec {
	return ConsumerSpec{
		Stream: StreamMIOutbox, Durable: durableName(group, "mireporter-mi-outbox"),
		Description:   "mireporter: enhanced MI events to post to the MI API",
		WholeStream:   true,
		MaxDeliveries: math.MaxInt32,
	}
}

// MIReporterLifecycle consumes every lifecycle event.
func MIReporterLifecycle(group string) ConsumerSpec {
	return ConsumerSpec{
		Stream: StreamLifecycle, Durable: durableName(group, "mireporter-lifecycle"),
		Description: "mireporter: every transfer lifecycle event",
		WholeStream: true,
	}
}

// Consumers a practice's clinical system uses. gp2gp does not run them;
// vendors do (and the dev stack's simulated practices). They are declared
// here so that their names and filters are one contract.

// PracticeRecordRequests is the consumer a sending practice's system reads
// record requests with.
func PracticeRecordRequests(ods string) ConsumerSpec {
	return ConsumerSpec{
		Stream: StreamRecordRequests, Durable: "practice-" + ods + "-record-requests",
		Description:    "practice " + ods + ": record requests to answer",
		FilterSubjects: []string{RecordRequestSubject(ods)},
	}
}

// PracticeRecordsReady is the consumer a requesting practice's system reads
// received records with.
func PracticeRecordsReady(ods string) ConsumerSpec {
	return ConsumerSpec{
		Stream: StreamRecordsReady, Durable: "practice-" + ods + "-records-ready",
		Description:    "practice " + ods + ": records to integrate",
		FilterSubjects: []string{RecordReadySubject(ods)},
	}
}

// PracticeTopology is what a practice's system ensures: its two consumers,
// and the streams and stores it publishes to.
func PracticeTopology(ods string) Topology {
	return Topology{
		Streams: []StreamSpec{registrationsStream, recordRequestsStream, recordResponsesStream, recordsReadyStream,
			integrationsStream, deadLetterStream},
		ObjectStores: []ObjectStoreSpec{BodiesStore, RecordsStore(ods)},
		Consumers:    []ConsumerSpec{PracticeRecordRequests(ods), PracticeRecordsReady(ods)},
	}
}

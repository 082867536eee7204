// Package natsauth is gp2gp's NATS permission set: for each service, for
// the operators and for each vendor's clinical systems, exactly the
// subjects it may publish to and subscribe on. It is derived from the
// topology in libs/bus (the streams, buckets and durable consumers each
// service declares) and from the practices a deployment serves, so that a
// new consumer or stream cannot drift from its permissions.
//
// The same set is rendered into the NATS server configuration deployed
// with the Helm chart (deploy/nats, through gp2gpctl nats auth) and loaded
// by the dev stack when its security is switched on.
//
// Principles:
//   - A service may publish only on the subjects it produces (for the
//     practices it serves, where the subject carries one), use the
//     JetStream API only for its own streams, buckets and durable consumers,
//     and subscribe only on its own inbox prefix.
//   - A vendor may publish registrations, record responses and integration
//     outcomes only for its own practices' ODS codes, read record requests
//     and received records only through its practices' durable consumers
//     (created with the filter subject in the API subject, so the server
//     refuses any other filter), and use only its practices' records
//     object stores.
//   - Users are the subjects of their TLS client certificates (the server
//     runs with verify_and_map), so there are no passwords to leak.
package natsauth

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/nhsengland/gp2gp/libs/bus"
)

// Permissions are the subjects a user may publish to and subscribe on.
// Anything not allowed is refused by the server.
type Permissions struct {
	Publish   []string `json:"publish"`
	Subscribe []string `json:"subscribe"`
}

// User is one NATS user.
type User struct {
	// Name is the user as the server knows it: the subject DN of its TLS
	// client certificate, e.g. "CN=gp2gp-requester".
	Name string `json:"user"`
	// CommonName is the certificate's CN (Name without "CN=").
	CommonName string `json:"-"`
	// InboxPrefix is the prefix of the user's reply subjects
	// (nats.CustomInboxPrefix); it may subscribe only below it.
	InboxPrefix string      `json:"-"`
	Permissions Permissions `json:"permissions"`
}

// Services are the five gp2gp services.
var Services = []string{"requester", "sender", "receiver", "acknowledger", "mireporter"}

// CommonName is the TLS certificate CN of service (or of an operator or
// vendor user named name): "gp2gp-" + name.
func CommonName(name string) string { return "gp2gp-" + name }

// InboxPrefix is the reply-subject prefix of the user whose certificate CN
// is cn. Services and tools must connect with it (nats.CustomInboxPrefix):
// the permissions let a user subscribe only below its own prefix, so no
// user can read another's replies.
func InboxPrefix(cn string) string { return "_INBOX_" + cn }

var namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

func newUser(name string) User {
	cn := CommonName(name)
	return User{Name: "CN=" + cn, CommonName: cn, InboxPrefix: InboxPrefix(cn)}
}

// set collects subjects without duplicates, in insertion order.
type set struct {
	seen map[string]bool
	list []string
}

func (s *set) add(subjects ...string) {
	if s.seen == nil {
		s.seen = map[string]bool{}
	}
	for _, sub := range subjects {
		if !s.seen[sub] {
			s.seen[sub] = true
			s.list = append(s.list, sub)
		}
	}
}

// JetStream API subjects.
const jsAPI = "$JS.API."

// streamAdmin lets a service create, update and look at a stream it
// declares.
func streamAdmin(pub *set, stream string) {
	pub.add(jsAPI+"STREAM.CREATE."+stream, jsAPI+"STREAM.UPDATE."+stream, jsAPI+"STREAM.INFO."+stream)
}

// directGet lets a user read single messages of stream (key-value gets,
// object metadata).
func directGet(pub *set, stream string) {
	pub.add(jsAPI+"DIRECT.GET."+stream, jsAPI+"DIRECT.GET."+stream+".>", jsAPI+"STREAM.MSG.GET."+stream)
}

// ephemeralReads lets a user read stream through ephemeral ordered
// consumers (key-value watchers and listings, object reads): create and
// delete any consumer of that stream, answer flow control.
func ephemeralReads(pub *set, stream string) {
	pub.add(jsAPI+"CONSUMER.CREATE."+stream, jsAPI+"CONSUMER.CREATE."+stream+".>",
		jsAPI+"CONSUMER.DELETE."+stream+".>", jsAPI+"CONSUMER.INFO."+stream+".>", "$JS.FC."+stream+".>")
}

// keyValue lets a user use bucket fully.
func keyValue(pub *set, bucket string) {
	stream := "KV_" + bucket
	pub.add("$KV." + bucket + ".>")
	directGet(pub, stream)
	ephemeralReads(pub, stream)
}

// objectStore lets a user use bucket fully (put, get, delete, list).
func objectStore(pub *set, bucket string) {
	stream := "OBJ_" + bucket
	pub.add("$O."+bucket+".>", jsAPI+"STREAM.PURGE."+stream, jsAPI+"STREAM.INFO."+stream)
	directGet(pub, stream)
	ephemeralReads(pub, stream)
}

// durable lets a user create and consume its durable consumer c. With
// exactFilter the consumer can be created only with its one declared filter
// subject in the API subject (the server checks they agree), which is what
// keeps a vendor to its own practices' messages.
func durable(pub *set, c bus.ConsumerSpec, exactFilter bool) {
	prefix := c.Stream + "." + c.Durable
	if exactFilter {
		for _, f := range c.FilterSubjects {
			pub.add(jsAPI + "CONSUMER.CREATE." + prefix + "." + f)
		}
	} else {
		pub.add(jsAPI+"CONSUMER.CREATE."+prefix, jsAPI+"CONSUMER.CREATE."+prefix+".>",
			jsAPI+"CONSUMER.DURABLE.CREATE."+prefix)
	}
	pub.add(jsAPI+"CONSUMER.INFO."+prefix, jsAPI+"CONSUMER.MSG.NEXT."+prefix, "$JS.ACK."+prefix+".>",
		bus.DeadLetterSubject(c.Stream, c.Durable))
}

// Service is the user of one deployment of service (one of Services) in
// consumer group group (usually ""), serving practices ps.
func Service(service, group string, ps []bus.Practice) (User, error) {
	if len(ps) == 0 && service != "mireporter" {
		return User{}, fmt.Errorf("natsauth: %s: no practices", service)
	}
	for _, p := range ps {
		if !odsPattern.MatchString(p.ODS) || !asidPattern.MatchString(p.ASID) {
			return User{}, fmt.Errorf("natsauth: %s: practice %s:%s is malformed", service, p.ODS, p.ASID)
		}
	}
	var topo bus.Topology
	var pub set
	owner := bus.TimerOwner(group, service)
	served := func(subject func(string) string, byASID bool) {
		for _, p := range ps {
			if byASID {
				pub.add(subject(p.ASID))
			} else {
				pub.add(subject(p.ODS))
			}
		}
	}
	spineIn := func(asid string) string { return bus.SpineInSubject(asid, "*") }
	switch service {
	case "requester":
		topo = bus.RequesterTopology(group, ps)
		served(spineIn, true)
		served(bus.AckSubject, true)
	case "sender":
		topo = bus.SenderTopology(group, ps)
		served(spineIn, true)
		served(bus.AckSubject, true)
		served(bus.RecordRequestSubject, false)
	case "receiver":
		topo = bus.ReceiverTopology(group, ps)
		served(spineIn, true)
		served(bus.AckSubject, true)
		served(bus.RecordReadySubject, false)
	case "acknowledger":
		topo = bus.AcknowledgerTopology(group, ps)
		served(spineIn, true)
	case "mireporter":
		topo = bus.MIReporterTopology(group)
		pub.add(bus.MIOutboxSubject("*"))
	default:
		return User{}, fmt.Errorf("natsauth: unknown service %q (want one of %s)", service, strings.Join(Services, ", "))
	}
	if service != "mireporter" {
		// Every stage sends wire messages (their events) and schedules its
		// own timers. It publishes the lifecycle events of either side:
		// at startup each stage publishes what a crashed process left in
		// any transfer's outbox (transfer.Store.Recover), and looks up an
		// old outbox event in the stream before publishing it again.
		pub.add(bus.MessageSubject("*"), bus.TimerSubject(owner, "*", "*"), bus.LifecycleSubject("*", "*"))
		directGet(&pub, bus.StreamLifecycle)
	}
	for _, s := range topo.Streams {
		streamAdmin(&pub, s.Name)
	}
	for _, k := range topo.KeyValues {
		streamAdmin(&pub, "KV_"+k.Bucket)
		keyValue(&pub, k.Bucket)
	}
	for _, o := range topo.ObjectStores {
		streamAdmin(&pub, "OBJ_"+o.Bucket)
		objectStore(&pub, o.Bucket)
	}
	for _, c := range topo.Consumers {
		durable(&pub, c, false)
	}
	pub.add(jsAPI + "INFO")
	u := newUser(serviceUserName(service, group))
	u.Permissions = Permissions{Publish: pub.list, Subscribe: []string{u.InboxPrefix + ".>"}}
	return u, nil
}

// ServiceCommonName is the certificate CN of the user of service in
// consumer group group: gp2gp-<service>[-<group>].
func ServiceCommonName(service, group string) string {
	return CommonName(serviceUserName(service, group))
}

func serviceUserName(service, group string) string {
	if group == "" {
		return service
	}
	return service + "-" + group
}

// Vendor is the user of a vendor's clinical system serving the practices
// with ODS codes ods: it registers patients, answers record requests and
// integrates received records for those practices only. name is lower-case
// letters, digits and dashes (its certificate CN is gp2gp-vendor-<name>).
func Vendor(name string, ods []string) (User, error) {
	if !namePattern.MatchString(name) {
		return User{}, fmt.Errorf("natsauth: vendor name %q: use lower-case letters, digits and dashes", name)
	}
	if len(ods) == 0 {
		return User{}, fmt.Errorf("natsauth: vendor %s: no practices", name)
	}
	var pub set
	for _, code := range ods {
		if !odsPattern.MatchString(code) {
			return User{}, fmt.Errorf("natsauth: vendor %s: ODS code %q is not 3 to 10 upper-case letters and digits", name, code)
		}
		pub.add(bus.RegistrationSubject(code), bus.RecordResponseSubject(code), bus.IntegrationOutcomeSubject(code))
		durable(&pub, bus.PracticeRecordRequests(code), true)
		durable(&pub, bus.PracticeRecordsReady(code), true)
		objectStore(&pub, bus.RecordsBucket(code))
	}
	u := newUser("vendor-" + name)
	u.Permissions = Permissions{Publish: pub.list, Subscribe: []string{u.InboxPrefix + ".>"}}
	return u, nil
}

var odsPattern = regexp.MustCompile(`^[A-Z0-9]{3,10}$`)

// Operator is an on-call engineer's user (gp2gpctl): it reads transfer
// state, lifecycle and message events and the dead-letter stream, looks at
// every stream and consumer, sends resend commands and replays dead
// letters onto the subjects they came from. It cannot create, change or
// delete streams, buckets or consumers other than its own ephemeral ones,
// nor read or write the records object stores.
func Operator(name string) (User, error) {
	if !namePattern.MatchString(name) {
		return User{}, fmt.Errorf("natsauth: operator name %q: use lower-case letters, digits and dashes", name)
	}
	var pub set
	pub.add(jsAPI+"INFO", jsAPI+"STREAM.NAMES", jsAPI+"STREAM.LIST", jsAPI+"STREAM.INFO.*",
		jsAPI+"CONSUMER.NAMES.*", jsAPI+"CONSUMER.LIST.*", jsAPI+"CONSUMER.INFO.*.*")
	for _, s := range []string{bus.StreamLifecycle, bus.StreamMessages, bus.StreamDeadLetter} {
		directGet(&pub, s)
		ephemeralReads(&pub, s)
	}
	keyValue(&pub, bus.BucketTransfers)
	// Dead-letter replay: back onto any gp2gp subject, and the dead letter
	// removed once replayed.
	pub.add(subjectRoot+".>", jsAPI+"STREAM.MSG.DELETE."+bus.StreamDeadLetter)
	u := newUser("operator-" + name)
	u.Permissions = Permissions{Publish: pub.list, Subscribe: []string{u.InboxPrefix + ".>"}}
	return u, nil
}

const subjectRoot = "gp2gp"

// Spec says which users a deployment has.
type Spec struct {
	// Practices the services serve (every service serves them all).
	Practices []bus.Practice `json:"practices"`
	// Group is the services' consumer group ("" for the usual single
	// deployment).
	Group string `json:"group,omitempty"`
	// Vendors are the clinical systems' users, each with its practices.
	Vendors []VendorSpec `json:"vendors"`
	// Operators are the on-call engineers' users.
	Operators []string `json:"operators"`
}

// VendorSpec is one vendor user.
type VendorSpec struct {
	Name string   `json:"name"`
	ODS  []string `json:"ods"`
}

// Users are every user of spec: the five services, then the vendors, then
// the operators.
func (spec Spec) Users() ([]User, error) {
	var out []User
	for _, svc := range Services {
		u, err := Service(svc, spec.Group, spec.Practices)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	for _, v := range spec.Vendors {
		u, err := Vendor(v.Name, v.ODS)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	for _, name := range spec.Operators {
		u, err := Operator(name)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	seen := map[string]bool{}
	for _, u := range out {
		if seen[u.Name] {
			return nil, fmt.Errorf("natsauth: user %s twice", u.Name)
		}
		seen[u.Name] = true
	}
	return out, nil
}

// Find returns the user called name (a certificate CN such as
// "gp2gp-requester") among users.
func Find(users []User, cn string) (User, bool) {
	i := slices.IndexFunc(users, func(u User) bool { return u.CommonName == cn })
	if i < 0 {
		return User{}, false
	}
	return users[i], true
}

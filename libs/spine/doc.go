// Package spine is gp2gp's Spine transport boundary: how GP2GP wire
// messages leave a practice and how received ones reach the stages.
//
// Sending: every stage sends through one interface, Transport, with an
// *Outbound (the ebXML message and its addressing). Two implementations:
//
//   - Loopback (the default) serves deployments that host both practices
//     of a transfer (the dev stack, the tests, a supplier hosting many
//     practices): Send publishes the message straight onto the bus as if
//     Spine had delivered it.
//   - MHS posts the message to the NHS MHS adaptor's outbound HTTP API
//     (GP2GP-PROTOCOL.md §5.1), which relays it through Spine.
//
// Receiving: whatever the transport, a received message is published on
// gp2gp.spine.in.<recipient ASID>.<kind> (stream GP2GP_SPINE_IN; see
// bus.SpineInSubject and Classify for the kinds) with
//
//   - the MHS adaptor's inbound JSON envelope as the body ({"ebXML",
//     "payload", "attachments", "external_attachments"}; Content-Type
//     application/json), which Read turns back into an *ebxml.Message;
//   - the typed headers: conversation id, interaction id, message id;
//   - the dedupe id spine.<MESSAGE ID>.<RECIPIENT ASID>, so a message
//     delivered twice (a resend, a redelivery by the MHS bridge) is stored
//     once.
//
// The MHS adaptor delivers inbound messages to an AMQP queue. Deployments
// that use it run a small bridge that takes each queue message and POSTs
// its body to the Inbound HTTP handler (NewInbound), acknowledging the
// queue message on 2xx, dead-lettering it on 4xx and retrying on 5xx. The
// same handler is what stand-ins and tests post to.
//
// Which transport a service uses is configuration: LoadConfig reads it
// from the environment and New builds it.
package spine

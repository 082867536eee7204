// Package stage is what the four transfer stages (requester, sender,
// receiver, acknowledger) share beyond the service runtime: their common
// configuration (Spine transport, directory, timers), the transfer store,
// the served practices with their Spine identities, sending a wire
// message with its ebXML envelope, asking the acknowledger for an
// acknowledgement, durable deadlines, and an injectable clock.
package stage

// Package miapi is the client side of NHS England's GP Registrations
// Management Information API (enhanced MI, GP2GP-MI.md §3 and §5): the
// event types, their deterministic ids and the HTTP POST to the API.
package miapi

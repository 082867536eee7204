// Package service is the runtime every gp2gp service shares: the common
// configuration (read from the environment by each service's config.go,
// which passes os.LookupEnv in), the NATS connection, logging, tracing,
// and the serve loop that ensures a service's streams and consumers, runs
// its workers and drains on shutdown.
package service

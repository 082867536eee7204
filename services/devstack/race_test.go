//go:build race

package devstack_test

// raceEnabled: the race detector slows moving hundreds of megabytes
// through the broker tenfold; the heaviest tests run in make test's pass
// without it (HEAVY_TESTS in the Makefile).
const raceEnabled = true

package devstack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/directory/devdirectory"
	"github.com/nhsengland/gp2gp/libs/hl7"
	"github.com/nhsengland/gp2gp/libs/practicesim"
	"github.com/nhsengland/gp2gp/libs/service"
	"github.com/nhsengland/gp2gp/libs/transfer"
)

// ErrUnknownPatient: Register was asked for an NHS number that is not one
// of the dev directory's patients.
var ErrUnknownPatient = errors.New("not a dev stack patient")

// Register registers a dev patient (nhs; "" for the first) at their
// current practice on a running dev stack at natsURL, as that practice's
// clinical system would, then waits up to wait for the transfer to finish
// and prints its timeline to out. It returns the conversation id. tlsDir
// is the certificates directory of a secure dev stack (TLSDir), or "": the
// practice then registers with its vendor's certificate and the transfer
// is watched with the operator's.
func Register(ctx context.Context, natsURL, tlsDir, nhs string, wait time.Duration, out io.Writer) (string, error) {
	pt, err := devPatient(nhs)
	if err != nil {
		return "", err
	}
	connect := func(cn string) (*bus.Bus, func(), error) {
		cfg := service.NATSConfig{URL: natsURL}
		if tlsDir != "" {
			cfg = clientConfig(tlsDir, natsURL, cn)
		}
		b, closeConn, err := dial(cfg, "gp2gp-devstack-register")
		if err != nil {
			return nil, nil, fmt.Errorf("connect to the dev stack's NATS at %s (is make run running?): %w", natsURL, err)
		}
		return b, closeConn, nil
	}
	b, closeVendor, err := connect(VendorCN(pt.CurrentODS))
	if err != nil {
		return "", err
	}
	defer closeVendor()
	ob, closeOperator, err := connect(OperatorCN)
	if err != nil {
		return "", err
	}
	defer closeOperator()
	store, err := transfer.NewStore(ctx, ob)
	if err != nil {
		return "", fmt.Errorf("the dev stack at %s has no transfer store yet (is make run running?): %w", natsURL, err)
	}
	dir, err := devdirectory.File()
	if err != nil {
		return "", err
	}
	info, err := dir.Endpoint(ctx, pt.CurrentODS, string(hl7.EHRRequest))
	if err != nil {
		return "", fmt.Errorf("practice %s: %w", pt.CurrentODS, err)
	}
	at, err := practicesim.New(b, practicesim.Config{ODS: pt.CurrentODS, ASID: info.ASID})
	if err != nil {
		return "", err
	}
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	conv, err := registerAndWatch(wctx, at, store, pt, out, "registered")
	if err != nil && conv != "" && wctx.Err() != nil && ctx.Err() == nil {
		return conv, fmt.Errorf("transfer %s did not finish within %s; follow it with: gp2gpctl status %s", conv, wait, conv)
	}
	return conv, err
}

// devPatient finds a dev directory patient by NHS number ("" for the first).
func devPatient(nhs string) (practicesim.Patient, error) {
	all := practicesim.Patients()
	if nhs == "" {
		return all[0], nil
	}
	var known []string
	for _, p := range all {
		if p.NHSNumber == strings.ReplaceAll(strings.TrimSpace(nhs), " ", "") {
			return p, nil
		}
		known = append(known, p.NHSNumber+" ("+p.GivenName+" "+p.FamilyName+", "+p.PreviousODS+" → "+p.CurrentODS+")")
	}
	return practicesim.Patient{}, fmt.Errorf("%w: %s; the patients are %s", ErrUnknownPatient, nhs, strings.Join(known, ", "))
}

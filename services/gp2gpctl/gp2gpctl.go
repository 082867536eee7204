// Package gp2gpctl is the operator's command line for gp2gp: inspecting
// message files now; transfer status, dead letters and MI reports as those
// parts of the system arrive.
package gp2gpctl

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/nhsengland/gp2gp/services/gp2gpctl/internal/inspect"
)

const usage = `gp2gpctl: operate a gp2gp deployment

usage:
  gp2gpctl inspect [-pretty] FILE...   describe GP2GP message files (bare HL7 XML,
                                       MIME/HTTP captures, MHS inbound JSON) as JSON,
                                       one object per file
  gp2gpctl help                        this text
`

// Exit codes.
const (
	ExitOK      = 0
	ExitFailure = 1 // a file or operation failed; the others were still done
	ExitUsage   = 2
)

// Run runs the command line args (without the program name), writing
// results to stdout and problems to stderr, and returns the exit code.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return ExitUsage
	}
	switch args[0] {
	case "inspect":
		return runInspect(args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return ExitOK
	}
	fmt.Fprintf(stderr, "gp2gpctl: unknown command %q\n\n%s", args[0], usage)
	return ExitUsage
}

func runInspect(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("inspect", flag.ContinueOnError)
	fs.SetOutput(stderr)
	pretty := fs.Bool("pretty", false, "indent the JSON")
	if err := fs.Parse(args); err != nil {
		return ExitUsage
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "gp2gpctl inspect: name at least one file")
		return ExitUsage
	}
	code := ExitOK
	for _, file := range fs.Args() {
		if err := inspectFile(file, *pretty, stdout); err != nil {
			fmt.Fprintf(stderr, "gp2gpctl inspect: %s: %v\n", file, err)
			code = ExitFailure
		}
	}
	return code
}

func inspectFile(file string, pretty bool, stdout io.Writer) error {
	data, err := os.ReadFile(file)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return err
	}
	r, err := inspect.Inspect(data)
	if err != nil {
		return err
	}
	r.File = file
	out, err := r.JSON(pretty)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "%s\n", out)
	return err
}

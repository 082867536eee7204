// Package devdirectory is the directory of the dev stack and the tests:
// two practices, A12345 and B86041, both GP2GP enabled, and a few
// patients moving between them.
package devdirectory

import (
	_ "embed"

	"github.com/nhsengland/gp2gp/libs/directory"
)

//go:embed devstack.json
var data []byte

// JSON returns the directory file's bytes.
func JSON() []byte { return append([]byte(nil), data...) }

// File returns the directory, parsed afresh.
func File() (*directory.File, error) { return directory.ParseFile(data) }

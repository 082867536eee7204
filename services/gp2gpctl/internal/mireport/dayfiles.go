package mireport

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// dayFileName matches a Spine message-log file: one UTC day, plain or
// gzipped CSV.
var dayFileName = regexp.MustCompile(`^(\d{4}-\d{2}-\d{2})_spine_messages\.csv(\.gz)?$`)

// dateLayout is the layout of the dates of flags and file names.
const dateLayout = time.DateOnly

// findDayFiles walks dir (recursively, so the spine-exporter's
// v3/YYYY/MM/DD/ layout works as well as a flat directory) and returns the
// file of each UTC day it finds, keyed by "YYYY-MM-DD". Two files for one
// day (a .csv and a .csv.gz, or the same name in two directories) are an
// error when that day is wanted.
func findDayFiles(dir string, wanted func(day string) bool) (map[string]string, error) {
	info, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("spine csv directory: %w", err)
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("spine csv directory: %s is not a directory", dir)
	}
	files := make(map[string]string)
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		m := dayFileName.FindStringSubmatch(d.Name())
		if m == nil || !wanted(m[1]) {
			return nil
		}
		if _, err := time.Parse(dateLayout, m[1]); err != nil {
			return nil // not a date: not a day file
		}
		if other, dup := files[m[1]]; dup {
			return fmt.Errorf("two Spine logs for %s: %s and %s", m[1], other, path)
		}
		files[m[1]] = path
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("spine csv directory: %w", err)
	}
	return files, nil
}

// openDayFile opens a day file for reading, decompressing a .gz one. The
// returned function closes it. A plain file is returned unbuffered, as an
// *os.File: its readers read large blocks, or wrap it.
func openDayFile(path string) (io.Reader, func() error, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	if !strings.HasSuffix(path, ".gz") {
		return f, f.Close, nil
	}
	zr, err := gzip.NewReader(bufio.NewReaderSize(f, 256<<10))
	if err != nil {
		_ = f.Close()
		return nil, nil, fmt.Errorf("gzip: %w", err)
	}
	closeBoth := func() error {
		zerr := zr.Close()
		if err := f.Close(); err != nil {
			return err
		}
		return zerr
	}
	return bufio.NewReaderSize(zr, 256<<10), closeBoth, nil
}

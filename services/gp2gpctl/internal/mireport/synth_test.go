package mireport

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// synth writes synthetic Spine message logs: conversations with the mix of
// outcomes of a real month (GP2GP-MI.md §4: about 88 % on time, 5 % late,
// 3 % transferred but not integrated, 3.6 % technical failures, a few
// unclassified), a third of them large records sent as COPC fragments,
// plus noise (conversations that do not start with a request, duplicate
// extracts, acks of unknown messages). Rows go to the file of their UTC
// day; rows after the last day are not written.
type synth struct {
	start         time.Time
	days          int
	conversations int
	practices     int
	seed          uint64
	gzip          bool // write .csv.gz
}

// synthResult is what synth wrote.
type synthResult struct {
	rows     int
	bytes    int64 // of the files as written
	metadata string
}

const (
	urnRequest  = "urn:nhs:names:services:gp2gp/RCMR_IN010000UK05"
	urnExtract  = "urn:nhs:names:services:gp2gp/RCMR_IN030000UK06"
	urnExtract7 = "urn:nhs:names:services:gp2gp/RCMR_IN030000UK07"
	urnAck      = "urn:nhs:names:services:gp2gp/MCCI_IN010000UK13"
	urnCOPC     = "urn:nhs:names:services:gp2gp/COPC_IN000001UK01"
)

var synthSystems = []string{"EMIS Web", "SystmOne", "Vision", "Medicus"}

type synthWriter struct {
	rng   *rand.Rand
	bst   *time.Location
	files []*bufio.Writer
	start time.Time
	days  int
	rows  int
	buf   []byte
}

func (s synth) write(dir string) (synthResult, error) {
	w := &synthWriter{
		rng:   rand.New(rand.NewPCG(s.seed, 0x6d69)),
		bst:   time.FixedZone("BST", 3600),
		start: s.start,
		days:  s.days,
	}
	type closer struct {
		f  *os.File
		zw *gzip.Writer
	}
	var closers []closer
	for d := range s.days {
		day := s.start.AddDate(0, 0, d)
		sub := filepath.Join(dir, "v3", day.Format("2006/01/02"))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			return synthResult{}, err
		}
		name := filepath.Join(sub, day.Format(dateLayout)+"_spine_messages.csv")
		if s.gzip {
			name += ".gz"
		}
		f, err := os.Create(name)
		if err != nil {
			return synthResult{}, err
		}
		c := closer{f: f}
		var out io.Writer = f
		if s.gzip {
			c.zw = gzip.NewWriter(f)
			out = c.zw
		}
		closers = append(closers, c)
		bw := bufio.NewWriterSize(out, 1<<20)
		bw.WriteString("_time,conversationID,GUID,interactionID,messageSender,messageRecipient,messageRef,jdiEvent,fromSystem,toSystem\n")
		w.files = append(w.files, bw)
	}
	// Practices: ASIDs 2000000xxxxx, a few practices with two.
	asids := make([]string, 0, s.practices+s.practices/10)
	systemOf := make(map[string]string)
	type practice struct {
		ODS   string   `json:"odsCode"`
		Name  string   `json:"name"`
		ASIDs []string `json:"asids"`
	}
	type sicbl struct {
		ODS       string   `json:"odsCode"`
		Name      string   `json:"name"`
		Practices []string `json:"practices"`
	}
	var md struct {
		Practices []practice `json:"practices"`
		SICBLs    []sicbl    `json:"sicbls"`
	}
	for i := range s.practices {
		p := practice{ODS: fmt.Sprintf("P%05d", i), Name: fmt.Sprintf("Practice %d", i)}
		n := 1 + boolInt(i%10 == 0)
		for range n {
			a := fmt.Sprintf("2000%08d", len(asids))
			asids = append(asids, a)
			systemOf[a] = synthSystems[i%len(synthSystems)]
			p.ASIDs = append(p.ASIDs, a)
		}
		if i%50 == 49 {
			p.ASIDs = p.ASIDs[:0] // known practice without ASIDs
		}
		md.Practices = append(md.Practices, p)
		if i%97 == 0 {
			continue // in no SICBL
		}
		k := i / 60
		if len(md.SICBLs) <= k {
			md.SICBLs = append(md.SICBLs, sicbl{ODS: fmt.Sprintf("%02dX", k), Name: fmt.Sprintf("Sub-ICB %d", k)})
		}
		md.SICBLs[k].Practices = append(md.SICBLs[k].Practices, p.ODS)
	}
	// Unknown ASIDs, not in the metadata.
	for i := range max(1, s.practices/100) {
		a := fmt.Sprintf("9000%08d", i)
		asids = append(asids, a)
		systemOf[a] = "Other"
	}

	span := time.Duration(s.days) * 24 * time.Hour
	for range s.conversations {
		at := s.start.Add(time.Duration(w.rng.Int64N(int64(span))))
		req := asids[w.rng.IntN(len(asids))]
		snd := asids[w.rng.IntN(len(asids))]
		for snd == req {
			snd = asids[w.rng.IntN(len(asids))]
		}
		w.conversation(at, req, snd, systemOf[req], systemOf[snd])
	}
	var res synthResult
	for i, bw := range w.files {
		if err := bw.Flush(); err != nil {
			return res, err
		}
		if c := closers[i]; c.zw != nil {
			if err := c.zw.Close(); err != nil {
				return res, err
			}
		}
		info, err := closers[i].f.Stat()
		if err != nil {
			return res, err
		}
		res.bytes += info.Size()
		if err := closers[i].f.Close(); err != nil {
			return res, err
		}
	}
	res.rows = w.rows
	res.metadata = filepath.Join(dir, "organisationMetadata.json")
	raw, err := json.Marshal(md)
	if err != nil {
		return res, err
	}
	return res, os.WriteFile(res.metadata, raw, 0o644)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// conversation writes one conversation requested at at by ASID req of
// ASID snd.
func (w *synthWriter) conversation(at time.Time, req, snd, reqSys, sndSys string) {
	conv := w.uuid()
	p := w.rng.Float64()
	send := func(at time.Time, urn, from, to, ref string, code int) string {
		id := w.uuid()
		fromSys, toSys := reqSys, sndSys
		if from == snd {
			fromSys, toSys = sndSys, reqSys
		}
		w.row(at, conv, id, urn, from, to, ref, code, fromSys, toSys)
		return id
	}
	minutes := func(lo, hi int) time.Duration {
		return time.Duration(lo)*time.Minute + time.Duration(w.rng.Int64N(int64(hi-lo+1)*int64(time.Minute)))
	}
	if p < 0.003 { // noise: the conversation starts with an ack
		send(at, urnAck, snd, req, w.uuid(), -1)
		send(at.Add(minutes(1, 5)), urnRequest, req, snd, "", -1)
		return
	}
	request := send(at, urnRequest, req, snd, "", -1)
	t := at.Add(minutes(0, 2))
	switch {
	case p < 0.012: // request never acknowledged
		if w.rng.IntN(2) == 0 {
			send(at.Add(minutes(5, 60)), urnExtract, snd, req, "", -1)
		}
		return
	case p < 0.030: // fatal sender error
		codes := []int{6, 7, 10, 14, 23, 24, 30, 99}
		send(t, urnAck, snd, req, request, codes[w.rng.IntN(len(codes))])
		return
	case p < 0.0315: // non-fatal sender code, extract sent: unclassified
		send(t, urnAck, snd, req, request, 19)
		send(t.Add(minutes(1, 30)), urnExtract, snd, req, "", -1)
		return
	}
	send(t, urnAck, snd, req, request, -1)
	if p < 0.036 { // core extract not sent
		return
	}
	urn := urnExtract
	if w.rng.IntN(20) == 0 {
		urn = urnExtract7
	}
	xt := t.Add(minutes(1, 60))
	extract := send(xt, urn, snd, req, "", -1)
	t = xt
	if w.rng.IntN(3) == 0 { // large record: continue, fragments
		t = t.Add(minutes(1, 30))
		cont := send(t, urnCOPC, req, snd, "", -1)
		send(t.Add(time.Second), urnAck, snd, req, cont, -1)
		n := 1 + w.rng.IntN(9)
		for range n {
			t = t.Add(minutes(0, 3))
			frag := send(t, urnCOPC, snd, req, "", -1)
			if p >= 0.037 || w.rng.IntN(4) > 0 { // a few fragments never acked
				send(t.Add(minutes(0, 1)), urnAck, req, snd, frag, -1)
			}
		}
	}
	switch q := w.rng.Float64(); {
	case p < 0.037: // large-message trouble or a final error
		send(t.Add(minutes(10, 600)), urnAck, req, snd, extract, []int{11, 25, 30, 31}[w.rng.IntN(4)])
	case q < 0.031: // transferred, not integrated
	case q < 0.085: // integrated late: 8 to 13 days
		send(xt.Add(8*24*time.Hour+minutes(1, 5*24*60)), urnAck, req, snd, extract, -1)
	default: // integrated on time, mostly within a day
		var d time.Duration
		switch r := w.rng.Float64(); {
		case r < 0.6:
			d = minutes(5, 24*60)
		case r < 0.85:
			d = minutes(24*60, 3*24*60)
		default:
			d = minutes(3*24*60, 8*24*60)
		}
		if w.rng.IntN(200) == 0 { // a duplicate first
			dup := send(xt.Add(time.Minute), urnExtract, snd, req, "", -1)
			send(xt.Add(2*time.Minute), urnAck, req, snd, dup, 12)
		}
		code := -1
		if w.rng.IntN(50) == 0 {
			code = 15
		}
		send(xt.Add(d), urnAck, req, snd, extract, code)
	}
}

// row writes one CSV row to the file of at's UTC day, with _time in BST
// or UTC.
func (w *synthWriter) row(at time.Time, conv, id, urn, from, to, ref string, code int, fromSys, toSys string) {
	day := int(at.Sub(w.start) / (24 * time.Hour))
	if day < 0 || day >= w.days {
		return
	}
	w.rows++
	b := w.buf[:0]
	if w.rows%2 == 0 {
		b = at.In(w.bst).AppendFormat(b, "2006-01-02 15:04:05.000")
		b = append(b, " BST"...)
	} else {
		b = at.UTC().AppendFormat(b, "2006-01-02 15:04:05.000")
		b = append(b, " UTC"...)
	}
	b = append(b, ',')
	b = append(b, conv...)
	b = append(b, ',')
	b = append(b, id...)
	b = append(b, ',')
	b = append(b, urn...)
	b = append(b, ',')
	b = append(b, from...)
	b = append(b, ',')
	b = append(b, to...)
	b = append(b, ',')
	if ref == "" {
		b = append(b, "NotProvided"...)
	} else {
		b = append(b, ref...)
	}
	b = append(b, ',')
	if code < 0 {
		b = append(b, "NONE"...)
	} else {
		b = strconv.AppendInt(b, int64(code), 10)
	}
	b = append(b, ',')
	b = append(b, fromSys...)
	b = append(b, ',')
	b = append(b, toSys...)
	b = append(b, '\n')
	w.buf = b
	_, _ = w.files[day].Write(b)
}

// uuid returns a random upper-case UUID, as Spine writes them.
func (w *synthWriter) uuid() string {
	const hex = "0123456789ABCDEF"
	var b [36]byte
	hi, lo := w.rng.Uint64(), w.rng.Uint64()
	j := 0
	for i := range 36 {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			b[i] = '-'
			continue
		}
		var nib uint64
		if j < 16 {
			nib = hi >> (4 * j) & 0xf
		} else {
			nib = lo >> (4 * (j - 16)) & 0xf
		}
		b[i] = hex[nib]
		j++
	}
	return string(b[:])
}

package ehr

import (
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/beevik/etree"
)

// Sizing: WithTargetSize makes Generate add encounters until the extract,
// as written by WriteTo with default settings, reaches the target.

// fill appends encounters until the extract reaches WithTargetSize: whole
// encounters while a last, shortest note still fits, then a note whose
// text makes up the difference.
func (g *generator) fill(extract, folder *etree.Element) {
	// NOPAT marks are added last; leave room for them.
	target := g.s.targetBytes - g.s.nopat*size(confidentialityCode())
	total := size(extract)
	average, shortest := g.probe()
	estimate := max(1, (target-total)/average)
	i := 0
	for ; ; i++ {
		// Keep each encounter only if a last, shortest note still fits.
		undo := g.checkpoint()
		component := g.encounter(folder, i, g.encounterTime(i, estimate))
		n := size(component)
		if i > 0 && total+n+shortest > target {
			folder.RemoveChild(component)
			g.rollback(undo)
			break
		}
		total += n
	}
	// A last consultation with a free-text note long enough to land on
	// the target.
	g.note(folder, target-total, g.encounterTime(i, estimate))
}

// checkpoint is the generator state an encounter changes.
type checkpoint struct {
	marks        int
	compositions int
	statements   map[string]int
	repeats      []authorisation
}

func (g *generator) checkpoint() checkpoint {
	c := checkpoint{
		marks:        len(g.marks),
		compositions: g.sum.Compositions,
		statements:   make(map[string]int, len(g.sum.Statements)),
		repeats:      append([]authorisation(nil), g.repeats...),
	}
	for k, v := range g.sum.Statements {
		c.statements[k] = v
	}
	return c
}

// rollback forgets what was registered since c (the random stream goes
// on: output stays deterministic).
func (g *generator) rollback(c checkpoint) {
	g.marks = g.marks[:c.marks]
	g.sum.Compositions = c.compositions
	g.sum.Statements = c.statements
	g.repeats = c.repeats
}

// probeEncounters is how many encounters probe builds to estimate their
// size.
const probeEncounters = 24

// probeSeed seeds every probe: the estimate is the same for every
// patient, so it is worked out once per kind of record (probeKey).
const probeSeed = 0x5851f42d4c957f2d

// probeKey is what an encounter's size depends on, bar the random content
// an average evens out.
type probeKey struct {
	sendingODS, requestingODS string
	attachments, nopat, local int
}

// probes holds probe results by probeKey.
var probes sync.Map

// probe estimates the serialised size of one encounter, and of the
// shortest note encounter, with a throwaway generator, so that encounter
// dates can be spread over the record before the final number of
// encounters is known. The estimate depends on the probeKey only (and so
// does the output, deterministically); it is worked out once for each.
func (g *generator) probe() (average, shortest int) {
	k := probeKey{g.s.sendingODS, g.s.requestingODS, len(g.s.attachments), g.s.nopat, g.s.local}
	if v, ok := probes.Load(k); ok {
		r := v.([2]int)
		return r[0], r[1]
	}
	p := newGenerator(g.s, probeSeed)
	_, folder := p.shell()
	total := 0
	for i := 0; i < probeEncounters; i++ {
		total += size(p.encounter(folder, i, p.encounterTime(i, probeEncounters)))
	}
	average, shortest = max(1, total/probeEncounters), p.note(folder, 0, p.end)
	probes.Store(k, [2]int{average, shortest})
	return average, shortest
}

// note appends an encounter holding one NarrativeStatement whose text
// makes the encounter want bytes long (or as near as characters allow;
// never shorter than the smallest such encounter), and returns its size.
func (g *generator) note(folder *etree.Element, want int, when time.Time) int {
	const heading = "Correspondence summary:"
	comp := g.composition(folder, g.cat.encounterTypes[0], when)
	g.narrative(comp, heading, when)
	text := comp.FindElement("./component/NarrativeStatement/text")
	component := comp.Parent()
	short := size(component)
	var b strings.Builder
	b.WriteString(heading)
	for k, first := 0, g.pick(len(g.cat.letters)); b.Len() < want-short+len(heading); k++ {
		b.WriteByte(' ')
		b.WriteString(g.cat.letters[(first+k)%len(g.cat.letters)])
	}
	body := b.String()
	// Trim to the byte, allowing for characters the writer escapes.
	for cut := len(body); ; {
		text.SetText(body[:cut])
		n := size(component)
		over := n - want
		if over <= 0 || cut <= len(heading) {
			return n
		}
		cut = max(len(heading), cut-over)
		for cut > 0 && !utf8.RuneStart(body[cut]) {
			cut--
		}
	}
}

// byteCounter is an etree.Writer that only counts.
type byteCounter int

func (c *byteCounter) Write(p []byte) (int, error) {
	*c += byteCounter(len(p))
	return len(p), nil
}

func (c *byteCounter) WriteString(s string) (int, error) {
	*c += byteCounter(len(s))
	return len(s), nil
}

func (c *byteCounter) WriteByte(byte) error {
	*c++
	return nil
}

// size is el's length as written by WriteTo with default settings.
func size(el *etree.Element) int {
	var c byteCounter
	el.WriteTo(&c, &etree.WriteSettings{})
	return int(c)
}

package ops

import (
	"bytes"
	"math"
	"slices"
	"strconv"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// This file writes collected OpenTelemetry metrics in the Prometheus text
// exposition format 0.0.4, following the OpenTelemetry → Prometheus
// compatibility rules for names, units and types. Exponential histograms
// are not written (gp2gp records none); summaries, which only bridges
// produce, are. Metrics of the same name from different meters share one
// family, so instrument names must be unique across meters.

// PrometheusContentType is the Content-Type of the exposition.
const PrometheusContentType = "text/plain; version=0.0.4; charset=utf-8"

// family is one metric family of the exposition: its # TYPE and # HELP
// lines and its series, each a block of sample lines.
type family struct {
	name, typ, help string
	series          []series
}

// series is the sample lines of one attribute set, kept with its label
// text so that the output is sorted and stable.
type series struct {
	labels string
	lines  []byte
}

// writeExposition writes rm to buf, families sorted by name and series by
// labels, preceded by target_info for the resource.
func writeExposition(buf *bytes.Buffer, rm *metricdata.ResourceMetrics) {
	families := map[string]*family{}
	add := func(name, typ, help string, s series) {
		f, ok := families[name]
		if !ok {
			f = &family{name: name, typ: typ, help: help}
			families[name] = f
		}
		if f.typ != typ {
			return // same name, different kind: the first one wins
		}
		f.series = append(f.series, s)
	}
	if rm.Resource != nil && rm.Resource.Len() > 0 {
		add("target_info", "gauge", "Target metadata", series{
			labels: labelText(rm.Resource.Set(), ""),
			lines:  sampleLine(nil, "target_info", labelText(rm.Resource.Set(), ""), "1"),
		})
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			addMetric(m, add)
		}
	}
	names := make([]string, 0, len(families))
	for n := range families {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		f := families[n]
		if f.help != "" {
			buf.WriteString("# HELP " + f.name + " " + escapeHelp(f.help) + "\n")
		}
		buf.WriteString("# TYPE " + f.name + " " + f.typ + "\n")
		slices.SortStableFunc(f.series, func(a, b series) int { return strings.Compare(a.labels, b.labels) })
		for _, s := range f.series {
			buf.Write(s.lines)
		}
	}
}

func addMetric(m metricdata.Metrics, add func(name, typ, help string, s series)) {
	switch d := m.Data.(type) {
	case metricdata.Sum[int64]:
		addSum(m, d.IsMonotonic, d.DataPoints, formatInt, add)
	case metricdata.Sum[float64]:
		addSum(m, d.IsMonotonic, d.DataPoints, formatFloat, add)
	case metricdata.Gauge[int64]:
		addGauge(metricName(m.Name, m.Unit, "gauge"), m.Description, d.DataPoints, formatInt, add)
	case metricdata.Gauge[float64]:
		addGauge(metricName(m.Name, m.Unit, "gauge"), m.Description, d.DataPoints, formatFloat, add)
	case metricdata.Histogram[int64]:
		addHistogram(m, d.DataPoints, formatInt, add)
	case metricdata.Histogram[float64]:
		addHistogram(m, d.DataPoints, formatFloat, add)
	case metricdata.Summary:
		name := metricName(m.Name, m.Unit, "summary")
		for _, dp := range d.DataPoints {
			labels := labelText(&dp.Attributes, "")
			var lines []byte
			for _, q := range dp.QuantileValues {
				lines = sampleLine(lines, name, labelText(&dp.Attributes, `quantile="`+formatFloat(q.Quantile)+`"`), formatFloat(q.Value))
			}
			lines = sampleLine(lines, name+"_sum", labels, formatFloat(dp.Sum))
			lines = sampleLine(lines, name+"_count", labels, strconv.FormatUint(dp.Count, 10))
			add(name, "summary", m.Description, series{labels: labels, lines: lines})
		}
	}
}

// addSum writes a monotonic sum as a counter and any other sum (an
// up-down counter) as a gauge.
func addSum[N int64 | float64](m metricdata.Metrics, monotonic bool, dps []metricdata.DataPoint[N], format func(N) string, add func(string, string, string, series)) {
	if !monotonic {
		addGauge(metricName(m.Name, m.Unit, "gauge"), m.Description, dps, format, add)
		return
	}
	name := metricName(m.Name, m.Unit, "counter")
	for _, dp := range dps {
		labels := labelText(&dp.Attributes, "")
		add(name, "counter", m.Description, series{labels: labels, lines: sampleLine(nil, name, labels, format(dp.Value))})
	}
}

func addGauge[N int64 | float64](name, help string, dps []metricdata.DataPoint[N], format func(N) string, add func(string, string, string, series)) {
	for _, dp := range dps {
		labels := labelText(&dp.Attributes, "")
		add(name, "gauge", help, series{labels: labels, lines: sampleLine(nil, name, labels, format(dp.Value))})
	}
}

func addHistogram[N int64 | float64](m metricdata.Metrics, dps []metricdata.HistogramDataPoint[N], format func(N) string, add func(string, string, string, series)) {
	name := metricName(m.Name, m.Unit, "histogram")
	for _, dp := range dps {
		labels := labelText(&dp.Attributes, "")
		var lines []byte
		var cumulative uint64
		for i, bound := range dp.Bounds {
			if i < len(dp.BucketCounts) {
				cumulative += dp.BucketCounts[i]
			}
			lines = sampleLine(lines, name+"_bucket", labelText(&dp.Attributes, `le="`+formatFloat(bound)+`"`), strconv.FormatUint(cumulative, 10))
		}
		lines = sampleLine(lines, name+"_bucket", labelText(&dp.Attributes, `le="+Inf"`), strconv.FormatUint(dp.Count, 10))
		lines = sampleLine(lines, name+"_sum", labels, format(dp.Sum))
		lines = sampleLine(lines, name+"_count", labels, strconv.FormatUint(dp.Count, 10))
		add(name, "histogram", m.Description, series{labels: labels, lines: lines})
	}
}

func sampleLine(dst []byte, name, labels, value string) []byte {
	dst = append(dst, name...)
	if labels != "" {
		dst = append(dst, '{')
		dst = append(dst, labels...)
		dst = append(dst, '}')
	}
	dst = append(dst, ' ')
	dst = append(dst, value...)
	return append(dst, '\n')
}

// metricName turns an OpenTelemetry instrument name and unit into a
// Prometheus metric name: invalid characters become underscores, the unit
// is appended as a word (s → seconds, By → bytes, {transfer} → nothing),
// and counters end in _total.
func metricName(name, unit, typ string) string {
	n := sanitizeName(name)
	if suffix := unitSuffix(unit, typ); suffix != "" && !strings.HasSuffix(n, "_"+suffix) && !strings.Contains(n, "_"+suffix+"_") {
		n += "_" + suffix
	}
	if typ == "counter" {
		n = strings.TrimSuffix(n, "_total") + "_total"
	}
	return n
}

// sanitizeName keeps [a-zA-Z0-9_:], replaces anything else with an
// underscore, collapses runs of underscores and keeps the name from
// starting with a digit.
func sanitizeName(s string) string {
	var b strings.Builder
	for _, r := range s {
		ok := r == '_' || r == ':' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
		if !ok {
			r = '_'
		}
		if r == '_' && strings.HasSuffix(b.String(), "_") {
			continue
		}
		b.WriteRune(r)
	}
	n := b.String()
	if n == "" || n[0] >= '0' && n[0] <= '9' {
		n = "_" + n
	}
	return n
}

// unitWords are the UCUM units the compatibility rules spell out.
var unitWords = map[string]string{
	"d": "days", "h": "hours", "min": "minutes", "s": "seconds", "ms": "milliseconds", "us": "microseconds", "ns": "nanoseconds",
	"By": "bytes", "KiBy": "kibibytes", "MiBy": "mebibytes", "GiBy": "gibibytes", "TiBy": "tebibytes",
	"KBy": "kilobytes", "MBy": "megabytes", "GBy": "gigabytes", "TBy": "terabytes",
	"m": "meters", "V": "volts", "A": "amperes", "J": "joules", "W": "watts", "g": "grams",
	"Cel": "celsius", "Hz": "hertz", "%": "percent",
}

// unitSuffix is the name suffix for unit: annotations in braces are
// dropped, "1" is "ratio" for gauges only, X/Y is X_per_Y.
func unitSuffix(unit, typ string) string {
	for {
		i := strings.IndexByte(unit, '{')
		j := strings.IndexByte(unit, '}')
		if i < 0 || j < i {
			break
		}
		unit = unit[:i] + unit[j+1:]
	}
	unit = strings.TrimSpace(unit)
	if unit == "" {
		return ""
	}
	if unit == "1" {
		if typ == "gauge" {
			return "ratio"
		}
		return ""
	}
	word := func(u string) string {
		if w, ok := unitWords[u]; ok {
			return w
		}
		return strings.Trim(sanitizeName(u), "_")
	}
	if num, per, ok := strings.Cut(unit, "/"); ok {
		perWord := strings.TrimSuffix(word(per), "s")
		if num == "" || num == "1" {
			return "per_" + perWord
		}
		return word(num) + "_per_" + perWord
	}
	return word(unit)
}

// labelText renders attrs as Prometheus labels, sorted by label name,
// with extra (already rendered, such as le="0.5") last. Attribute keys
// that sanitise to the same label name have their values joined with ";".
func labelText(attrs *attribute.Set, extra string) string {
	type label struct{ name, value string }
	var labels []label
	iter := attrs.Iter()
	for iter.Next() {
		kv := iter.Attribute()
		name := labelName(string(kv.Key))
		labels = append(labels, label{name, kv.Value.Emit()})
	}
	slices.SortStableFunc(labels, func(a, b label) int { return strings.Compare(a.name, b.name) })
	merged := labels[:0]
	for _, l := range labels {
		if n := len(merged); n > 0 && merged[n-1].name == l.name {
			merged[n-1].value += ";" + l.value
			continue
		}
		merged = append(merged, l)
	}
	var b strings.Builder
	for i, l := range merged {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(l.name + `="` + escapeLabelValue(l.value) + `"`)
	}
	if extra != "" {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(extra)
	}
	return b.String()
}

// labelName makes an attribute key a valid label name: [a-zA-Z0-9_],
// not starting with a digit ("key_" is prefixed) nor with the reserved
// "__" (one underscore is kept).
func labelName(key string) string {
	var b strings.Builder
	for _, r := range key {
		if r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	n := b.String()
	switch {
	case n == "":
		return "key_"
	case n[0] >= '0' && n[0] <= '9':
		return "key_" + n
	case strings.HasPrefix(n, "__"):
		return "_" + strings.TrimLeft(n, "_")
	}
	return n
}

var (
	labelValueEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	helpEscaper       = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
)

func escapeLabelValue(s string) string { return labelValueEscaper.Replace(s) }
func escapeHelp(s string) string       { return helpEscaper.Replace(s) }

func formatInt(v int64) string { return strconv.FormatInt(v, 10) }

func formatFloat(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

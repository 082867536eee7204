package ebxml

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/textproto"
	"regexp"
	"strings"
)

// mimePart is one part of a multipart/related body.
type mimePart struct {
	header    textproto.MIMEHeader
	contentID string // Content-Id without angle brackets
	data      []byte // decoded content
	base64    bool   // Content-Transfer-Encoding was base64
	encoded   []byte // the base64 text without white space, when base64
}

// mimeBody is a split multipart/related body.
type mimeBody struct {
	boundary string
	start    string // the start parameter, without angle brackets
	parts    []mimePart
}

// splitMIME splits an HTTP/MIME capture into its parts. It accepts an
// optional HTTP request line and headers, or MIME headers, before the
// body; finds the boundary in a Content-Type (quoted or not), anywhere in
// a preamble, or from the first "--" line; accepts CRLF or LF line ends, a
// first delimiter that does not start a line (after binary junk), headers
// not followed by a blank line, and anything after the closing delimiter.
func splitMIME(data []byte, o options) (*mimeBody, error) {
	header, body := topHeaders(data)
	mb := &mimeBody{}
	if ct := header.Get("Content-Type"); ct != "" {
		mb.boundary, mb.start = mediaParams(ct)
	}
	if mb.boundary == "" {
		mb.boundary, mb.start = preambleParams(body)
	}
	if mb.boundary == "" {
		mb.boundary = firstDashLine(body)
	}
	if mb.boundary == "" {
		return nil, newError(PartMIME, ErrNoBoundary, nil, "no boundary in a Content-Type header and no --boundary line")
	}
	delim := []byte("--" + mb.boundary)
	pos := firstDelimiter(body, delim)
	if pos < 0 {
		return nil, newError(PartMIME, ErrNoBoundary, nil, "boundary %q never appears in the body", mb.boundary)
	}
	for {
		after := pos + len(delim)
		if bytes.HasPrefix(body[after:], []byte("--")) {
			return mb, nil // closing delimiter; the epilogue is ignored
		}
		nl := bytes.IndexByte(body[after:], '\n')
		if nl < 0 {
			return nil, newError(PartMIME, ErrTruncated, nil, "body ends on a boundary line (part %d)", len(mb.parts))
		}
		contentStart := after + nl + 1
		next := nextDelimiter(body, contentStart-1, delim)
		if next < 0 {
			return nil, newError(PartMIME, ErrTruncated, nil, "no closing boundary after part %d", len(mb.parts))
		}
		content := body[contentStart:max(next, contentStart)]
		content = bytes.TrimSuffix(content, []byte("\r"))
		if len(mb.parts) >= o.maxParts {
			return nil, newError(PartMIME, ErrTooLarge, nil, "more than %d MIME parts", o.maxParts)
		}
		p, err := parsePart(content, len(mb.parts))
		if err != nil {
			return nil, err
		}
		mb.parts = append(mb.parts, p)
		pos = next + 1
	}
}

// delimiterEnds reports whether the delimiter that ends just before
// b[i] is a real one: followed by "--" (the close), or by optional
// transport padding and a line end (or the end of input).
func delimiterEnds(b []byte, i int) bool {
	if bytes.HasPrefix(b[i:], []byte("--")) {
		return true
	}
	for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
		i++
	}
	return i == len(b) || b[i] == '\n' || (b[i] == '\r' && (i+1 == len(b) || b[i+1] == '\n'))
}

// firstDelimiter returns the index of the first delimiter, which need not
// start a line (TPP captures carry binary junk before it on the same line).
func firstDelimiter(b, delim []byte) int {
	for from := 0; from < len(b); {
		i := bytes.Index(b[from:], delim)
		if i < 0 {
			return -1
		}
		i += from
		if delimiterEnds(b, i+len(delim)) {
			return i
		}
		from = i + 1
	}
	return -1
}

// nextDelimiter returns the index of the '\n' that precedes the next
// delimiter at or after b[from], or -1.
func nextDelimiter(b []byte, from int, delim []byte) int {
	pat := append([]byte{'\n'}, delim...)
	for from < len(b) {
		i := bytes.Index(b[from:], pat)
		if i < 0 {
			return -1
		}
		i += from
		if delimiterEnds(b, i+len(pat)) {
			return i
		}
		from = i + 1
	}
	return -1
}

// parsePart reads a part's headers and decodes its content.
func parsePart(content []byte, index int) (mimePart, error) {
	h, body := readHeaders(content)
	p := mimePart{header: h, contentID: trimAngles(h.Get("Content-Id"))}
	cte := strings.ToLower(strings.TrimSpace(h.Get("Content-Transfer-Encoding")))
	switch cte {
	case "base64":
		text, data, err := decodeBase64(body)
		if err != nil {
			return p, newError(PartAttachment, ErrBase64, err, "MIME part %d <%s>", index, p.contentID)
		}
		p.data, p.base64, p.encoded = data, true, text
	case "quoted-printable":
		data, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(body)))
		if err != nil {
			return p, newError(PartAttachment, ErrMalformed, err, "MIME part %d <%s>: bad quoted-printable", index, p.contentID)
		}
		p.data = data
	default: // 7bit, 8bit, binary, or unknown: as sent
		p.data = body
	}
	return p, nil
}

// decodeBase64 decodes base64 text, ignoring line breaks and other white
// space, and tolerating missing or wrong trailing padding (the last
// fragment of a large attachment is a slice of a longer base64 text). It
// also returns the text without the white space.
func decodeBase64(b []byte) (text, data []byte, err error) {
	clean := make([]byte, 0, len(b))
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' && c != '\f' && c != '\v' {
			clean = append(clean, c)
		}
	}
	unpadded := bytes.TrimRight(clean, "=")
	out := make([]byte, base64.RawStdEncoding.DecodedLen(len(unpadded)))
	n, err := base64.RawStdEncoding.Decode(out, unpadded)
	if err != nil {
		return nil, nil, err
	}
	return clean, out[:n], nil
}

var httpRequestLine = regexp.MustCompile(`^[A-Z]+ \S+ HTTP/\d(\.\d)?\s*$`)

// topHeaders splits off an HTTP request line and headers, or MIME headers,
// from the start of a capture. Input that starts with anything else (a
// delimiter, binary junk) has no headers.
func topHeaders(data []byte) (textproto.MIMEHeader, []byte) {
	line, rest := cutLine(data)
	if httpRequestLine.Match(line) {
		h, body := readHeaders(rest)
		return h, body
	}
	if bytes.HasPrefix(data, []byte("--")) {
		return textproto.MIMEHeader{}, data
	}
	if _, _, ok := headerLine(line); ok {
		h, body := readHeaders(data)
		if h.Get("Content-Type") != "" {
			return h, body
		}
	}
	return textproto.MIMEHeader{}, data
}

// cutLine returns b's first line without its line end, and what follows.
func cutLine(b []byte) (line, rest []byte) {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return bytes.TrimSuffix(b, []byte("\r")), nil
	}
	return bytes.TrimSuffix(b[:i], []byte("\r")), b[i+1:]
}

// readHeaders reads header lines up to a blank line, or up to the first
// line that is not a header (Vision omits the blank line before the XML).
// A line starting with white space continues the previous header, unless
// it starts with '<' after a header that has a value (then it is indented
// XML content).
func readHeaders(b []byte) (textproto.MIMEHeader, []byte) {
	h := textproto.MIMEHeader{}
	var last string
	for len(b) > 0 {
		line, rest := cutLine(b)
		if len(bytes.TrimSpace(line)) == 0 {
			return h, rest
		}
		if (line[0] == ' ' || line[0] == '\t') && last != "" {
			cont := bytes.TrimSpace(line)
			vs := h[last]
			if cont[0] != '<' || vs[len(vs)-1] == "" {
				vs[len(vs)-1] = strings.TrimSpace(vs[len(vs)-1] + " " + string(cont))
				b = rest
				continue
			}
		}
		name, value, ok := headerLine(line)
		if !ok {
			return h, b
		}
		last = textproto.CanonicalMIMEHeaderKey(name)
		h[last] = append(h[last], value)
		b = rest
	}
	return h, b
}

// headerLine splits "Name: value" (a token before the colon, any spaces
// after it).
func headerLine(line []byte) (name, value string, ok bool) {
	i := bytes.IndexByte(line, ':')
	if i <= 0 {
		return "", "", false
	}
	for _, c := range line[:i] {
		if !isTokenChar(c) {
			return "", "", false
		}
	}
	return string(line[:i]), string(bytes.TrimSpace(line[i+1:])), true
}

func isTokenChar(c byte) bool {
	if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// mediaParams reads the boundary and start parameters of a Content-Type
// value, falling back to a lenient scan when it is not valid RFC 2045
// (vendors write unquoted boundaries with '=' in them).
func mediaParams(ct string) (boundary, start string) {
	if _, params, err := mime.ParseMediaType(ct); err == nil {
		return params["boundary"], trimAngles(params["start"])
	}
	return paramValue(boundaryParam, []byte(ct)), trimAngles(paramValue(startParam, []byte(ct)))
}

var (
	boundaryParam = regexp.MustCompile(`(?i)(?:^|[;\s])boundary\s*=\s*(?:"([^"\r\n]*)"|([^\s;"]+))`)
	startParam    = regexp.MustCompile(`(?i)(?:^|[;\s])start\s*=\s*(?:"([^"\r\n]*)"|([^\s;"]+))`)
)

func paramValue(re *regexp.Regexp, b []byte) string {
	m := re.FindSubmatch(b)
	if m == nil {
		return ""
	}
	if m[1] != nil {
		return string(m[1])
	}
	return string(m[2])
}

// preambleLimit bounds the search for a boundary parameter in a preamble.
const preambleLimit = 8 << 10

// preambleParams looks for boundary= (and start=) in the text before the
// first line that starts with "--": TPP captures carry the Content-Type in
// binary junk rather than as a header.
func preambleParams(body []byte) (boundary, start string) {
	pre := body[:min(len(body), preambleLimit)]
	if i := bytes.Index(pre, []byte("\n--")); i >= 0 {
		pre = pre[:i]
	}
	b := paramValue(boundaryParam, pre)
	if b == "" || !bytes.Contains(body, []byte("--"+b)) {
		return "", ""
	}
	return b, trimAngles(paramValue(startParam, pre))
}

// firstDashLine takes the boundary from the first line that starts with
// "--". A line "--X--" that occurs only once is a closing delimiter, so
// its boundary is X.
func firstDashLine(body []byte) string {
	for b := body; len(b) > 0; {
		line, rest := cutLine(b)
		if bytes.HasPrefix(line, []byte("--")) {
			bd := strings.TrimRight(string(line[2:]), " \t")
			if strings.HasSuffix(bd, "--") && len(bd) > 2 && bytes.Count(body, []byte("--"+bd)) == 1 {
				bd = strings.TrimSuffix(bd, "--")
			}
			if bd != "" {
				return bd
			}
		}
		b = rest
	}
	return ""
}

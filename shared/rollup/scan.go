package rollup

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// record is the part of a line the rollup reads. sn and payer alias the line's bytes (or
// the scanner's scratch buffer when they held escapes): valid until the next line.
type record struct {
	sn, payer []byte
	amount    int64
	method    int
	status    int
	ts        int64
}

const (
	hasSN = 1 << iota
	hasPayer
	hasAmount
	hasMethod
	hasStatus
	hasTS
	hasAll = hasSN | hasPayer | hasAmount | hasMethod | hasStatus | hasTS
)

// scanner is a hand-rolled reader of one flat JSON object per line. It decodes only the
// fields the rollup needs and skips the others (txn_id, merchant_id, anything added later)
// without decoding them: encoding/json would spend most of the hot loop building strings we
// throw away. Strings without escapes are read in place; escaped ones take a slow path
// through encoding/json, so odd ids are still read exactly.
type scanner struct {
	scratchSN, scratchPayer []byte
}

var errSyntax = errors.New("not a JSON object of the transaction format")

func isWS(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func skipWS(b []byte, i int) int {
	for i < len(b) && isWS(b[i]) {
		i++
	}
	return i
}

// parse reads line into r. It fails on malformed JSON, a missing field, an unknown method or
// status, or a non-integer amount or ts.
func (s *scanner) parse(line []byte, r *record) error {
	i := skipWS(line, 0)
	if i >= len(line) || line[i] != '{' {
		return errSyntax
	}
	i = skipWS(line, i+1)
	seen := 0
	if i < len(line) && line[i] == '}' {
		i++
	} else {
		for {
			key, esc, j, err := readString(line, i)
			if err != nil {
				return err
			}
			if esc {
				var k string
				if err := json.Unmarshal(line[i:j], &k); err != nil {
					return errSyntax
				}
				key = []byte(k)
			}
			i = skipWS(line, j)
			if i >= len(line) || line[i] != ':' {
				return errSyntax
			}
			i = skipWS(line, i+1)
			switch string(key) {
			case "device_sn":
				r.sn, i, err = s.str(line, i, &s.scratchSN)
				seen |= hasSN
			case "payer":
				r.payer, i, err = s.str(line, i, &s.scratchPayer)
				seen |= hasPayer
			case "amount_fen":
				r.amount, i, err = readInt(line, i, "amount_fen")
				seen |= hasAmount
			case "ts":
				r.ts, i, err = readInt(line, i, "ts")
				seen |= hasTS
			case "method":
				var v []byte
				var tmp []byte
				if v, i, err = s.str(line, i, &tmp); err == nil {
					if r.method = methodIndex(v); r.method < 0 {
						err = fmt.Errorf("unknown method %q", v)
					}
				}
				seen |= hasMethod
			case "status":
				var v []byte
				var tmp []byte
				if v, i, err = s.str(line, i, &tmp); err == nil {
					if r.status = statusIndex(v); r.status < 0 {
						err = fmt.Errorf("unknown status %q", v)
					}
				}
				seen |= hasStatus
			default:
				i, err = skipValue(line, i, 0)
			}
			if err != nil {
				return err
			}
			i = skipWS(line, i)
			if i >= len(line) {
				return errSyntax
			}
			if line[i] == '}' {
				i++
				break
			}
			if line[i] != ',' {
				return errSyntax
			}
			i = skipWS(line, i+1)
		}
	}
	if skipWS(line, i) != len(line) {
		return errSyntax
	}
	if seen != hasAll {
		return fmt.Errorf("missing field %s", missing(seen))
	}
	return nil
}

func missing(seen int) string {
	for _, f := range []struct {
		bit  int
		name string
	}{{hasSN, "device_sn"}, {hasPayer, "payer"}, {hasAmount, "amount_fen"}, {hasMethod, "method"}, {hasStatus, "status"}, {hasTS, "ts"}} {
		if seen&f.bit == 0 {
			return f.name
		}
	}
	return ""
}

// str reads a string value: in place when it has no escapes, else decoded into *scratch.
func (s *scanner) str(b []byte, i int, scratch *[]byte) ([]byte, int, error) {
	v, esc, j, err := readString(b, i)
	if err != nil || !esc {
		return v, j, err
	}
	var d string
	if err := json.Unmarshal(b[i:j], &d); err != nil {
		return nil, 0, errSyntax
	}
	*scratch = append((*scratch)[:0], d...)
	return *scratch, j, nil
}

// readString reads the JSON string at b[i]: its raw contents, whether they hold escapes, and
// the index after the closing quote.
func readString(b []byte, i int) (v []byte, esc bool, next int, err error) {
	if i >= len(b) || b[i] != '"' {
		return nil, false, 0, errSyntax
	}
	start := i + 1
	q := bytes.IndexByte(b[start:], '"')
	if q < 0 {
		return nil, false, 0, errSyntax
	}
	if bytes.IndexByte(b[start:start+q], '\\') < 0 {
		return b[start : start+q], false, start + q + 1, nil
	}
	for j := start; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return b[start:j], true, j + 1, nil
		}
	}
	return nil, false, 0, errSyntax
}

// readInt reads a JSON integer (no fraction, no exponent).
func readInt(b []byte, i int, field string) (int64, int, error) {
	neg := false
	if i < len(b) && b[i] == '-' {
		neg = true
		i++
	}
	start := i
	var n int64
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		if n > (1<<62)/10 {
			return 0, 0, fmt.Errorf("%s is out of range", field)
		}
		n = n*10 + int64(b[i]-'0')
		i++
	}
	if i == start || (i < len(b) && (b[i] == '.' || b[i] == 'e' || b[i] == 'E')) {
		return 0, 0, fmt.Errorf("%s must be an integer", field)
	}
	if neg {
		n = -n
	}
	return n, i, nil
}

// skipValue returns the index after the JSON value at b[i].
func skipValue(b []byte, i, depth int) (int, error) {
	if i >= len(b) || depth > 64 {
		return 0, errSyntax
	}
	switch c := b[i]; {
	case c == '"':
		_, _, j, err := readString(b, i)
		return j, err
	case c == '{' || c == '[':
		closing := byte('}')
		if c == '[' {
			closing = ']'
		}
		i = skipWS(b, i+1)
		if i < len(b) && b[i] == closing {
			return i + 1, nil
		}
		for {
			if c == '{' {
				_, _, j, err := readString(b, i)
				if err != nil {
					return 0, err
				}
				i = skipWS(b, j)
				if i >= len(b) || b[i] != ':' {
					return 0, errSyntax
				}
				i = skipWS(b, i+1)
			}
			j, err := skipValue(b, i, depth+1)
			if err != nil {
				return 0, err
			}
			i = skipWS(b, j)
			if i >= len(b) {
				return 0, errSyntax
			}
			if b[i] == closing {
				return i + 1, nil
			}
			if b[i] != ',' {
				return 0, errSyntax
			}
			i = skipWS(b, i+1)
		}
	default:
		j := i
		for j < len(b) && !isWS(b[j]) && b[j] != ',' && b[j] != '}' && b[j] != ']' {
			j++
		}
		if j == i || !json.Valid(b[i:j]) {
			return 0, errSyntax
		}
		return j, nil
	}
}

func methodIndex(v []byte) int {
	switch string(v) {
	case "FACE":
		return MethodFace
	case "QUICK_PAY":
		return MethodQuickPay
	case "QR_CODE":
		return MethodQRCode
	case "JSAPI":
		return MethodJSAPI
	case "IN_APP":
		return MethodInApp
	case "H5":
		return MethodH5
	}
	return -1
}

func statusIndex(v []byte) int {
	switch string(v) {
	case "SUCCESS":
		return StatusSuccess
	case "FAILED":
		return StatusFailed
	case "TIMEOUT":
		return StatusTimeout
	case "REFUNDED":
		return StatusRefunded
	}
	return -1
}

// parseFast reads a line laid out exactly as the payment core writes it (the fields in the
// documented order, no spaces, no escapes) in one pass with no key dispatch. It reports
// false on anything else, and the general parser takes the line.
func parseFast(line []byte, r *record) bool {
	if bytes.IndexByte(line, '\\') >= 0 {
		return false
	}
	i := 0
	lit := func(s string) bool {
		if len(line)-i < len(s) || string(line[i:i+len(s)]) != s {
			return false
		}
		i += len(s)
		return true
	}
	str := func() ([]byte, bool) {
		q := bytes.IndexByte(line[i:], '"')
		if q < 0 {
			return nil, false
		}
		v := line[i : i+q]
		i += q + 1
		return v, true
	}
	num := func() (int64, bool) {
		start := i
		var n int64
		for i < len(line) && line[i] >= '0' && line[i] <= '9' && i-start < 18 {
			n = n*10 + int64(line[i]-'0')
			i++
		}
		return n, i > start
	}
	var ok bool
	var v []byte
	if !lit(`{"txn_id":"`) {
		return false
	}
	if _, ok = str(); !ok || !lit(`,"device_sn":"`) {
		return false
	}
	if r.sn, ok = str(); !ok || !lit(`,"merchant_id":"`) {
		return false
	}
	if _, ok = str(); !ok || !lit(`,"payer":"`) {
		return false
	}
	if r.payer, ok = str(); !ok || !lit(`,"amount_fen":`) {
		return false
	}
	if r.amount, ok = num(); !ok || !lit(`,"method":"`) {
		return false
	}
	if v, ok = str(); !ok || !lit(`,"status":"`) {
		return false
	}
	if r.method = methodIndex(v); r.method < 0 {
		return false
	}
	if v, ok = str(); !ok || !lit(`,"ts":`) {
		return false
	}
	if r.status = statusIndex(v); r.status < 0 {
		return false
	}
	if r.ts, ok = num(); !ok || !lit("}") {
		return false
	}
	for ; i < len(line); i++ {
		if !isWS(line[i]) {
			return false
		}
	}
	return true
}

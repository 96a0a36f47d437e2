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
// false on anything else, and the general parser takes the line. It is the hot loop's
// parser: keys are compared as constants (the compiler turns each into a few word loads),
// and method and status are matched as they stand rather than cut out and looked up.
//
// An escape anywhere sends the line to the general parser: it could hide a quote from the
// quote searches below, and escaped ids must be decoded. escapeFree says the caller has
// already looked (the line splitter searches each decompressed window once, not each line).
func parseFast(line []byte, r *record, escapeFree bool) bool {
	if !escapeFree && bytes.IndexByte(line, '\\') >= 0 {
		return false
	}
	const (
		kTxn      = `{"txn_id":"`
		kSN       = `","device_sn":"`
		kMerchant = `","merchant_id":"`
		kPayer    = `","payer":"`
		kAmount   = `","amount_fen":`
		kMethod   = `,"method":"`
		kStatus   = `,"status":"`
		kTS       = `,"ts":`
	)
	if len(line) < len(kTxn) || string(line[:len(kTxn)]) != kTxn {
		return false
	}
	i := len(kTxn)
	// str returns the index of the quote closing the string that starts at i, or -1.
	str := func(i int) int {
		if q := bytes.IndexByte(line[i:], '"'); q >= 0 {
			return i + q
		}
		return -1
	}
	if i = str(i); i < 0 || len(line)-i < len(kSN) || string(line[i:i+len(kSN)]) != kSN {
		return false
	}
	i += len(kSN)
	q := str(i)
	if q < 0 || len(line)-q < len(kMerchant) || string(line[q:q+len(kMerchant)]) != kMerchant {
		return false
	}
	r.sn = line[i:q]
	if i = str(q + len(kMerchant)); i < 0 || len(line)-i < len(kPayer) || string(line[i:i+len(kPayer)]) != kPayer {
		return false
	}
	i += len(kPayer)
	if q = str(i); q < 0 || len(line)-q < len(kAmount) || string(line[q:q+len(kAmount)]) != kAmount {
		return false
	}
	r.payer = line[i:q]
	var ok bool
	if r.amount, i, ok = digits(line, q+len(kAmount)); !ok || len(line)-i < len(kMethod) || string(line[i:i+len(kMethod)]) != kMethod {
		return false
	}
	if r.method, i = methodAt(line, i+len(kMethod)); r.method < 0 || len(line)-i < len(kStatus) || string(line[i:i+len(kStatus)]) != kStatus {
		return false
	}
	if r.status, i = statusAt(line, i+len(kStatus)); r.status < 0 || len(line)-i < len(kTS) || string(line[i:i+len(kTS)]) != kTS {
		return false
	}
	if r.ts, i, ok = digits(line, i+len(kTS)); !ok || i >= len(line) || line[i] != '}' {
		return false
	}
	for i++; i < len(line); i++ {
		if !isWS(line[i]) {
			return false
		}
	}
	return true
}

// digits reads 1 to 18 decimal digits at b[i] (a JSON integer as the payment core writes
// it: no sign, no fraction), returning the value and the index after them.
func digits(b []byte, i int) (int64, int, bool) {
	start := i
	var n int64
	for ; i < len(b); i++ {
		c := b[i] - '0'
		if c > 9 {
			break
		}
		n = n*10 + int64(c)
	}
	return n, i, i > start && i-start <= 18
}

// methodAt matches the method value at b[i] with its closing quote, returning its index and
// the index after the quote (-1 when it is none of them). The first byte picks the one
// candidate to compare (with a constant, which the compiler compares in word loads).
func methodAt(b []byte, i int) (int, int) {
	rest := b[i:]
	if len(rest) < 10 { // the longest value, QUICK_PAY", and more follows in a valid line
		return -1, i
	}
	switch rest[0] {
	case 'F':
		if string(rest[:5]) == `FACE"` {
			return MethodFace, i + 5
		}
	case 'Q':
		if string(rest[:10]) == `QUICK_PAY"` {
			return MethodQuickPay, i + 10
		}
		if string(rest[:8]) == `QR_CODE"` {
			return MethodQRCode, i + 8
		}
	case 'J':
		if string(rest[:6]) == `JSAPI"` {
			return MethodJSAPI, i + 6
		}
	case 'I':
		if string(rest[:7]) == `IN_APP"` {
			return MethodInApp, i + 7
		}
	case 'H':
		if string(rest[:3]) == `H5"` {
			return MethodH5, i + 3
		}
	}
	return -1, i
}

// statusAt is methodAt for the status.
func statusAt(b []byte, i int) (int, int) {
	rest := b[i:]
	if len(rest) < 9 { // REFUNDED"
		return -1, i
	}
	switch rest[0] {
	case 'S':
		if string(rest[:8]) == `SUCCESS"` {
			return StatusSuccess, i + 8
		}
	case 'F':
		if string(rest[:7]) == `FAILED"` {
			return StatusFailed, i + 7
		}
	case 'T':
		if string(rest[:8]) == `TIMEOUT"` {
			return StatusTimeout, i + 8
		}
	case 'R':
		if string(rest[:9]) == `REFUNDED"` {
			return StatusRefunded, i + 9
		}
	}
	return -1, i
}

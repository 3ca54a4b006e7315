// Package jsonscan validates a JSON object exactly as encoding/json.Valid
// does and, in the same pass, finds its members. Validating with json.Valid
// and then scanning again for the members cost more than the cryptography of
// a session decode.
package jsonscan

// maxDepth is encoding/json's limit on nested objects and arrays.
const maxDepth = 10000

// A Member is one member of an object: its name as written (quoted, escapes
// kept) and its raw value, both sharing the scanned data's memory. Value's
// capacity ends with it, so appending to it cannot overwrite what follows.
type Member struct {
	Name, Value []byte
}

// Object reports whether data is valid JSON, as encoding/json.Valid defines
// it (surrounding whitespace allowed, invalid UTF-8 in strings allowed,
// nesting up to 10000 deep), whose value is an object. If so, it returns the
// members in order, appended to members; a repeated name appears each time.
func Object(data []byte, members []Member) ([]Member, bool) {
	i := skipSpace(data, 0)
	if i == len(data) || data[i] != '{' {
		return members, false
	}
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		return members, skipSpace(data, i+1) == len(data)
	}
	for {
		nameEnd := skipString(data, i)
		start := colon(data, nameEnd)
		if start < 0 {
			return members, false
		}
		end := skipValue(data, start, 1)
		if end < 0 {
			return members, false
		}
		members = append(members, Member{Name: data[i:nameEnd:nameEnd], Value: data[start:end:end]})
		i = skipSpace(data, end)
		if i == len(data) {
			return members, false
		}
		switch data[i] {
		case '}':
			return members, skipSpace(data, i+1) == len(data)
		case ',':
			i = skipSpace(data, i+1)
		default:
			return members, false
		}
	}
}

func skipSpace(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
		i++
	}
	return i
}

// colon expects optional whitespace, ':' and optional whitespace at
// data[i:], after a member name ending at i (-1 for none), and returns
// where the value starts.
func colon(data []byte, i int) int {
	if i < 0 {
		return -1
	}
	i = skipSpace(data, i)
	if i == len(data) || data[i] != ':' {
		return -1
	}
	return skipSpace(data, i+1)
}

// skipString returns the index after the string literal at data[i], or -1.
func skipString(data []byte, i int) int {
	if i >= len(data) || data[i] != '"' {
		return -1
	}
	for i++; i < len(data); i++ {
		for i < len(data) && plain[data[i]] {
			i++
		}
		if i == len(data) {
			break
		}
		switch c := data[i]; {
		case c == '"':
			return i + 1
		case c < 0x20:
			return -1
		case c == '\\':
			i++
			if i == len(data) {
				return -1
			}
			switch data[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(data) || !isHex(data[i+1]) || !isHex(data[i+2]) || !isHex(data[i+3]) || !isHex(data[i+4]) {
					return -1
				}
				i += 4
			default:
				return -1
			}
		}
	}
	return -1
}

// plain marks the bytes a string literal holds as they are: not '"', not
// '\\', not a control character.
var plain = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// skipNumber returns the index after the number at data[i], or -1:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func skipNumber(data []byte, i int) int {
	digits := func(i int) int {
		if i == len(data) || !isDigit(data[i]) {
			return -1
		}
		for i < len(data) && isDigit(data[i]) {
			i++
		}
		return i
	}
	if data[i] == '-' {
		i++
	}
	if i < len(data) && data[i] == '0' {
		i++
	} else if i = digits(i); i < 0 {
		return -1
	}
	if i < len(data) && data[i] == '.' {
		if i = digits(i + 1); i < 0 {
			return -1
		}
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		i = digits(i)
	}
	return i
}

func skipLiteral(data []byte, i int, lit string) int {
	if len(data)-i < len(lit) || string(data[i:i+len(lit)]) != lit {
		return -1
	}
	return i + len(lit)
}

// skipValue returns the index after the value at data[i], or -1; depth is
// the number of objects and arrays around it. It does not recurse: open
// holds the containers opened so far ('{' or '[').
func skipValue(data []byte, i, depth int) int {
	var openBuf [32]byte
	open := openBuf[:0]
	for {
		// A value starts at data[i].
		if i == len(data) {
			return -1
		}
		switch c := data[i]; c {
		case '"':
			i = skipString(data, i)
		case '{', '[':
			if depth+len(open)+1 > maxDepth {
				return -1
			}
			open = append(open, c)
			i = skipSpace(data, i+1)
			if i < len(data) && data[i] == c+2 { // '}' or ']': empty
				open = open[:len(open)-1]
				i++
				break
			}
			if c == '{' {
				if i = colon(data, skipString(data, i)); i < 0 {
					return -1
				}
			}
			continue
		case 't':
			i = skipLiteral(data, i, "true")
		case 'f':
			i = skipLiteral(data, i, "false")
		case 'n':
			i = skipLiteral(data, i, "null")
		default:
			if c != '-' && !isDigit(c) {
				return -1
			}
			i = skipNumber(data, i)
		}
		if i < 0 {
			return -1
		}
		// After a value: close containers until one continues with ','.
		for {
			if len(open) == 0 {
				return i
			}
			i = skipSpace(data, i)
			if i == len(data) {
				return -1
			}
			top := open[len(open)-1]
			if data[i] == top+2 {
				open = open[:len(open)-1]
				i++
				continue
			}
			if data[i] != ',' {
				return -1
			}
			i = skipSpace(data, i+1)
			if top == '{' {
				if i = colon(data, skipString(data, i)); i < 0 {
					return -1
				}
			}
			break
		}
	}
}

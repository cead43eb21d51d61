package parser

// validJSON reports whether b is one valid JSON text (RFC 8259, as
// encoding/json.Valid decides: strings are not checked for UTF-8) whose
// arrays and objects nest at most maxDepth deep (maxDepth <= maxJSONDepth).
//
// It does in one pass what json.Valid and depthOK did in two, without
// encoding/json's scanner, which calls a state function per byte: that
// was a tenth of the server's CPU in the echo benchmark. The fuzz test
// FuzzValidJSON holds it to json.Valid.
func validJSON(b []byte, maxDepth int) bool {
	// One bit per open container: set for an object, clear for an array.
	var kinds [(maxJSONDepth + 63) / 64]uint64
	depth := 0
	i := skipSpace(b, 0)
value:
	if i >= len(b) {
		return false
	}
	switch c := b[i]; c {
	case '{', '[':
		if depth >= maxDepth {
			return false
		}
		if c == '{' {
			kinds[depth/64] |= 1 << (depth % 64)
		} else {
			kinds[depth/64] &^= 1 << (depth % 64)
		}
		depth++
		i = skipSpace(b, i+1)
		if i < len(b) && b[i] == c+2 { // '}' or ']': empty
			i++
			depth--
			break
		}
		if c == '{' {
			if i = member(b, i); i < 0 {
				return false
			}
		}
		goto value
	case '"':
		if i = scanString(b, i); i < 0 {
			return false
		}
	case 't':
		if i = literal(b, i, "true"); i < 0 {
			return false
		}
	case 'f':
		if i = literal(b, i, "false"); i < 0 {
			return false
		}
	case 'n':
		if i = literal(b, i, "null"); i < 0 {
			return false
		}
	default:
		if i = scanNumber(b, i); i < 0 {
			return false
		}
	}
	// After a value: the end, or what its container allows next.
	for {
		i = skipSpace(b, i)
		if depth == 0 {
			return i == len(b)
		}
		if i >= len(b) {
			return false
		}
		object := kinds[(depth-1)/64]&(1<<((depth-1)%64)) != 0
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
			if object {
				if i = member(b, i); i < 0 {
					return false
				}
			}
			goto value
		case '}':
			if !object {
				return false
			}
		case ']':
			if object {
				return false
			}
		default:
			return false
		}
		i++
		depth--
	}
}

// member scans `"name" :` at b[i] and the space after it; it returns the
// index of the member's value, or -1.
func member(b []byte, i int) int {
	if i >= len(b) || b[i] != '"' {
		return -1
	}
	if i = scanString(b, i); i < 0 {
		return -1
	}
	i = skipSpace(b, i)
	if i >= len(b) || b[i] != ':' {
		return -1
	}
	return skipSpace(b, i+1)
}

// scanString returns the index just past the valid JSON string at b[i]
// (a quote), or -1.
func scanString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			return i + 1
		case c < 0x20:
			return -1
		case c == '\\':
			i++
			if i >= len(b) {
				return -1
			}
			switch b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(b) {
					return -1
				}
				for _, h := range b[i+1 : i+5] {
					if !isHex(h) {
						return -1
					}
				}
				i += 4
			default:
				return -1
			}
		}
	}
	return -1
}

func isHex(c byte) bool {
	return isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// literal returns the index past word at b[i], or -1.
func literal(b []byte, i int, word string) int {
	if len(b)-i < len(word) || string(b[i:i+len(word)]) != word {
		return -1
	}
	return i + len(word)
}

// scanNumber returns the index just past the JSON number at b[i], or -1.
func scanNumber(b []byte, i int) int {
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i >= len(b):
		return -1
	case b[i] == '0':
		i++
	case b[i] >= '1' && b[i] <= '9':
		for i++; i < len(b) && isDigit(b[i]); i++ {
		}
	default:
		return -1
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || !isDigit(b[i]) {
			return -1
		}
		for i++; i < len(b) && isDigit(b[i]); i++ {
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || !isDigit(b[i]) {
			return -1
		}
		for i++; i < len(b) && isDigit(b[i]); i++ {
		}
	}
	return i
}

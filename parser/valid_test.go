package parser

import (
	"encoding/json"
	"strings"
	"testing"
)

var validJSONCases = []string{
	``, ` `, `1`, `-0`, `-`, `01`, `1.`, `1.5`, `1e`, `1e+`, `1E-7`, `-1.5e10`, `.5`, `+1`,
	`"`, `""`, `"a\"b"`, `"\u00e9"`, `"\u00g9"`, `"\x"`, "\"\x01\"", "\"\xff\"", `"\/"`,
	`true`, `tru`, `truex`, `nul`, `null`, `false `, ` [ ] `, `[`, `]`, `[1,]`, `[,1]`, `[1 2]`,
	`{}`, `{`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{"a":1 "b":2}`, `{1:2}`, `{"a":[1,{"b":null}]}`,
	`[1]]`, `[1}`, `{"a":1]`, `[[[]]]`, `[] []`, `"a" "b"`, "[\n1\r,\t2 ]", `{"a" : 1 , "b" : [ ] }`,
	`[1,"x",{"y":[true,false,null]},-2.5E+3]`, `["echo","` + strings.Repeat("z", 100) + `"]`,
}

func TestValidJSONMatchesEncodingJSON(t *testing.T) {
	for _, c := range validJSONCases {
		if got, want := validJSON([]byte(c), maxJSONDepth), json.Valid([]byte(c)); got != want {
			t.Errorf("validJSON(%q) = %v, json.Valid says %v", c, got, want)
		}
	}
}

func TestValidJSONDepth(t *testing.T) {
	for _, open := range []string{"[", `{"k":`} {
		close := map[string]string{"[": "]", `{"k":`: "}"}[open]
		nest := func(n int) []byte {
			return []byte(strings.Repeat(open, n) + "1" + strings.Repeat(close, n))
		}
		if !validJSON(nest(maxJSONDepth), maxJSONDepth) {
			t.Errorf("%s nested %d deep refused", open, maxJSONDepth)
		}
		if validJSON(nest(maxJSONDepth+1), maxJSONDepth) {
			t.Errorf("%s nested %d deep accepted", open, maxJSONDepth+1)
		}
	}
	// Past 64 levels the kind of every container is still known.
	mixed := strings.Repeat(`[{"a":`, 100) + "1" + strings.Repeat("}]", 100)
	if !validJSON([]byte(mixed), maxJSONDepth) || validJSON([]byte(strings.Replace(mixed, "}]", "]}", 1)), maxJSONDepth) {
		t.Error("mixed nesting of 200 levels misjudged")
	}
}

func FuzzValidJSON(f *testing.F) {
	for _, c := range validJSONCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		want := json.Valid(b) && depthOK(b, maxJSONDepth)
		if got := validJSON(b, maxJSONDepth); got != want {
			t.Fatalf("validJSON(%q) = %v, want %v", b, got, want)
		}
	})
}

func BenchmarkValidJSON(b *testing.B) {
	data := []byte(`["echo","` + strings.Repeat("z", 100) + `",{"n":1.5,"ok":true}]`)
	b.Run("validJSON", func(b *testing.B) {
		for b.Loop() {
			validJSON(data, maxJSONDepth)
		}
	})
	b.Run("json.Valid+depthOK", func(b *testing.B) {
		for b.Loop() {
			_ = json.Valid(data) && depthOK(data, maxJSONDepth)
		}
	})
}

// depthOK, the depth check validJSON replaced, is the reference for its
// depth in FuzzValidJSON: it counts brackets outside strings.
func depthOK(b []byte, max int) bool {
	depth := 0
	for i := 0; i < len(b); {
		switch b[i] {
		case '"':
			end, _, _ := skipString(b, i)
			i = end
			continue
		case '{', '[':
			depth++
			if depth > max {
				return false
			}
		case '}', ']':
			depth--
		}
		i++
	}
	return true
}

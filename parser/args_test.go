package parser

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestEventName(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in, name, rest string
		err            error
	}{
		{in: `["chat",{"user":"a","text":"hello"}]`, name: "chat", rest: `[{"user":"a","text":"hello"}]`},
		{in: `["foo"]`, name: "foo", rest: `[]`},
		{in: `[ "foo" ]`, name: "foo", rest: `[]`},
		{in: ` ["foo" , 1 ,2 ] `, name: "foo", rest: `[ 1 ,2 ] `},
		{in: `["message",1,"2",{"3":[true]}]`, name: "message", rest: `[1,"2",{"3":[true]}]`},
		{in: `[1,"a",{}]`, name: "1", rest: `["a",{}]`},
		{in: `[-1.5e3]`, name: "-1.5e3", rest: `[]`},
		{in: `["\u0065rror\n"]`, name: "error\n", rest: `[]`},
		{in: `["é😀\ud83d\ude00"]`, name: "é😀😀", rest: `[]`},
		{in: `["a\"b",["]"]]`, name: `a"b`, rest: `[["]"]]`},
		{in: `["",null]`, name: "", rest: `[null]`},
		{in: "[\"\xff\"]", name: "\ufffd", rest: `[]`},
		{in: `["connect"]`, name: "connect", rest: `[]`}, // reserved: the decoder's job
		{in: `["a",` + ph0 + `]`, name: "a", rest: `[` + ph0 + `]`},
		{in: ``, err: ErrInvalidPayload},
		{in: `[]`, err: ErrInvalidPayload},
		{in: `[`, err: ErrInvalidPayload},
		{in: `{}`, err: ErrInvalidPayload},
		{in: `"x"`, err: ErrInvalidPayload},
		{in: `[{"toString":"foo"}]`, err: ErrInvalidPayload},
		{in: `[null,"x"]`, err: ErrInvalidPayload},
		{in: `[true,"x"]`, err: ErrInvalidPayload},
		{in: `[["x"]]`, err: ErrInvalidPayload},
		{in: `["x"`, err: ErrInvalidPayload},
		{in: `["",`, err: ErrInvalidPayload},
		{in: `["", `, err: ErrInvalidPayload},
		{in: `["",1`, err: ErrInvalidPayload},
		{in: `["x`, err: ErrInvalidPayload},
		{in: `["x"}`, err: ErrInvalidPayload},
		{in: `["x"]]`, err: ErrInvalidPayload},
		{in: `["x"]x`, err: ErrInvalidPayload},
		{in: `["\x"]`, err: ErrInvalidPayload},
	} {
		name, rest, err := EventName([]byte(c.in))
		if err != c.err || name != c.name || string(rest) != c.rest {
			t.Errorf("EventName(%q) = %q, %q, %v, want %q, %q, %v", c.in, name, rest, err, c.name, c.rest, c.err)
		}
		if err == nil && json.Valid([]byte(c.in)) && !json.Valid(rest) {
			t.Errorf("EventName(%q): rest %q is not valid JSON", c.in, rest)
		}
	}
}

func TestSplitArray(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in   string
		want []string
		err  error
	}{
		{in: `[]`, want: []string{}},
		{in: ` [ ] `, want: []string{}},
		{in: `["a"]`, want: []string{`"a"`}},
		{in: `["chat",{"user":"a","text":"hello"}]`, want: []string{`"chat"`, `{"user":"a","text":"hello"}`}},
		{in: `[ 1 , "2" ,{"3":[true]}, null,true,false,-1.5e+3 ,[[]],"a\"]"]`, want: []string{`1`, `"2"`, `{"3":[true]}`, `null`, `true`, `false`, `-1.5e+3`, `[[]]`, `"a\"]"`}},
		{in: `[` + ph0 + `,` + ph1 + `]`, want: []string{ph0, ph1}},
		{in: ``, err: ErrInvalidPayload},
		{in: `[`, err: ErrInvalidPayload},
		{in: `{}`, err: ErrInvalidPayload},
		{in: `[1,]`, err: ErrInvalidPayload},
		{in: `[,1]`, err: ErrInvalidPayload},
		{in: `[1 2]`, err: ErrInvalidPayload},
		{in: `[1]]`, err: ErrInvalidPayload},
		{in: `[[1]`, err: ErrInvalidPayload},
		{in: `["a]`, err: ErrInvalidPayload},
		{in: `[1,}]`, err: ErrInvalidPayload},
	} {
		got, err := SplitArray([]byte(c.in))
		ok := err == c.err && len(got) == len(c.want) && (got == nil) == (c.want == nil)
		for i := 0; ok && i < len(got); i++ {
			ok = string(got[i]) == c.want[i] && cap(got[i]) == len(got[i])
		}
		if !ok {
			t.Errorf("SplitArray(%q) = %q, %v, want %q, %v", c.in, got, err, c.want, c.err)
		}
	}
}

func TestValidEventName(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]bool{
		"connect": false, "connect_error": false, "disconnect": false, "disconnecting": false,
		"newListener": false, "removeListener": false,
		"error": true, "message": true, "connection": true, "": true, "chat": true, "Connect": true,
	} {
		if got := ValidEventName(name); got != want {
			t.Errorf("ValidEventName(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestAppendPlaceholder(t *testing.T) {
	t.Parallel()
	for n, want := range map[int]string{0: ph0, 1: ph1, 10: `{"_placeholder":true,"num":10}`} {
		if got := AppendPlaceholder([]byte("x"), n); string(got) != "x"+want {
			t.Errorf("AppendPlaceholder(%q, %d) = %q, want %q", "x", n, got, "x"+want)
		}
		b, err := json.Marshal(Placeholder{Placeholder: true, Num: n})
		if err != nil || string(b) != want {
			t.Errorf("json.Marshal(Placeholder{true, %d}) = %q, %v, want %q", n, b, err, want)
		}
	}
}

func TestAttachmentOf(t *testing.T) {
	t.Parallel()
	atts := [][]byte{[]byte("zero"), []byte("one")}
	for _, c := range []struct {
		in   string
		want string
		ok   bool
	}{
		{ph0, "zero", true},
		{ph1, "one", true},
		{` { "_placeholder" : true , "num" : 1 } `, "one", true},
		{`{"num":1,"_placeholder":true}`, "one", true},
		{`{"_placeholder":true,"num":0,"extra":{"a":[1]}}`, "zero", true},
		{`{"\u005fplaceholder":true,"n\u0075m":1}`, "one", true},
		{`{"_placeholder":true,"num":5,"num":1}`, "one", true},
		{`{"_placeholder":true,"num":2}`, "", false},
		{`{"_placeholder":true,"num":-1}`, "", false},
		{`{"_placeholder":true,"num":"splice"}`, "", false},
		{`{"_placeholder":true,"num":"0"}`, "", false},
		{`{"_placeholder":true,"num":1.0}`, "", false},
		{`{"_placeholder":true,"num":1e0}`, "", false},
		{`{"_placeholder":true,"num":[0]}`, "", false},
		{`{"_placeholder":true}`, "", false},
		{`{"_placeholder":false,"num":0}`, "", false},
		{`{"_placeholder":"true","num":0}`, "", false},
		{`{"_placeholder":true,"_placeholder":false,"num":0}`, "", false},
		{`{"_PLACEHOLDER":true,"NUM":0}`, "", false},
		{`{"_Placeholder":true,"num":0}`, "", false},
		{`[` + ph0 + `]`, "", false},
		{`"x"`, "", false},
		{`{}`, "", false},
		{``, "", false},
		{`{"_placeholder":true,"num":0`, "", false},
		{`{"_placeholder":true,"num":0}x`, "", false},
		{`{"_placeholder":true,"num":0,}`, "", false},
	} {
		got, ok := AttachmentOf([]byte(c.in), atts)
		if ok != c.ok || string(got) != c.want {
			t.Errorf("AttachmentOf(%q) = %q, %v, want %q, %v", c.in, got, ok, c.want, c.ok)
		}
	}
	if got, ok := AttachmentOf([]byte(ph0), nil); ok || got != nil {
		t.Errorf("AttachmentOf(%q, nil) = %q, %v, want nil, false", ph0, got, ok)
	}
}

func TestPlaceholderUnmarshal(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in   string
		want Placeholder
		err  error
	}{
		{ph0, Placeholder{true, 0}, nil},
		{`{"_placeholder":true,"num":7}`, Placeholder{true, 7}, nil},
		{`{"num":7,"_placeholder":true}`, Placeholder{true, 7}, nil},
		{`{"_placeholder":false,"num":7}`, Placeholder{}, nil},
		{`{"_PLACEHOLDER":true,"NUM":99}`, Placeholder{}, nil}, // plain encoding/json would say {true, 99}
		{`{"a":1}`, Placeholder{}, nil},
		{`{"_placeholder":true,"num":"splice"}`, Placeholder{}, ErrIllegalAttachment},
		{`{"_placeholder":true,"num":-1}`, Placeholder{}, ErrIllegalAttachment},
		{`{"_placeholder":true,"num":1.5}`, Placeholder{}, ErrIllegalAttachment},
		{`{"_placeholder":true}`, Placeholder{}, ErrIllegalAttachment},
		{`"x"`, Placeholder{}, ErrInvalidPayload},
		{`[1]`, Placeholder{}, ErrInvalidPayload},
	} {
		var got Placeholder
		err := json.Unmarshal([]byte(c.in), &got)
		if !errors.Is(err, c.err) || got != c.want {
			t.Errorf("json.Unmarshal(%q, &Placeholder) = %+v, %v, want %+v, %v", c.in, got, err, c.want, c.err)
		}
	}
	// In a struct, as a binder would use it.
	var v struct {
		File Placeholder `json:"file"`
		Name string      `json:"name"`
	}
	in := `{"name":"a.txt","file":{"_placeholder":true,"num":3}}`
	if err := json.Unmarshal([]byte(in), &v); err != nil || v.File != (Placeholder{true, 3}) || v.Name != "a.txt" {
		t.Errorf("json.Unmarshal(%q) = %+v, %v", in, v, err)
	}
	p := Placeholder{true, 1}
	if err := json.Unmarshal([]byte("null"), &p); err != nil || p != (Placeholder{true, 1}) {
		t.Errorf("json.Unmarshal(null) = %+v, %v, want unchanged", p, err)
	}
}

func TestReplacePlaceholders(t *testing.T) {
	t.Parallel()
	atts := [][]byte{[]byte("abc"), {0xff, 0x00}, {}}
	for _, c := range []struct {
		in, want string
		err      error
	}{
		{`["a"]`, `["a"]`, nil},
		{`["a",` + ph0 + `]`, `["a","YWJj"]`, nil},
		{ph1, `"/wA="`, nil},
		{`["a",{"b":["c",` + ph1 + `]},{"_placeholder":true,"num":2}]`, `["a",{"b":["c","/wA="]},""]`, nil},
		{`[{"_placeholder":true,"num":0,"x":` + ph1 + `}]`, `["YWJj"]`, nil}, // nested one goes with it
		{`[{"x":` + ph1 + `,"_placeholder":true,"num":0}, ` + ph1 + `]`, `["YWJj", "/wA="]`, nil},
		{`[{"_placeholder":false,"num":0}]`, `[{"_placeholder":false,"num":0}]`, nil},
		{`["_placeholder",true,"num",0]`, `["_placeholder",true,"num",0]`, nil},
		{`[{"_placeholder":true,"num":3}]`, ``, ErrIllegalAttachment},
		{`[{"_placeholder":true,"num":"splice"}]`, ``, ErrIllegalAttachment},
		{`["x",` + nest(1000, ph0) + `]`, ``, ErrInvalidPayload},
	} {
		got, err := ReplacePlaceholders([]byte(c.in), atts)
		if err != c.err || string(got) != c.want {
			t.Errorf("ReplacePlaceholders(%.100q) = %q, %v, want %q, %v", c.in, got, err, c.want, c.err)
		}
	}

	// Bind an argument with a nested binary into a Go struct.
	var v struct {
		Name string `json:"name"`
		Data []byte `json:"data"`
	}
	data, err := ReplacePlaceholders([]byte(`{"name":"f","data":`+ph0+`}`), atts)
	if err != nil || json.Unmarshal(data, &v) != nil || v.Name != "f" || string(v.Data) != "abc" {
		t.Errorf("bind through ReplacePlaceholders = %+v, %v", v, err)
	}

	// No attachments: a non-binary packet is left alone, without a copy.
	in := []byte(`["x",{"_placeholder":true,"num":"splice"}]`)
	if got, err := ReplacePlaceholders(in, nil); err != nil || &got[0] != &in[0] {
		t.Errorf("ReplacePlaceholders(%q, nil) = %q, %v, want the input", in, got, err)
	}
	// Nothing to replace: no copy either.
	in = []byte(`["x",` + strings.Repeat(`{"a":1},`, 10) + `1]`)
	if got, err := ReplacePlaceholders(in, atts); err != nil || &got[0] != &in[0] {
		t.Errorf("ReplacePlaceholders(%q) = %q, %v, want the input", in, got, err)
	}
}

// TestBindFlow walks a decoded binary event the way the server binds it.
func TestBindFlow(t *testing.T) {
	t.Parallel()
	p, err := decodeFrames(DecoderOptions{}, `52-["upload",`+ph0+`,{"meta":"m","thumb":`+ph1+`}]`, "FILE", "THUMB")
	if err != nil {
		t.Fatal(err)
	}
	name, rest, err := EventName(p.Data)
	if err != nil || name != "upload" || !ValidEventName(name) {
		t.Fatalf("EventName = %q, %v", name, err)
	}
	args, err := SplitArray(rest)
	if err != nil || len(args) != 2 {
		t.Fatalf("SplitArray(%q) = %q, %v", rest, args, err)
	}
	if b, ok := AttachmentOf(args[0], p.Attachments); !ok || string(b) != "FILE" {
		t.Errorf("AttachmentOf(%q) = %q, %v", args[0], b, ok)
	}
	if _, ok := AttachmentOf(args[1], p.Attachments); ok {
		t.Errorf("AttachmentOf(%q) = true, want false", args[1])
	}
	arg, err := ReplacePlaceholders(args[1], p.Attachments)
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Meta  string
		Thumb []byte
	}
	if err := json.Unmarshal(arg, &v); err != nil || v.Meta != "m" || string(v.Thumb) != "THUMB" {
		t.Errorf("json.Unmarshal(%q) = %+v, %v", arg, v, err)
	}
}

// Event names come from a cache: a known name costs no allocation, and
// names that collide in it still come back right.
func TestSplitEventNamesFromCache(t *testing.T) {
	data := []byte(`["chat message",{"a":1},"x"]`)
	buf := make([][]byte, 0, 2)
	SplitEvent(data, buf) // the first time the name is allocated
	allocs := testing.AllocsPerRun(100, func() {
		name, args, err := SplitEvent(data, buf)
		if err != nil || name != "chat message" || len(args) != 2 || string(args[0]) != `{"a":1}` || string(args[1]) != `"x"` {
			t.Fatalf("SplitEvent = %q, %q, %v", name, args, err)
		}
	})
	if allocs != 0 {
		t.Errorf("SplitEvent of a known name with room for its arguments: %v allocations", allocs)
	}
	for i := range 2000 { // more names than slots
		want := fmt.Sprintf("ev%d", i)
		for range 2 {
			if got, _, err := SplitEvent([]byte(`["`+want+`"]`), nil); err != nil || got != want {
				t.Fatalf("SplitEvent name = %q, %v; want %q", got, err, want)
			}
		}
	}
	long := strings.Repeat("n", maxInternedName+1)
	if got, _, _ := SplitEvent([]byte(`["`+long+`"]`), nil); got != long {
		t.Fatalf("long name = %q", got)
	}
	if got, _, _ := SplitEvent([]byte(`["a\u0062c"]`), nil); got != "abc" {
		t.Fatalf("escaped name = %q", got)
	}
}

package packet

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestWriteCorpus regenerates the committed seed corpus in
// testdata/fuzz/<FuzzName>/ from the seeds in fuzz_test.go plus a few
// inputs too large to read well in code. It only runs when
// PACKET_WRITE_CORPUS=1:
//
//	PACKET_WRITE_CORPUS=1 go test -run '^TestWriteCorpus$' ./engineio/packet/
//
// Files are named like the ones go test -fuzz writes (a hash of the content),
// so regenerating is idempotent and crashers found by the fuzzer sit beside
// them.
func TestWriteCorpus(t *testing.T) {
	if os.Getenv("PACKET_WRITE_CORPUS") != "1" {
		t.Skip("set PACKET_WRITE_CORPUS=1 to rewrite testdata/fuzz")
	}
	const kb = 2 << 10

	text := make([][]byte, 0, len(seedsText)+2)
	for _, s := range seedsText {
		text = append(text, []byte(s))
	}
	text = append(text,
		append([]byte("b"), bytes.Repeat([]byte("AQID"), kb/4)...),
		append([]byte("4"), strings.Repeat("é😀", kb/6)...),
	)
	for _, name := range []string{"FuzzDecodeText", "FuzzDecodeTextV3"} {
		for _, in := range text {
			writeCorpusFile(t, name, encodeCorpusBytes(in))
		}
	}
	writeCorpusFile(t, "FuzzDecodeTextV3", encodeCorpusBytes([]byte{4, 1, 2, 3}))
	writeCorpusFile(t, "FuzzDecodeTextV3", encodeCorpusBytes([]byte{7}))

	payloads := make([][]byte, 0, len(seedsPayload)+2)
	for _, s := range seedsPayload {
		payloads = append(payloads, []byte(s))
	}
	noops := bytes.Repeat([]byte("6\x1e"), kb/2)
	payloads = append(payloads, noops[:len(noops)-1], bytes.Repeat([]byte{recordSeparator}, kb))
	for _, in := range payloads {
		writeCorpusFile(t, "FuzzDecodePayload", encodeCorpusBytes(in))
	}

	type v3 struct {
		binary bool
		body   []byte
	}
	v3s := make([]v3, 0, len(seedsPayloadV3)+4)
	for _, s := range seedsPayloadV3 {
		v3s = append(v3s, v3{s.binary, []byte(s.body)})
	}
	v3s = append(v3s,
		v3{false, bytes.Repeat([]byte("1:6"), kb/3)},
		v3{false, bytes.Repeat([]byte("0:"), kb/2)},
		v3{false, append([]byte(strconv.Itoa(1+2*kb/4)+":4"), strings.Repeat("😀", kb/4)...)},
		v3{true, bytes.Repeat([]byte("\x00\x01\xff6"), kb/4)},
	)
	for _, s := range v3s {
		writeCorpusFile(t, "FuzzDecodePayloadV3", "bool("+strconv.FormatBool(s.binary)+")\n"+encodeCorpusBytes(s.body))
	}
}

// encodeCorpusBytes encodes a []byte value in the "go test fuzz v1" format.
func encodeCorpusBytes(b []byte) string {
	return "[]byte(" + strconv.Quote(string(b)) + ")\n"
}

// writeCorpusFile writes one corpus entry whose values are already encoded.
func writeCorpusFile(t *testing.T, fuzzName, values string) {
	t.Helper()
	content := []byte("go test fuzz v1\n" + values)
	sum := sha256.Sum256(content)
	dir := filepath.Join("testdata", "fuzz", fuzzName)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, hex.EncodeToString(sum[:])[:16]), content, 0o644); err != nil {
		t.Fatal(err)
	}
}

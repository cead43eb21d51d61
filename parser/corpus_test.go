package parser

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// TestWriteCorpus regenerates the committed seed corpus in
// testdata/fuzz/<FuzzName>/ from the seeds in fuzz_test.go. It only runs
// when PARSER_WRITE_CORPUS=1:
//
//	PARSER_WRITE_CORPUS=1 go test -run '^TestWriteCorpus$' ./parser/
//
// Files are named like the ones go test -fuzz writes (a hash of the
// content), so regenerating is idempotent. Seeds stay under 2 KB: the
// fuzzer's minimisation stalls on large ones.
func TestWriteCorpus(t *testing.T) {
	if os.Getenv("PARSER_WRITE_CORPUS") != "1" {
		t.Skip("set PARSER_WRITE_CORPUS=1 to rewrite testdata/fuzz")
	}
	for _, s := range seedsText() {
		writeCorpusFile(t, "FuzzDecode", corpusBytes(s)+corpusBytes("\x01\x02")+corpusBytes("")+corpusByte(3))
	}
	for _, s := range []struct {
		text, bin1, bin2 string
		frames           byte
	}{
		{`52-["a",` + ph0 + `,` + ph1 + `]`, "x", "y", 2},
		{`50-["x"]`, "x", "y", 4},
		{`51-["hello",{"_placeholder":true,"num":"splice"}]`, "world", "", 1},
		{`51-["x",` + ph0 + `]`, "a", "b", 4},
		{`63-/n,4[` + ph0 + `,` + ph1 + `,{"_placeholder":true,"num":2}]`, "a", "", 3},
	} {
		writeCorpusFile(t, "FuzzDecode", corpusBytes(s.text)+corpusBytes(s.bin1)+corpusBytes(s.bin2)+corpusByte(s.frames))
	}
	for _, s := range seedsArgs {
		writeCorpusFile(t, "FuzzEventName", corpusBytes(s))
		writeCorpusFile(t, "FuzzPlaceholders", corpusBytes(s)+corpusByte(2))
	}
}

func corpusBytes(s string) string { return "[]byte(" + strconv.Quote(s) + ")\n" }

func corpusByte(b byte) string { return fmt.Sprintf("byte(%q)\n", b) }

// writeCorpusFile writes one corpus entry whose values are already encoded.
func writeCorpusFile(t *testing.T, fuzzName, values string) {
	t.Helper()
	content := []byte("go test fuzz v1\n" + values)
	if len(content) > 2<<10 {
		t.Fatalf("seed for %s is %d bytes, over 2 KB", fuzzName, len(content))
	}
	sum := sha256.Sum256(content)
	dir := filepath.Join("testdata", "fuzz", fuzzName)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, hex.EncodeToString(sum[:])[:16]), content, 0o644); err != nil {
		t.Fatal(err)
	}
}

package httpcomp

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"io"
	"strings"
	"testing"
)

func TestNegotiate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		header string
		want   Coding
	}{
		{"", Identity},
		{"gzip", Gzip},
		{"deflate", Deflate},
		{"gzip, deflate, br", Gzip},
		{"deflate, gzip", Deflate}, // a tie goes to the first listed
		{"gzip;q=0.5, deflate", Deflate},
		{"gzip;q=0, deflate;q=0", Identity},
		{"br", Identity},
		{"*", Gzip},
		{"*;q=0.1, deflate;q=0.2", Deflate},
		{"GZIP", Gzip},
		{"gzip;q=abc", Identity},
		{"identity", Identity},
	}
	for _, tt := range tests {
		if got := Negotiate([]string{tt.header}); got != tt.want {
			t.Errorf("Negotiate(%q) = %v, want %v", tt.header, got, tt.want)
		}
	}
}

func TestCompressRoundTrip(t *testing.T) {
	t.Parallel()
	data := []byte(strings.Repeat("socket.io ", 500))
	for _, level := range []int{gzip.BestSpeed, gzip.BestCompression} {
		for range 3 { // pooled writers are reused correctly
			z, err := Compress(Gzip, level, data)
			if err != nil {
				t.Fatal(err)
			}
			zr, err := gzip.NewReader(bytes.NewReader(z))
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := io.ReadAll(zr); !bytes.Equal(got, data) {
				t.Errorf("gzip level %d: round trip differs", level)
			}
			z, err = Compress(Deflate, level, data)
			if err != nil {
				t.Fatal(err)
			}
			dr, err := zlib.NewReader(bytes.NewReader(z))
			if err != nil {
				t.Fatalf("deflate must be the zlib format: %v", err)
			}
			if got, _ := io.ReadAll(dr); !bytes.Equal(got, data) {
				t.Errorf("deflate level %d: round trip differs", level)
			}
		}
	}
}

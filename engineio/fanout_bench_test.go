package engineio

import (
	"io"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dynamicio/dynamicio/internal/websocket"
)

// BenchmarkFanout writes one prepared message to 1,000 WebSocket sessions
// whose clients read and discard everything; ns/op is per recipient. The
// frame is built once per message, so the library's share of a delivery
// does not grow with the payload; what grows is the kernel's copy.
func BenchmarkFanout(b *testing.B) {
	for _, size := range []int{64, 1024, 16 << 10} {
		b.Run(strconv.Itoa(size)+"B", func(b *testing.B) {
			const n = 1000
			eng := NewServer(benchEcho{}, &Config{PingInterval: time.Hour, MaxQueueBytes: 64 << 20})
			ts := httptest.NewServer(eng)
			var wg sync.WaitGroup
			for range n {
				conn, rd, _, _, err := websocket.Dial(b.Context(), strings.Replace(ts.URL, "http", "ws", 1)+"/engine.io/?EIO=4&transport=websocket", websocket.DialConfig{})
				if err != nil {
					b.Fatal(err)
				}
				rd.Next() // open packet
				wg.Go(func() { io.Copy(io.Discard, conn) })
			}
			deadline := time.Now().Add(10 * time.Second)
			for eng.Count() < n && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
			eng.mu.RLock()
			sessions := make([]*Session, 0, n)
			for _, s := range eng.sessions {
				sessions = append(sessions, s)
			}
			eng.mu.RUnlock()
			payload := []byte(strings.Repeat("x", size))
			b.SetBytes(int64(size))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i += n {
				m := NewMessage(Text, payload, false)
				for _, s := range sessions {
					s.WriteMessage(m)
				}
			}
			b.StopTimer()
			eng.Close()
			ts.Close()
			wg.Wait()
		})
	}
}

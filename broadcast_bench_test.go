package dynamicio

import (
	"context"
	"io"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dynamicio/dynamicio/internal/websocket"
)

// BenchmarkBroadcast emits one event to 1,000 sockets whose clients read
// and discard; ns/op is per recipient. The packet, its Engine.IO framing and
// its WebSocket frame are built once per broadcast and shared, so the
// allocations per recipient do not grow with the payload (the time does,
// by the kernel's and the in-process clients' copy of the bytes).
func BenchmarkBroadcast(b *testing.B) {
	for _, size := range []int{64, 1024, 16 << 10} {
		b.Run(strconv.Itoa(size)+"B", func(b *testing.B) {
			const n = 1000
			cfg := &Config{}
			cfg.EngineIO.PingInterval = time.Hour
			cfg.EngineIO.MaxQueueBytes = 64 << 20
			srv := NewServer(cfg)
			ts := httptest.NewServer(srv)
			url := strings.Replace(ts.URL, "http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket"
			var wg sync.WaitGroup
			for range n {
				conn, rd, _, _, err := websocket.Dial(context.Background(), url, websocket.DialConfig{})
				if err != nil {
					b.Fatal(err)
				}
				rd.Next() // open
				conn.Write(websocket.AppendClientFrame(nil, websocket.OpText, false, []byte("40"), [4]byte{}))
				rd.Next() // connect reply
				wg.Go(func() { io.Copy(io.Discard, conn) })
			}
			payload := strings.Repeat("x", size)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i += n {
				srv.Emit("news", payload)
			}
			b.StopTimer()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			srv.Shutdown(ctx)
			cancel()
			ts.Close()
			wg.Wait()
		})
	}
}

package daemon

import (
	"context"
	"sync"
	"time"
)

// Poll points are gathered in memory and handed to the InfluxDB writer
// once a second (or at pollBatchBytes), one fsync'd write for all the
// polls of that second instead of one per poll: 10,000 devices on a 60 s
// cycle finish some 170 polls a second. A crash loses at most that second
// of poll points, which the next cycle measures again; edge events never
// wait here (the ingest writes them durably before it acknowledges them).
const (
	pollBatchEvery = time.Second
	pollBatchBytes = 4 << 20
)

// lineBatch gathers lines for one writer.
type lineBatch struct {
	write func([]byte) error
	fail  func(error)

	mu  sync.Mutex
	buf []byte
	// full is signalled when buf reaches pollBatchBytes.
	full chan struct{}
}

func newLineBatch(write func([]byte) error, fail func(error)) *lineBatch {
	return &lineBatch{write: write, fail: fail, full: make(chan struct{}, 1)}
}

// add appends lines (complete, newline-ended).
func (b *lineBatch) add(lines []byte) {
	if len(lines) == 0 {
		return
	}
	b.mu.Lock()
	b.buf = append(b.buf, lines...)
	n := len(b.buf)
	b.mu.Unlock()
	if n >= pollBatchBytes {
		select {
		case b.full <- struct{}{}:
		default:
		}
	}
}

// flush writes what was gathered.
func (b *lineBatch) flush() {
	b.mu.Lock()
	buf := b.buf
	b.buf = nil
	b.mu.Unlock()
	if len(buf) == 0 {
		return
	}
	if err := b.write(buf); err != nil {
		b.fail(err)
	}
}

// run flushes every pollBatchEvery until ctx ends, then once more.
func (b *lineBatch) run(ctx context.Context) error {
	t := time.NewTicker(pollBatchEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			b.flush()
			return nil
		case <-t.C:
		case <-b.full:
		}
		b.flush()
	}
}

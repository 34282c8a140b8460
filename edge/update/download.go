package update

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/ngic/ngic/telemetry"
)

// errStalled ends a download that received nothing for stallTimeout.
var errStalled = errors.New("no byte received for the stall timeout")

// errMismatch is wrapped by a download whose bytes differ from the
// command's size or SHA-256: the bundle is refused, not retried.
var errMismatch = errors.New("download does not match the command")

// download fetches the bundle of c into R/download/<sha256>.part, resuming
// from what an earlier attempt (of this process or another) left there
// with an HTTP Range request, and returns the path once the file has the
// command's size and SHA-256. progress is called with the bytes on disk
// after each chunk. A file that turns out different is removed and the
// error wraps errMismatch.
func (l Layout) download(ctx context.Context, client *http.Client, c *telemetry.UpdateCommand, progress func(int64)) (string, error) {
	if err := l.Prepare(); err != nil {
		return "", err
	}
	part := l.PartPath(c.SHA256)
	f, err := os.OpenFile(part, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", fmt.Errorf("update: download: %w", err)
	}
	defer f.Close()
	have, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return "", fmt.Errorf("update: download: %w", err)
	}
	if have > c.Size {
		if have, err = truncate(f); err != nil {
			return "", err
		}
	}
	if have < c.Size {
		if err := fetch(ctx, client, c, f, have, progress); err != nil {
			if errors.Is(err, errMismatch) {
				f.Close()
				os.Remove(part)
			}
			return "", err
		}
	}
	if err := f.Sync(); err != nil {
		return "", fmt.Errorf("update: download: %w", err)
	}
	if err := checkSum(f, c); err != nil {
		f.Close()
		os.Remove(part)
		return "", err
	}
	return part, nil
}

// stallTimeout is how long a download may go without receiving a byte
// before it is abandoned (and resumed by the next attempt); a variable for
// the tests.
var stallTimeout = time.Minute

// fetch appends the bytes from have to c.Size to f.
func fetch(ctx context.Context, client *http.Client, c *telemetry.UpdateCommand, f *os.File, have int64, progress func(int64)) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stall := time.AfterFunc(stallTimeout, func() { cancel(errStalled) })
	defer stall.Stop()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.URL, nil)
	if err != nil {
		return fmt.Errorf("update: download: %w", err)
	}
	if have > 0 {
		req.Header.Set("Range", "bytes="+strconv.FormatInt(have, 10)+"-")
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("update: download: %w", err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusPartialContent && have > 0:
		if start, ok := rangeStart(resp.Header.Get("Content-Range")); !ok || start != have {
			return fmt.Errorf("update: download %s: Content-Range %q does not start at %d",
				c.URL, resp.Header.Get("Content-Range"), have)
		}
	case resp.StatusCode == http.StatusOK:
		// The server ignored the range: start again.
		if have, err = truncate(f); err != nil {
			return err
		}
	default:
		return fmt.Errorf("update: download %s: %s", c.URL, resp.Status)
	}
	buf := make([]byte, 64<<10)
	// One byte more than the command's size is read so that a longer body
	// is seen.
	body := io.LimitReader(resp.Body, c.Size-have+1)
	for {
		n, rerr := body.Read(buf)
		if n > 0 {
			stall.Reset(stallTimeout)
			if have+int64(n) > c.Size {
				return fmt.Errorf("update: download %s: longer than the command's %d bytes: %w", c.URL, c.Size, errMismatch)
			}
			if _, err := f.Write(buf[:n]); err != nil {
				return fmt.Errorf("update: download: %w", err)
			}
			have += int64(n)
			progress(have)
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			if cause := context.Cause(ctx); cause == errStalled {
				rerr = cause
			}
			return fmt.Errorf("update: download %s: after %d bytes: %w", c.URL, have, rerr)
		}
	}
	if have < c.Size {
		return fmt.Errorf("update: download %s: ended after %d of %d bytes: %w", c.URL, have, c.Size, io.ErrUnexpectedEOF)
	}
	return nil
}

// rangeStart returns the first byte of a Content-Range "bytes a-b/n".
func rangeStart(h string) (int64, bool) {
	rest, ok := strings.CutPrefix(h, "bytes ")
	if !ok {
		return 0, false
	}
	a, _, ok := strings.Cut(rest, "-")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(a, 10, 64)
	return n, err == nil
}

func truncate(f *os.File) (int64, error) {
	if err := f.Truncate(0); err != nil {
		return 0, fmt.Errorf("update: download: %w", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return 0, fmt.Errorf("update: download: %w", err)
	}
	return 0, nil
}

// checkSum checks the whole file against the command's size and SHA-256.
func checkSum(f *os.File, c *telemetry.UpdateCommand) error {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("update: download: %w", err)
	}
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return fmt.Errorf("update: download: %w", err)
	}
	if n != c.Size {
		return fmt.Errorf("update: download: %d bytes, the command says %d: %w", n, c.Size, errMismatch)
	}
	if got := hex.EncodeToString(h.Sum(nil)); !strings.EqualFold(got, c.SHA256) {
		return fmt.Errorf("update: download: SHA-256 %s, the command says %s: %w", got, c.SHA256, errMismatch)
	}
	return nil
}

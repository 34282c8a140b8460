package testenv

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// Chromium is a headless Debian chromium started for a test and driven
// with chromedp. It resolves no host name but localhost and 127.0.0.1, so a
// page that tries to reach the outside fails rather than leaks, and it runs
// without background networking (no updates, no safe-browsing lookups).
type Chromium struct {
	// Ctx is the browser's context; chromedp actions run on tabs made from
	// it with NewTab.
	Ctx context.Context
	// Path is the chromium binary.
	Path string
}

// StartChromium starts one headless chromium (from the Debian package
// chromium) for the test, with its profile in a temporary folder, and
// closes it when the test ends. It skips the test when chromium is missing,
// or fails it under NGIC_REQUIRE_PEERS=1.
func StartChromium(t testing.TB) *Chromium {
	t.Helper()
	path, ok := "", false
	for _, name := range []string{"chromium", "chromium-browser"} {
		if path, ok = lookPath(name); ok {
			break
		}
	}
	if !ok {
		missing(t, "chromium", "apt-get install chromium")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.WindowSize(1280, 860),
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1"),
		chromedp.Flag("no-proxy-server", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("lang", "zh-CN"),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	// The first Run starts the browser.
	if err := chromedp.Do(bctx); err != nil {
		cancelBrowser()
		cancelAlloc()
		t.Fatalf("testenv: start chromium %s: %v", path, err)
	}
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
	})
	return &Chromium{Ctx: bctx, Path: path}
}

// NewTab opens a tab of the browser; the returned function closes it. Tabs
// of one browser may be driven from parallel tests.
func (c *Chromium) NewTab(t testing.TB) (context.Context, context.CancelFunc) {
	t.Helper()
	ctx, cancel := chromedp.NewContext(c.Ctx)
	if err := chromedp.Do(ctx); err != nil {
		cancel()
		t.Fatalf("testenv: chromium: new tab: %v", err)
	}
	return ctx, cancel
}

// PageWatch records what a tab does that a page served by the controller
// must never do: console errors, uncaught exceptions, and requests to any
// host but 127.0.0.1 (data:, blob: and about: URLs aside).
type PageWatch struct {
	mu       sync.Mutex
	problems []string
	requests int
	allowed  func(chromedp.ConsoleMessage) bool
}

// WatchPage starts recording the tab ctx's console and requests; allowed
// (nil: none) tells apart console errors the caller expects.
func WatchPage(t testing.TB, ctx context.Context, allowed func(chromedp.ConsoleMessage) bool) *PageWatch {
	t.Helper()
	w := &PageWatch{allowed: allowed}
	if err := chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*network.EventRequestWillBeSent); ok {
			w.request(e.Request.URL)
		}
	}); err != nil {
		t.Fatalf("testenv: watch the page: %v", err)
	}
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			if m.Type != chromedp.ConsoleError && m.Type != chromedp.ConsoleException {
				continue
			}
			if w.allowed != nil && w.allowed(m) {
				continue
			}
			w.add(fmt.Sprintf("console %s: %s (%s:%d)", m.Type, m.Text, m.URL, m.Line))
		}
	}()
	return w
}

// request checks one request's URL.
func (w *PageWatch) request(raw string) {
	u, err := url.Parse(raw)
	w.mu.Lock()
	w.requests++
	w.mu.Unlock()
	switch {
	case err != nil:
		w.add("unparsable request URL " + raw)
	case u.Scheme == "data" || u.Scheme == "blob" || u.Scheme == "about":
	case u.Hostname() != "127.0.0.1":
		w.add("request leaving 127.0.0.1: " + raw)
	}
}

func (w *PageWatch) add(p string) {
	w.mu.Lock()
	w.problems = append(w.problems, p)
	w.mu.Unlock()
}

// Problems returns what the watch has recorded so far.
func (w *PageWatch) Problems() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.problems...)
}

// Check fails t with every problem recorded so far, and when no request
// was seen at all (the watch would then prove nothing).
func (w *PageWatch) Check(t testing.TB) {
	t.Helper()
	for _, p := range w.Problems() {
		t.Error(p)
	}
	w.mu.Lock()
	n := w.requests
	w.mu.Unlock()
	if n == 0 {
		t.Error("testenv: the page watch saw no request at all")
	}
}

// Do runs chromedp actions on the tab, failing t on an error.
func Do(t testing.TB, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// Eval evaluates a JavaScript expression on the tab and decodes its value.
func Eval[T any](t testing.TB, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// WaitJS waits, for at most a minute, until the JavaScript condition holds
// on the tab (checked at every animation frame).
func WaitJS(t testing.TB, ctx context.Context, what, cond string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](cond, chromedp.WithPollingTimeout(time.Minute))); err != nil {
		t.Fatalf("waiting for %s (%s): %v", what, cond, err)
	}
}

// Screenshot saves the whole page as dir/name.png, making dir if needed.
func Screenshot(t testing.TB, ctx context.Context, dir, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

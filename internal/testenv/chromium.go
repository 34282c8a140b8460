package testenv

import (
	"context"
	"testing"

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

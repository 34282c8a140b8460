// Package dashboardtest drives the controller's dashboard in a browser
// tab (chromedp, see testenv.StartChromium) for tests and benchmarks: sign
// in, and wait for a view to render.
package dashboardtest

import (
	"context"
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/ngic/ngic/internal/testenv"
)

// Ready is the JavaScript expression naming the view on the page: the
// first part of its route ("map" for the nation, "region", "village",
// "site", "devices", "alerts", "gaps") or "signin", once it has rendered;
// empty while one renders.
const Ready = `(document.getElementById('view').dataset.ready || '')`

// SignIn opens pageURL (the dashboard, any route) on the tab, signs in
// with token through the form, and waits until the route's view has
// rendered.
func SignIn(t testing.TB, ctx context.Context, pageURL, token string) {
	t.Helper()
	testenv.Do(t, ctx, "open the dashboard", chromedp.Navigate(pageURL))
	WaitView(t, ctx, "signin", "Sign in")
	testenv.Do(t, ctx, "sign in",
		chromedp.SendKeys(chromedp.CSS("#token"), token),
		chromedp.Click(chromedp.CSS(`#signin button[type="submit"]`)))
	testenv.WaitJS(t, ctx, "a view after signing in", Ready+` !== '' && `+Ready+` !== 'signin'`)
}

// WaitView waits until the view ready has rendered with text in it, and
// the parts it fills in afterwards (charts, boundaries) have loaded.
func WaitView(t testing.TB, ctx context.Context, ready, text string) {
	t.Helper()
	testenv.WaitJS(t, ctx, fmt.Sprintf("the %s view with %q", ready, text), fmt.Sprintf(
		`%s === %q && document.getElementById('view').textContent.includes(%q) && !document.querySelector('#view [aria-busy="true"]')`,
		Ready, ready, text))
}

// unready clears the page's view name, so that a wait that follows sees
// only the next view.
var unready = chromedp.Evaluate[chromedp.Void](`document.getElementById('view')?.removeAttribute('data-ready')`)

// Follow clicks the element sel (a link of the page) and waits until the
// view it leads to has rendered with text in it.
func Follow(t testing.TB, ctx context.Context, sel, ready, text string) {
	t.Helper()
	testenv.Do(t, ctx, "follow "+sel, unready, chromedp.Click(chromedp.CSS(sel)))
	WaitView(t, ctx, ready, text)
}

// Go navigates the tab to the route (as "#/alerts") of the dashboard at
// base and waits until its view has rendered with text in it.
func Go(t testing.TB, ctx context.Context, base, route, ready, text string) {
	t.Helper()
	testenv.Do(t, ctx, route, unready, chromedp.Navigate(base+"/"+route))
	WaitView(t, ctx, ready, text)
}

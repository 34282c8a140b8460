package update

import (
	"context"
	"fmt"
	"io"
	"net/http"
)

// maxCommand bounds the body of a polled command.
const maxCommand = 64 << 10

// poll fetches the command at PollURL: 200 with an UpdateCommand's JSON,
// or 204 or 404 when there is none.
func (a *Agent) poll(ctx context.Context) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.opts.PollURL, nil)
	if err != nil {
		a.opts.OnError(fmt.Errorf("update: poll: %w", err))
		return
	}
	resp, err := a.opts.Client.Do(req)
	if err != nil {
		if ctx.Err() == nil {
			a.opts.OnError(fmt.Errorf("update: poll: %w", err))
		}
		return
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNoContent, http.StatusNotFound:
		return
	default:
		a.opts.OnError(fmt.Errorf("update: poll %s: %s", a.opts.PollURL, resp.Status))
		return
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxCommand+1))
	if err != nil || len(b) > maxCommand {
		a.opts.OnError(fmt.Errorf("update: poll %s: body of %d bytes: %v", a.opts.PollURL, len(b), err))
		return
	}
	a.Handle(b)
}

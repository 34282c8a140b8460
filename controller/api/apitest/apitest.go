// Package apitest is the client the tests of the controller's API go
// through: every response it receives is validated against the API's
// OpenAPI description (controller/api/openapi.yaml) with kin-openapi, so
// that no test can pass on an answer the description does not allow.
package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/ngic/ngic/controller/api"
)

var (
	loadOnce sync.Once
	doc      *openapi3.T
	router   routers.Router
	loadErr  error
)

// Spec returns the API's OpenAPI document, loaded and validated once, and
// its router.
func Spec(t testing.TB) (*openapi3.T, routers.Router) {
	t.Helper()
	loadOnce.Do(func() {
		for _, ct := range []string{"text/csv", "text/html", "application/yaml", "text/event-stream"} {
			openapi3filter.RegisterBodyDecoder(ct, stringDecoder)
		}
		d, err := openapi3.NewLoader().LoadFromData(api.OpenAPI)
		if err != nil {
			loadErr = err
			return
		}
		if err := d.Validate(context.Background()); err != nil {
			loadErr = err
			return
		}
		r, err := gorillamux.NewRouter(d)
		doc, router, loadErr = d, r, err
	})
	if loadErr != nil {
		t.Fatalf("openapi.yaml: %v", loadErr)
	}
	return doc, router
}

// stringDecoder reads a body the description gives as a string.
func stringDecoder(body io.Reader, _ http.Header, _ *openapi3.SchemaRef, _ openapi3filter.EncodingFn) (any, error) {
	b, err := io.ReadAll(body)
	return string(b), err
}

// Validate checks a response (its status, headers and body) against the
// operation the description gives for its request; it fails the test
// when the description does not allow it.
func Validate(t testing.TB, req *http.Request, status int, header http.Header, body []byte) {
	t.Helper()
	_, r := Spec(t)
	u := *req.URL
	u.Scheme, u.Host = "", ""
	probe, err := http.NewRequest(req.Method, u.String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	route, params, err := r.FindRoute(probe)
	if err != nil {
		t.Fatalf("%s %s: not in openapi.yaml: %v", req.Method, req.URL.Path, err)
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: probe, PathParams: params, Route: route},
		Status:                 status, Header: header,
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	in.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		t.Fatalf("%s %s answered %d, which openapi.yaml does not allow: %v\nbody: %.2000s", req.Method,
			req.URL.RequestURI(), status, err, body)
	}
}

// Client makes requests to an API and validates every answer.
type Client struct {
	T testing.TB
	// Base is the server's URL (http://127.0.0.1:port).
	Base string
	// HTTP is the client used (its cookie jar holds a session).
	HTTP *http.Client
	// Token, when set, is sent as a bearer token.
	Token string
	// Header is added to every request.
	Header http.Header
}

// Response is an answer, read whole.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v, failing the test when it cannot.
func (r *Response) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("body is not the JSON expected: %v\n%.500s", err, r.Body)
	}
}

// Do sends a request (body, when not nil, as JSON), validates the answer
// and returns it.
func (c *Client) Do(method, path string, body any) *Response {
	c.T.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			c.T.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, strings.TrimSuffix(c.Base, "/")+path, rd)
	if err != nil {
		c.T.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, vs := range c.Header {
		req.Header[k] = vs
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		c.T.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.T.Fatalf("%s %s: reading the body: %v", method, path, err)
	}
	Validate(c.T, req, resp.StatusCode, resp.Header, b)
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// Get is Do with GET.
func (c *Client) Get(path string) *Response {
	c.T.Helper()
	return c.Do(http.MethodGet, path, nil)
}

// GetJSON gets path, expects 200 and decodes the body into v.
func (c *Client) GetJSON(path string, v any) {
	c.T.Helper()
	r := c.Get(path)
	if r.Status != http.StatusOK {
		c.T.Fatalf("GET %s: %d %s", path, r.Status, r.Body)
	}
	r.JSON(c.T, v)
}

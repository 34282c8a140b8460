package telemetry

import (
	"strings"
	"testing"
	"time"
)

func validCommand() *UpdateCommand {
	return &UpdateCommand{V: SchemaVersion, ID: "r1/gw-1", Rollout: "r1",
		URL:    "https://ngic.example/api/v1/bundles/abc",
		SHA256: strings.Repeat("ab", 32), Size: 1 << 20, Version: "1.2.0",
		Time: time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)}
}

func TestUpdateCommandRoundTrip(t *testing.T) {
	b, err := EncodeUpdateCommand(validCommand())
	if err != nil {
		t.Fatal(err)
	}
	c, err := DecodeUpdateCommand(b)
	if err != nil {
		t.Fatal(err)
	}
	if *c != *validCommand() {
		t.Fatalf("round trip: %+v", c)
	}
	if got := CommandTopic("gw-1", CommandUpdate); got != "ngic/v1/cmd/gw-1/update" {
		t.Fatalf("topic %q", got)
	}
}

func TestUpdateCommandErrorsNameTheField(t *testing.T) {
	for field, mutate := range map[string]func(c *UpdateCommand){
		"field v":       func(c *UpdateCommand) { c.V = 2 },
		"field id":      func(c *UpdateCommand) { c.ID = "" },
		"field size":    func(c *UpdateCommand) { c.Size = 0 },
		"field sha256":  func(c *UpdateCommand) { c.SHA256 = "xyz" },
		"field url":     func(c *UpdateCommand) { c.URL = "http://10.0.0.1/b" },
		"field time":    func(c *UpdateCommand) { c.Time = time.Time{} },
		"field version": func(c *UpdateCommand) { c.Version = "" },
	} {
		c := validCommand()
		mutate(c)
		if _, err := EncodeUpdateCommand(c); err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("%s: error %v does not name it", field, err)
		}
	}
	c := validCommand()
	c.URL = "http://127.evil.example/b"
	if _, err := EncodeUpdateCommand(c); err == nil {
		t.Error("http to a name starting with 127. accepted")
	}
	c.URL = "http://127.0.0.1:8080/b"
	if _, err := EncodeUpdateCommand(c); err != nil {
		t.Errorf("http to loopback refused: %v", err)
	}
}

func TestStatusUpdateValidated(t *testing.T) {
	_, err := DecodeStatus([]byte(`{"v":1,"gateway":"g","state":"online","update":{"id":"x","step":"exploded","time":"2026-11-29T10:00:00Z"}}`))
	if err == nil || !strings.Contains(err.Error(), "update.step") {
		t.Fatalf("unknown step: %v", err)
	}
	s, err := DecodeStatus([]byte(`{"v":1,"gateway":"g","state":"online","update":{"id":"x","step":"done","time":"2026-11-29T10:00:00Z"}}`))
	if err != nil || s.Update == nil || !UpdateFinal(s.Update.Step) {
		t.Fatalf("done step: %v %+v", err, s)
	}
}

func FuzzDecodeUpdateCommand(f *testing.F) {
	b, _ := EncodeUpdateCommand(validCommand())
	f.Add(b)
	f.Add([]byte(`{"v":1,"id":"a","url":"http://[::1]:1/x","sha256":"` + strings.Repeat("0", 64) + `","size":1,"version":"1","time":"2026-01-01T00:00:00Z"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := DecodeUpdateCommand(b)
		if err == nil {
			if _, err := EncodeUpdateCommand(c); err != nil {
				t.Fatalf("decoded command does not encode: %v", err)
			}
		}
	})
}

package commission

import (
	"bytes"
	"encoding/json"
	"testing"
)

func TestReportTextAndJSON(t *testing.T) {
	r := NewReport([]Check{
		{Name: "serial /dev/ttyUSB0", Status: OK, Detail: "chafon reader at 57600 baud", Reader: &Reader{Protocol: "chafon", Baud: 57600}},
		{Name: "serial /dev/ttyUSB1", Status: Fail, Detail: "no reader answered", Fix: "check the wiring"},
	})
	if r.Failed != 1 {
		t.Errorf("failed %d, want 1", r.Failed)
	}
	var text bytes.Buffer
	if err := r.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	want := "ok    serial /dev/ttyUSB0: chafon reader at 57600 baud\n" +
		"FAIL  serial /dev/ttyUSB1: no reader answered\n" +
		"      -> check the wiring\n" +
		"2 checks, 1 failed\n"
	if text.String() != want {
		t.Errorf("text\n%s\nwant\n%s", text.String(), want)
	}
	var js bytes.Buffer
	if err := r.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(js.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if back.Failed != 1 || len(back.Checks) != 2 || back.Checks[0].Reader.Baud != 57600 || back.Checks[1].Fix != "check the wiring" {
		t.Errorf("JSON round trip: %+v", back)
	}
}

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
		{Name: "gateway gw rights", Status: Skip, Detail: "not checked", Fix: "stop ngic-edge"},
	})
	if r.Failed != 1 || r.Skipped != 1 {
		t.Errorf("failed %d, skipped %d, want 1 and 1", r.Failed, r.Skipped)
	}
	var text bytes.Buffer
	if err := r.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	want := "ok    serial /dev/ttyUSB0: chafon reader at 57600 baud\n" +
		"FAIL  serial /dev/ttyUSB1: no reader answered\n" +
		"      -> check the wiring\n" +
		"skip  gateway gw rights: not checked\n" +
		"      -> stop ngic-edge\n" +
		"3 checks, 1 failed, 1 skipped\n"
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
	if back.Failed != 1 || back.Skipped != 1 || len(back.Checks) != 3 || back.Checks[2].Status != Skip || back.Checks[0].Reader.Baud != 57600 || back.Checks[1].Fix != "check the wiring" {
		t.Errorf("JSON round trip: %+v", back)
	}
}

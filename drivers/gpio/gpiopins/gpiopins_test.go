package gpiopins

import (
	"fmt"
	"strings"
	"testing"

	"periph.io/x/conn/v3/gpio/gpioreg"
)

func TestInitIsStable(t *testing.T) {
	first := Init()
	second := Init()
	if fmt.Sprint(first) != fmt.Sprint(second) {
		t.Fatalf("Init returned %v then %v; want the same result", first, second)
	}
}

func TestOpenNotFound(t *testing.T) {
	const name = "NGIC_NO_SUCH_PIN_42"
	p, err := Open(name)
	if err != nil && strings.HasPrefix(err.Error(), "gpiopins: host drivers:") {
		t.Fatalf("host.Init failed: %v", err)
	}
	if p != nil || err == nil {
		t.Fatalf("Open(%q) = %v, %v; want nil pin and an error", name, p, err)
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "gpiopins: ") {
		t.Errorf("error %q does not start with the package name", msg)
	}
	if !strings.Contains(msg, name) {
		t.Errorf("error %q does not name the pin", msg)
	}
	want := fmt.Sprintf("among the %d GPIO pins", len(gpioreg.All()))
	if !strings.Contains(msg, want) {
		t.Errorf("error %q does not say how many pins exist (want %q)", msg, want)
	}
}

func TestOpenEmptyName(t *testing.T) {
	for _, name := range []string{"", "  "} {
		if p, err := Open(name); p != nil || err == nil || !strings.HasPrefix(err.Error(), "gpiopins: ") {
			t.Errorf("Open(%q) = %v, %v; want nil and a gpiopins error", name, p, err)
		}
	}
}

package daemon

import (
	"maps"
	"testing"

	"github.com/ngic/ngic/controller/poller"
)

// The classes of devices the inventory no longer has are forgotten.
func TestPruneClasses(t *testing.T) {
	classes := map[string]string{"a": "olt", "b": "onu", "gone": "olt"}
	pruneClasses(classes, []poller.DeviceState{{ID: "a"}, {ID: "b"}, {ID: "new"}})
	if want := map[string]string{"a": "olt", "b": "onu"}; !maps.Equal(classes, want) {
		t.Fatalf("classes %v, want %v", classes, want)
	}
}

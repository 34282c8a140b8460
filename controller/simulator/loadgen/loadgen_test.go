package loadgen_test

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/ngic/ngic/controller/simulator/loadgen"
	"github.com/ngic/ngic/controller/simulator/simulatortest"
)

// TestRunAgainstSimulator drives two agents of the simulator: every
// request is answered with 25 varbinds, none times out or is malformed.
func TestRunAgainstSimulator(t *testing.T) {
	_, addr := simulatortest.Serve(t, "huawei_ma5603t", "zte_c320")
	res, err := loadgen.Run(context.Background(), loadgen.Options{Target: netip.MustParseAddrPort(addr),
		Communities: []string{"huawei_ma5603t", "zte_c320"}, Requests: 20000, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(res)
	if res.Sent != 20000 || res.Answers != 20000 || res.Timeouts != 0 || res.Malformed != 0 || res.Late != 0 {
		t.Errorf("result %+v, want 20000 sent and answered, nothing else", res)
	}
	if res.Varbinds != 25*res.Answers {
		t.Errorf("%d varbinds in %d answers, want 25 each", res.Varbinds, res.Answers)
	}
}

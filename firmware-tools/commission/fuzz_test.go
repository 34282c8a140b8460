package commission

import (
	"testing"
	"unicode"

	"github.com/ngic/ngic/drivers/rfid/chafon"
	"github.com/ngic/ngic/drivers/rfid/magicrf"
	"github.com/ngic/ngic/drivers/rfid/mercury"
)

// FuzzProbers feeds what a port might send to every prober: none may
// panic, and what a recognised answer reports is printable text.
func FuzzProbers(f *testing.F) {
	f.Add(magicrf.AppendResponse(nil, magicrf.CmdInfo, append([]byte{magicrf.InfoSoftware}, "V2.3.5\x00\xff"...)))
	f.Add(chafon.AppendReaderInfoResponse(nil, 0, chafon.ReaderInfo{Version: [2]byte{2, 0}, MaxFre: 0x4E, MinFre: 0}))
	f.Add(append(mercury.AppendResponse(nil, mercury.OpVersion, 0, make([]byte, 20)...), mercury.AppendResponse(nil, mercury.OpGetRegion, 0, 0x0D)...))
	f.Add([]byte("\x021000086F44426\x03"))
	f.Add([]byte{0x00, 0x80, 0xF8, 0xBB, 0xFF, 0x02})
	f.Fuzz(func(t *testing.T, in []byte) {
		for _, pp := range probes {
			pr := pp.new()
			var r Reader
			if pr.feed(in, &r) {
				for _, s := range []string{r.Firmware, r.Hardware, r.Region} {
					for _, c := range s {
						if !unicode.IsPrint(c) {
							t.Fatalf("%s: unprintable %q", pp.name, s)
						}
					}
				}
			}
		}
	})
}

// FuzzParseNTP: an NTP answer of any bytes is parsed or refused, never a
// panic; a valid one gives times after the NTP epoch.
func FuzzParseNTP(f *testing.F) {
	ok := make([]byte, 48)
	ok[0], ok[1], ok[40] = 0x24, 2, 0xEB
	f.Add(ok)
	f.Add(make([]byte, 48))
	f.Add([]byte{0x24})
	f.Fuzz(func(t *testing.T, b []byte) {
		recv, xmit, err := parseNTP(b)
		if err == nil && (recv.Before(ntpEpoch) || xmit.Before(ntpEpoch)) {
			t.Fatalf("times %v %v before the epoch", recv, xmit)
		}
	})
}

// FuzzFrameLimit: any byte stream from a broker is passed or refused the
// same whole and split in two, never a panic.
func FuzzFrameLimit(f *testing.F) {
	for _, tc := range frames {
		f.Add(tc.b, uint(len(tc.b)/2))
	}
	f.Fuzz(func(t *testing.T, b []byte, split uint) {
		split = min(split, uint(len(b)))
		whole := frameLimit{max: 200}
		parts := frameLimit{max: 200}
		errWhole := whole.scan(b)
		errParts := parts.scan(b[:split])
		if errParts == nil {
			errParts = parts.scan(b[split:])
		}
		if (errWhole == nil) != (errParts == nil) {
			t.Fatalf("whole: %v; split at %d: %v", errWhole, split, errParts)
		}
	})
}

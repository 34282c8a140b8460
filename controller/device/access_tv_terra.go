package device

import (
	"fmt"
	"strconv"
	"strings"
)

// Terra DVB to IP streamers (TERRA-sdi480-MIB, TERRA-sti440-MIB, enterprise
// 30631), one subtree per input: terraProducts.<model>.1.<input>.<object>.0.
//
// sdi480 (DVB-S/S2, 8 inputs): 1 lock text ("Locked"/"Unlocked"), 2 level in
// tenths of dBuV, 3 SNR in tenths of dB, 4 bitrate in tenths of Mbit/s, 5
// packet error ratio as text ("<1.0E-9", "-").
//
// sti440 (DVB-T/T2/C, 4 inputs): 1 lock (integer, 1 = locked), 2 standard,
// 3 level in dBuV, 4 modulation, 5 SNR, 6 BER x 1E9, 7 PER x 1E9, 8
// uncorrected packets, 9 bitrate in kbit/s, 10 CC errors. The MIB gives the
// sti440 SNR unit as "db" but devices answer tenths (247 for 24.7 dB), as
// LibreNMS also reads it; tenths are used here.
const (
	terraSdi480Status = "1.3.6.1.4.1.30631.1.17.1"
	terraSti440Status = "1.3.6.1.4.1.30631.1.18.1"
)

func init() { RegisterExtractor("tv-terra", extractTVTerra) }

func extractTVTerra(o *Objects, d *Document) *Access {
	tv := baseTV(o, d)
	for n := 1; n <= 8; n++ {
		base := fmt.Sprintf("%s.%d.", terraSdi480Status, n)
		p, ok := o.Get(base + "1.0")
		if !ok {
			continue
		}
		lock, ok := pduText(p)
		if !ok {
			continue
		}
		in := TVInput{Index: n}
		switch strings.ToLower(lock) {
		case "locked":
			in.Locked = ptr(true)
		case "unlocked":
			in.Locked = ptr(false)
		}
		in.LevelDBuV = scaled(o, base+"2.0", 10)
		in.CNDB = scaled(o, base+"3.0", 10)
		in.BitrateMbps = scaled(o, base+"4.0", 10)
		if p, ok := o.Get(base + "5.0"); ok {
			if s, ok := pduText(p); ok {
				if f, err := strconv.ParseFloat(s, 64); err == nil && f >= 0 {
					in.PER = ptr(f)
				}
			}
		}
		tv.Inputs = append(tv.Inputs, in)
	}
	for n := 1; n <= 4; n++ {
		base := fmt.Sprintf("%s.%d.", terraSti440Status, n)
		p, ok := o.Get(base + "1.0")
		if !ok {
			continue
		}
		lock, ok := pduInt(p)
		if !ok {
			continue
		}
		in := TVInput{Index: n, Locked: ptr(lock == 1)}
		if p, ok := o.Get(base + "2.0"); ok {
			in.Standard, _ = pduText(p)
		}
		if p, ok := o.Get(base + "4.0"); ok {
			in.Modulation, _ = pduText(p)
		}
		in.LevelDBuV = scaled(o, base+"3.0", 1)
		in.CNDB = scaled(o, base+"5.0", 10)
		in.BER = scaled(o, base+"6.0", 1e9)
		in.PER = scaled(o, base+"7.0", 1e9)
		in.BitrateMbps = scaled(o, base+"9.0", 1000)
		if v, ok := o.colUint(terraSti440Status, fmt.Sprintf("%d.8.0", n)); ok {
			in.UncorrectedPackets = ptr(v)
		}
		if v, ok := o.colUint(terraSti440Status, fmt.Sprintf("%d.10.0", n)); ok {
			in.CCErrors = ptr(v)
		}
		tv.Inputs = append(tv.Inputs, in)
	}
	return tvAccess(tv)
}

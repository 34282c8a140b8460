package commission

import (
	"fmt"
	"strings"

	"github.com/ngic/ngic/drivers/rfid/chafon"
	"github.com/ngic/ngic/drivers/rfid/em4100"
	"github.com/ngic/ngic/drivers/rfid/magicrf"
	"github.com/ngic/ngic/drivers/rfid/mercury"
)

// Reader is what answered on a port.
type Reader struct {
	// Protocol is the reader protocol's registry name.
	Protocol string `json:"protocol"`
	// Baud is the serial speed at which it answered.
	Baud int `json:"baud"`
	// Firmware is the firmware version, "" where the protocol does not tell.
	Firmware string `json:"firmware,omitempty"`
	// Hardware names the module, "" where the protocol does not tell.
	Hardware string `json:"hardware,omitempty"`
	// Region is the regulatory region in rfid.Options terms ("eu", "us",
	// ...), or the raw code when it has no name; "" where the protocol does
	// not tell.
	Region string `json:"region,omitempty"`
}

// prober asks one protocol's reader a harmless question and recognises its
// answer. A prober is used for one exchange only.
type prober interface {
	// query is the bytes to send; nil for readers that only talk.
	query() []byte
	// feed consumes what the port sent and reports whether a whole valid
	// answer has arrived, filling r.
	feed(p []byte, r *Reader) bool
}

// protocolProbe describes how to probe one protocol.
type protocolProbe struct {
	name  string
	bauds []int // the usual speeds, the factory default first
	new   func() prober
}

// probes are the known protocols, those asked a question first; em4100
// readers only talk, with a card in their field.
var probes = []protocolProbe{
	{magicrf.Name, []int{magicrf.BaudRate, 57600, 38400, 19200, 9600}, func() prober { return &magicrfProbe{} }},
	{mercury.Name, []int{mercury.DefaultBaud, 9600, 19200, 38400, 57600, 230400, 460800, 921600}, func() prober { return &mercuryProbe{dec: mercury.NewResponseDecoder()} }},
	{chafon.Name, []int{chafon.DefaultBaud, 9600, 19200, 38400, 115200}, func() prober { return &chafonProbe{dec: chafon.NewResponseDecoder()} }},
	{em4100.Name, []int{em4100.BaudRate}, func() prober { return &em4100Probe{} }},
}

// magicrfProbe asks an M100 module its software version (command 03).
type magicrfProbe struct {
	dec magicrf.Decoder
}

func (*magicrfProbe) query() []byte { return magicrf.AppendGetInfo(nil, magicrf.InfoSoftware) }

func (m *magicrfProbe) feed(p []byte, r *Reader) bool {
	done := false
	m.dec.Feed(p, func(f magicrf.Frame) {
		if f.Type == magicrf.TypeResponse && f.Cmd == magicrf.CmdInfo && len(f.Params) >= 1 && f.Params[0] == magicrf.InfoSoftware {
			r.Firmware = printable(f.Params[1:])
			done = true
		}
	})
	return done
}

// mercuryProbe asks a ThingMagic module its version (opcode 03), then its
// region (opcode 67).
type mercuryProbe struct {
	dec     *mercury.Decoder
	version bool
	pending []byte
}

func (*mercuryProbe) query() []byte { return mercury.AppendGetVersion(nil) }

func (m *mercuryProbe) feed(p []byte, r *Reader) bool {
	done := false
	m.dec.Feed(p, func(f mercury.Frame) {
		switch {
		case f.Opcode == mercury.OpVersion && f.Status == mercury.StatusOK && len(f.Data) >= 16:
			d := f.Data
			r.Hardware = fmt.Sprintf("%02X.%02X.%02X.%02X", d[4], d[5], d[6], d[7])
			r.Firmware = fmt.Sprintf("%02X.%02X.%02X.%02X (%02X%02X-%02X-%02X)", d[12], d[13], d[14], d[15], d[8], d[9], d[10], d[11])
			m.version = true
			m.pending = mercury.AppendGetRegion(nil)
		case f.Opcode == mercury.OpGetRegion && m.version:
			if f.Status == mercury.StatusOK && len(f.Data) == 1 {
				r.Region = mercuryRegion(f.Data[0])
			}
			done = true
		}
	})
	return done
}

// followUp returns a second question to send once the first was answered.
func (m *mercuryProbe) followUp() []byte {
	b := m.pending
	m.pending = nil
	return b
}

// mercuryRegion names a Mercury region code as rfid.Options does, "us"
// for both North American codes.
func mercuryRegion(code byte) string {
	switch code {
	case mercury.RegionNA, mercury.RegionNA2:
		return "us"
	case mercury.RegionEU, mercury.RegionEU3:
		return "eu"
	case mercury.RegionKR, mercury.RegionKR2:
		return "kr"
	}
	for name, c := range mercury.Regions {
		if c == code {
			return name // the other codes have one name each
		}
	}
	return fmt.Sprintf("code 0x%02X", code)
}

// chafonProbe asks a Chafon reader its information (command 21) at the
// broadcast address.
type chafonProbe struct {
	dec *chafon.Decoder
}

func (*chafonProbe) query() []byte { return chafon.AppendGetReaderInfo(nil, chafon.BroadcastAddr) }

func (c *chafonProbe) feed(p []byte, r *Reader) bool {
	done := false
	c.dec.Feed(p, func(f chafon.Frame) {
		if f.Cmd != chafon.CmdGetReaderInfo || len(f.Payload) < 1 || f.Payload[0] != chafon.StatusOK {
			return
		}
		ri, err := chafon.ParseReaderInfo(f.Payload[1:])
		if err != nil {
			return
		}
		r.Firmware = fmt.Sprintf("%d.%d", ri.Version[0], ri.Version[1])
		r.Hardware = fmt.Sprintf("type 0x%02X", ri.Type)
		band, maxN, minN := chafon.DecodeRegion(ri.MaxFre, ri.MinFre)
		r.Region = chafonRegion(band, maxN, minN)
		done = true
	})
	return done
}

// chafonRegion names a Chafon band as rfid.Options does.
func chafonRegion(band, maxN, minN byte) string {
	for _, name := range []string{"cn", "eu", "kr", "us"} {
		if b, err := chafon.RegionBand(name); err == nil && b == band {
			return name
		}
	}
	return fmt.Sprintf("band %d channels %d-%d", band, minN, maxN)
}

// em4100Probe listens for a card frame.
type em4100Probe struct {
	dec em4100.Decoder
}

func (*em4100Probe) query() []byte { return nil }

func (e *em4100Probe) feed(p []byte, _ *Reader) bool {
	done := false
	e.dec.Feed(p, func([]byte) { done = true })
	return done
}

// printable keeps the printable ASCII of a version string.
func printable(b []byte) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7E {
			return -1
		}
		return r
	}, string(b))
}

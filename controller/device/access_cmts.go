package device

import (
	"strconv"
)

// Cable is the access section of a CMTS or a cable modem.
type Cable struct {
	Downstreams []Channel `json:"downstreams,omitempty"`
	Upstreams   []Channel `json:"upstreams,omitempty"`
	// ModemsRegistered and ModemsOnline come from the CMTS's modem status
	// table; absent when it does not answer.
	ModemsRegistered *int `json:"modems_registered,omitempty"`
	ModemsOnline     *int `json:"modems_online,omitempty"`
	// Status is a cable modem's docsIfCmStatusValue as a word.
	Status string `json:"status,omitempty"`
	// DOCSIS is the DOCSIS version a CMTS gives: "3.1", "3.0", "2.0",
	// "1.1" or "1.0" from docsIfDocsisBaseCapability, or, where that object
	// was not read, "3.0" when the DOCS-IF3 modem registration table
	// answered (only a DOCSIS 3.0 or later CMTS implements it); absent when
	// neither tells.
	DOCSIS string `json:"docsis,omitempty"`
}

// Channel is one DOCSIS downstream or upstream channel.
type Channel struct {
	IfIndex     int      `json:"if_index"`
	Name        string   `json:"name,omitempty"`
	OperStatus  string   `json:"oper_status,omitempty"`
	FrequencyHz *int64   `json:"frequency_hz,omitempty"`
	PowerDBmV   *float64 `json:"power_dbmv,omitempty"`
	SNRdB       *float64 `json:"snr_db,omitempty"`
}

// DOCS-IF-MIB and DOCS-IF3-MIB columns.
const (
	docsIfDownChannelFrequency = "1.3.6.1.2.1.10.127.1.1.1.1.2"
	docsIfDownChannelPower     = "1.3.6.1.2.1.10.127.1.1.1.1.6" // TenthdBmV
	docsIfUpChannelFrequency   = "1.3.6.1.2.1.10.127.1.1.2.1.2"
	docsIfSigQSignalNoise      = "1.3.6.1.2.1.10.127.1.1.4.1.5" // TenthdB
	docsIfCmStatusValue        = "1.3.6.1.2.1.10.127.1.2.2.1.1"
	docsIfCmStatusTxPower      = "1.3.6.1.2.1.10.127.1.2.2.1.3" // TenthdBmV
	docsIfCmtsCmStatusValue    = "1.3.6.1.2.1.10.127.1.3.3.1.9"
	docsIf3CmtsCmRegStatus     = "1.3.6.1.4.1.4491.2.1.20.1.3.1.6"
	docsIfDocsisBaseCapability = "1.3.6.1.2.1.10.127.1.1.5.0"

	ifTypeDocsDown = 128
	ifTypeDocsUp   = 129
	ifTypeDocsUp30 = 205 // docsCableUpstreamChannel (DOCSIS 3.0 logical channel)
)

// docsisVersions are docsIfDocsisBaseCapability's values (DOCS-IF-MIB,
// RFC 4546; docsis31 added by DOCS-IF31-MIB's revision of it).
var docsisVersions = map[int64]string{1: "1.0", 2: "1.1", 3: "2.0", 4: "3.0", 5: "3.1"}

// docsisVersion gives the DOCSIS version from docsIfDocsisBaseCapability,
// or "3.0" when it was not read but the DOCS-IF3 registration table
// answered, or "".
func docsisVersion(o *Objects) string {
	if p, ok := o.Get(docsIfDocsisBaseCapability); ok {
		if v, ok := pduInt(p); ok {
			if w, found := docsisVersions[v]; found {
				return w
			}
		}
	}
	if o.HasUnder(docsIf3CmtsCmRegStatus) {
		return "3.0"
	}
	return ""
}

// docsIfCmtsCmStatusValue: registrationComplete(6) is online.
const cmtsCmRegistrationComplete = 6

// DOCS-IF3 cmtsCmRegStatusValue: operational(8) is online;
// registrationComplete(6) and up also count as registered.
const docsIf3Operational = 8

var cmStatusWords = map[int64]string{1: "other", 2: "notReady", 3: "notSynchronized",
	4: "phySynchronized", 5: "usParametersAcquired", 6: "rangingComplete",
	7: "ipComplete", 8: "todEstablished", 9: "securityEstablished",
	10: "paramTransferComplete", 11: "registrationComplete", 12: "operational",
	13: "accessDenied"}

func init() {
	RegisterExtractor("cmts", extractCMTS)
	RegisterExtractor("cable_modem", extractCableModem)
}

// cableChannels builds downstream and upstream channels from the ifTypes
// and the DOCS-IF tables.
func cableChannels(o *Objects, d *Document) (down, up []Channel) {
	for _, it := range d.Interfaces {
		if it.Type == nil {
			continue
		}
		idx := strconv.Itoa(it.Index)
		ch := Channel{IfIndex: it.Index, Name: it.Name, OperStatus: it.OperStatus}
		switch *it.Type {
		case ifTypeDocsDown:
			if f, ok := o.colInt(docsIfDownChannelFrequency, idx); ok {
				ch.FrequencyHz = ptr(f)
			}
			if p, ok := o.colInt(docsIfDownChannelPower, idx); ok {
				ch.PowerDBmV = ptr(float64(p) / 10)
			}
			if s, ok := o.colInt(docsIfSigQSignalNoise, idx); ok {
				ch.SNRdB = ptr(float64(s) / 10)
			}
			down = append(down, ch)
		case ifTypeDocsUp, ifTypeDocsUp30:
			if f, ok := o.colInt(docsIfUpChannelFrequency, idx); ok {
				ch.FrequencyHz = ptr(f)
			}
			if s, ok := o.colInt(docsIfSigQSignalNoise, idx); ok {
				ch.SNRdB = ptr(float64(s) / 10)
			}
			up = append(up, ch)
		}
	}
	return down, up
}

// extractCMTS gives downstream and upstream channels with upstream SNR,
// and the modems registered and online where the CMTS answers its modem
// table (DOCS-IF3 preferred).
func extractCMTS(o *Objects, d *Document) *Access {
	c := &Cable{}
	c.Downstreams, c.Upstreams = cableChannels(o, d)
	if col := o.Column(docsIf3CmtsCmRegStatus); len(col) > 0 {
		reg, on := 0, 0
		for _, p := range col {
			v, ok := pduInt(p)
			if !ok {
				continue
			}
			if v >= 6 {
				reg++
			}
			if v == docsIf3Operational {
				on++
			}
		}
		c.ModemsRegistered, c.ModemsOnline = ptr(reg), ptr(on)
	} else if col := o.Column(docsIfCmtsCmStatusValue); len(col) > 0 {
		reg, on := 0, 0
		for _, p := range col {
			v, ok := pduInt(p)
			if !ok {
				continue
			}
			if v == cmtsCmRegistrationComplete {
				reg++
				on++
			}
		}
		c.ModemsRegistered, c.ModemsOnline = ptr(reg), ptr(on)
	}
	c.DOCSIS = docsisVersion(o)
	if len(c.Downstreams) == 0 && len(c.Upstreams) == 0 && c.ModemsRegistered == nil {
		return nil
	}
	return &Access{Cable: c}
}

// extractCableModem gives a modem's downstream power and SNR, its upstream
// transmit power and its status.
func extractCableModem(o *Objects, d *Document) *Access {
	c := &Cable{}
	c.Downstreams, c.Upstreams = cableChannels(o, d)
	for _, idx := range indexes(o.Column(docsIfCmStatusTxPower)) {
		p, ok := o.colInt(docsIfCmStatusTxPower, idx)
		if !ok {
			continue
		}
		// The status table is indexed by the MAC-layer ifIndex; the
		// transmit power belongs to the modem's upstream channel(s).
		for i := range c.Upstreams {
			c.Upstreams[i].PowerDBmV = ptr(float64(p) / 10)
		}
		if v, ok := o.colInt(docsIfCmStatusValue, idx); ok {
			if w, found := cmStatusWords[v]; found {
				c.Status = w
			}
		}
		break
	}
	if len(c.Downstreams) == 0 && len(c.Upstreams) == 0 && c.Status == "" {
		return nil
	}
	return &Access{Cable: c}
}

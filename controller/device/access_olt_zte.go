package device

// ZTE GPON: zxGponOntPhaseState, indexed by PON ifIndex.ontId; 4 working
// (online), every other phase (logging, LOS, syncMib, dying gasp, auth
// failed, offline) counts as offline.
const zteONTPhaseState = "1.3.6.1.4.1.3902.1012.3.28.2.1.4"

func init() {
	RegisterExtractor("olt_zte", extractOLTZTE)
}

// extractOLTZTE lists the GPON ports and, where the phase-state table
// answers, the ONTs online and offline per port.
func extractOLTZTE(o *Objects, d *Document) *Access {
	ports := ponPortsByIfType(d, ifTypeGPON)
	pon := ontStatus(o, d, zteONTPhaseState, 4, -1, ports)
	if len(pon.Ports) == 0 {
		return nil
	}
	return &Access{PON: pon}
}

package device

// HUAWEI-XPON-MIB: hwGponDeviceOntControlRunStatus, indexed by PON
// ifIndex.ontId; 1 online, 2 offline.
const huaweiONTRunStatus = "1.3.6.1.4.1.2011.6.128.1.1.2.46.1.15"

func init() {
	RegisterExtractor("olt_huawei", extractOLTHuawei)
}

// extractOLTHuawei lists the GPON ports and, where the ONT run-status
// table answers, the ONTs online and offline per port.
func extractOLTHuawei(o *Objects, d *Document) *Access {
	ports := ponPortsByIfType(d, ifTypeGPON)
	pon := ontStatus(o, d, huaweiONTRunStatus, 1, 2, ports)
	if len(pon.Ports) == 0 {
		return nil
	}
	return &Access{PON: pon}
}

package reading

import (
	"github.com/ngic/ngic/drivers/rfid/epc"
	"github.com/ngic/ngic/telemetry"
)

func decodeEPC(raw []byte) *telemetry.EPC {
	id := epc.Decode(raw)
	if id.Scheme == "" {
		return nil
	}
	return &telemetry.EPC{Scheme: id.Scheme, URI: id.URI, GTIN: id.GTIN, SSCC: id.SSCC}
}

package reading

import "github.com/ngic/ngic/telemetry"

func decodeEPC(raw []byte) *telemetry.EPC { return nil }

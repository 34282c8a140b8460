// Package all registers every reader protocol ngic supports; import it for
// its side effect.
package all

import (
	// Each protocol registers itself with drivers/rfid in init.
	_ "github.com/ngic/ngic/drivers/rfid/chafon"
	_ "github.com/ngic/ngic/drivers/rfid/em4100"
	_ "github.com/ngic/ngic/drivers/rfid/magicrf"
	_ "github.com/ngic/ngic/drivers/rfid/mercury"
)
